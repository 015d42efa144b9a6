"""One small HTTP/1.1 + TLS server for the Azure control-plane stand-ins: each surface is a route function.

A route gets a :class:`Request` and returns a :class:`Response`, or None when the path is not its own; the host
asks each surface in turn. TLS is set up per connection in its thread (a stalled handshake never blocks accept).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from notation_devstack.serving import BackgroundServer, TlsThreadingHTTPServer, server_tls_context

MAX_BODY = 64 * 1024 * 1024  # a build context upload


@dataclass
class Request:
    method: str
    path: str  # without the query, percent-decoded per segment by the routes themselves
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base: str  # https://host:port of this server, as the client addressed it

    @property
    def segments(self) -> list[str]:
        return [urllib.parse.unquote(s) for s in self.path.split("/") if s]

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, "InvalidRequestContent", f"The request content is not valid JSON: {exc}") from exc

    def form(self) -> dict[str, str]:
        parsed = urllib.parse.parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items() if v}

    def bearer(self) -> str:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else ""


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; bytes as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """An error answer in ARM's shape: ``{"error": {"code", "message"}}`` (routes may pass another body)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.body = body if body is not None else {"error": {"code": code, "message": message}}
        self.headers = headers or {}


Route = Callable[[Request], Response | None]


class _Server(TlsThreadingHTTPServer):
    routes: list[Route]
    log: Callable[[str], None] | None = None
    log_env = "NOTATION_DEVSTACK_CLOUD_LOG"


class _Handler(BaseHTTPRequestHandler):
    server_version = "notation-devstack-cloud/1"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response(413, {"error": {"code": "RequestTooLarge", "message": "request body too large"}}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path, _, raw_query = self.path.partition("?")
        query = {k: v[0] for k, v in urllib.parse.parse_qs(raw_query, keep_blank_values=True).items()}
        address = self.server.server_address
        host = self.headers.get("Host") or f"{address[0]!s}:{address[1]}"
        request = Request(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body,
                          f"https://{host}")
        response: Response | None = None
        try:
            for route in self.server.routes:
                response = route(request)
                if response is not None:
                    break
            if response is None:
                raise HttpError(404, "NotFound", f"notation-devstack does not serve {self.command} {path}")
        except HttpError as exc:
            response = Response(exc.status, exc.body, exc.headers)
        except Exception as exc:  # a bug answers 500 with its type, never a dropped connection
            response = Response(500, {"error": {"code": "InternalServerError",
                                                "message": f"{type(exc).__name__}: {exc}"}})
        if self.server.log is not None:
            self.server.log(f"{self.command} {self.path.split('?')[0]} -> {response.status}")
        self._send(response)

    def _send(self, response: Response) -> None:
        if isinstance(response.body, bytes):
            data, ctype = response.body, "application/octet-stream"
        elif response.body is None:
            data, ctype = b"", ""
        else:
            data, ctype = json.dumps(response.body).encode(), "application/json; charset=utf-8"
        self.send_response(response.status)
        headers = {"Content-Length": str(len(data)), "x-ms-request-id": os.urandom(8).hex(), **response.headers}
        if ctype and "content-type" not in {k.lower() for k in headers}:
            headers["Content-Type"] = ctype
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)


class CloudHttpServer(BackgroundServer):
    """``CloudHttpServer(routes, cert, key).start()``; ``url`` is ``https://127.0.0.1:<port>``."""

    thread_name = "cloud-http"

    def __init__(self, routes: list[Route], cert: str, key: str, host: str = "127.0.0.1", port: int = 0,
                 log: Callable[[str], None] | None = None) -> None:
        server = _Server((host, port), _Handler)
        server.routes = routes
        server.log = log
        server.ssl_context = server_tls_context(cert, key)
        self._server = server


def stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
