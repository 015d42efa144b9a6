"""A registry client shared by every repository one command touches: connections, credentials, tokens, plain-HTTP
rules (CLI-32) and what was learnt about each registry (REF-02: referrers API unsupported)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation._internal.registry.auth import Authenticator
from notation._internal.registry.credentials import CredentialResolver, CredentialStore
from notation._internal.registry.transport import (
    MAX_ERROR_BODY,
    Transport,
    TransportOptions,
    _safe_url,
    read_bounded,
    release,
)
from notation.errors import AuthenticationError, NotationError, NotFoundError, RegistryError

if TYPE_CHECKING:
    from notation._internal.oci.reference import Reference
    from notation._internal.registry.httpclient import Response, Session
    from notation._internal.registry.repository import RegistryRepository


def is_plain_http(registry: str, *, insecure: bool, insecure_registries: tuple[str, ...] = ()) -> bool:
    """CLI-32: ``--insecure-registry``, config.json ``insecureRegistries``, or ``localhost`` with a port."""
    if insecure or registry.lower() in (r.lower() for r in insecure_registries):
        return True
    host, sep, port = registry.rpartition(":")
    return bool(sep) and host == "localhost" and port.isdigit()


class RegistryClient:
    """Connections, credentials and tokens for the life of a command; hand it to many ``RegistryRepository``s."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        insecure: bool = False,
        config_dir: Path | None = None,
        session: Session | None = None,
        options: TransportOptions | None = None,
        credential_store: CredentialStore | None = None,
        insecure_registries: tuple[str, ...] = (),
    ) -> None:
        self.transport = Transport(session, options)
        self.auth = Authenticator(
            self.transport,
            CredentialResolver(username, password, config_dir=config_dir, store=credential_store),
        )
        self.insecure = insecure
        self.config_dir = config_dir
        self._extra_insecure = tuple(insecure_registries)
        self._insecure_registries: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self._referrers_unsupported: set[str] = set()
        self._conditional_puts: dict[str, bool] = {}
        self._conditional_creates: dict[str, bool] = {}
        # (registry, repository path, digest) of blobs a HEAD found present, so a call signing many images of one
        # repository stops asking about the shared ``{}`` config blob once it has seen it there. Successes only; a
        # blob removed meanwhile makes the manifest PUT fail ("manifest blob unknown"), which is reported as before.
        self._known_blobs: set[tuple[str, str, str]] = set()
        self.pause: Callable[[float], None] = time.sleep
        """How repositories wait (the tag-schema settle, retry back-off). A batch of signings swaps in a wait that
        lets another reference work meanwhile (cli/batch.py), so ``--parallel`` bounds work, not waiting."""

    @property
    def request_count(self) -> int:
        return self.transport.request_count

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def repository(self, reference: Reference, *, force_referrers_tag: bool = True) -> RegistryRepository:
        from notation._internal.registry.repository import RegistryRepository

        return RegistryRepository(reference, force_referrers_tag=force_referrers_tag, client=self)

    def base_url(self, registry: str) -> str:
        """``http(s)://host[:port]`` for a registry name (``docker.io`` goes to ``registry-1.docker.io``)."""
        if self._insecure_registries is None:
            from notation._internal.config.config_file import load_config_lenient

            configured = load_config_lenient(self.config_dir).insecure_registries
            self._insecure_registries = (*configured, *self._extra_insecure)
        host = "registry-1.docker.io" if registry == "docker.io" else registry
        plain = is_plain_http(registry, insecure=self.insecure, insecure_registries=self._insecure_registries)
        return f"{'http' if plain else 'https'}://{host}"

    # REF-02: once a registry answers that it has no referrers API, use the tag schema for the rest of the session.
    def referrers_unsupported(self, registry: str) -> bool:
        with self._lock:
            return registry in self._referrers_unsupported

    def mark_referrers_unsupported(self, registry: str) -> None:
        with self._lock:
            self._referrers_unsupported.add(registry)

    def blob_known(self, registry: str, path: str, digest: str) -> bool:
        with self._lock:
            return (registry, path, digest) in self._known_blobs

    def learn_blob(self, registry: str, path: str, digest: str) -> None:
        with self._lock:
            if len(self._known_blobs) >= 4096:
                self._known_blobs.clear()
            self._known_blobs.add((registry, path, digest))

    # Whether a registry honours If-Match/If-None-Match on manifest PUTs (None: not known yet); see repository.py.
    def conditional_puts(self, registry: str) -> bool | None:
        with self._lock:
            return self._conditional_puts.get(registry)

    def learn_conditional_puts(self, registry: str, honoured: bool) -> None:
        with self._lock:
            if not self._conditional_puts.get(registry):  # a 412 once seen is proof; never unlearn it
                self._conditional_puts[registry] = honoured

    # Whether it honours If-None-Match: * on a manifest PUT (None: not known yet); learnt apart from If-Match.
    def conditional_creates(self, registry: str) -> bool | None:
        with self._lock:
            return self._conditional_creates.get(registry)

    def learn_conditional_creates(self, registry: str, honoured: bool) -> None:
        with self._lock:
            if not self._conditional_creates.get(registry):
                self._conditional_creates[registry] = honoured

    def send(
        self,
        method: str,
        registry: str,
        path_or_url: str,
        *,
        scopes: list[str],
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Response:
        url = path_or_url if "://" in path_or_url else self.base_url(registry) + path_or_url
        return self.auth.send(method, url, registry=registry, scopes=scopes, headers=headers, data=data)

    def ping(self, registry: str) -> None:
        """``GET /v2/`` with the credentials (CLI-103): raises unless the registry accepts them."""
        response = self.send("GET", registry, "/v2/", scopes=[])
        if response.status_code != 200:
            raise response_error(response, "GET")
        release(response)


def _error_details(body: bytes, status: int) -> tuple[str, list[str]]:
    """oras-go's rendering of a distribution error body: ``code: message`` joined by ``; ``, and the codes."""
    codes: list[str] = []
    parts: list[str] = []
    try:
        doc: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        doc = None
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list):
        for item in errors[:10]:
            if not isinstance(item, dict):
                continue
            code = str(item.get("code", ""))[:100]
            message = " ".join(str(item.get("message", "")).split())[:300]
            codes.append(code)
            text = code.replace("_", " ").lower()
            parts.append(f"{text}: {message}" if message else text)
    if parts:
        return "; ".join(parts), codes
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.lower(), codes
    except ValueError:
        return "unknown status", codes


def response_error(response: Response, method: str) -> NotationError:
    """A typed error for an unexpected response: ``<METHOD> "<url>": response status code <n>: <errors>``."""
    status = response.status_code
    url = _safe_url(response.url)
    try:
        body = read_bounded(response, MAX_ERROR_BODY, what="error response", deadline=10.0)
    except NotationError:
        body = b""
    details, _ = _error_details(body, status)
    message = f'{method} "{url}": response status code {status}: {details}'
    if status == 401:
        return AuthenticationError(message)
    if status == 404:
        return NotFoundError(message)
    error = RegistryError(message)
    error.status_code = status
    return error


def error_codes(response: Response) -> list[str]:
    """The distribution error codes of a response (reads and closes it)."""
    try:
        body = read_bounded(response, MAX_ERROR_BODY, what="error response", deadline=10.0)
    except NotationError:
        return []
    return _error_details(body, response.status_code)[1]
