"""The lean HTTP/1.1 client under the registry transport (issue 15): keep-alive, chunked bodies, redirects, proxies,
stale connections and strict parsing, against real HTTP servers on 127.0.0.1 (CLI-32, CLI-34)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notation._internal.registry.httpclient import ConnectError, ProtocolError, Session


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str | None]]
    connections: list[int]

    def setup(self) -> None:
        super().setup()
        self.connections.append(1)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path.startswith("/redirect"):
            self.send_response(307)
            self.send_header("Location", self.path.split("?to=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/huge-header":
            self.send_response(200)
            self.send_header("X-Big", "a" * 70_000)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/close":
            body = b"bye"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        body = f"{self.command} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET


@contextmanager
def serving() -> Iterator[tuple[str, list[tuple[str, str, str | None]], list[int]]]:
    seen: list[tuple[str, str, str | None]] = []
    connections: list[int] = []
    handler = type("H", (_Handler,), {"seen": seen, "connections": connections})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen, connections
    finally:
        server.shutdown()
        server.server_close()


def test_keep_alive_chunked_and_head_share_one_connection() -> None:
    with serving() as (host, _seen, connections):
        session = Session(environ={})
        try:
            for _ in range(3):
                response = session.request("GET", f"http://{host}/chunked")
                assert response.status_code == 200 and response.raw.read() == b"hello chunked world"
                response.close()
            head = session.request("HEAD", f"http://{host}/x")
            assert head.status_code == 200 and head.headers["content-length"] == "7"  # case-insensitive, no body
            assert head.raw.read1(10) == b""
            head.close()
            last = session.request("GET", f"http://{host}/x?a=1")
            assert last.raw.read() == b"GET /x?a=1"
            last.close()
        finally:
            session.close()
        assert len(connections) == 1


def test_unread_body_drops_the_connection_and_a_server_close_is_survived() -> None:
    with serving() as (host, _seen, connections):
        session = Session(environ={})
        try:
            partial = session.request("GET", f"http://{host}/partial-read")
            assert partial.raw.read1(3) == b"GET"
            partial.close()  # body not read to its end: never back into the pool
            closing = session.request("GET", f"http://{host}/close")
            assert closing.raw.read() == b"bye"
            closing.close()
            again = session.request("GET", f"http://{host}/after")
            assert again.raw.read() == b"GET /after"
            again.close()
        finally:
            session.close()
        assert len(connections) == 3


def test_cli34_redirect_to_another_origin_drops_authorization() -> None:
    with serving() as (host_a, seen_a, _), serving() as (host_b, seen_b, _):
        session = Session(environ={})
        try:
            same = session.request("GET", f"http://{host_a}/redirect?to=/target", headers={"Authorization": "Basic x"})
            assert same.raw.read() == b"GET /target"
            same.close()
            other = session.request(
                "GET", f"http://{host_a}/redirect?to=http://{host_b}/elsewhere", headers={"Authorization": "Basic x"}
            )
            assert other.raw.read() == b"GET /elsewhere" and other.url == f"http://{host_b}/elsewhere"
            other.close()
            kept = session.request(
                "GET", f"http://{host_a}/redirect?to=/t2", headers={"Authorization": "Basic x"}, allow_redirects=False
            )
            assert kept.status_code == 307
            kept.close()
        finally:
            session.close()
        assert ("GET", "/target", "Basic x") in seen_a
        assert seen_b == [("GET", "/elsewhere", None)]


def test_cli32_plain_http_through_a_proxy_in_absolute_form_and_no_proxy() -> None:
    with serving() as (proxy, seen, _):
        session = Session(environ={"HTTP_PROXY": f"http://{proxy}", "NO_PROXY": "skip.example,.internal"})
        try:
            response = session.request("GET", "http://registry.example:5000/v2/")
            assert response.raw.read() == b"GET http://registry.example:5000/v2/"
            response.close()
        finally:
            session.close()
        assert session.proxy_for("http", "skip.example", 80) is None
        assert session.proxy_for("http", "a.internal", 80) is None
        assert session.proxy_for("https", "registry.example", 443) is None  # no HTTPS_PROXY set
        assert seen[0][1] == "http://registry.example:5000/v2/"


def test_strict_parsing_and_refused_injection() -> None:
    with serving() as (host, _seen, _):
        session = Session(environ={})
        try:
            with pytest.raises(ProtocolError, match="oversized header line"):
                session.request("GET", f"http://{host}/huge-header")
            with pytest.raises(ValueError, match="invalid character in header value"):
                session.request("GET", f"http://{host}/x", headers={"X": "a\r\nInjected: yes"})
        finally:
            session.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectError):
        Session(environ={}).request("GET", f"http://127.0.0.1:{port}/", timeout=(1.0, 1.0))
