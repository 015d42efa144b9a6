"""A lean HTTP/1.1 client for registries and token servers: keep-alive pools, proxies, TLS, redirects (issue 15).

Why not ``requests``: importing requests and urllib3 cost more than the whole verification of one image (about
40 ms of a 240 ms ``notation verify``), requests scans ``os.environ`` for proxies on every request, and http.client
parses every header block through the email package. The registry layer needs little: a status, case-insensitive
headers, a body read in bounded chunks (``raw.read1``) and connections kept alive per origin across threads. This
module gives exactly that, on sockets and ``ssl`` from the standard library:

* one pool of idle keep-alive connections per (scheme, host, port, proxy), shared by threads; a connection is
  returned only after its body was read to the end, and an idle one the server has closed is never reused;
* ``TCP_NODELAY`` and the request line, headers and body sent in one write (no Nagle / delayed-ACK stalls);
* TLS only for ``https`` (the CA bundle is never loaded for plain-HTTP registries), verified (CERT_REQUIRED,
  host name checked) with the context the transport hands in;
* proxies from ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` (either case), read once per session:
  plain HTTP through the proxy in absolute form, HTTPS through a ``CONNECT`` tunnel;
* redirects followed as requests does (303, and 301/302 after POST, become GET; at most 30), with
  ``Authorization`` dropped when the origin changes;
* strict parsing: status line and header lines are bounded (64 KiB a line, 256 header lines), Content-Length must
  be digits, chunked bodies are decoded with bounded size lines; CR/LF in anything we send is refused.

Exceptions: :class:`ConnectError` (incl. DNS and refused connections), :class:`ConnectTimeout`,
:class:`ReadTimeout`, :class:`TLSError`, all :class:`HTTPError`; the socket/ssl error is the ``__cause__``, so
callers can word it as Go does. An unparsable URL (also a registry's ``Location``) raises ``ValueError``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import select
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote, urljoin, urlsplit

if TYPE_CHECKING:
    import ssl

MAX_LINE = 64 * 1024
MAX_HEADERS = 256
MAX_REDIRECTS = 30
MAX_IDLE_PER_ORIGIN = 32
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SAFE_TARGET = "/:@!$&'()*+,;=?%~-._"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _ascii_bytes(host: str) -> str | bytes:
    """An ASCII host as bytes for getaddrinfo, which encodes a str with the idna codec: for an ASCII name that is the
    same bytes, but the codec's first use imports encodings.idna, stringprep and unicodedata (~2 ms a process)."""
    return host.encode("ascii") if host.isascii() else host


class HTTPError(OSError):
    """Base of this module's errors (an OSError, as the socket errors it wraps)."""


class ConnectError(HTTPError):
    """The connection could not be made (DNS, refused, reset before any response, proxy refused the tunnel)."""


class ConnectTimeout(ConnectError):
    """Connecting took longer than the connect timeout."""


class RemoteDisconnected(ConnectError):
    """The server closed the connection without an answer (Go: ``EOF``)."""


class ReadTimeout(HTTPError):
    """The server did not answer within the read timeout."""


class TLSError(ConnectError):
    """The TLS handshake failed (certificate not trusted, host name mismatch, protocol error)."""


class ProtocolError(HTTPError):
    """The server's answer is not HTTP/1.x as we accept it (malformed status line or headers, oversized lines)."""


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only response headers; repeated fields are joined with ``, `` (as requests does)."""

    __slots__ = ("_items",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in items:
                items[key] = (items[key][0], f"{items[key][1]}, {value}")
            else:
                items[key] = (name, value)
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


class _Conn:
    """One socket and its buffered reader; ``key`` names the pool it returns to."""

    __slots__ = ("fp", "key", "reused", "sock")

    def __init__(self, sock: socket.socket, key: tuple[Any, ...]) -> None:
        self.sock = sock
        self.fp = cast(io.BufferedReader, sock.makefile("rb", buffering=64 * 1024))
        self.key = key
        self.reused = False

    def dropped(self) -> bool:
        """An idle keep-alive connection is readable only when the server closed it (or sent junk): drop it."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        for closer in (self.fp.close, self.sock.close):
            with contextlib.suppress(OSError):
                closer()


