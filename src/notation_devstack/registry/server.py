"""The registry as an object: bind, serve in a background thread, stop. Used by the CLI, tests and ``up``.

``ThreadingHTTPServer`` gives one thread per connection; TLS is layered per connection inside that thread so a
slow or broken handshake never blocks ``accept`` for everyone else.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import ssl
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from notation_devstack.registry.auth import AuthConfigError, Authorizer, Htpasswd, TokenAuthority
from notation_devstack.registry.handler import RegistryHandler
from notation_devstack.registry.storage import DEFAULT_MAX_BLOB_SIZE, Storage


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    storage: Storage
    authorizer: Authorizer
    ssl_context: ssl.SSLContext | None
    referrers_enabled: bool
    referrers_page_size: int | None
    request_timeout: float
    debug: bool
    scheme: str
    base_url: str

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it, we know our address.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def __init__(self, address: tuple[str, int], handler: type[RegistryHandler]) -> None:
        super().__init__(address, handler)
        self._active: set[socket.socket] = set()
        self._active_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # Headers and body go out in separate writes; with Nagle on, the body waits for the client's delayed ACK
        # (~40 ms per response on Linux). Go's net/http sets TCP_NODELAY on every connection too.
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._active_lock:
            self._active.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active.discard(request)

    def close_connections(self) -> None:
        """End keep-alive connections too, so a stopped registry really stops answering."""
        with self._active_lock:
            active = list(self._active)
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(self.request_timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            if self.debug:
                print(f"registry: TLS handshake with {client_address[0]} failed: {exc}", flush=True)
            return
        with self._active_lock:
            self._active.add(tls)  # the plain socket was detached by wrap_socket
        try:
            super().finish_request(tls, client_address)
        finally:
            with self._active_lock:
                self._active.discard(tls)
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.debug:
            super().handle_error(request, client_address)


class _IPv6Server(_HTTPServer):
    address_family = socket.AF_INET6


class RegistryServer:
    """An OCI distribution v1.1 registry over a directory.

    ``with RegistryServer(root=dir, htpasswd=path, tls=(cert, key)) as srv: srv.url`` -- ``port=0`` picks a free
    port; ``token_auth`` adds the ``/token`` endpoint and bearer challenges; ``referrers=False`` turns the
    referrers API off (clients must fall back to the tag schema) and stops indexing subjects.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        htpasswd: str | os.PathLike[str] | None = None,
        token_auth: bool = False,
        token_secret: bytes | None = None,
        service: str | None = None,
        tls: tuple[str | os.PathLike[str], str | os.PathLike[str]] | None = None,
        referrers: bool = True,
        referrers_page_size: int | None = None,
        max_blob_size: int = DEFAULT_MAX_BLOB_SIZE,
        request_timeout: float = 60.0,
        debug: bool = False,
        acr_jwks: str | os.PathLike[str] | None = None,
        acr_tenant: str | None = None,
    ) -> None:
        self.root = Path(root)
        self._acr = (Path(acr_jwks), acr_tenant or "") if acr_jwks else None
        token_auth = token_auth or self._acr is not None
        self._bind = (host, port)
        self._debug = debug
        self.storage = Storage(self.root, max_blob_size=max_blob_size)
        users = Htpasswd(htpasswd) if htpasswd is not None else None
        self._token_auth = token_auth
        self._token_secret = token_secret
        self._service = service
        self.authorizer = Authorizer(users, None)  # token authority set in start(), once the address is known
        if token_auth and users is None:
            raise AuthConfigError("token auth needs an htpasswd file for the /token endpoint")
        self._ssl: ssl.SSLContext | None = None
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self._ssl = ctx
        self._referrers = referrers
        self._page = referrers_page_size
        self._timeout = request_timeout
        self._httpd: _HTTPServer | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    @property
    def scheme(self) -> str:
        return "https" if self._ssl is not None else "http"

    @property
    def port(self) -> int:
        """The bound port (kept after ``stop()`` so the address can still be reported)."""
        if self._port is None:
            raise RuntimeError("registry is not started")
        return self._port

    @property
    def host(self) -> str:
        """``host:port`` as a reference's registry part, e.g. ``127.0.0.1:5000``."""
        host = self._bind[0]
        if ":" in host:
            host = f"[{host}]"
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def start(self) -> RegistryServer:
        """Bind and serve in a daemon thread; returns once the socket is listening."""
        if self._httpd is not None:
            return self
        cls = _IPv6Server if ":" in self._bind[0] else _HTTPServer
        self.storage.sweep()
        httpd = cls(self._bind, RegistryHandler)
        self._httpd = httpd
        self._port = int(httpd.server_address[1])
        httpd.storage = self.storage
        httpd.ssl_context = self._ssl
        httpd.referrers_enabled = self._referrers
        httpd.referrers_page_size = self._page
        httpd.request_timeout = self._timeout
        httpd.debug = self._debug
        httpd.scheme = self.scheme
        httpd.base_url = self.url
        if self._token_auth:
            tokens = TokenAuthority(self._service or self.host, self._token_secret)
            acr = None
            if self._acr is not None:
                from notation_devstack.registry.acr import AcrExchange

                acr = AcrExchange(self._acr[0], self._acr[1], tokens.service, self._token_secret)
            self.authorizer = Authorizer(self.authorizer.htpasswd, tokens, acr=acr)
        httpd.authorizer = self.authorizer
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"registry-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
