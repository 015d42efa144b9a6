"""Bounded HTTP for the revocation and timestamping protocols (OCSP, CRL, RFC 3161).

One small helper rather than the registry transport: these protocols want no retries, a hard wall-clock budget per
request (Go's ``http.Client.Timeout``), a size cap checked against ``Content-Length`` and every chunk, and their own
error wording. Plain ``requests`` under the hood; a caller may pass its own session (tests and benchmarks count or
swap traffic that way).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from notation._internal import log
from notation._internal.neterr import go_error
from notation._internal.records import dataclass

if TYPE_CHECKING:
    import requests

_CHUNK = 64 * 1024


class HTTPFailure(Exception):
    """The request failed before a complete response body was read (message is the reason)."""


class HTTPTimeout(HTTPFailure):
    """The whole exchange took longer than the caller's budget."""


class HTTPTooLarge(HTTPFailure):
    """The body exceeded the caller's cap."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    content_type: str
    body: bytes

    @property
    def status_line(self) -> str:
        """Go's ``Response.Status`` form: ``404 Not Found``."""
        return f"{self.status} {self.reason}".strip()


def user_agent() -> str:
    """CLI-33: notation-py names itself on every request."""
    try:
        from importlib.metadata import version

        return f"notation-py/{version('notation-py')}"
    except Exception:
        return "notation-py/unknown"


def new_session() -> requests.Session:
    """A session that ignores ~/.netrc and proxy variables' credentials and never decompresses bodies."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = user_agent()
    session.headers["Accept-Encoding"] = "identity"
    return session


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    cap: int,
    session: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    read_error_body: bool = False,
) -> Response:
    """Send one request and read the body (at most ``cap`` bytes) within ``timeout`` seconds in total.

    Non-2xx bodies are not read unless ``read_error_body`` (the callers only report the status line).
    """
    import requests

    own = session is None
    sess = new_session() if own else session
    deadline = time.monotonic() + timeout
    try:
        rid = log.http_request(method, url, {**sess.headers, **(headers or {})}) if log.debug_enabled() else None
        try:
            resp = sess.request(
                method, url, data=data, headers=headers, timeout=(timeout, timeout), stream=True, allow_redirects=True
            )
        except requests.exceptions.Timeout as exc:
            log.http_error(rid, go_error(method, url, exc))
            raise HTTPTimeout(f"{method} {url}: timeout") from exc
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            log.http_error(rid, go_error(method, url, exc))
            raise HTTPFailure(go_error(method, url, exc)) from exc
        log.http_response(rid, resp.status_code, resp.reason or "", resp.headers)
        try:
            if time.monotonic() > deadline:
                raise HTTPTimeout(f"{method} {url}: timeout")
            content_type = resp.headers.get("Content-Type", "")
            if resp.status_code != 200 and not read_error_body:
                return Response(resp.status_code, resp.reason or "", content_type, b"")
            length = resp.headers.get("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > cap:
                raise HTTPTooLarge(f"response body of {int(length)} bytes exceeds the limit of {cap} bytes")
            chunks: list[bytes] = []
            total = 0
            while True:
                try:
                    chunk = resp.raw.read1(_CHUNK, decode_content=False)
                except Exception as exc:  # urllib3 read errors share no base with requests'
                    if "timed out" in str(exc).lower():
                        raise HTTPTimeout(f"{method} {url}: timeout") from exc
                    raise HTTPFailure(go_error(method, url, exc, reading=True)) from exc
                if not chunk:
                    break
                total += len(chunk)
                if total > cap:
                    raise HTTPTooLarge(f"response body exceeds the limit of {cap} bytes")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise HTTPTimeout(f"{method} {url}: timeout")
            return Response(resp.status_code, resp.reason or "", content_type, b"".join(chunks))
        finally:
            resp.close()
    finally:
        if own:
            sess.close()
