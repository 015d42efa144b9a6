"""Registry authentication: htpasswd basic auth and an optional bearer-token flow served by the registry itself.

Basic mode checks ``Authorization: Basic`` on every request against a bcrypt htpasswd file (the only hash Docker's
registry accepts too). Token mode answers resource requests with a ``Bearer`` challenge; ``/token`` takes basic
credentials and issues a short-lived HMAC-signed token listing the granted scopes, which later requests present.
Both fail closed: missing, malformed or wrong credentials are a 401, never a pass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notation_devstack.registry import errors

MAX_HTPASSWD_SIZE = 1024 * 1024
MAX_AUTH_HEADER = 8192
_ACTIONS = ("pull", "push", "delete", "*")
ACR_USER = "00000000-0000-0000-0000-000000000000"  # the user name docker logs in with an ACR refresh token


class AuthConfigError(ValueError):
    """An unusable htpasswd file or auth setting (startup error, shown as one line)."""


def hash_password(password: str, rounds: int = 10) -> str:
    """A ``$2y$`` bcrypt hash as htpasswd -B writes it (lower ``rounds`` only for tests)."""
    import bcrypt

    hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds))
    return "$2y$" + hashed.decode()[4:]


def write_htpasswd(path: str | os.PathLike[str], users: dict[str, str], rounds: int = 10) -> Path:
    """Write an htpasswd file with bcrypt hashes for ``users`` (user -> password)."""
    target = Path(path)
    target.write_text("".join(f"{user}:{hash_password(pw, rounds)}\n" for user, pw in users.items()))
    return target


class Htpasswd:
    """Users and bcrypt hashes from an htpasswd file; verified passwords are remembered (bcrypt is slow)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            if self.path.stat().st_size > MAX_HTPASSWD_SIZE:
                raise AuthConfigError(f"htpasswd file {self.path} is too large")
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthConfigError(f"cannot read htpasswd file {self.path}: {exc}") from None
        self._users: dict[str, bytes] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, hashed = line.partition(":")
            if not sep or not user:
                raise AuthConfigError(f"htpasswd file {self.path}: line {number} is not user:hash")
            if not hashed.startswith(("$2y$", "$2b$", "$2a$")):
                raise AuthConfigError(f"htpasswd file {self.path}: line {number}: only bcrypt hashes are supported")
            # The bcrypt library speaks $2b$; $2y$ (htpasswd -B) is the same algorithm.
            self._users[user] = ("$2b$" + hashed[4:]).encode()
        if not self._users:
            raise AuthConfigError(f"htpasswd file {self.path} has no users")
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()

    def check(self, user: str, password: str) -> bool:
        import bcrypt

        hashed = self._users.get(user)
        if hashed is None:
            return False
        key = hashlib.sha256(hashed + b"\0" + password.encode()).digest()
        with self._lock:
            if key in self._verified:
                return True
        try:
            ok = bool(bcrypt.checkpw(password.encode(), hashed))
        except ValueError:
            return False
        if ok:
            with self._lock:
                self._verified.add(key)
        return ok


@dataclass(frozen=True)
class Scope:
    """``<type>:<name>:<actions>`` as in the Docker token spec, e.g. ``repository:library/app:pull,push``."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        parts = text.split(":")
        if len(parts) < 3:
            return None
        kind, actions = parts[0], parts[-1]
        name = ":".join(parts[1:-1])  # names may carry a registry host with a port
        acts = tuple(a for a in actions.split(",") if a in _ACTIONS)
        if not kind or not name or not acts:
            return None
        return cls(kind, name, acts)


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header or len(header) > MAX_AUTH_HEADER:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class TokenAuthority:
    """Issues and checks HMAC-SHA256 signed bearer tokens carrying the granted scopes and an expiry."""

    def __init__(self, service: str, secret: bytes | None = None, ttl: int = 300) -> None:
        self.service = service
        self.ttl = ttl
        self._secret = secret or secrets.token_bytes(32)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, subject: str, scopes: list[Scope]) -> str:
        now = int(time.time())
        claims = {
            "sub": subject,
            "aud": self.service,
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_hex(8),
            "access": [{"type": s.type, "name": s.name, "actions": list(s.actions)} for s in scopes],
        }
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it is ours, unexpired and for our service; otherwise None."""
        if len(token) > MAX_AUTH_HEADER or token.count(".") != 1:
            return None
        body, sig = token.split(".")
        try:
            payload, signature = _unb64(body), _unb64(sig)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        claims = json.loads(payload)
        if not isinstance(claims, dict) or claims.get("aud") != self.service:
            return None
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None
        return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _grants(claims: dict[str, Any], scope: Scope) -> bool:
    for entry in claims.get("access", []):
        if not isinstance(entry, dict) or entry.get("type") != scope.type or entry.get("name") != scope.name:
            continue
        granted = set(entry.get("actions") or [])
        if "*" in granted or all(a in granted for a in scope.actions):
            return True
    return False


