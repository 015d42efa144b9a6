"""notation-py registry benchmark: prints figures, asserts nothing (run: .venv/bin/python bench/bench_registry.py).

Our registry (``notation_devstack.registry.RegistryServer``) runs in this process on 127.0.0.1 with TLS (a
throwaway CA handed to the client through ``REQUESTS_CA_BUNDLE``) and basic auth, as a private registry would be
set up. Each ``notation sign`` / ``notation verify`` is a fresh process, as in a CI pipeline; the figures are:

* wall time, median of several runs;
* HTTP requests and TCP/TLS connections the registry saw per command (counted in the server's handler), which is
  what a remote registry turns into round trips.

``--token`` uses the registry's bearer-token flow instead of basic auth; ``--runs N`` changes the sample size.
Byte-code caching is on for the measured processes (``PYTHONPYCACHEPREFIX`` in a temp dir, after one warm-up run),
as for an installed package, even where the environment sets ``PYTHONDONTWRITEBYTECODE``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Counter:
    """Requests and connections seen by the registry's handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.connections = 0

    def snapshot(self) -> tuple[int, int]:
        with self.lock:
            return self.requests, self.connections


def install_counter() -> Counter:
    """Wrap the handler's per-connection ``setup`` and per-request ``handle_one_request`` with counters."""
    from notation_devstack.registry.handler import RegistryHandler

    counter = Counter()
    setup, handle_one = RegistryHandler.setup, RegistryHandler.handle_one_request

    def counted_setup(self: Any) -> None:
        with counter.lock:
            counter.connections += 1
        setup(self)

    def counted_handle(self: Any) -> None:
        handle_one(self)
        if getattr(self, "command", None) and getattr(self, "raw_requestline", b""):
            with counter.lock:
                counter.requests += 1

    RegistryHandler.setup = counted_setup  # type: ignore[method-assign]
    RegistryHandler.handle_one_request = counted_handle  # type: ignore[method-assign]
    return counter


def push_image(host: str, username: str, password: str) -> str:
    """Seed ``<host>/bench:v1`` (config, one layer, manifest) with the library; return the manifest digest."""
    from notation._internal.oci import mediatypes
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.reference import parse_reference
    from notation._internal.registry import RegistryRepository

    config, layer = b'{"architecture":"amd64","os":"linux"}', b"bench layer"
    cdesc = Descriptor.for_content(mediatypes.OCI_IMAGE_CONFIG, config)
    ldesc = Descriptor.for_content(mediatypes.OCI_LAYER_TAR, layer)
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "config": cdesc.to_dict(), "layers": [ldesc.to_dict()]}
    ).encode()
    with RegistryRepository(parse_reference(f"{host}/bench:v1"), username=username, password=password) as store:
        store.push_blob(cdesc, config)
        store.push_blob(ldesc, layer)
        store.push_manifest("v1", IMAGE_MANIFEST, manifest)
    return Descriptor.for_content(IMAGE_MANIFEST, manifest).digest


def measure(argv: list[str], env: dict[str, str], counter: Counter, runs: int) -> tuple[float, float, float]:
    """(median ms, median requests, median connections) over ``runs`` fresh processes; a failure aborts."""
    times, requests, connections = [], [], []
    for _ in range(runs):
        before = counter.snapshot()
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        times.append((time.perf_counter() - start) * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[2:])} failed:\n{proc.stdout}{proc.stderr}")
        time.sleep(0.05)  # let the handler threads of the last connection count its final request
        after = counter.snapshot()
        requests.append(after[0] - before[0])
        connections.append(after[1] - before[1])
    return statistics.median(times), statistics.median(requests), statistics.median(connections)


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=False)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--token", action="store_true", help="bearer-token auth instead of basic auth")
    args = parser.parse_args()

    from notation_devstack.registry import RegistryServer, make_tls_files, write_htpasswd

    counter = install_counter()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        tls = make_tls_files(base / "tls")
        htpasswd = write_htpasswd(base / "htpasswd", {"bench": "bench-password"}, rounds=4)
        os.environ["REQUESTS_CA_BUNDLE"] = str(tls.ca_cert)
        with RegistryServer(
            base / "data", htpasswd=htpasswd, token_auth=args.token, tls=(tls.cert, tls.key)
        ) as server:
            digest = push_image(server.host, "bench", "bench-password")
            env = {
                **os.environ,
                "NOTATION_CONFIG": str(base / "config"),
                "NOTATION_CACHE": str(base / "cache"),
                "DOCKER_CONFIG": str(base / "docker"),
                "HOME": str(base),
                "NOTATION_USERNAME": "bench",
                "NOTATION_PASSWORD": "bench-password",
                "REQUESTS_CA_BUNDLE": str(tls.ca_cert),
                "PYTHONPYCACHEPREFIX": str(base / "pycache"),
            }
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            notation = [str(ROOT / ".venv" / "bin" / "notation")]
            if not Path(notation[0]).exists():
                notation = [sys.executable, "-m", "notation"]
            subprocess.run([*notation, "cert", "generate-test", "--default", "bench"], env=env, check=True,
                           capture_output=True)
            (base / "config" / "trustpolicy.json").write_text(json.dumps({
                "version": "1.0",
                "trustPolicies": [{
                    "name": "bench", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
                    "trustStores": ["ca:bench"], "trustedIdentities": ["*"],
                }],
            }))
            ref = f"{server.host}/bench@{digest}"
            auth = "bearer token" if args.token else "basic auth"
            floor_argv = [sys.executable, "-c", "from cryptography import x509; "
                          "from cryptography.hazmat.primitives.asymmetric import rsa, ec, padding"]  # fmt: skip
            _wall(floor_argv, env)  # warm-up
            floor_ms = statistics.median(_wall(floor_argv, env) for _ in range(args.runs))
            print(f"registry: ours, TLS on 127.0.0.1, {auth}; median of {args.runs} fresh processes")
            print(f"  floor (python -c 'from cryptography import x509; ...'): {floor_ms:.1f} ms in this run")
            print(f"  {'command':18s} {'wall ms':>8s} {'x floor':>8s} {'requests':>9s} {'connections':>12s}")
            measure([*notation, "sign", ref], env, counter, 1)  # warm-up: writes the byte-code cache
            measure([*notation, "verify", ref], env, counter, 1)
            sign = measure([*notation, "sign", ref], env, counter, args.runs)
            verify = measure([*notation, "verify", ref], env, counter, args.runs)
            for label, (ms, reqs, conns) in (("notation sign", sign), ("notation verify", verify)):
                print(f"  {label:18s} {ms:8.1f} {ms / floor_ms:8.2f} {reqs:9.0f} {conns:12.0f}")


if __name__ == "__main__":
    main()
