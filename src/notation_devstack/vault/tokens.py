"""Access tokens: the emulator mints RS256 JWTs with its own key and accepts only those (strict mode, KVE-08).

Claims follow Entra ID v1 access tokens: ``aud`` (the vault resource), ``iss`` (``https://sts.windows.net/<tid>/``),
``oid``, ``tid``, ``appid``, ``iat``/``nbf``/``exp``. ``lenient=True`` accepts any bearer token instead: a JWT's
claims are read unverified, an opaque token maps to the default principal (for clients with their own tokens).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from notation_devstack.vault.access import Principal
from notation_devstack.vault.keys import b64url, b64url_decode
from notation_devstack.vault.store import DEFAULT_APPID, atomic_write

VAULT_RESOURCE = "https://vault.azure.net"
TOKEN_LIFETIME = 3600
MAX_TOKEN_CHARS = 16 * 1024


class InvalidToken(Exception):
    """The bearer token is not one the emulator accepts; the message says why (sent in the 401 body)."""


def resource_from_scope(scope: str) -> str:
    """``https://vault.azure.net/.default`` -> ``https://vault.azure.net`` (the token audience)."""
    scope = scope.strip()
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope.rstrip("/")


class TokenIssuer:
    """Mints and validates the emulator's tokens with one RSA key kept in ``<state>/identity``."""

    def __init__(self, identity_dir: Path, tenant_id: str) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.tenant_id = tenant_id
        path = identity_dir / "signing-key.pem"
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            atomic_write(
                path,
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ),
                mode=0o600,
            )
        self._key = key
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = b64url(hashlib.sha256(der).digest()[:16])

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": b64url(n), "e": "AQAB"}]}

    def issue(
        self,
        object_id: str,
        *,
        audience: str = VAULT_RESOURCE,
        app_id: str = DEFAULT_APPID,
        tenant_id: str | None = None,
        lifetime: int = TOKEN_LIFETIME,
    ) -> tuple[str, int]:
        """Return (token, expires_on Unix seconds)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        tid = tenant_id or self.tenant_id
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now - 60,
            "exp": now + lifetime,
            "oid": object_id,
            "sub": object_id,
            "tid": tid,
            "appid": app_id,
            "ver": "1.0",
            "uti": uuid.uuid4().hex,
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        sig = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(sig)}", now + lifetime

    def validate(self, token: str, audiences: set[str], *, lenient: bool, default_principal: str) -> Principal:
        """The caller of a request; raises :class:`InvalidToken` for anything but our own, current token."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("AKV10000: Request is missing a Bearer or PoP token.")
        parts = token.split(".")
        claims: dict[str, Any] | None = None
        if len(parts) == 3:
            try:
                header = json.loads(b64url_decode(parts[0]))
                claims = json.loads(b64url_decode(parts[1]))
            except Exception:
                claims = None
                header = None
            if not isinstance(claims, dict) or not isinstance(header, dict):
                claims = None
        if lenient:
            if claims is None:
                return Principal(default_principal, self.tenant_id, DEFAULT_APPID)
            return Principal(
                str(claims.get("oid") or default_principal),
                str(claims.get("tid") or self.tenant_id),
                str(claims.get("appid") or claims.get("azp") or ""),
            )
        if claims is None:
            raise InvalidToken("AKV10022: Invalid token: not a JWT issued by this emulator.")
        if header.get("alg") != "RS256":
            raise InvalidToken("AKV10022: Invalid token: unexpected signing algorithm.")
        try:
            self._key.public_key().verify(
                b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, Exception) as exc:
            raise InvalidToken("AKV10032: Invalid issuer or signature.") from exc
        now = time.time()
        if not isinstance(claims.get("exp"), int) or claims["exp"] < now:
            raise InvalidToken("AKV10022: Invalid token: the token is expired.")
        if isinstance(claims.get("nbf"), int) and claims["nbf"] > now + 300:
            raise InvalidToken("AKV10022: Invalid token: the token is not yet valid.")
        aud = str(claims.get("aud", "")).rstrip("/")
        if aud not in {a.rstrip("/") for a in audiences}:
            raise InvalidToken(f"AKV10022: Invalid audience. Expected {sorted(audiences)[0]}, found: {aud}.")
        if str(claims.get("tid", "")).lower() != self.tenant_id.lower():
            raise InvalidToken(
                f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{self.tenant_id}/, "
                f"found https://sts.windows.net/{claims.get('tid')}/."
            )
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise InvalidToken("AKV10022: Invalid token: no oid claim.")
        return Principal(oid, str(claims["tid"]), str(claims.get("appid") or claims.get("azp") or ""))


def decode_unverified(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking it (for tests and the fake ``az``)."""
    payload = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def object_id_for_client(client_id: str) -> str:
    """A stable object id for a service principal / managed identity known only by its client id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"notation-devstack:sp:{client_id.lower()}"))


def object_id_for_upn(upn: str) -> str:
    """A stable object id for a user principal name (``--upn`` of set-policy)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"notation-devstack:upn:{upn.lower()}"))
