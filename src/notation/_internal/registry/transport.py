"""The one place that talks HTTP to registries and token servers (CLI-32, CLI-33).

A thin layer over a ``requests.Session``: a fixed User-Agent, connect/read timeouts, retries with back-off on
429/5xx for idempotent requests, TLS with the system trust roots plus ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``, and
bounded body reads (a cap that is checked against ``Content-Length`` before reading and against every chunk while
reading, plus a wall-clock deadline so a slow drip cannot hold a command forever). Everything above this module
works on ``Response`` objects whose bodies have not been read yet; they read them through :func:`read_bounded`.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from notation._internal import log
from notation._internal.neterr import go_error
from notation.errors import RegistryError, StoreError

if TYPE_CHECKING:
    import requests

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ERROR_BODY = 64 * 1024
_CHUNK = 64 * 1024


def user_agent() -> str:
    """``notation-py/<version>`` (CLI-33: we name ourselves rather than pretend to be the Go binary)."""
    try:
        from importlib.metadata import version

        return f"notation-py/{version('notation-py')}"
    except Exception:
        return "notation-py/unknown"


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


def _ssl_context() -> ssl.SSLContext:
    """System roots (OpenSSL default paths honour ``SSL_CERT_FILE``/``SSL_CERT_DIR``) plus the requests bundle.

    Loading a bundle costs ~40 ms, so one context is kept per distinct CA environment, and a file is loaded once
    even when several variables name it (CI images often point all of them at the system bundle).
    """
    key = tuple(
        os.environ.get(v, "") for v in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
    )
    cached = _CONTEXTS.get(key)
    if cached is not None:
        return cached
    ctx = ssl.create_default_context()
    defaults = ssl.get_default_verify_paths()  # what create_default_context loaded (SSL_CERT_FILE/_DIR applied)
    loaded = {os.path.realpath(p) for p in (defaults.cafile, defaults.capath) if p}
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        path = os.environ.get(var)
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
    _CONTEXTS[key] = ctx
    return ctx


def new_session() -> requests.Session:
    """A session whose HTTPS connections verify against :func:`_ssl_context`; no ``.netrc``, no env auth."""
    import requests
    from requests.adapters import HTTPAdapter

    ctx = _ssl_context()

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["ssl_context"] = ctx
            super().init_poolmanager(*args, **kwargs)

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            # requests points every pool at certifi's bundle, and urllib3 then loads that file into the shared
            # context on every new connection (~40 ms each, and certifi's roots on top of the system's). The
            # context already holds the roots we mean to trust; verification stays on (CERT_REQUIRED).
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
            conn.ca_certs = None
            conn.ca_cert_dir = None

    session = requests.Session()
    session.trust_env = False  # never pick up ~/.netrc credentials; proxies are applied per request below
    session.mount("https://", _Adapter(max_retries=0))
    session.mount("http://", HTTPAdapter(max_retries=0))
    session.headers["User-Agent"] = user_agent()
    # Bodies are checked byte for byte against digests: no transparent decompression (and no gzip bombs).
    session.headers["Accept-Encoding"] = "identity"
    return session


class Transport:
    """HTTP with timeouts and retries; owns (or borrows) one ``requests.Session`` for connection reuse."""

    def __init__(self, session: requests.Session | None = None, options: TransportOptions | None = None) -> None:
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
    ) -> requests.Response:
        """Send one request (retrying idempotent ones on 429/5xx and connection errors); the body stays unread."""
        import requests

        opts = self.options
        attempts = 1 + (opts.retries if method in IDEMPOTENT_METHODS else 0)
        proxies = requests.utils.get_environ_proxies(url)
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
                    headers=dict(headers or {}),
                    data=data,
                    stream=True,
                    timeout=(opts.connect_timeout, opts.read_timeout),
                    allow_redirects=allow_redirects,
                    proxies=proxies,
                )
            except requests.exceptions.SSLError as exc:  # Go's net/http wording (neterr), never a secret-bearing URL
                log.http_error(rid, go_error(method, _safe_url(url), exc))
                raise RegistryError(go_error(method, _safe_url(url), exc)) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                message = go_error(
                    method, _safe_url(url), exc, reading=isinstance(exc, requests.exceptions.ReadTimeout)
                )
                log.http_error(rid, message)
                last_exc = exc
                if attempt + 1 < attempts:
                    continue
                raise RegistryError(message) from None
            except requests.exceptions.RequestException as exc:
                log.http_error(rid, go_error(method, _safe_url(url), exc))
                raise RegistryError(go_error(method, _safe_url(url), exc)) from None
            except ValueError as exc:  # requests parses the registry's Location when following a redirect
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


class _RetryAfter(Exception):
    def __init__(self, header: str | None) -> None:
        super().__init__(header)
        self.seconds: float | None = None
        if header and header.strip().isdigit():
            self.seconds = float(header.strip())


def _reason(exc: BaseException) -> str:
    """A one-line reason for a requests/urllib3 error, without the nested repr noise."""
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


def release(response: requests.Response, *, limit: int = MAX_ERROR_BODY, deadline: float = 1.0) -> None:
    """Be done with a response whose body nobody needs, keeping its connection for the next request.

    Closing a response with unread bytes makes urllib3 drop the connection (the next request then pays a new TCP
    and TLS handshake), and a HEAD answer or a 401 challenge counts as unread. So what is left of a small body is
    read and thrown away first: at most ``limit`` bytes within ``deadline`` seconds, else the connection is dropped.
    """
    try:
        if response.request is not None and response.request.method == "HEAD":
            response.raw.read(1, decode_content=False)  # no body: lets http.client mark the response complete
            return
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
    response: requests.Response, cap: int, *, what: str, deadline: float | None = None, too_large: str | None = None
) -> bytes:
    """Read the body of ``response``, never more than ``cap`` bytes, within ``deadline`` seconds; close it after.

    ``too_large`` is the error message when the cap is exceeded (default: ``<what> too large: exceeds <cap> bytes``).
    """
    import requests

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
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RegistryError(f"{what}: failed to read response: {_reason(exc)}") from None
        except Exception as exc:
            # urllib3 errors (ProtocolError, ReadTimeoutError, DecodeError) have no common base with requests'.
            if isinstance(exc, StoreError):
                raise
            raise RegistryError(f"{what}: failed to read response: {_reason(exc)}") from None
        return b"".join(chunks)
    finally:
        response.close()
