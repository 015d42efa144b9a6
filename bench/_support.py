"""Shared parts of the benchmarks: registries in their own processes, images, a notation home, timing.

Why separate processes: the issue's figures are measured with the registry in another process (as a real registry
is), so the client's CPU is not shared with the server's inside one interpreter. Two registries: ours
(``notation-devstack registry serve``, referrers API) and Debian's ``docker-registry`` (a Go registry, so the server
is not the limit; no referrers API, so the tag-schema fallback is measured).

Benchmarks print figures; they never assert. Timings on a loaded machine are noisy: every figure is printed next to
the interpreter floor measured in the same run, and the ratio is what counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
DOCKER_REGISTRY = "/usr/bin/docker-registry"
FLOOR_CODE = "from cryptography import x509; from cryptography.hazmat.primitives.asymmetric import rsa, ec, padding"
FLOOR = [sys.executable, "-c", FLOOR_CODE]
PASS = [sys.executable, "-c", "pass"]


def notation_cmd() -> list[str]:
    """The installed console script, as a user runs it (``NOTATION_BENCH_CMD`` overrides it, e.g. to measure an
    older checkout with ``python -m notation`` and ``PYTHONPATH`` in the same run)."""
    override = os.environ.get("NOTATION_BENCH_CMD")
    if override:
        return override.split()
    script = BIN / "notation"
    return [str(script)] if script.exists() else [sys.executable, "-m", "notation"]


def timed(argv: Sequence[str], env: dict[str, str], *, check: bool = True) -> float:
    start = time.perf_counter()
    proc = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} ... failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def median_of(argv: Sequence[str], env: dict[str, str], runs: int, *, check: bool = True) -> float:
    """Median wall time in seconds of ``runs`` fresh processes (after one warm-up run: byte-code cache warm)."""
    timed(argv, env, check=check)
    return statistics.median(timed(argv, env, check=check) for _ in range(runs))


def peak_rss_mib(argv: Sequence[str], env: dict[str, str]) -> float:
    """Peak resident memory of a child process (ru_maxrss of the waited-for child)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(list(argv), env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


SERVER_PIDS: dict[str, int] = {}
"""host:port -> the pid of the registry process serving it (for its CPU time)."""


def cpu_seconds(host: str) -> float:
    """CPU time (user + system, all threads) the registry serving ``host`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{SERVER_PIDS[host]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time (user + system) of the waited-for child processes so far: what the notation processes used."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def row(label: str, seconds: float, floor: float, note: str = "") -> None:
    print(f"  {label:58s} {seconds * 1000:8.1f} ms  {seconds / floor:5.2f}x floor {note}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"registry exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("registry did not start")


@contextlib.contextmanager
def our_registry(root: Path) -> Iterator[str]:
    """``notation-devstack registry serve`` in its own process, plain HTTP on 127.0.0.1; yields ``host:port``."""
    port = free_port()
    argv = [sys.executable, "-m", "notation_devstack", "registry", "serve", "--root", str(root), "--port", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        SERVER_PIDS[f"127.0.0.1:{port}"] = proc.pid
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def docker_registry(root: Path) -> Iterator[str | None]:
    """Debian's docker-registry (distribution 2.8) on 127.0.0.1, or None when it is not installed."""
    if not Path(DOCKER_REGISTRY).exists():
        yield None
        return
    port = free_port()
    config = root / "config.yml"
    root.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_port(port, proc)
        SERVER_PIDS[f"127.0.0.1:{port}"] = proc.pid
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_images(host: str, repo: str, count: int, salt: str = "") -> list[str]:
    """``count`` small distinct images (config + one layer) pushed over plain HTTP; their digests."""
    import requests

    url = f"http://{host}"
    s = requests.Session()

    def blob(data: bytes) -> dict[str, object]:
        r = s.post(f"{url}/v2/{repo}/blobs/uploads/")
        r.raise_for_status()
        location = r.headers["Location"]
        if location.startswith("/"):
            location = url + location
        sep = "&" if "?" in location else "?"
        r = s.put(f"{location}{sep}digest={_digest(data)}", data=data,
                  headers={"Content-Type": "application/octet-stream"})  # fmt: skip
        r.raise_for_status()
        return {"digest": _digest(data), "size": len(data)}

    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(config)}
    digests = []
    for i in range(count):
        layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", **blob(f"layer {salt}{i}".encode())}
        body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": cfg, "layers": [layer]}).encode()  # fmt: skip
        r = s.put(f"{url}/v2/{repo}/manifests/v{i}", data=body,
                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})  # fmt: skip
        r.raise_for_status()
        digests.append(_digest(body))
    return digests


@contextlib.contextmanager
def notation_home() -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary notation config/cache with a default test key (RSA-2048) and a strict policy trusting it."""
    with tempfile.TemporaryDirectory(prefix="notation-bench-") as tmp:
        base = Path(tmp)
        env = dict(os.environ, NOTATION_CONFIG=str(base / "config"), NOTATION_CACHE=str(base / "cache"),
                   XDG_STATE_HOME=str(base / "state"), DOCKER_CONFIG=str(base / "docker"),
                   NOTATION_EXPERIMENTAL="1")  # fmt: skip
        for var in ("NOTATION_VERIFY_CACHE", "NOTATION_USERNAME", "NOTATION_PASSWORD", "PYTHONDONTWRITEBYTECODE"):
            env.pop(var, None)
        notation = notation_cmd()
        subprocess.run([*notation, "cert", "generate-test", "--default", "bench"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        policy = {"version": "1.0", "trustPolicies": [{"name": "bench", "registryScopes": ["*"],
                  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:bench"],
                  "trustedIdentities": ["*"]}]}  # fmt: skip
        (base / "policy.json").write_text(json.dumps(policy))
        subprocess.run([*notation, "policy", "import", str(base / "policy.json")], env=env, check=True,
                       capture_output=True)  # fmt: skip
        yield base, env


def have(binary: str) -> bool:
    return shutil.which(binary) is not None