class _RequestInfo:
    __slots__ = ("method", "url")

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url


class Response:
    """A response whose body is read on demand through ``raw.read1``/``raw.read`` (``raw`` is the response)."""

    def __init__(self, session: Session, conn: _Conn, method: str, url: str, status: int, reason: str,
                 headers: Headers, keep_alive: bool) -> None:  # fmt: skip
        self._session = session
        self._conn: _Conn | None = conn
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self.url = url
        self.request = _RequestInfo(method, url)
        self.raw = self
        self._keep_alive = keep_alive
        self._chunked = False
        self._remaining: int | None = None  # bytes left of a Content-Length body; None: until close (or chunked)
        self._chunk_left = 0
        self._done = False
        te = headers.get("Transfer-Encoding", "")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._done = True
        elif te:
            if te.strip().lower() != "chunked":
                raise ProtocolError(f"unsupported Transfer-Encoding {te[:40]!r}")
            self._chunked = True
        else:
            length = headers.get("Content-Length")
            if length is not None:
                text = length.split(",")[0].strip()
                if not text.isdigit() or any(p.strip() != text for p in length.split(",")):
                    raise ProtocolError(f"invalid Content-Length {length[:40]!r}")
                self._remaining = int(text)
                self._done = self._remaining == 0
            else:
                self._keep_alive = False  # the body ends when the server closes the connection
        if self._done:
            self._finish()

    # -- body ------------------------------------------------------------------------------------------------------

    def read1(self, amount: int = 64 * 1024, decode_content: bool = False) -> bytes:
        """Up to ``amount`` bytes of the body, what one receive gives; b"" at its end."""
        conn = self._conn
        if self._done or conn is None:
            return b""
        fp = conn.fp
        if self._chunked:
            if self._chunk_left == 0:
                size_line = fp.readline(MAX_LINE + 1)
                if len(size_line) > MAX_LINE or not size_line.endswith(b"\n"):
                    raise ProtocolError("malformed chunked body")
                text = size_line.split(b";", 1)[0].strip()
                try:
                    size = int(text, 16)
                except ValueError:
                    raise ProtocolError("malformed chunk size") from None
                if size < 0:
                    raise ProtocolError("malformed chunk size")
                if size == 0:
                    self._read_trailers(fp)
                    self._done = True
                    self._finish()
                    return b""
                self._chunk_left = size
            data = fp.read1(min(amount, self._chunk_left))
            if not data:
                raise ProtocolError("connection closed inside a chunked body")
            self._chunk_left -= len(data)
            if self._chunk_left == 0 and fp.read(2) != b"\r\n":
                raise ProtocolError("malformed chunked body")
            return data
        if self._remaining is not None:
            data = fp.read1(min(amount, self._remaining))
            if not data:
                raise ProtocolError("connection closed before the end of the body")
            self._remaining -= len(data)
            if self._remaining == 0:
                self._done = True
                self._finish()
            return data
        data = fp.read1(amount)
        if not data:
            self._done = True
            self.close()
        return data

    def read(self, amount: int = -1, decode_content: bool = False) -> bytes:
        out = bytearray()
        while amount < 0 or len(out) < amount:
            chunk = self.read1(64 * 1024 if amount < 0 else min(64 * 1024, amount - len(out)))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    @staticmethod
    def _read_trailers(fp: Any) -> None:
        for _ in range(MAX_HEADERS):
            line = fp.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise ProtocolError("oversized trailer")
            if line in (b"\r\n", b"\n", b""):
                return
        raise ProtocolError("too many trailers")

    def _finish(self) -> None:
        """The body was read to its end: the connection goes back to the pool (or is closed)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._keep_alive:
            self._session._put(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Done with the response: an unfinished body means the connection cannot be reused."""
        conn, self._conn = self._conn, None
        if conn is not None:
            if self._done and self._keep_alive:
                self._session._put(conn)
            else:
                conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_text(value: str, what: str) -> str:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(f"invalid character in {what}")
    return value


