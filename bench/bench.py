"""notation-py benchmark: prints figures, asserts nothing (run: .venv/bin/python bench/bench.py).

* library: ``verify_integrity`` per second (JWS and COSE, 3-certificate RSA chain: RSA-2048 leaf, RSA-3072
  intermediate and root, three distinct keys) next to the raw RSA-PSS verify rate of `cryptography` for the same leaf
  key, so the overhead of parsing and chain rules is visible. The realistic repeated case: many images signed by one
  signer, so ``ENVELOPES`` distinct envelopes (distinct payloads and signatures) with the same chain, in rotation.
  The chain rules that do not depend on the time are memoised by the chain's exact DER (x509/chain.py), so after
  the first envelope the chain costs a lookup; every envelope's own signature is verified each time. The first
  sight of a chain (every memo cleared before each envelope) is printed too. Rates and ratios are medians over
  alternating short slices of the envelope verification and the raw verify, so both see the same load;
* CLI wall time (median of 7 fresh processes, after a warm-up: byte-code cache warm; all commands interleaved, round
  after round) of `notation --help` and `notation version` against `python -c pass`, and of `notation sign
  --oci-layout` and `notation verify --oci-layout` (one signature, 3-certificate chain) against the floor `python -c
  "from cryptography import x509; ..."` -- both baselines measured in the same run, so the ratios hold on a loaded
  machine (issue 15);
* peak memory of `notation verify --oci-layout`.

Registry figures are in bench_many.py (both registries) and bench_registry.py (TLS, auth, round trips).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def rate(fn: object, seconds: float = 1.5) -> float:
    call = fn  # type: ignore[assignment]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()  # type: ignore[operator]
        n += 1
    return n / (time.perf_counter() - start)


ENVELOPES = 64
SLICES = 9
SLICE_SECONDS = 0.2


def library_figures() -> None:
    import datetime as dt
    import itertools

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from notation._internal.envelope.codec import clear_memos, sign_envelope, verify_integrity
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import SignRequest
    from notation._internal.envelope.payload import build_payload
    from notation._internal.oci.descriptor import Descriptor
    from support import pki

    # Distinct keys: pki.chain3() shares one cached key between root and intermediate, which a real chain never does
    # (and which made the intermediate's "is it self-signed?" signature check succeed, hence memoisable).
    root = pki.root_ca("Bench Root", key=pki.new_key("rsa3072", cached=False))
    inter = pki.issue("Bench Intermediate", key=pki.new_key("rsa3072", cached=False), issuer=root, ca=True,
                      path_length=0)  # fmt: skip
    leaf = pki.issue("bench leaf", key=pki.new_key("rsa2048", cached=False), issuer=inter)
    signer = LocalSigner(leaf.key, leaf.chain)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    public = leaf.cert.public_key()
    sig = leaf.key.sign(b"x" * 512, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())  # type: ignore[call-arg,union-attr]

    def raw() -> None:
        public.verify(sig, b"x" * 512, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())  # type: ignore[call-arg,union-attr]

    print(f"library (3-certificate RSA chain, RSA-2048 leaf; {ENVELOPES} distinct envelopes of one signer, in turn;")
    print(f"  medians of {SLICES} alternating {SLICE_SECONDS} s slices of verify_integrity and of the raw verify):")
    raws: list[float] = []
    for media_type in ("application/jose+json", "application/cose"):
        envelopes = []
        for i in range(ENVELOPES):
            target = Descriptor.for_content("application/vnd.oci.image.manifest.v1+json", b'{"image":%d}' % i)
            request = SignRequest(build_payload(target, media_type), "application/vnd.cncf.notary.payload.v1+json", now)
            envelopes.append(sign_envelope(media_type, request, signer))
        rotation = itertools.cycle(envelopes)

        def warm(mt: str = media_type, envs: Iterator[bytes] = rotation) -> None:
            verify_integrity(mt, next(envs))

        def first_sight(mt: str = media_type, envs: Iterator[bytes] = rotation) -> None:
            clear_memos()
            verify_integrity(mt, next(envs))

        # Alternating slices: the machine's load moves within seconds, a ratio of two figures taken far apart
        # measures the load as much as the code.
        rates, ratios = [], []
        for _ in range(SLICES):
            r = rate(raw, SLICE_SECONDS)
            w = rate(warm, SLICE_SECONDS)
            raws.append(r)
            rates.append(w)
            ratios.append(w / r)
        cold = statistics.median(rate(first_sight, SLICE_SECONDS) / rate(raw, SLICE_SECONDS) for _ in range(3))
        print(f"  verify_integrity {media_type:24s} {statistics.median(rates):9.0f} envelopes/s  "
              f"{statistics.median(ratios):4.0%} of raw RSA-PSS verify (first sight of a chain: "
              f"{cold:.1%})")  # fmt: skip
    print(f"  cryptography RSA-PSS verify (raw)        {statistics.median(raws):9.0f} signatures/s")
    print("  (an envelope: 1 signature verified + a 3-certificate chain, its time-independent rules memoised by DER)")


def interleaved_medians(cases: dict[str, list[str]], env: dict[str, str], runs: int = 7) -> dict[str, float]:
    """Median wall time (ms) of ``runs`` fresh processes per command, after one warm-up each (byte-code cache warm).

    The commands run in turn, round after round, so a load change on the shared machine moves the floors and the
    commands alike and the ratios stay meaningful (back-to-back batches of one command drift with the load)."""
    for argv in cases.values():
        subprocess.run(argv, env=env, capture_output=True, check=False)
    times: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(runs):
        for label, argv in cases.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=False)
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) * 1000 for label, t in times.items()}


def cli_figures() -> None:
    import _support

    from support import pki

    notation = _support.notation_cmd()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {**os.environ, "NOTATION_CONFIG": str(base / "config"), "NOTATION_EXPERIMENTAL": "1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        from notation._internal.oci.layout import write_image

        root, _inter, leaf = pki.chain3()  # the signing key's certificate file holds leaf, intermediate, root
        key, cert = leaf.write(base / "keys", "bench")
        (base / "config").mkdir(parents=True, exist_ok=True)
        (base / "config" / "signingkeys.json").write_text(
            json.dumps({"default": "bench", "keys": [{"name": "bench", "keyPath": str(key), "certPath": str(cert)}]})
        )
        store = base / "config" / "truststore" / "x509" / "ca" / "bench"
        store.mkdir(parents=True, exist_ok=True)
        (store / "root.crt").write_bytes(root.cert_pem())
        (base / "config" / "trustpolicy.json").write_text(
            '{"version":"1.0","trustPolicies":[{"name":"b","registryScopes":["local/bench"],'
            '"signatureVerification":{"level":"strict"},"trustStores":["ca:bench"],"trustedIdentities":["*"]}]}'
        )
        # verify reads a layout signed once; sign's runs add their signatures to another layout
        signed = write_image(base / "signed", "v1", {"hello.txt": b"hello"})
        verify_ref = f"{base / 'signed'}@{signed.digest}"
        subprocess.run([*notation, "sign", "--oci-layout", verify_ref], env=env, capture_output=True, check=True)
        unsigned = write_image(base / "unsigned", "v1", {"hello.txt": b"hello"})
        sign_ref = f"{base / 'unsigned'}@{unsigned.digest}"
        verify = [*notation, "verify", "--oci-layout", "--scope", "local/bench", verify_ref]
        print("CLI wall time (medians of 7 fresh processes, interleaved, byte-code cache warm; 3-certificate chain):")
        ms = interleaved_medians(
            {
                "python -c pass": _support.PASS,
                "floor": _support.FLOOR,
                "notation --help": [*notation, "--help"],
                "notation version": [*notation, "version"],
                "notation sign --oci-layout": [*notation, "sign", "--oci-layout", sign_ref],
                "notation verify --oci-layout": verify,
            },
            env,
        )
        bare, floor = ms["python -c pass"], ms["floor"]
        print(f"  {'python -c pass':32s} {bare:7.1f} ms")
        print(f"  {'floor (cryptography x509 + rsa/ec/padding)':32s} {floor:7.1f} ms")
        for label in ("notation --help", "notation version"):
            print(f"  {label:32s} {ms[label]:7.1f} ms  {ms[label] / bare:5.2f}x python -c pass")
        for label in ("notation sign --oci-layout", "notation verify --oci-layout"):
            print(f"  {label:32s} {ms[label]:7.1f} ms  {ms[label] / floor:5.2f}x floor")
        print(f"  peak memory of notation verify --oci-layout: {_support.peak_rss_mib(verify, env):.0f} MiB")


if __name__ == "__main__":
    if "--cli-only" not in sys.argv:
        library_figures()
    cli_figures()
