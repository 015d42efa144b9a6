"""Our registry under load and faults (issue 8, "Our servers under load and faults").

50 concurrent HTTPS clients with basic auth push blobs (monolithic and chunked), tagged manifests and signature
manifests with a subject, pull and list referrers for a bounded time; then every acknowledged push must be served
byte for byte. Then a subprocess registry is killed with SIGKILL in the middle of writes and restarted on the same
root: every acknowledged write is served intact, nothing half-written is served, the referrers listing agrees with
the manifests. Figures: ``NOTATION_LOAD_LONG=1`` for the long mode, see load_support/harness.py.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from load_support.harness import CLIENTS, Figures, ServerProcess, duration, long_mode, run_clients
from load_support.registry_load import Client, Ledger, Unexpected, crawl, sha256_file, verify_ledger
from notation_devstack.registry import RegistryServer, make_tls_files, write_htpasswd
from notation_devstack.registry.tlsgen import TLSFiles

USER, PASSWORD = "loader", "load test password"
REPOS = 5


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("load-tls"))


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_htpasswd(tmp_path_factory.mktemp("load-auth") / "htpasswd", {USER: PASSWORD}, rounds=4)


@pytest.fixture
def registry(tmp_path: Path, tls: TLSFiles, htpasswd: Path) -> Iterator[RegistryServer]:
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, tls=(tls.cert, tls.key)) as srv:
        yield srv


def _worker(url: str, ca: Path, ledger: Ledger, figures: Figures) -> Callable[[int, Callable[[], bool]], None]:
    def work(index: int, running: Callable[[], bool]) -> None:
        client = Client(url, (USER, PASSWORD), ca, seed=index)
        rng = client.rng
        repo = f"load/repo{index % REPOS}"
        n = 0
        try:
            while running():
                n += 1
                try:
                    chunks = 1 if n % 2 else rng.randint(2, 4)
                    subject = client.push_image(repo, f"c{index}-{n}", rng.randint(1, 48 * 1024), chunks,
                                                ledger, figures)
                    sig = client.push_signature(repo, subject, ledger, figures)
                    listed = {d["digest"] for d in client.referrers(repo, subject["digest"])}
                    figures.op("referrers_list")
                    if sig not in listed:
                        raise Unexpected(f"acknowledged signature {sig} missing from the referrers of its subject")
                    for _ in range(3):
                        picked = ledger.pick(rng)
                        if picked is not None:
                            kind, (other_repo, dgst), data = picked
                            if client.pull(kind, other_repo, dgst) != data:
                                raise Unexpected(f"{kind} {other_repo}@{dgst} differs from what was pushed")
                            figures.op(f"{kind}_pull")
                    snap = ledger.referrer_snapshot(rng)
                    if snap is not None:
                        (other_repo, other_subject), wanted = snap
                        got = {d["digest"] for d in client.referrers(other_repo, other_subject)}
                        figures.op("referrers_list")
                        if not wanted <= got:
                            raise Unexpected(f"referrers of {other_repo}@{other_subject} lack {wanted - got}")
                except (Unexpected, requests.RequestException, KeyError, ValueError) as exc:
                    figures.error(f"client {index} round {n}: {type(exc).__name__}: {exc}")
        finally:
            client.close()

    return work


def test_registry_50_clients_push_pull_referrers(registry: RegistryServer, tls: TLSFiles) -> None:
    """50 concurrent authenticated HTTPS clients; 0 errors, and every acknowledged push is there afterwards."""
    figures = Figures("registry-load")
    ledger = Ledger()
    seconds = duration(2.5, 60.0)
    started = time.monotonic()
    run_clients(CLIENTS, seconds, _worker(registry.url, tls.ca_cert, ledger, figures), figures)
    elapsed = time.monotonic() - started
    checker = Client(registry.url, (USER, PASSWORD), tls.ca_cert, seed=-1)
    try:
        verify_ledger(checker, ledger, figures)
        reads = crawl(checker, figures)
    finally:
        checker.close()
    figures.extra.update(clients=CLIENTS, seconds=round(elapsed, 1), crawl_reads=reads,
                         ops_per_second=round(figures.operations / elapsed, 1))
    figures.report()
    assert figures.ops["manifest_push"] >= CLIENTS, "every client completed at least one round"
    assert figures.ops["referrer_push"] >= CLIENTS
    figures.assert_clean()


def _writer(client: Client, index: int, ledger: Ledger, figures: Figures, killed: threading.Event) -> None:
    """Push until the server dies; failures after the kill are expected (nothing acknowledged), before it not."""
    rng = client.rng
    repo = f"crash/repo{index % 3}"
    n = 0
    while not killed.is_set():
        n += 1
        try:
            size = rng.choice([512, 64 * 1024, 512 * 1024, 2 * 1024 * 1024])
            subject = client.push_image(repo, f"w{index}-{n}", size, rng.randint(1, 6), ledger, figures)
            client.push_signature(repo, subject, ledger, figures)
        except (Unexpected, requests.RequestException) as exc:
            if not killed.is_set():
                time.sleep(0.05)  # the kill may land between our check and the failed request
            if not killed.is_set():
                figures.error(f"writer {index} before the kill: {type(exc).__name__}: {exc}")
            return


def _serve_args(root: Path, tls: TLSFiles, htpasswd: Path) -> list[str]:
    return ["registry", "serve", "--root", str(root), "--port", "0", "--htpasswd", str(htpasswd),
            "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]


def test_registry_kill9_during_writes_loses_nothing_acknowledged(tmp_path: Path, tls: TLSFiles,
                                                                 htpasswd: Path) -> None:
    """SIGKILL under writes, restart on the same root: acknowledged = served intact, nothing torn is served."""
    figures = Figures("registry-kill9")
    ledger = Ledger()
    root = tmp_path / "root"
    cycles = 5 if long_mode() else 1
    writers = 16
    for cycle in range(cycles):
        killed = threading.Event()
        with ServerProcess(_serve_args(root, tls, htpasswd), "https://", tmp_path / "registry.log") as server:
            clients = [Client(server.url, (USER, PASSWORD), tls.ca_cert, seed=1000 * cycle + i)
                       for i in range(writers)]
            threads = [threading.Thread(target=_writer, args=(c, i, ledger, figures, killed), daemon=True)
                       for i, c in enumerate(clients)]
            for thread in threads:
                thread.start()
            time.sleep(duration(1.2, 6.0) * random.uniform(0.7, 1.0))
            killed.set()
            server.kill()
            for thread in threads:
                thread.join(timeout=60)
            for c in clients:
                c.close()
        figures.op("kill9")
        # What the kill left half-written, aged past the sweep threshold: the restart must remove it.
        leftovers = [*(root / "tmp").iterdir()]
        leftovers += [p for top in ("repositories", "blobs") for p in (root / top).rglob(".tmp-*")]
        stale = time.time() - 2 * 3600
        for path in leftovers:
            os.utime(path, (stale, stale))
        figures.extra["leftover_temp_files"] = figures.extra.get("leftover_temp_files", 0) + len(leftovers)
        with ServerProcess(_serve_args(root, tls, htpasswd), "https://", tmp_path / "registry.log") as server:
            for path in leftovers:
                if path.exists():
                    figures.error(f"dead writer's temp file {path} survived the restart")
            checker = Client(server.url, (USER, PASSWORD), tls.ca_cert, seed=-1)
            try:
                verify_ledger(checker, ledger, figures)
                figures.extra["crawl_reads"] = figures.extra.get("crawl_reads", 0) + crawl(checker, figures)
                # The restarted registry still takes writes, including to a repository hit mid-write.
                subject = checker.push_image("crash/repo0", f"after-{cycle}", 4096, 2, ledger, figures)
                checker.push_signature("crash/repo0", subject, ledger, figures)
            finally:
                checker.close()
    # Torn files never sit under a digest name: each stored blob hashes to its own name.
    for path in sorted((root / "blobs").rglob("*")):
        if path.is_file():
            figures.checked += 1
            if sha256_file(path) != f"{path.parent.name}:{path.name}":
                figures.error(f"stored blob {path} does not hash to its name")
    figures.extra.update(writers=writers, cycles=cycles, acknowledged_blobs=len(ledger.blobs),
                         acknowledged_manifests=len(ledger.manifests))
    figures.report()
    assert figures.ops["manifest_push"] >= writers // 2, "writes were acknowledged before the kill"
    figures.assert_clean()
