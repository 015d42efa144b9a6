# Hardening (issue 8). atheris is not a project dependency: `.venv/bin/pip install atheris` first.
PYTHON ?= .venv/bin/python
FUZZ_TARGETS := jws cose cbor payload signature_manifest trust_policy dn reference layout_reference trust_store_cert signing_chain plugin_response timestamp_response timestamp_token ocsp_response crl
FUZZ_SHORT_SECONDS ?= 30
FUZZ_LONG_SECONDS ?= 1800

.PHONY: fuzz-short fuzz-long fuzz-ci tamper-long

fuzz-short:  ## every target for FUZZ_SHORT_SECONDS under atheris
	@for t in $(FUZZ_TARGETS); do $(PYTHON) fuzz/run_atheris.py $$t $(FUZZ_SHORT_SECONDS) 2>fuzz/$$t.log && printf "%s: " $$t && grep -E "^Done" fuzz/$$t.log || { tail -30 fuzz/$$t.log; exit 1; }; done

fuzz-long:  ## every target for FUZZ_LONG_SECONDS under atheris
	@for t in $(FUZZ_TARGETS); do $(PYTHON) fuzz/run_atheris.py $$t $(FUZZ_LONG_SECONDS) 2>fuzz/$$t.log && printf "%s: " $$t && grep -E "^Done" fuzz/$$t.log || { tail -30 fuzz/$$t.log; exit 1; }; done

fuzz-ci:  ## the hypothesis-driven targets, as CI runs them (NOTATION_HARDENING_LONG=1 for ten times more)
	$(PYTHON) -m pytest -q tests/test_hardening_fuzz.py

tamper-long:  ## the tamper corpus with every byte position flipped
	NOTATION_HARDENING_LONG=1 $(PYTHON) -m pytest -q -rA tests/test_hardening_tamper.py
