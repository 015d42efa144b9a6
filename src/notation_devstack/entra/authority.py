"""The authority's HTTP surface over a tiny directory (one tenant, its users) and the emulator's token issuer.

MSAL (inside ``az``) needs, with ``core.instance_discovery=false``: the authority's
``v2.0/.well-known/openid-configuration`` (the issuer must be on the authority's host),
``/common/userrealm/<upn>`` (ROPC: "Managed"; MSAL drops the authority's port for this one, hence the proxy's
port-443 mapping), and the v2 token endpoint returning ``access_token``, ``refresh_token``, ``id_token`` and
``client_info`` (MSAL keys its cache on ``uid.utid``). ``az`` then refreshes silently per tenant with the
refresh-token grant. Errors carry AADSTS codes.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notation_devstack.cloud.http import HttpError, Request, Response
from notation_devstack.vault import identity as vault_identity
from notation_devstack.vault.errors import ApiError
from notation_devstack.vault.keys import b64url
from notation_devstack.vault.tokens import InvalidToken, TokenIssuer, resource_from_scope

AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
REFRESH_AUDIENCE = "urn:notation-devstack:refresh-token"
REFRESH_LIFETIME = 90 * 24 * 3600
_OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}


@dataclass(frozen=True)
class User:
    upn: str
    object_id: str
    password: str
    display_name: str


class Directory:
    """The tenant and its users; the devstack has one signed-in user."""

    def __init__(self, tenant_id: str, users: list[User]) -> None:
        self.tenant_id = tenant_id
        self.users = {u.upn.lower(): u for u in users}
        self.by_oid = {u.object_id.lower(): u for u in users}

    def user(self, oid: str) -> User | None:
        return self.by_oid.get(oid.lower())


def _oauth(status: int, error: str, description: str) -> HttpError:
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    code = re.match(r"AADSTS(\d+)", description)
    body = {"error": error, "error_description": f"{description}\r\nTimestamp: {now}",
            "error_codes": [int(code.group(1))] if code else [],
            "timestamp": now, "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}
    return HttpError(status, error, description, body)


class Authority:
    """Route for ``/<tenant>/...`` authority paths and ``/metadata/identity/oauth2/token`` (managed identity)."""

    def __init__(self, directory: Directory, issuer: TokenIssuer, signing_key_path: Path) -> None:
        self.directory = directory
        self.issuer = issuer
        self._key_path = signing_key_path
        self._key: Any = None

    # --- tokens -------------------------------------------------------------------------------------------------

    def _sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        if self._key is None:
            self._key = serialization.load_pem_private_key(self._key_path.read_bytes(), password=None)
        header = {"typ": "JWT", "alg": "RS256", "kid": self.issuer.kid}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def _user_tokens(self, base: str, user: User, client_id: str, scopes: list[str]) -> dict[str, Any]:
        tid = self.directory.tenant_id
        resource_scopes = [s for s in scopes if s.lower() not in _OIDC_SCOPES]
        graph_app = "00000003-0000-0000-c000-000000000000"
        audience = resource_from_scope(resource_scopes[0]) if resource_scopes else graph_app
        access, expires_on = self.issuer.issue(user.object_id, audience=audience, app_id=client_id)
        refresh, _ = self.issuer.issue(user.object_id, audience=REFRESH_AUDIENCE, app_id=client_id,
                                       lifetime=REFRESH_LIFETIME)
        now = int(time.time())
        id_token = self._sign({
            "aud": client_id, "iss": f"{base}/{tid}/v2.0", "iat": now, "nbf": now, "exp": now + 3600,
            "name": user.display_name, "oid": user.object_id, "preferred_username": user.upn, "sub": user.object_id,
            "tid": tid, "ver": "2.0",
        })
        client_info = base64.urlsafe_b64encode(
            json.dumps({"uid": user.object_id, "utid": tid}).encode()).decode().rstrip("=")
        lifetime = expires_on - now
        return {"token_type": "Bearer", "scope": " ".join(resource_scopes or scopes), "expires_in": lifetime,
                "ext_expires_in": lifetime, "access_token": access, "refresh_token": refresh,
                "id_token": id_token, "client_info": client_info}

    def _token(self, request: Request, tenant: str) -> Response:
        form = request.form()
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        scopes = (form.get("scope") or "").split()
        if grant == "client_credentials":
            try:
                return Response(200, vault_identity.client_credentials_token(self.issuer, tenant, request.body))
            except ApiError as exc:
                raise _oauth(exc.status, exc.code, exc.message) from exc
        if not client_id:
            raise _oauth(400, "invalid_request", "AADSTS900144: The request body must contain the following "
                                                 "parameter: 'client_id'.")
        if grant == "password":
            user = self.directory.users.get(form.get("username", "").lower())
            if user is None or not hmac.compare_digest(form.get("password", ""), user.password):
                raise _oauth(400, "invalid_grant", "AADSTS50126: Error validating credentials due to invalid "
                                                   "username or password.")
            return Response(200, self._user_tokens(request.base, user, client_id, scopes))
        if grant == "refresh_token":
            try:
                principal = self.issuer.validate(form.get("refresh_token", ""), {REFRESH_AUDIENCE}, lenient=False,
                                                 default_principal="")
            except InvalidToken as exc:
                raise _oauth(400, "invalid_grant", "AADSTS70008: The provided authorization code or refresh "
                                                   f"token has expired or is not valid ({exc}).") from exc
            found = self.directory.user(principal.object_id)
            if found is None:
                raise _oauth(400, "invalid_grant", "AADSTS50034: The user account does not exist in this "
                                                   "directory.")
            return Response(200, self._user_tokens(request.base, found, client_id, scopes))
        raise _oauth(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type "
                                                    f"'{grant}'.")

    # --- routing ------------------------------------------------------------------------------------------------

    def _known_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.directory.tenant_id.lower(), "organizations", "common", "adfs")

    def route(self, request: Request) -> Response | None:
        seg = request.segments
        if seg[:4] == ["metadata", "identity", "oauth2", "token"]:
            try:
                return Response(200, vault_identity.managed_identity_token(self.issuer, request.query,
                                                                           request.headers))
            except ApiError as exc:
                raise _oauth(exc.status, exc.code, exc.message) from exc
        if len(seg) < 2:
            return None
        tenant, rest = seg[0], "/".join(seg[1:]).lower()
        if tenant.lower() == "common" and seg[1].lower() == "userrealm" and len(seg) == 3:
            user = self.directory.users.get(seg[2].lower())
            domain = seg[2].partition("@")[2]
            return Response(200, {"ver": "1.0", "account_type": "Managed" if user else "Unknown",
                                  "domain_name": domain, "cloud_instance_name": "devstack.localhost",
                                  "cloud_audience_urn": "urn:federation:devstack"})
        if rest in ("oauth2/v2.0/token", "oauth2/token", "oauth2/v2.0/devicecode",
                    "v2.0/.well-known/openid-configuration", ".well-known/openid-configuration",
                    "discovery/v2.0/keys", "discovery/keys", "discovery/instance"):
            if not self._known_tenant(tenant):
                raise _oauth(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found. Check to make "
                                                    "sure you have the correct tenant ID.")
        else:
            return None
        if request.method == "POST" and rest in ("oauth2/v2.0/token", "oauth2/token"):
            return self._token(request, tenant)
        if request.method == "GET" and rest.endswith("openid-configuration"):
            doc = vault_identity.openid_configuration(request.base, tenant)
            if tenant.lower() in ("organizations", "common"):
                doc["issuer"] = f"{request.base}/{{tenantid}}/v2.0"
            return Response(200, doc)
        if request.method == "GET" and rest in ("discovery/v2.0/keys", "discovery/keys"):
            return Response(200, self.issuer.jwks())
        if request.method == "GET" and rest == "discovery/instance":
            tdisc = f"{request.base}/{self.directory.tenant_id}/v2.0/.well-known/openid-configuration"
            return Response(200, {"tenant_discovery_endpoint": tdisc, "api-version": "1.1", "metadata": []})
        raise _oauth(400, "invalid_request", f"AADSTS900561: The endpoint only accepts "
                                             f"{'POST' if 'token' in rest else 'GET'} requests.")
