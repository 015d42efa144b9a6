"""notation-py revocation benchmark: prints figures, asserts nothing (run: .venv/bin/python bench/bench_revocation.py).

What a ``notation verify`` costs when revocation is checked through CRLs (trust.md REV-20..25). The signing chain
(root → intermediate → leaf) names CRL distribution points only — no OCSP responder — so every non-root
certificate is checked against a CRL served by the test CRL server (tests/protocol_servers) on 127.0.0.1. Each verify
is a fresh process, as in a CI pipeline, on an OCI image layout. Figures (median of ``--runs``):

* ``revocation skip``: the policy overrides revocation to ``skip`` — the baseline;
* ``CRL, cold cache``: an empty ``{CACHE}/crl`` each run, so both CRLs are downloaded, verified and cached;
* ``CRL, warm cache``: the cache filled by a previous run, so nothing is downloaded (only read and verified);
* ``OCSP``: the same chain shape with OCSP responders instead, for comparison (OCSP is never cached, REV-26).

``--entries N`` puts N revoked serials in each CRL (default 5000, a mid-size public CA CRL), since parsing and the
serial lookup grow with it. Byte-code caching is on for the measured processes (``PYTHONPYCACHEPREFIX`` in a temp
dir, after one warm-up run), as for an installed package.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _policy(name: str, revocation: str | None) -> dict[str, Any]:
    verification: dict[str, Any] = {"level": "strict"}
    if revocation:
        verification["override"] = {"revocation": revocation}
    return {
        "name": name,
        "registryScopes": [f"local/{name}"],
        "signatureVerification": verification,
        "trustStores": ["ca:bench"],
        "trustedIdentities": ["*"],
    }


def _run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:5])} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--entries", type=int, default=5000, help="revoked serials per CRL")
    args = parser.parse_args()

    from cryptography import x509

    from notation._internal.oci.layout import write_image
    from protocol_servers.crl import CRLServer, Revoked, make_crl
    from protocol_servers.ocsp import OCSPResponder
    from support import pki

    work = Path(tempfile.mkdtemp(prefix="notation-bench-rev-"))
    try:
        with CRLServer() as crls, OCSPResponder(issuers=[]) as ocsp:
            root = pki.root_ca("Bench Root", key_kind="ec384", key_usage=pki.CA_KU_WITH_CRL)

            def chain(tag: str, ocsp_url: str | None, crl_base: str | None) -> tuple[pki.Issued, pki.Issued]:
                inter = pki.issue(
                    f"Bench Intermediate {tag}",
                    key_kind="ec384",
                    issuer=root,
                    ca=True,
                    path_length=0,
                    key_usage=pki.CA_KU_WITH_CRL,
                    extra_extensions=pki.revocation_urls(
                        [ocsp_url] if ocsp_url else None, [f"{crl_base}/root.crl"] if crl_base else None
                    ),
                )
                leaf = pki.issue(
                    f"Bench Leaf {tag}",
                    key_kind="ec256",
                    issuer=inter,
                    extra_extensions=pki.revocation_urls(
                        [ocsp_url] if ocsp_url else None, [f"{crl_base}/inter-{tag}.crl"] if crl_base else None
                    ),
                )
                return inter, leaf

            crl_inter, crl_leaf = chain("crl", None, crls.url)
            ocsp_inter, ocsp_leaf = chain("ocsp", ocsp.url, None)
            ocsp.issuers[:] = [root, ocsp_inter]
            filler = [
                Revoked(x509.random_serial_number(), reason=x509.ReasonFlags.superseded) for _ in range(args.entries)
            ]
            crls.routes["/root.crl"] = make_crl(root, filler)
            crls.routes["/inter-crl.crl"] = make_crl(crl_inter, filler)
            sizes = {path: len(body) for path, body in crls.routes.items() if isinstance(body, bytes)}

            config = work / "config"
            (config / "truststore" / "x509" / "ca" / "bench").mkdir(parents=True)
            (config / "truststore" / "x509" / "ca" / "bench" / "root.pem").write_bytes(root.cert_pem())
            keys = []
            for name, leaf in (("crl", crl_leaf), ("ocsp", ocsp_leaf)):
                key_path, cert_path = leaf.write(work / "keys", name)
                keys.append({"name": name, "keyPath": str(key_path), "certPath": str(cert_path)})
            (config / "signingkeys.json").write_text(json.dumps({"keys": keys}))
            policies = [_policy("check", None), _policy("skip", "skip")]
            (config / "trustpolicy.json").write_text(json.dumps({"version": "1.0", "trustPolicies": policies}))

            pycache = work / "pycache"
            env = dict(os.environ)
            for var in ("PYTHONDONTWRITEBYTECODE", "NOTATION_VERIFY_CACHE", "HTTP_PROXY", "http_proxy"):
                env.pop(var, None)
            env.update(
                NOTATION_CONFIG=str(config),
                NOTATION_CACHE=str(work / "cache"),
                NOTATION_EXPERIMENTAL="1",
                PYTHONPYCACHEPREFIX=str(pycache),
                NO_PROXY="127.0.0.1,localhost",
            )
            notation = [sys.executable, "-m", "notation"]
            layout = work / "layout"
            refs = {}
            for name in ("crl", "ocsp"):
                desc = write_image(layout, name, {"content.txt": name.encode()})
                refs[name] = f"{layout}@{desc.digest}"
                _run([*notation, "sign", "--oci-layout", "--key", name, refs[name]], env)

            def verify(ref: str, scope: str, cache: Path) -> float:
                return _run(
                    [*notation, "verify", "--oci-layout", "--scope", f"local/{scope}", ref],
                    {
                        **env,
                        "NOTATION_CACHE": str(cache),
                    },
                )

            verify(refs["crl"], "skip", work / "cache-warmup")  # byte-code cache warm-up

            def measure(label: str, one: Callable[[int], float]) -> None:
                before = sum(crls.hits.values())
                times = [one(i) for i in range(args.runs)]
                downloads = (sum(crls.hits.values()) - before) / args.runs
                print(
                    f"{label:<22} median {statistics.median(times) * 1000:7.1f} ms   "
                    f"min {min(times) * 1000:7.1f} ms   CRL downloads/verify {downloads:.1f}"
                )

            print(
                f"notation verify, {args.runs} runs each; CRL sizes: "
                + ", ".join(f"{p} {n / 1024:.0f} KiB" for p, n in sorted(sizes.items()))
                + f" ({args.entries} entries each)"
            )
            measure("revocation skip", lambda i: verify(refs["crl"], "skip", work / "cache-skip"))

            def cold(i: int) -> float:
                cache = work / f"cache-cold-{i}"
                return verify(refs["crl"], "check", cache)

            measure("CRL, cold cache", cold)
            warm = work / "cache-warm"
            verify(refs["crl"], "check", warm)
            measure("CRL, warm cache", lambda i: verify(refs["crl"], "check", warm))
            measure("OCSP (never cached)", lambda i: verify(refs["ocsp"], "check", work / "cache-ocsp"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
