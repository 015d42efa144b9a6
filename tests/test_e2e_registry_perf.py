"""Registry traffic of one ``notation`` command (CLI-34: connections and tokens kept for the life of a command).

A sign or verify against our TLS registry must use ONE connection (a TLS handshake is the dominant cost against a
remote registry), a bounded number of requests, and must not reload CA files into the SSL context per connection.
Counted in the server: the registry runs in this process, its handler class is wrapped with counters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry import RegistryClient
from notation_devstack.registry import RegistryServer, TLSFiles, make_tls_files, write_htpasswd
from notation_devstack.registry.handler import RegistryHandler

USER, PASSWORD = "perf", "perf-password"
IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[str] = []

    def take(self) -> tuple[int, list[str]]:
        with self.lock:
            out = (self.connections, list(self.requests))
            self.connections, self.requests = 0, []
            return out


@pytest.fixture(scope="module")
def counts() -> Iterator[Counts]:
    found = Counts()
    setup, handle_one = RegistryHandler.setup, RegistryHandler.handle_one_request

    def counted_setup(self: Any) -> None:
        with found.lock:
            found.connections += 1
        setup(self)

    def counted_handle(self: Any) -> None:
        handle_one(self)
        if getattr(self, "raw_requestline", b""):
            with found.lock:
                found.requests.append(f"{self.command} {self.path.split('?')[0]}")

    mp = pytest.MonkeyPatch()
    mp.setattr(RegistryHandler, "setup", counted_setup)
    mp.setattr(RegistryHandler, "handle_one_request", counted_handle)
    yield found
    mp.undo()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("perf-tls"))


def _client(tls: TLSFiles) -> RegistryClient:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_cert))
        return RegistryClient(username=USER, password=PASSWORD)


def _push_image(tls: TLSFiles, host: str) -> Descriptor:
    client = _client(tls)
    store = client.repository(parse_reference(f"{host}/perf:v1"))
    config = b'{"architecture":"amd64","os":"linux"}'
    cdesc = Descriptor.for_content(mediatypes.OCI_IMAGE_CONFIG, config)
    store.push_blob(cdesc, config)
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "config": cdesc.to_dict(), "layers": []}
    ).encode()
    store.push_manifest("v1", IMAGE_MANIFEST, manifest)
    client.close()
    return Descriptor.for_content(IMAGE_MANIFEST, manifest)


def _wait_for(counts: Counts, n: int) -> None:
    """The handler thread counts a request just after answering it; give the last one a moment."""
    for _ in range(100):
        with counts.lock:
            if len(counts.requests) >= n:
                return
        threading.Event().wait(0.01)


@pytest.mark.parametrize("token_auth", [False, True], ids=["basic", "token"])
def test_cli34_sign_and_verify_use_one_connection(
    counts: Counts, tls: TLSFiles, tmp_path: Path, token_auth: bool
) -> None:
    """One TLS connection per command: HEAD/401 answers and error bodies are drained, not dropped, and the token
    endpoint on the same host shares the connection. Request budgets (REF-05 on a registry honouring If-Match:
    probe + conditional PUT, no re-read) keep a verify at a handful of round trips."""
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: PASSWORD}, rounds=4)
    with RegistryServer(tmp_path / "data", htpasswd=htpasswd, token_auth=token_auth,
                        tls=(tls.cert, tls.key)) as server:
        desc = _push_image(tls, server.host)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTATION_")}
        env.update(NOTATION_CONFIG=str(tmp_path / "config"), NOTATION_CACHE=str(tmp_path / "cache"),
                   REQUESTS_CA_BUNDLE=str(tls.ca_cert), HOME=str(tmp_path), DOCKER_CONFIG=str(tmp_path / "docker"))
        notation = [sys.executable, "-m", "notation"]
        subprocess.run([*notation, "cert", "generate-test", "--default", "perf"], env=env, check=True,
                       capture_output=True, timeout=60)
        (tmp_path / "config" / "trustpolicy.json").write_text(json.dumps({
            "version": "1.0",
            "trustPolicies": [{"name": "p", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
                               "trustStores": ["ca:perf"], "trustedIdentities": ["*"]}],
        }))
        ref = f"{server.host}/perf@{desc.digest}"
        creds = ["-u", USER, "-p", PASSWORD]
        results = {}
        for command in ("sign", "verify"):
            counts.take()
            proc = subprocess.run([*notation, command, *creds, ref], env=env, capture_output=True, text=True,
                                  timeout=60)
            assert proc.returncode == 0, proc.stderr
            _wait_for(counts, 5)
            results[command] = counts.take()
    sign_connections, sign_requests = results["sign"]
    verify_connections, verify_requests = results["verify"]
    assert (sign_connections, verify_connections) == (1, 1), results
    # 401 challenge + HEAD, envelope POST/PUT (just made: no HEAD), config blob HEAD/POST/PUT, manifest PUT,
    # index GET + probe PUT + PUT; with tokens: GET /token for "pull", then for "pull,push" (one token per scope
    # set, as oras-go does)
    assert len(sign_requests) == 11 + (2 if token_auth else 0), sign_requests
    assert sign_requests.count("GET /token") == (2 if token_auth else 0)
    # 401 challenge + HEAD, referrers page, signature manifest, envelope blob (+ one token)
    assert len(verify_requests) <= 5 + (1 if token_auth else 0), verify_requests


def test_cli32_ssl_context_is_not_reloaded_per_connection(tls: TLSFiles, tmp_path: Path) -> None:
    """requests points pools at certifi's bundle and urllib3 would load it into the shared SSL context on every new
    connection (~40 ms each); the client's context keeps exactly the roots it was built with (system +
    REQUESTS_CA_BUNDLE), loaded once per process."""
    from notation._internal.registry import transport

    htpasswd = write_htpasswd(tmp_path / "htpasswd", {USER: PASSWORD}, rounds=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_cert))
        context = transport._ssl_context()
        first = transport._ssl_context(complete=False)  # what a connection tries first (test_registry_tls_roots.py)
        loads: list[object] = []

        def spy_on(ctx: Any) -> None:
            original = ctx.load_verify_locations

            def spy(*args: Any, **kwargs: Any) -> None:
                loads.append(args or kwargs)
                original(*args, **kwargs)

            mp.setattr(ctx, "load_verify_locations", spy, raising=False)

        for ctx in {id(context): context, id(first): first}.values():
            spy_on(ctx)
        for n in range(3):  # three registries: three new connections through one session
            with RegistryServer(tmp_path / f"data{n}", htpasswd=htpasswd, tls=(tls.cert, tls.key)) as server:
                client = RegistryClient(username=USER, password=PASSWORD)
                client.ping(server.host)
                client.close()
        assert transport._ssl_context() is context and transport._ssl_context(complete=False) is first
    assert loads == []