def _bypass_list(value: str) -> list[str]:
    return [entry.strip().lower() for entry in value.split(",") if entry.strip()]


class Session:
    """Connection pools and proxy settings for one client; thread-safe. ``headers`` go on every request."""

    def __init__(
        self,
        *,
        ssl_context: Callable[[], ssl.SSLContext] | None = None,
        ssl_fallback: Callable[[], ssl.SSLContext] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``ssl_fallback``: a context trusting a superset of ``ssl_context``'s roots, for a handshake the first
        cannot verify (transport.py: lazily read system roots first, the whole bundle when they do not suffice)."""
        self.headers: dict[str, str] = {}
        self._ssl_context = ssl_context
        self._ssl_fallback = ssl_fallback
        self._complete_trust: set[tuple[str, int]] = set()  # origins whose chain needed the fallback
        self._lock = threading.Lock()
        self._idle: dict[tuple[Any, ...], list[_Conn]] = {}
        self._closed = False
        env = os.environ if environ is None else environ

        def var(name: str) -> str:
            return env.get(name.lower()) or env.get(name.upper()) or ""

        self._proxies = {"http": var("http_proxy") or var("all_proxy"), "https": var("https_proxy") or var("all_proxy")}
        self._no_proxy = _bypass_list(var("no_proxy"))

    # -- proxies ---------------------------------------------------------------------------------------------------

    def proxy_for(self, scheme: str, host: str, port: int) -> str | None:
        """The proxy URL for an origin, or None (NO_PROXY: ``*``, host suffixes with or without a dot, host:port)."""
        proxy = self._proxies.get(scheme) or None
        if proxy is None:
            return None
        host = host.lower().strip("[]")
        for entry in self._no_proxy:
            if entry == "*":
                return None
            name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            if entry_port and entry_port != str(port):
                continue
            name = name.lstrip(".").strip("[]")
            if host == name or host.endswith("." + name):
                return None
        return proxy if "://" in proxy else f"http://{proxy}"

    # -- pool ------------------------------------------------------------------------------------------------------

    def _get(self, key: tuple[Any, ...]) -> _Conn | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None:
                return None
            if conn.dropped():
                conn.close()
                continue
            conn.reused = True
            return conn

    def _put(self, conn: _Conn) -> None:
        with self._lock:
            if not self._closed:
                idle = self._idle.setdefault(conn.key, [])
                if len(idle) < MAX_IDLE_PER_ORIGIN:
                    idle.append(conn)
                    return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()

    def _connect(self, scheme: str, host: str, port: int, proxy: str | None, timeout: tuple[float, float],
                 key: tuple[Any, ...]) -> _Conn:  # fmt: skip
        if scheme != "https" or self._ssl_fallback is None or (host, port) in self._complete_trust:
            complete = scheme == "https" and self._ssl_fallback is not None  # an origin known to need it
            return self._open(scheme, host, port, proxy, timeout, key, complete=complete)
        import ssl

        try:
            return self._open(scheme, host, port, proxy, timeout, key, complete=False)
        except TLSError as exc:
            if not isinstance(exc.__cause__, ssl.SSLCertVerificationError):
                raise
        conn = self._open(scheme, host, port, proxy, timeout, key, complete=True)  # a new connection, all roots
        self._complete_trust.add((host, port))
        return conn

    def _open(self, scheme: str, host: str, port: int, proxy: str | None, timeout: tuple[float, float],
              key: tuple[Any, ...], *, complete: bool) -> _Conn:  # fmt: skip
        connect_timeout, read_timeout = timeout
        target_host, target_port = host, port
        tunnel_auth: str | None = None
        if proxy is not None:
            parts = urlsplit(proxy)
            target_host, target_port = parts.hostname or "", parts.port or 80
            if parts.username is not None:
                raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
                tunnel_auth = "Basic " + base64.b64encode(raw).decode("ascii")
        try:
            address = (_ascii_bytes(target_host), target_port)
            sock = socket.create_connection(address, timeout=connect_timeout)  # type: ignore[arg-type]  # bytes ok
        except TimeoutError as exc:
            raise ConnectTimeout(f"connection to {target_host}:{target_port} timed out") from exc
        except OSError as exc:
            raise ConnectError(f"failed to connect to {target_host}:{target_port}: {exc}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(read_timeout)
            if proxy is not None and scheme == "https":
                self._tunnel(sock, host, port, tunnel_auth)
            if scheme == "https":
                import ssl

                context = self._ssl_fallback if complete else self._ssl_context
                if context is None:
                    raise TLSError("no TLS context configured")
                try:
                    sock = context().wrap_socket(sock, server_hostname=host)
                except ssl.SSLError as exc:
                    raise TLSError(f"TLS handshake with {host}:{port} failed: {exc}") from exc
                except TimeoutError as exc:
                    raise ConnectTimeout(f"TLS handshake with {host}:{port} timed out") from exc
                except OSError as exc:
                    raise ConnectError(f"TLS handshake with {host}:{port} failed: {exc}") from exc
        except BaseException:
            sock.close()
            raise
        return _Conn(sock, key)

    @staticmethod
    def _tunnel(sock: socket.socket, host: str, port: int, auth: str | None) -> None:
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if auth:
            lines.append(f"Proxy-Authorization: {auth}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        fp = sock.makefile("rb", buffering=0)
        try:
            status_line = fp.readline(MAX_LINE + 1)
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or parts[1] != b"200":
                raise ConnectError(f"proxy refused the tunnel to {authority}: {status_line[:100]!r}")
            for _ in range(MAX_HEADERS):
                line = fp.readline(MAX_LINE + 1)
                if line in (b"\r\n", b"\n", b""):
                    return
            raise ConnectError("proxy sent too many headers")
        finally:
            fp.close()

    # -- requests --------------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        allow_redirects: bool = True,
    ) -> Response:
        """Send one request (following redirects); the body of the answer is left unread."""
        hdrs = {**self.headers, **(headers or {})}
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, url, hdrs, data, timeout)
            if not allow_redirects or response.status_code not in _REDIRECTS:
                return response
            location = response.headers.get("Location")
            if not location:
                return response
            new_url = urljoin(url, location)  # ValueError on an unparsable Location ("Invalid IPv6 URL")
            _drain(response)
            status = response.status_code
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, data = "GET", None
                hdrs = {k: v for k, v in hdrs.items() if k.lower() not in ("content-type", "content-length")}
            old, new = urlsplit(url), urlsplit(new_url)
            if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
            url = new_url
        raise HTTPError(f"exceeded {MAX_REDIRECTS} redirects")

    def _send(self, method: str, url: str, headers: Mapping[str, str], data: bytes | None,
              timeout: tuple[float, float]) -> Response:  # fmt: skip
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"unsupported URL scheme {parts.scheme!r}")
        host = parts.hostname
        if not host:
            raise ValueError(f"no host in URL {url!r}")
        port = parts.port or _DEFAULT_PORTS[scheme]  # ValueError for a port out of range
        proxy = self.proxy_for(scheme, host, port)
        path = quote(parts.path or "/", safe=_SAFE_TARGET)
        if parts.query:
            path += "?" + quote(parts.query, safe=_SAFE_TARGET)
        authority = f"[{host}]" if ":" in host else host
        if parts.port and parts.port != _DEFAULT_PORTS[scheme]:
            authority += f":{parts.port}"
        target = f"{scheme}://{authority}{path}" if proxy is not None and scheme == "http" else path
        lines = [f"{_check_text(method, 'method')} {_check_text(target, 'URL')} HTTP/1.1", f"Host: {authority}"]
        for name, value in headers.items():
            lines.append(f"{_check_text(name, 'header name')}: {_check_text(str(value), 'header value')}")
        if proxy is not None and scheme == "http":
            proxy_parts = urlsplit(proxy)
            if proxy_parts.username is not None:
                raw = f"{unquote(proxy_parts.username)}:{unquote(proxy_parts.password or '')}".encode()
                lines.append("Proxy-Authorization: Basic " + base64.b64encode(raw).decode("ascii"))
        if data is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(data or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head + data if data else head
        key = (scheme, host.lower(), port, proxy)
        idempotent = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        while True:
            conn = self._get(key)
            fresh = conn is None
            if conn is None:
                conn = self._connect(scheme, host, port, proxy, timeout, key)
            else:
                conn.sock.settimeout(timeout[1])
            try:
                conn.sock.sendall(payload)
                return self._read_head(conn, method, url)
            except _StaleConnection:
                conn.close()
                if fresh or not idempotent:
                    raise RemoteDisconnected(f"{host}:{port} closed the connection without a response") from None
                continue  # a kept-alive connection the server had just closed: once more on a new one
            except TimeoutError as exc:
                conn.close()
                raise ReadTimeout(f"{host}:{port}: read timed out") from exc
            except HTTPError:
                conn.close()
                raise
            except OSError as exc:
                conn.close()
                if not fresh and idempotent:
                    continue
                raise ConnectError(f"{host}:{port}: {exc}") from exc

    def _read_head(self, conn: _Conn, method: str, url: str) -> Response:
        fp = conn.fp
        while True:
            status_line = fp.readline(MAX_LINE + 1)
            if not status_line:
                raise _StaleConnection
            if len(status_line) > MAX_LINE:
                raise ProtocolError("oversized status line")
            parts = status_line.rstrip(b"\r\n").split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
                raise ProtocolError(f"malformed status line {status_line[:80]!r}")
            status = int(parts[1])
            reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
            pairs: list[tuple[str, str]] = []
            for _ in range(MAX_HEADERS + 1):
                line = fp.readline(MAX_LINE + 1)
                if len(line) > MAX_LINE:
                    raise ProtocolError("oversized header line")
                if line in (b"\r\n", b"\n"):
                    break
                if not line:
                    raise ProtocolError("connection closed inside the response headers")
                name, sep, value = line.partition(b":")
                if not sep or not name or name != name.strip():
                    if line[:1] in (b" ", b"\t") and pairs:  # obsolete line folding
                        pairs[-1] = (pairs[-1][0], pairs[-1][1] + " " + line.strip().decode("latin-1"))
                        continue
                    raise ProtocolError("malformed header line")
                pairs.append((name.decode("latin-1"), value.strip().decode("latin-1")))
            else:
                raise ProtocolError("too many response headers")
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            headers = Headers(pairs)
            connection = headers.get("Connection", "").lower()
            keep_alive = parts[0] == b"HTTP/1.1" and "close" not in connection
            if parts[0] == b"HTTP/1.0" and "keep-alive" in connection:
                keep_alive = True
            return Response(self, conn, method, url, status, reason, headers, keep_alive)


class _StaleConnection(Exception):
    """The server closed the connection before sending a status line."""


def _drain(response: Response, limit: int = 64 * 1024) -> None:
    """Read what is left of a small body so that the connection can be reused; else drop it."""
    try:
        length = response.headers.get("Content-Length", "")
        if response._done or (length.isdigit() and int(length) <= limit):
            total = 0
            while total <= limit:
                chunk = response.read1(64 * 1024)
                if not chunk:
                    break
                total += len(chunk)
    except OSError:
        pass
    finally:
        response.close()
