"""Downloading a plugin package over HTTPS (PLG-81): HTTPS only (also across redirects), 200 only, 256 MiB cap.

TLS trust is the ``requests`` default, so ``REQUESTS_CA_BUNDLE`` (or an explicit ``verify=``) points it at a
private CA, which is how tests serve packages from 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from notation._internal import log
from notation._internal.neterr import go_error
from notation._internal.plugin.archive import MAX_FILE_BYTES, MIB
from notation.errors import PluginError

DOWNLOAD_TIMEOUT_SECONDS = 600.0
"""Go: "The plugin download timeout is 10m0s"."""
MAX_REDIRECTS = 10


def download(
    url: str, out: IO[bytes], *, verify: bool | str | None = None, timeout: float = DOWNLOAD_TIMEOUT_SECONDS
) -> None:
    """Stream ``url`` into ``out``; raise PluginError (unprefixed; the caller adds Go's wrapping)."""
    import requests

    session = requests.Session()
    kwargs: dict[str, object] = {"stream": True, "timeout": timeout, "allow_redirects": False}
    if verify is not None:
        kwargs["verify"] = verify
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(current).scheme.lower() != "https":
                raise PluginError(f'GET "{current}": only the HTTPS scheme is supported')
            rid = log.http_request("GET", current, dict(session.headers)) if log.debug_enabled() else None
            with session.get(current, **kwargs) as resp:  # type: ignore[arg-type]
                log.http_response(rid, resp.status_code, resp.reason or "", resp.headers)
                if resp.is_redirect and resp.headers.get("Location"):
                    current = urljoin(current, resp.headers["Location"])
                    continue
                if resp.status_code != 200:
                    raise PluginError(
                        f'GET "{current}": https response bad status: {resp.status_code} {resp.reason or ""}'.rstrip()
                    )
                total = 0
                for chunk in resp.iter_content(chunk_size=1024 * 1024):
                    total += len(chunk)
                    if total >= MAX_FILE_BYTES:
                        raise PluginError(
                            f'GET "{current}": https response reached the {MAX_FILE_BYTES // MIB} MiB size limit'
                        )
                    out.write(chunk)
                return
        raise PluginError(f'GET "{url}": stopped after {MAX_REDIRECTS} redirects')
    except requests.RequestException as exc:
        raise PluginError(go_error("GET", current, exc)) from exc
    except ValueError as exc:  # the URL was checked before; requests and urljoin parse the server's Location
        raise PluginError(f'GET "{current}": invalid redirect location: {exc}') from None
    finally:
        session.close()


def download_to(url: str, dest: Path, *, verify: bool | str | None = None) -> None:
    with open(dest, "wb") as out:
        download(url, out, verify=verify)
