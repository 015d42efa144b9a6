"""RFC 7235 challenge flow for registries (CLI-34): anonymous, Basic, and Docker/OAuth2 Bearer tokens.

Once a registry has answered with a challenge, the scheme is remembered per host, so later requests authenticate
up front (one round trip, not two). Bearer tokens are cached per host and scope set for the life of the
:class:`Authenticator` (one command). Secrets are only ever placed in ``Authorization`` headers and token request
bodies; error messages name the realm and status, never credentials or tokens.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from notation._internal.records import dataclass
from notation._internal.registry.credentials import Credential
from notation._internal.registry.transport import Transport, read_bounded, release
from notation.errors import AuthenticationError, NotationError

if TYPE_CHECKING:
    from notation._internal.registry.httpclient import Response

CLIENT_ID = "notation"
MAX_TOKEN_RESPONSE = 1024 * 1024

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Parse the first challenge of a ``WWW-Authenticate`` header: (lower-case scheme, parameters)."""
    text = header.strip()
    match = _TOKEN_RE.match(text)
    if not match:
        return "", {}
    scheme = match.group(0).lower()
    rest = text[match.end() :]
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        while pos < len(rest) and rest[pos] in " \t,":
            pos += 1
        key_match = _TOKEN_RE.match(rest, pos)
        if not key_match:
            break
        key = key_match.group(0).lower()
        pos = key_match.end()
        while pos < len(rest) and rest[pos] in " \t":
            pos += 1
        if pos >= len(rest) or rest[pos] != "=":
            break  # the start of a second challenge: only the first is used
        pos += 1
        while pos < len(rest) and rest[pos] in " \t":
            pos += 1
        if pos < len(rest) and rest[pos] == '"':
            pos += 1
            value_chars: list[str] = []
            while pos < len(rest) and rest[pos] != '"':
                if rest[pos] == "\\" and pos + 1 < len(rest):
                    pos += 1
                value_chars.append(rest[pos])
                pos += 1
            pos += 1
            value = "".join(value_chars)
        else:
            value_match = _TOKEN_RE.match(rest, pos)
            value = value_match.group(0) if value_match else ""
            pos = value_match.end() if value_match else pos
        params[key] = value
    return scheme, params


def repository_scope(repository: str, actions: Iterable[str]) -> str:
    return f"repository:{repository}:{','.join(actions)}"


def merge_scopes(scopes: Iterable[str]) -> list[str]:
    """Union scopes by resource, keeping action order stable (``repository:r:pull`` + ``:push`` -> ``pull,push``)."""
    order = {"pull": 0, "push": 1, "delete": 2}
    merged: dict[str, list[str]] = {}
    for scope in scopes:
        for one in scope.split(" "):
            if not one:
                continue
            resource, _, actions = one.rpartition(":")
            if not resource:
                merged.setdefault(one, [])
                continue
            bucket = merged.setdefault(resource, [])
            for action in actions.split(","):
                if action and action not in bucket:
                    bucket.append(action)
    out = []
    for resource, bucket in sorted(merged.items()):
        acts = ["*"] if "*" in bucket else sorted(bucket, key=lambda a: (order.get(a, 9), a))
        out.append(f"{resource}:{','.join(acts)}" if acts else resource)
    return out


@dataclass(frozen=True)
class _Bearer:
    realm: str
    service: str


def basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class Authenticator:
    """Sends registry requests with the right ``Authorization``, answering challenges (shared by repositories)."""

    def __init__(self, transport: Transport, credentials: Callable[[str], Credential]) -> None:
        self.transport = transport
        self._credentials = credentials
        self._lock = threading.Lock()
        self._schemes: dict[str, str | _Bearer] = {}
        self._tokens: dict[tuple[str, str, str], str] = {}
        self._flights: dict[tuple[str, str, str], threading.Lock] = {}

    def credential(self, registry: str) -> Credential:
        return self._credentials(registry)

    def send(
        self,
        method: str,
        url: str,
        *,
        registry: str,
        scopes: list[str],
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        allow_redirects: bool = True,
    ) -> Response:
        """Send, authenticating up front when the host's scheme is known, and once more after a 401 challenge.

        A final 401 is returned as is; the caller turns it into its error.
        """
        host = urlsplit(url).netloc
        hdrs = dict(headers or {})
        preset = self._preset(host, registry, scopes)
        if preset:
            hdrs["Authorization"] = preset
        response = self.transport.request(method, url, headers=hdrs, data=data, allow_redirects=allow_redirects)
        if response.status_code != 401:
            return response
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            credential = self._credentials(registry)
            if not credential.username and not credential.password:
                return response
            authorization = basic_header(credential)
            with self._lock:
                self._schemes[host] = "basic"
        elif scheme == "bearer" and params.get("realm"):
            release(response)  # first, so a token endpoint on the same host can reuse this connection
            bearer = _Bearer(params["realm"], params.get("service", ""))
            wanted = merge_scopes([*scopes, params.get("scope", "")])
            stale = preset.removeprefix("Bearer ") if preset else None
            authorization = "Bearer " + self._token(host, registry, bearer, wanted, refresh=bool(preset), stale=stale)
            with self._lock:
                self._schemes[host] = bearer
        else:
            return response
        release(response)  # no-op if already released
        hdrs["Authorization"] = authorization
        return self.transport.request(method, url, headers=hdrs, data=data, allow_redirects=allow_redirects)

    def _preset(self, host: str, registry: str, scopes: list[str]) -> str | None:
        with self._lock:
            scheme = self._schemes.get(host)
        if scheme is None:
            return None
        if scheme == "basic":
            return basic_header(self._credentials(registry))
        assert isinstance(scheme, _Bearer)
        return "Bearer " + self._token(host, registry, scheme, merge_scopes(scopes), refresh=False)

    def _token(
        self, host: str, registry: str, bearer: _Bearer, scopes: list[str], *, refresh: bool, stale: str | None = None
    ) -> str:
        """The cached token for (host, service, scopes), else one fetched now: single-flight, so that threads that
        hit the same challenge at once (a verifier's first images) cause one token exchange, not one each.
        ``refresh``: ``stale`` was refused; fetch anew unless another thread already replaced it."""
        key = (host, bearer.service, " ".join(scopes))
        with self._lock:
            cached = self._tokens.get(key)
            flight = self._flights.setdefault(key, threading.Lock())
        if cached is not None and not refresh:
            return cached
        with flight:
            with self._lock:
                current = self._tokens.get(key)
            if current is not None and (not refresh or (stale is not None and current != stale)):
                return current
            token = self._fetch_token(registry, bearer, scopes)
            with self._lock:
                self._tokens[key] = token
            return token

    def _fetch_token(self, registry: str, bearer: _Bearer, scopes: list[str]) -> str:
        try:
            realm = urlsplit(bearer.realm)
            _ = realm.port
        except ValueError:  # the registry's challenge is untrusted input ("Invalid IPv6 URL", port out of range)
            raise AuthenticationError(f"invalid bearer token realm {bearer.realm!r} from {registry}") from None
        if realm.scheme not in ("http", "https") or not realm.netloc:
            raise AuthenticationError(f"invalid bearer token realm {bearer.realm!r} from {registry}")
        realm_name = f"{realm.scheme}://{realm.netloc}{realm.path}"
        credential = self._credentials(registry)
        if credential.refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": credential.refresh_token, "client_id": CLIENT_ID}
            if bearer.service:
                form["service"] = bearer.service
            if scopes:
                form["scope"] = " ".join(scopes)
            response = self.transport.request(
                "POST",
                bearer.realm,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                data=urlencode(form).encode(),
            )
            member_order: tuple[str, ...] = ("access_token",)
        else:
            query: list[tuple[str, str]] = []
            if bearer.service:
                query.append(("service", bearer.service))
            query.extend(("scope", s) for s in scopes)
            query.append(("client_id", CLIENT_ID))
            sep = "&" if realm.query else "?"
            url = bearer.realm + (sep + urlencode(query) if query else "")
            headers = {}
            if credential.username or credential.password:
                headers["Authorization"] = basic_header(credential)
            response = self.transport.request("GET", url, headers=headers)
            member_order = ("token", "access_token")
        status = response.status_code
        try:
            body = read_bounded(
                response,
                MAX_TOKEN_RESPONSE,
                what=f"token response from {realm_name}",
                deadline=self.transport.options.body_deadline,
            )
        except NotationError as exc:
            raise AuthenticationError(f"failed to fetch a token from {realm_name}: {exc}") from None
        if status != 200:
            raise AuthenticationError(
                f"failed to fetch a token from {realm_name}: response status code {status}: {_status_text(status)}"
            )
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise AuthenticationError(f"failed to fetch a token from {realm_name}: malformed token response") from None
        if isinstance(doc, dict):
            for member in member_order:
                value = doc.get(member)
                if isinstance(value, str) and value:
                    return value
        raise AuthenticationError(f"failed to fetch a token from {realm_name}: empty token returned")


def _status_text(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "unknown status"