class Authorizer:
    """Decides each request: anonymous (no htpasswd), basic, or bearer token (token mode)."""

    def __init__(self, htpasswd: Htpasswd | None, tokens: TokenAuthority | None = None,
                 realm: str = "notation-devstack", acr: Any = None) -> None:
        if tokens is not None and htpasswd is None:
            raise AuthConfigError("token auth needs an htpasswd file for the /token endpoint")
        self.htpasswd = htpasswd
        self.tokens = tokens
        self.realm = realm
        self.acr = acr  # an AcrExchange: realm /oauth2/token, ACR refresh tokens as passwords

    @property
    def token_mode(self) -> bool:
        return self.tokens is not None

    def authorize(self, header: str | None, scope: Scope | None, base_url: str) -> str | None:
        """Return the user (None when anonymous access is on) or raise a 401 with the right challenge."""
        if self.htpasswd is None:
            return None
        if self.tokens is None:
            creds = parse_basic(header)
            if creds is None:
                raise errors.unauthorized(f'Basic realm="{self.realm}"')
            if not self.htpasswd.check(*creds):
                raise errors.unauthorized(f'Basic realm="{self.realm}"', "invalid username or password")
            return creds[0]
        realm_path = "/oauth2/token" if self.acr is not None else "/token"
        challenge = f'Bearer realm="{base_url}{realm_path}",service="{self.tokens.service}"'
        if scope is not None:
            challenge += f',scope="{scope}"'
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.unauthorized(challenge)
        claims = self.tokens.verify(token.strip())
        if claims is None:
            raise errors.unauthorized(challenge + ',error="invalid_token"', "invalid or expired token")
        if scope is not None and not _grants(claims, scope):
            raise errors.unauthorized(challenge + ',error="insufficient_scope"', "insufficient scope")
        return str(claims.get("sub"))

    def can(self, header: str | None, scope: Scope) -> bool:
        """Whether the request already holds ``scope`` (used for the optional pull right of a mount source)."""
        if self.htpasswd is None or self.tokens is None:
            return True  # anonymous or basic: an authenticated user may do everything
        scheme, _, token = (header or "").partition(" ")
        claims = self.tokens.verify(token.strip()) if scheme.lower() == "bearer" else None
        return claims is not None and _grants(claims, scope)

    def issue_token(self, user: str | None, password: str | None, service: str | None,
                    scopes: list[str]) -> dict[str, Any]:
        """The /token answer for verified credentials: every requested scope is granted to a known user."""
        if self.tokens is None or self.htpasswd is None:
            raise errors.DistributionError(404, "UNSUPPORTED", "token auth is not enabled")
        if self.acr is not None and user is not None and password is not None and user.lower() == ACR_USER:
            subject = self.acr.refresh_subject(password)
            if subject is None:
                raise errors.unauthorized(f'Basic realm="{self.realm}"', "invalid or expired ACR refresh token")
            user = subject
        elif user is None or password is None or not self.htpasswd.check(user, password):
            raise errors.unauthorized(f'Basic realm="{self.realm}"', "invalid username or password")
        if service is not None and service != self.tokens.service:
            raise errors.DistributionError(400, "DENIED", f"unknown service {service!r}")
        granted = [s for s in (Scope.parse(x) for text in scopes for x in text.split(" ") if x) if s is not None]
        token = self.tokens.issue(user, granted)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {"token": token, "access_token": token, "expires_in": self.tokens.ttl, "issued_at": now}
