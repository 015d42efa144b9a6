"""The one place that talks HTTP to registries and token servers (CLI-32, CLI-33).

A thin layer over :mod:`httpclient`'s lean keep-alive ``Session`` (not requests: see there why): a fixed User-Agent,
connect/read timeouts, retries with back-off on 429/5xx for idempotent requests, TLS (built only for ``https``) with
the system trust roots plus ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``, proxies from the environment read once per
session, and bounded body reads (a cap that is checked against ``Content-Length`` before reading and against every
chunk while reading, plus a wall-clock deadline so a slow drip cannot hold a command forever). Everything above this
module works on ``Response`` objects whose bodies have not been read yet; they read them through :func:`read_bounded`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from notation._internal import log
from notation._internal.neterr import go_error
from notation._internal.records import dataclass
from notation.errors import RegistryError, StoreError

if TYPE_CHECKING:
    import ssl

    from notation._internal.registry.httpclient import Response, Session

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_BODY = 64 * 1024
_CHUNK = 64 * 1024


def user_agent() -> str:
    """``notation-py/<version>`` (CLI-33: we name ourselves rather than pretend to be the Go binary)."""
    from notation import __version__

    return f"notation-py/{__version__}"


@dataclass(frozen=True)
class TransportOptions:
    """Tunables; the defaults suit a CLI command, tests shrink them."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    body_deadline: float = 300.0
    """Seconds a whole body read may take (per response), so an endless slow response ends in an error."""
    retries: int = 3
    backoff: float = 0.25
    max_retry_after: float = 10.0


_CONTEXTS: dict[tuple[str, ...], ssl.SSLContext] = {}
"""(CA environment..., "True"/"False" for complete) -> the context built for it."""


_CA_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _ca_environment() -> tuple[str, ...]:
    return tuple(os.environ.get(v, "") for v in _CA_VARS)


def _ssl_context(key: tuple[str, ...] | None = None, *, complete: bool = True) -> ssl.SSLContext:
    """System roots (OpenSSL default paths honour ``SSL_CERT_FILE``/``SSL_CERT_DIR``) plus the requests bundle.

    Loading a bundle costs ~40 ms, so one context is kept per distinct CA environment, and a file is loaded once
    even when several variables name it (CI images often point all of them at the system bundle).

    ``complete=False`` is the first try of a connection: where the system keeps its roots in a hashed directory as
    well (Debian, Ubuntu, Alpine), only that directory, which OpenSSL reads lazily, one root per handshake, instead
    of parsing the whole system bundle (18 ms of a 85 ms ``notation verify`` over HTTPS). It trusts a subset of
    what the complete context trusts, so a chain it accepts the complete one accepts too; a handshake it cannot
    verify is tried again with the complete context (httpclient), so nothing is refused that was accepted before.
    """
    key = key if key is not None else _ca_environment()
    cached = _CONTEXTS.get((*key, str(complete)))
    if cached is not None:
        return cached
    capath = None if complete else _hashed_system_roots(key)
    if not complete and capath is None:  # no hashed directory: the first try is the complete context itself
        _CONTEXTS[(*key, "False")] = _ssl_context(key)
        return _CONTEXTS[(*key, "False")]
    import ssl

    defaults = ssl.get_default_verify_paths()  # what create_default_context loads (SSL_CERT_FILE/_DIR applied)
    if complete:
        ctx = ssl.create_default_context()
        loaded = {os.path.realpath(p) for p in (defaults.cafile, defaults.capath) if p}
    else:  # the system bundle is what the directory stands for; any other file named is loaded as usual
        ctx = ssl.create_default_context(capath=capath)
        loaded = {os.path.realpath(p) for p in (defaults.openssl_cafile, capath) if p}
    for var, path in zip(_CA_VARS[:3], key[:3], strict=True):
        if not path or os.path.realpath(path) in loaded:
            continue
        loaded.add(os.path.realpath(path))
        try:
            if os.path.isdir(path):
                ctx.load_verify_locations(capath=path)
            else:
                ctx.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise RegistryError(f"failed to load CA certificates from {var}={path}: {exc}") from None
    _CONTEXTS[(*key, str(complete))] = ctx
    return ctx


