"""notation-py benchmark for the many-references extension (issue 7); prints figures, asserts nothing.

Run: ``.venv/bin/python bench/bench_many.py [--count 200] [--runs 7]``

* N signed images in our registry (notation_devstack, plain HTTP on 127.0.0.1): wall time of ONE
  ``notation verify`` call over all N references against N separate ``notation verify`` calls (fresh processes, as a
  CI pipeline would run them), and the same with ``--cache`` warm;
* median wall time of ``notation --help``, ``notation version`` and one ``notation verify`` on loopback.

Everything runs in a temporary NOTATION_CONFIG / NOTATION_CACHE; a few minutes in all for N=200.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTATION = [sys.executable, "-m", "notation"]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_images(url: str, repo: str, count: int) -> list[str]:
    """``count`` small distinct images (config + one layer) pushed with plain HTTP requests; their digests."""
    import requests

    s = requests.Session()

    def blob(data: bytes) -> dict[str, object]:
        r = s.post(f"{url}/v2/{repo}/blobs/uploads/", params={"digest": _digest(data)}, data=data)
        r.raise_for_status()
        return {"digest": _digest(data), "size": len(data)}

    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(config)}
    digests = []
    for i in range(count):
        layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", **blob(f"layer {i}".encode())}
        body = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cfg,
                "layers": [layer],
            }
        ).encode()
        r = s.put(
            f"{url}/v2/{repo}/manifests/{_digest(body)}",
            data=body,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        r.raise_for_status()
        digests.append(_digest(body))
    return digests


def timed(argv: list[str], env: dict[str, str], *, ok: bool = True) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if ok and proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} ... failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def median(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(timed(argv, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()

    from notation_devstack.registry import RegistryServer

    with tempfile.TemporaryDirectory(prefix="notation-bench-") as tmp:
        base = Path(tmp)
        env = dict(os.environ, NOTATION_CONFIG=str(base / "config"), NOTATION_CACHE=str(base / "cache"))
        env.pop("NOTATION_VERIFY_CACHE", None)
        subprocess.run([*NOTATION, "cert", "generate-test", "--default", "bench"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        policy = {
            "version": "1.0",
            "trustPolicies": [
                {
                    "name": "bench",
                    "registryScopes": ["*"],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": ["ca:bench"],
                    "trustedIdentities": ["*"],
                }
            ],
        }
        (base / "policy.json").write_text(json.dumps(policy))
        subprocess.run([*NOTATION, "policy", "import", str(base / "policy.json")], env=env, check=True,
                       capture_output=True)  # fmt: skip

        with RegistryServer(base / "registry") as server:
            host = server.host
            digests = push_images(server.url, "bench/app", args.count)
            refs = [f"{host}/bench/app@{d}" for d in digests]
            flags = ["--insecure-registry"]
            t_sign = timed([*NOTATION, "sign", *flags, "--parallel", str(args.parallel), *refs], env)
            print(f"images: {args.count} on {server.url} (signed in one call: {t_sign:.2f} s)")

            t_one = timed([*NOTATION, "verify", *flags, "--parallel", str(args.parallel), *refs], env)
            t_one_seq = timed([*NOTATION, "verify", *flags, "--parallel", "1", *refs], env)
            start = time.perf_counter()
            for ref in refs:
                timed([*NOTATION, "verify", *flags, ref], env)
            t_many = time.perf_counter() - start
            timed([*NOTATION, "verify", *flags, "--cache", *refs], env)  # warm the cache
            t_cached = timed([*NOTATION, "verify", *flags, "--cache", "--parallel", str(args.parallel), *refs], env)

            print(f"verify, one call over {args.count} refs (--parallel {args.parallel}): {t_one:8.2f} s")
            print(f"verify, one call over {args.count} refs (--parallel 1):  {t_one_seq:8.2f} s")
            print(f"verify, one call, warm --cache (--parallel {args.parallel}):  {t_cached:8.2f} s")
            print(f"verify, {args.count} separate calls:                   {t_many:8.2f} s")
            print(f"speed-up one call vs separate calls: {t_many / t_one:.1f}x (target >= 10x)")

            runs = args.runs
            t_help = median([*NOTATION, "--help"], env, runs)
            t_version = median([*NOTATION, "version"], env, runs)
            t_verify = median([*NOTATION, "verify", *flags, refs[0]], env, runs)
            print(f"median of {runs}: notation --help {t_help * 1000:.0f} ms, notation version "
                  f"{t_version * 1000:.0f} ms, notation verify (loopback) {t_verify * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
