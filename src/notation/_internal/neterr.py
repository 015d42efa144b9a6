"""Network failures worded as Go's net and net/http packages word them (CLI-53: scripts match Go's text).

requests/urllib3 bury the cause in nested wrappers (``HTTPConnectionPool(...): Max retries exceeded ... Failed to
establish a new connection: [Errno 111] Connection refused``). Go prints the ``url.Error`` form instead::

    Get "http://localhost:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused
    Post "http://invalid.test": dial tcp: lookup invalid.test: no such host
    Get "https://...": tls: failed to verify certificate: x509: certificate signed by unknown authority

:func:`go_error` finds the root cause (socket, DNS, TLS, timeout) in the exception chain and words it that way;
anything it does not recognise keeps a one-line form of Python's own text.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

# getaddrinfo's EAI_* codes (glibc values; socket exposes them where the platform has them)
_NO_SUCH_HOST = {getattr(socket, n) for n in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, n)}
_TEMPORARY = {getattr(socket, n) for n in ("EAI_AGAIN", "EAI_FAIL") if hasattr(socket, n)}
# OpenSSL X509_V_ERR_* codes
_UNKNOWN_AUTHORITY = {2, 18, 19, 20, 21, 27}
_EXPIRED = {9, 10}
_HOSTNAME_MISMATCH = {62, 64}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Every exception reachable through args, ``reason``, ``__cause__`` and ``__context__`` (each once)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        for nxt in (*cur.args, getattr(cur, "reason", None), cur.__cause__, cur.__context__):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _address(url: str) -> tuple[str, str]:
    """(host, ``ip:port`` as Go's dialer names it) for ``url``; ``localhost`` dials 127.0.0.1 first, as Go does."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "", ""
    ip = "127.0.0.1" if host == "localhost" else host
    try:
        if ipaddress.ip_address(ip).version == 6:
            return host, f"[{ip}]:{port}"
    except ValueError:
        pass
    return host, f"{ip}:{port}"


def _tls_detail(causes: list[BaseException], host: str) -> str | None:
    """Go's wording of a TLS failure; no TLS error can exist if ``ssl`` was never imported (plain HTTP does not)."""
    ssl = sys.modules.get("ssl")
    if ssl is None:
        return None
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            code = cause.verify_code
            if code in _UNKNOWN_AUTHORITY:
                return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
            if code in _EXPIRED:
                return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"
            if code in _HOSTNAME_MISMATCH:
                return f"tls: failed to verify certificate: x509: certificate is not valid for {host}"
            return f"tls: failed to verify certificate: {cause.verify_message or cause.reason}"
        if isinstance(cause, ssl.SSLError):
            reason = (cause.reason or str(cause)).lower().replace("_", " ")
            if "wrong version number" in reason or "record layer failure" in reason:
                return "http: server gave HTTP response to HTTPS client"
            return f"remote error: tls: {reason}"
    return None


def describe(exc: BaseException, url: str, *, reading: bool = False) -> str | None:
    """Go's wording of the network cause of ``exc`` (without the ``Get "url": `` prefix), or None if not network."""
    host, addr = _address(url)
    causes = list(_chain(exc))
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            if cause.errno in _NO_SUCH_HOST:
                return f"dial tcp: lookup {host}: no such host"
            if cause.errno in _TEMPORARY:
                return f"dial tcp: lookup {host}: server misbehaving"
            return f"dial tcp: lookup {host}: {cause.strerror or cause}"
    tls = _tls_detail(causes, host)
    if tls is not None:
        return tls
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return f"dial tcp {addr}: connect: connection refused"
        if isinstance(cause, ConnectionResetError):
            return f"read tcp {addr}: read: connection reset by peer"
        if isinstance(cause, OSError) and cause.errno == 101:  # ENETUNREACH
            return f"dial tcp {addr}: connect: network is unreachable"
    for cause in causes:
        name = type(cause).__name__
        if name in ("ConnectTimeoutError", "ConnectTimeout"):  # urllib3's, registry/httpclient's
            return f"dial tcp {addr}: i/o timeout"
        if name in ("ReadTimeoutError", "ReadTimeout") or isinstance(cause, TimeoutError | socket.timeout):
            return f"read tcp {addr}: i/o timeout" if reading else f"dial tcp {addr}: i/o timeout"
        if name in ("RemoteDisconnected", "IncompleteRead") or isinstance(cause, ConnectionAbortedError):
            return "EOF"
    return None


def go_error(method: str, url: str, exc: BaseException, *, reading: bool = False) -> str:
    """``Get "url": <cause>``: Go's url.Error around :func:`describe` (or Python's text, one line)."""
    detail = describe(exc, url, reading=reading)
    if detail is None:
        inner: BaseException = exc
        while inner.args and isinstance(inner.args[0], BaseException):
            inner = inner.args[0]
        reason = getattr(inner, "reason", None)
        detail = " ".join(str(reason if reason is not None else inner).split()) or type(inner).__name__
    return f'{method[:1].upper()}{method[1:].lower()} "{url}": {detail}'