def _hashed_system_roots(key: tuple[str, ...]) -> str | None:
    """The system's hashed root directory (``SSL_CERT_DIR`` or OpenSSL's default), if it holds ``<hash>.0`` links.

    The complete context trusts it too (``set_default_verify_paths`` sets the directory beside the file), so a
    context made of it and the named bundles trusts a subset of the complete one."""
    import ssl

    capath = key[3] or ssl.get_default_verify_paths().capath
    if not capath:
        return None
    try:
        with os.scandir(capath) as entries:
            for entry in entries:
                stem, dot, suffix = entry.name.partition(".")
                if dot and len(stem) == 8 and suffix.isdigit() and all(c in "0123456789abcdef" for c in stem):
                    return capath
    except OSError:
        return None
    return None


def new_session() -> Session:
    """A keep-alive session; HTTPS connections verify against :func:`_ssl_context` (built on the first HTTPS
    connection only: a plain-HTTP registry never pays for loading the CA bundle). No ``.netrc``, no env auth."""
    from notation._internal.registry.httpclient import Session

    ca_environment = _ca_environment()  # the CA settings in force now, as requests read them at session creation
    session = Session(ssl_context=lambda: _ssl_context(ca_environment, complete=False),
                      ssl_fallback=lambda: _ssl_context(ca_environment))
    session.headers["User-Agent"] = user_agent()
    # Bodies are checked byte for byte against digests: no transparent decompression (and no gzip bombs).
    session.headers["Accept-Encoding"] = "identity"
    return session


class Transport:
    """HTTP with timeouts and retries; owns (or borrows) one keep-alive ``Session`` for connection reuse.

    :meth:`request` is the one place every registry and token request passes: the hook point for request/response
    logging (``on_request``, and debug logging guarded so that it costs nothing when disabled).
    """

    def __init__(self, session: Session | None = None, options: TransportOptions | None = None) -> None:
        self._owned = session is None
        self.session = session if session is not None else new_session()
        self.options = options or TransportOptions()
        self.request_count = 0
        """Requests sent (including retries): benchmarks and tests count traffic with it."""
        self.on_request: Callable[[str, str, int], None] | None = None
        """Optional debug hook: (method, url, status). Never given headers, so secrets cannot leak through it."""

    def close(self) -> None:
        if self._owned:
            self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | Mapping[str, str] | None = None,
        allow_redirects: bool = True,
    ) -> Response:
        """Send one request (retrying idempotent ones on 429/5xx and connection errors); the body stays unread."""
        from notation._internal.registry import httpclient

        opts = self.options
        attempts = 1 + (opts.retries if method in IDEMPOTENT_METHODS else 0)
        last_exc: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._delay(attempt, last_exc))
            self.request_count += 1
            rid = (
                log.http_request(method, url, {**self.session.headers, **(headers or {})})
                if log.debug_enabled()
                else None
            )
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=data if isinstance(data, bytes) or data is None else _form(data),
                    timeout=(opts.connect_timeout, opts.read_timeout),
                    allow_redirects=allow_redirects,
                )
            except httpclient.TLSError as exc:  # Go's net/http wording (neterr), never a secret-bearing URL
                log.http_error(rid, go_error(method, _safe_url(url), exc))
                raise RegistryError(go_error(method, _safe_url(url), exc)) from None
            except (httpclient.ConnectError, httpclient.ReadTimeout) as exc:
                message = go_error(method, _safe_url(url), exc, reading=isinstance(exc, httpclient.ReadTimeout))
                log.http_error(rid, message)
                last_exc = exc
                if attempt + 1 < attempts:
                    continue
                raise RegistryError(message) from None
            except httpclient.HTTPError as exc:
                log.http_error(rid, go_error(method, _safe_url(url), exc))
                raise RegistryError(go_error(method, _safe_url(url), exc)) from None
            except ValueError as exc:  # an unparsable URL, e.g. the registry's Location when following a redirect
                raise RegistryError(f"{method} {_safe_url(url)}: invalid redirect location: {exc}") from None
            log.http_response(rid, response.status_code, response.reason or "", response.headers)
            if self.on_request is not None:
                self.on_request(method, _safe_url(url), response.status_code)
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                last_exc = _RetryAfter(response.headers.get("Retry-After"))
                release(response)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, last: Exception | None) -> float:
        opts = self.options
        delay = opts.backoff * (2 ** (attempt - 1))
        if isinstance(last, _RetryAfter) and last.seconds is not None:
            delay = max(delay, last.seconds)
        return float(min(delay, opts.max_retry_after))


