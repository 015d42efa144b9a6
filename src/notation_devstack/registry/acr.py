"""ACR's token exchange on our registry: ``POST /oauth2/exchange`` trades an Entra ID access token for an ACR
refresh token, ``/oauth2/token`` trades that (or basic credentials) for an access token with scopes.

``az acr login`` calls the exchange with a token for ``https://containerregistry.azure.net``; docker (and
``az acr login --expose-token`` users) then log in as ``00000000-0000-0000-0000-000000000000`` with the refresh
token as the password. Entra tokens are checked against the authority's JWKS (RS256, audience, tenant, expiry):
the registry trusts nothing it cannot verify.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from notation_devstack.registry import errors
from notation_devstack.registry.auth import TokenAuthority

ACR_USER = "00000000-0000-0000-0000-000000000000"
ACR_AUDIENCES = {"https://containerregistry.azure.net", "https://management.devstack.localhost"}
REFRESH_TTL = 3 * 3600


def _b64d(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AcrExchange:
    def __init__(self, jwks_path: Path, tenant_id: str, service: str, secret: bytes | None = None) -> None:
        self.jwks_path = Path(jwks_path)
        self.tenant_id = tenant_id
        self.refresh = TokenAuthority(f"acr-refresh:{service}", secret, ttl=REFRESH_TTL)

    def _aad_subject(self, token: str) -> str:
        """The ``oid`` of a valid Entra access token for ACR; a 401 for anything else."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        parts = token.split(".")
        if len(parts) != 3 or len(token) > 16384:
            raise errors.DistributionError(401, "UNAUTHORIZED", "invalid access token: not a JWT")
        try:
            header, claims = json.loads(_b64d(parts[0])), json.loads(_b64d(parts[1]))
            keys = json.loads(self.jwks_path.read_text())["keys"]
        except (ValueError, OSError, KeyError) as exc:
            raise errors.DistributionError(401, "UNAUTHORIZED", f"invalid access token: {exc}") from exc
        key = next((k for k in keys if k.get("kid") == header.get("kid")), None)
        if key is None or header.get("alg") != "RS256":
            raise errors.DistributionError(401, "UNAUTHORIZED", "invalid access token: unknown signing key")
        public = rsa.RSAPublicNumbers(int.from_bytes(_b64d(key["e"]), "big"),
                                      int.from_bytes(_b64d(key["n"]), "big")).public_key()
        try:
            public.verify(_b64d(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise errors.DistributionError(401, "UNAUTHORIZED", "invalid access token: bad signature") from exc
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            raise errors.DistributionError(401, "UNAUTHORIZED", "invalid access token: the token is expired")
        if str(claims.get("aud", "")).rstrip("/") not in ACR_AUDIENCES:
            raise errors.DistributionError(401, "UNAUTHORIZED", f"invalid access token: wrong audience "
                                                                f"{claims.get('aud')!r}")
        if str(claims.get("tid", "")).lower() != self.tenant_id.lower():
            raise errors.DistributionError(401, "UNAUTHORIZED", "invalid access token: unknown tenant")
        return str(claims.get("oid") or "")

    def exchange(self, form: dict[str, str], service: str) -> dict[str, Any]:
        if form.get("grant_type") not in ("access_token", "access_token_refresh_token"):
            raise errors.DistributionError(400, "UNSUPPORTED", "grant_type must be access_token")
        if form.get("service") not in (None, "", service):
            raise errors.DistributionError(400, "DENIED", f"unknown service {form.get('service')!r}")
        subject = self._aad_subject(form.get("access_token", ""))
        return {"refresh_token": self.refresh.issue(subject, [])}

    def refresh_subject(self, token: str) -> str | None:
        claims = self.refresh.verify(token)
        return None if claims is None else str(claims.get("sub"))
