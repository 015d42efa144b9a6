"""Our registry refuses unauthenticated and wrongly-authorised requests, also under concurrent load (issue 8).

Includes the regression for refusals of requests carrying a body: the registry used to answer the 401 of, say, an
anonymous blob POST and close the socket with the body unread, so the kernel's RST destroyed the answer in flight
and ``requests`` failed with ``ChunkedEncodingError: IncompleteRead`` or a reset instead of seeing the 401.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from devstack_registry_support.oci import digest
from load_support.harness import CLIENTS, Figures, duration, run_clients
from load_support.registry_load import Client, Ledger, verify_ledger
from notation_devstack.registry import RegistryServer, make_tls_files, write_htpasswd
from notation_devstack.registry.tlsgen import TLSFiles

USER, PASSWORD = "loader", "load test password"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("refusal-tls"))


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_htpasswd(tmp_path_factory.mktemp("refusal-auth") / "htpasswd", {USER: PASSWORD}, rounds=4)


def _session(ca: Path | None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    if ca is not None:
        s.verify = str(ca)
    return s


@pytest.mark.parametrize("use_tls", [True, False], ids=["https", "http"])
def test_401_with_unread_body_reaches_the_client_whole(tmp_path: Path, tls: TLSFiles, htpasswd: Path,
                                                       use_tls: bool) -> None:
    """Anonymous pushes with bodies from 1 byte to 4 MiB (and chunked) get a complete 401 JSON answer."""
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, tls=(tls.cert, tls.key) if use_tls else None) as srv, \
            _session(tls.ca_cert) as s:
        for size in (1, 100, 64 * 1024, 256 * 1024, 256 * 1024 + 1, 1024 * 1024, 4 * 1024 * 1024):
            for _ in range(3):
                data = b"x" * size
                r = s.post(f"{srv.url}/v2/app/blobs/uploads/", params={"digest": digest(data)}, data=data)
                assert r.status_code == 401, size
                assert r.json()["errors"][0]["code"] == "UNAUTHORIZED", size
                r = s.put(f"{srv.url}/v2/app/manifests/v1", data=data,
                          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
                assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED", size
        r = s.post(f"{srv.url}/v2/app/blobs/uploads/", data=iter([b"a" * 70000, b"b" * 70000]))  # chunked coding
        assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
        assert not (tmp_path / "root" / "repositories" / "app").exists()


def test_small_unread_body_is_drained_and_the_connection_reused(tmp_path: Path, htpasswd: Path) -> None:
    """A refused request with a small body keeps the connection usable: the body is read and dropped."""
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd) as srv, \
            socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        body = b"y" * 5000
        request = (f"PUT /v2/app/manifests/v1 HTTP/1.1\r\nHost: {srv.host}\r\nContent-Length: {len(body)}\r\n"
                   "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n\r\n").encode() + body
        ping = f"GET /v2/ HTTP/1.1\r\nHost: {srv.host}\r\n\r\n".encode()
        sock.sendall(request + ping)  # pipelined: the second request must parse as a request, not as body
        reader = sock.makefile("rb")
        answers = []
        for _ in range(2):
            status = reader.readline()
            headers = {}
            while (line := reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            payload = reader.read(int(headers["content-length"]))
            answers.append((status, headers, payload))
        assert [a[0].split()[1] for a in answers] == [b"401", b"401"]
        assert "connection" not in answers[0][1]  # kept alive
        assert b"UNAUTHORIZED" in answers[0][2] and b"UNAUTHORIZED" in answers[1][2]


def test_large_unread_body_gets_the_answer_before_the_close(tmp_path: Path, tls: TLSFiles, htpasswd: Path) -> None:
    """Over raw TLS: a refused 8 MiB body still lets the client read the whole 401 (lingering close)."""
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, tls=(tls.cert, tls.key)) as srv:
        ctx = ssl.create_default_context(cafile=str(tls.ca_cert))
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            size = 8 * 1024 * 1024
            sock.sendall((f"POST /v2/app/blobs/uploads/ HTTP/1.1\r\nHost: {srv.host}\r\n"
                          f"Content-Length: {size}\r\n\r\n").encode())
            block = b"z" * 65536
            for _ in range(size // len(block)):
                sock.sendall(block)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    head, _, rest = answer.partition(b"\r\n\r\n")
                    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                    if len(rest) >= length:
                        break
            head, _, rest = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 401") and b"Connection: close" in head
            assert b"UNAUTHORIZED" in rest


@pytest.fixture
def token_registry(tmp_path: Path, tls: TLSFiles, htpasswd: Path) -> Iterator[RegistryServer]:
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, tls=(tls.cert, tls.key), token_auth=True) as srv:
        yield srv


def _token(s: requests.Session, srv: RegistryServer, scope: str) -> str:
    r = s.get(f"{srv.url}/token", params={"service": srv.host, "scope": scope}, auth=(USER, PASSWORD))
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_refusals_under_load(tmp_path: Path, tls: TLSFiles, htpasswd: Path, token_registry: RegistryServer) -> None:
    """50 clients mixing legitimate pushes with anonymous, wrong-password and wrong-scope requests (basic and
    token registries): every bad request is a 401 with a readable body, no refused write lands, good ones do."""
    figures = Figures("registry-refusals")
    ledger = Ledger()
    with RegistryServer(tmp_path / "basic", htpasswd=htpasswd, tls=(tls.cert, tls.key)) as basic:
        with _session(tls.ca_cert) as s:
            other_repo_token = _token(s, token_registry, "repository:other:pull,push")
            pull_only_token = _token(s, token_registry, "repository:guarded:pull")
            good_token = _token(s, token_registry, "repository:guarded:pull,push")

        def refused(r: requests.Response, what: str) -> None:
            try:
                ok = r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
            except ValueError:
                ok = False
            if ok:
                figures.op("refused")
            else:
                figures.error(f"{what}: HTTP {r.status_code} {r.text[:120]}")

        def work(index: int, running: Callable[[], bool]) -> None:
            client = Client(basic.url, (USER, PASSWORD), tls.ca_cert, seed=index)
            rng = client.rng
            with _session(tls.ca_cert) as anon:
                n = 0
                while running():
                    n += 1
                    data = rng.randbytes(rng.choice([10, 5000, 300 * 1024]))
                    try:
                        blob_params = {"digest": digest(data)}
                        refused(anon.post(f"{basic.url}/v2/guarded/blobs/uploads/", params=blob_params, data=data),
                                "anonymous push")
                        refused(anon.post(f"{basic.url}/v2/guarded/blobs/uploads/", params=blob_params, data=data,
                                          auth=(USER, "wrong")), "wrong password push")
                        refused(anon.get(f"{basic.url}/v2/guarded/tags/list", auth=("mallory", PASSWORD)),
                                "unknown user pull")
                        for token, what in ((other_repo_token, "token for another repository"),
                                            (pull_only_token, "pull-only token pushing"), ("forged.token", "forged")):
                            refused(anon.post(f"{token_registry.url}/v2/guarded/blobs/uploads/", params=blob_params,
                                              data=data, headers={"Authorization": f"Bearer {token}"}), what)
                        refused(anon.get(f"{token_registry.url}/v2/guarded/tags/list",
                                         headers={"Authorization": f"Bearer {other_repo_token}"}), "foreign pull")
                        client.push_blob("guarded", data)
                        ledger.add_blob("guarded", data)
                        figures.op("blob_push")
                        r = anon.post(f"{token_registry.url}/v2/guarded/blobs/uploads/", params=blob_params,
                                      data=data, headers={"Authorization": f"Bearer {good_token}"})
                        if r.status_code == 201:
                            figures.op("blob_push")
                        else:
                            figures.error(f"authorised token push: HTTP {r.status_code}")
                    except requests.RequestException as exc:
                        figures.error(f"client {index}: {type(exc).__name__}: {exc}")
            client.close()

        run_clients(CLIENTS, duration(1.5, 30.0), work, figures)
        checker = Client(basic.url, (USER, PASSWORD), tls.ca_cert, seed=-1)
        verify_ledger(checker, ledger, figures)
        checker.close()
    # nothing a refused request carried reached a repository it was not allowed into
    assert not (tmp_path / "root" / "repositories" / "other").exists()
    figures.report()
    assert figures.ops["refused"] >= CLIENTS * 7
    figures.assert_clean()