def _form(fields: Mapping[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(dict(fields)).encode()


class _RetryAfter(Exception):
    def __init__(self, header: str | None) -> None:
        super().__init__(header)
        self.seconds: float | None = None
        if header and header.strip().isdigit():
            self.seconds = float(header.strip())


def _reason(exc: BaseException) -> str:
    """A one-line reason for a connection error, without the nested repr noise."""
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    text = str(reason if reason is not None else inner) or type(inner).__name__
    return " ".join(text.split())


def _safe_url(url: str) -> str:
    """The URL without any userinfo or query string (token requests carry scopes there, never secrets; be safe)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range from a registry's realm or Location: name nothing that may be secret
        return "<invalid URL>"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    if ":" in (parts.hostname or "") and not host.startswith("["):
        host = f"[{parts.hostname}]" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def release(response: Response, *, limit: int = MAX_ERROR_BODY, deadline: float = 1.0) -> None:
    """Be done with a response whose body nobody needs, keeping its connection for the next request.

    Closing a response with unread bytes drops the connection (the next request then pays a new TCP
    and TLS handshake), and a HEAD answer or a 401 challenge counts as unread. So what is left of a small body is
    read and thrown away first: at most ``limit`` bytes within ``deadline`` seconds, else the connection is dropped.
    """
    try:
        if response.request is not None and response.request.method == "HEAD":
            return  # no body: the connection is already back in the pool
        length = response.headers.get("Content-Length", "").strip()
        if not length.isdigit() or int(length) > limit:
            return
        end = time.monotonic() + deadline
        total = 0
        while total <= limit and time.monotonic() < end:
            chunk = response.raw.read1(_CHUNK, decode_content=False)
            if not chunk:
                break
            total += len(chunk)
    except Exception:  # a broken connection is simply not reused
        return
    finally:
        response.close()


def read_bounded(
    response: Response, cap: int, *, what: str, deadline: float | None = None, too_large: str | None = None
) -> bytes:
    """Read the body of ``response``, never more than ``cap`` bytes, within ``deadline`` seconds; close it after.

    ``too_large`` is the error message when the cap is exceeded (default: ``<what> too large: exceeds <cap> bytes``).
    """
    try:
        length = response.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > cap:
            raise StoreError(too_large or f"{what} too large: {int(length)} bytes exceeds the limit of {cap} bytes")
        end = time.monotonic() + (deadline if deadline is not None else TransportOptions.body_deadline)
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                # read1: return what has arrived (one recv), so the deadline is checked even on a slow drip.
                chunk = response.raw.read1(_CHUNK, decode_content=False)
                if not chunk:
                    break
                total += len(chunk)
                if total > cap:
                    raise StoreError(too_large or f"{what} too large: exceeds the limit of {cap} bytes")
                chunks.append(chunk)
                if time.monotonic() > end:
                    raise StoreError(f"{what}: response too slow, gave up after {deadline} seconds")
        except OSError as exc:  # socket errors, timeouts and httpclient's ProtocolError
            raise RegistryError(f"{what}: failed to read response: {_reason(exc)}") from None
        return b"".join(chunks)
    finally:
        response.close()
