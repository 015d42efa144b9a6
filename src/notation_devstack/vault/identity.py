"""Offline token sources for the four azure-identity credential types (spec §2.3 KVE-09).

Every token is an RS256 JWT from :class:`~notation_devstack.vault.tokens.TokenIssuer`; the principal (``oid``) is
derived from who asks, so tests can grant access policies to each credential type separately:

* **Managed identity** (``ManagedIdentityCredential``, plugin ``credential_type=managedid``):
  App Service style ``IDENTITY_ENDPOINT=<VaultServer.managed_identity_endpoint>`` + ``IDENTITY_HEADER=<any>``, or
  IMDS style ``AZURE_POD_IDENTITY_AUTHORITY_HOST=<VaultServer.imds_authority>``. Served over plain HTTP on
  loopback (and on the HTTPS port). Principal: ``VaultServer.managed_identity_object_id(client_id=None)``.
* **Workload identity** (``WorkloadIdentityCredential``, ``credential_type=workloadid``):
  ``AZURE_AUTHORITY_HOST=<VaultServer.authority_host>``, ``AZURE_TENANT_ID=<VaultServer.tenant_id>``,
  ``AZURE_CLIENT_ID=<any>``, ``AZURE_FEDERATED_TOKEN_FILE=<file with any non-empty assertion>``.
  Principal: ``VaultServer.object_id_for_client(client_id)``.
* **Environment** (``EnvironmentCredential``, ``credential_type=environment``): ``AZURE_AUTHORITY_HOST``,
  ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET=<any non-empty>``. This credential goes through
  MSAL, which validates unknown authority hosts against login.microsoftonline.com (network) unless the credential
  is built with ``disable_instance_discovery=True`` or the tenant is ``adfs`` (start the emulator with
  ``--tenant adfs`` and set ``AZURE_TENANT_ID=adfs``). Principal: ``object_id_for_client(client_id)``.
* **Azure CLI** (``AzureCliCredential``, ``credential_type=azurecli``): put the fake ``az`` written by
  ``VaultServer.write_fake_az(dir)`` first on ``PATH``; it answers ``az account get-access-token`` for the default
  (signed-in) principal, ``VaultServer.default_principal``.

All HTTPS endpoints need the emulator CA: ``REQUESTS_CA_BUNDLE=<VaultServer.ca_cert_path>``.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from notation_devstack.vault.errors import ApiError
from notation_devstack.vault.tokens import TokenIssuer, object_id_for_client, resource_from_scope

SYSTEM_ASSIGNED = "system-assigned-managed-identity"


def managed_identity_object_id(client_id: str | None = None) -> str:
    return object_id_for_client(client_id or SYSTEM_ASSIGNED)


def _oauth_error(status: int, error: str, description: str) -> ApiError:
    exc = ApiError(status, error, description)
    exc.headers["x-oauth-error"] = "1"
    return exc


def oauth_error_body(exc: ApiError) -> dict[str, Any]:
    return {"error": exc.code, "error_description": exc.message}


def managed_identity_token(issuer: TokenIssuer, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    """IMDS (``Metadata: true``) and App Service (``X-IDENTITY-HEADER``) token requests."""
    if not headers.get("x-identity-header") and headers.get("metadata", "").lower() != "true":
        raise _oauth_error(400, "invalid_request", "Required metadata header not specified")
    resource = query.get("resource") or ""
    if not resource:
        raise _oauth_error(400, "invalid_request", "Required query variable 'resource' is missing")
    client_id = query.get("client_id") or query.get("object_id") or query.get("mi_res_id") or None
    audience = resource_from_scope(resource)
    token, expires_on = issuer.issue(
        managed_identity_object_id(client_id), audience=audience, app_id=client_id or SYSTEM_ASSIGNED
    )
    return {
        "access_token": token,
        "expires_on": str(expires_on),
        "expires_in": str(expires_on - int(time.time())),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": client_id or SYSTEM_ASSIGNED,
    }


def client_credentials_token(issuer: TokenIssuer, tenant: str, body: bytes) -> dict[str, Any]:
    """``POST /<tenant>/oauth2/v2.0/token`` with a client secret or a (federated) client assertion."""
    form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items() if v}
    if tenant.lower() not in (issuer.tenant_id.lower(), "adfs", "organizations"):
        raise _oauth_error(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
    if form.get("grant_type") != "client_credentials":
        raise _oauth_error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
    client_id = form.get("client_id", "")
    if not client_id:
        raise _oauth_error(400, "invalid_request", "AADSTS900144: The request body must contain 'client_id'.")
    if not form.get("client_secret") and not form.get("client_assertion"):
        raise _oauth_error(
            401, "invalid_client", "AADSTS7000216: 'client_assertion' or 'client_secret' is required."
        )
    scope = (form.get("scope") or "").split()
    if not scope:
        raise _oauth_error(400, "invalid_scope", "AADSTS900144: The request body must contain 'scope'.")
    audience = resource_from_scope(scope[0])
    token, expires_on = issuer.issue(object_id_for_client(client_id), audience=audience, app_id=client_id)
    lifetime = expires_on - int(time.time())
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    prefix = f"{base}/{tenant}"
    adfs = tenant.lower() == "adfs"
    return {
        "token_endpoint": f"{prefix}/oauth2/{'' if adfs else 'v2.0/'}token",
        "authorization_endpoint": f"{prefix}/oauth2/{'' if adfs else 'v2.0/'}authorize",
        "device_authorization_endpoint": f"{prefix}/oauth2/v2.0/devicecode",
        "issuer": prefix if adfs else f"{prefix}/v2.0",
        "jwks_uri": f"{prefix}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": None,
    }
