"""Listener plumbing the stand-ins share, so each stand-in keeps only its own HTTP surface (DESIGN: each is an HTTP
surface over a store; none imports another's internals).

:class:`TlsThreadingHTTPServer` is one thread per connection with TLS set up inside that thread, so a slow or
stalled handshake never blocks ``accept`` for every other client (as a TLS-wrapped listening socket would).
:class:`BackgroundServer` serves a ``socketserver`` server from a daemon thread: ``start``, ``stop``, ``port``,
``url``, ``with``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import ssl
import threading
from http.server import ThreadingHTTPServer
from typing import Any, Self


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server-side context (TLS 1.2 or later) for one certificate chain and its key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class TlsThreadingHTTPServer(ThreadingHTTPServer):
    """``ssl_context`` None serves plain HTTP. ``log_env`` names the environment variable that turns on the
    tracebacks of handler errors (quiet by default: a client hanging up mid-answer is no news)."""

    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None
    handshake_timeout: float = 60  # seconds a connection may stall in the handshake, as the handlers' idle timeout
    log_env: str = ""

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed ACK
        # (~40 ms per response on Linux). Go's net/http sets TCP_NODELAY on every connection too.
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(self.handshake_timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.log_env and os.environ.get(self.log_env):
            super().handle_error(request, client_address)


class BackgroundServer:
    """Owns ``self._server`` (set by the subclass) and serves it from a daemon thread named ``thread_name``."""

    scheme = "https"
    thread_name = "devstack-server"
    _server: socketserver.TCPServer

    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (a command in the foreground)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
