"""The Azure side: credentials (AZKV-05), Key Vault clients and the mapping of Azure errors (AZKV-09, AZKV-15).

Azure SDK imports happen here, lazily, so ``get-plugin-metadata`` never pays for them.

Knobs for offline use (AZKV-14), read from the environment:

* ``REQUESTS_CA_BUNDLE`` — CA bundle for TLS (azure-core's requests transport reads it); ``SSL_CERT_FILE`` is
  used as the bundle when ``REQUESTS_CA_BUNDLE`` is not set.
* ``AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION=true`` (also accepted:
  ``AZURE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE=false``) — pass ``verify_challenge_resource=False`` to the clients,
  for emulators whose host is not a subdomain of the challenge resource. Never needed against Azure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from notation_azure_kv.keyid import KeyId
from notation_azure_kv.protocol import (
    ACCESS_DENIED,
    ERROR,
    THROTTLED,
    TIMEOUT,
    VALIDATION_ERROR,
    PluginFailure,
)

CREDENTIAL_TYPES = ("environment", "workloadid", "managedid", "azurecli")

SECRETS_HINT = (
    "The plugin does not have secrets get permission. Please grant the permission to the credential associated "
    "with the plugin or specify the file path of the certificate chain bundle through the `ca_certs` parameter in "
    "the plugin config."
)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _falsy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no")


def client_options() -> dict[str, Any]:
    """Keyword arguments for every Key Vault client (AZKV-14)."""
    options: dict[str, Any] = {}
    if _truthy(os.environ.get("AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION")) or _falsy(
        os.environ.get("AZURE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE")
    ):
        options["verify_challenge_resource"] = False
    if not os.environ.get("REQUESTS_CA_BUNDLE") and os.environ.get("SSL_CERT_FILE"):
        options["connection_verify"] = os.environ["SSL_CERT_FILE"]
    return options


_PUBLIC_AUTHORITIES = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")


def _private_authority() -> bool:
    """True when AZURE_AUTHORITY_HOST names a host other than the Azure public/government/China login hosts."""
    from urllib.parse import urlparse

    value = os.environ.get("AZURE_AUTHORITY_HOST", "").strip()
    if not value:
        return False
    try:
        host = (urlparse(value if "://" in value else f"https://{value}").hostname or "").lower()
    except ValueError as exc:
        raise PluginFailure(VALIDATION_ERROR, f"Invalid AZURE_AUTHORITY_HOST {value!r}: {exc}") from None
    return host not in _PUBLIC_AUTHORITIES


def make_credential(credential_type: str | None) -> Any:
    """AZKV-05: the azure-identity credential for ``credential_type`` (absent: DefaultAzureCredential)."""
    if credential_type is not None and credential_type.lower() not in CREDENTIAL_TYPES:
        raise PluginFailure(VALIDATION_ERROR, f"Invalid credential type: {credential_type.lower()}")
    import azure.identity as identity

    extra: dict[str, Any] = {}
    if os.environ.get("SSL_CERT_FILE") and not os.environ.get("REQUESTS_CA_BUNDLE"):
        extra["connection_verify"] = os.environ["SSL_CERT_FILE"]
    kind = (credential_type or "").lower()
    if kind in ("environment", "workloadid", "") and _private_authority():
        # MSAL validates unknown authority hosts against the public cloud's discovery endpoint; an authority host
        # the user set explicitly (sovereign cloud, ADFS, the offline emulator) is taken as given instead.
        extra["disable_instance_discovery"] = True
    if kind == "environment":
        return identity.EnvironmentCredential(**extra)
    if kind == "workloadid":
        return identity.WorkloadIdentityCredential(**extra)
    if kind == "managedid":
        client_id = os.environ.get("AZURE_CLIENT_ID")
        return identity.ManagedIdentityCredential(client_id=client_id, **extra) if client_id else (
            identity.ManagedIdentityCredential(**extra)
        )
    if kind == "azurecli":
        return identity.AzureCliCredential()
    return identity.DefaultAzureCredential(**extra)


def _service_error(exc: Any) -> tuple[str, str]:
    """(AKV error code, AKV error message) of an HttpResponseError, as the service sent them."""
    code, message = "", ""
    error = getattr(exc, "error", None)
    if error is not None:
        code = getattr(error, "code", "") or ""
        message = getattr(error, "message", "") or ""
    if not message:
        response = getattr(exc, "response", None)
        try:
            body = response.json() if response is not None else None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                code = code or str(body["error"].get("code") or "")
                message = str(body["error"].get("message") or "")
        except Exception:  # noqa: S110 - a body that is not JSON leaves the generic text
            pass
    if not message:
        message = str(getattr(exc, "message", "") or exc).splitlines()[0]
    return code, message


_STATUS_CODES = {401: ACCESS_DENIED, 403: ACCESS_DENIED, 404: VALIDATION_ERROR, 408: TIMEOUT, 429: THROTTLED}


CREDENTIAL_HINT = (
    "set up one of them (az login; AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET; workload identity; "
    "IDENTITY_ENDPOINT for a managed identity) or choose one with --plugin-config credential_type="
    "environment|workloadid|managedid|azurecli"
)


def _first_sentence(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    for sep in (". ", "; "):
        if sep in text:
            text = text.split(sep, 1)[0]
    text = text.rstrip(".")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " ..."
    return text


def credential_failure_line(message: str) -> str:
    """azure-identity's multi-line credential failure as one line, the useful part first: what to do, then what
    each credential of the chain said (first sentence each), never cut mid-word."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "Azure authentication failed"
    if lines[0].startswith("DefaultAzureCredential failed"):
        tried = []
        for line in lines[1:]:
            name, sep, rest = line.partition(": ")
            if not sep or " " in name:
                continue
            rest = rest.removeprefix(f"{name} ").removeprefix("authentication ")
            if rest.startswith("unavailable. "):
                rest = rest.removeprefix("unavailable. ")
            detail = _first_sentence(rest)
            tried.append(f"{name.removesuffix('Credential')}: {detail}")
        return f"no Azure credential is available: {CREDENTIAL_HINT}. Tried: " + "; ".join(tried)
    return " ".join(" ".join(lines).split())


@contextmanager
def azure_errors(secrets_hint: bool = False) -> Iterator[None]:
    """AZKV-09: Azure failures become PluginFailure with the vault's message verbatim; the AKV code and the
    HTTP status go into errorMetadata. Tokens are never part of these texts (AZKV-15)."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

    try:
        yield
    except PluginFailure:
        raise
    except HttpResponseError as exc:
        status = exc.status_code
        if isinstance(exc, ClientAuthenticationError) and status is None:
            raise PluginFailure(ERROR, credential_failure_line(str(exc.message or exc))) from None
        akv_code, message = _service_error(exc)
        rbac_denied = "secrets/getSecret/action" in message and "not authorized" in message
        if secrets_hint and ("does not have secrets get permission" in message or rbac_denied):
            raise PluginFailure(ERROR, SECRETS_HINT) from None
        meta = {"akvErrorCode": akv_code} if akv_code else {}
        if status is not None:
            meta["httpStatus"] = str(status)
        raise PluginFailure(_STATUS_CODES.get(status or 0, ERROR), message, meta) from None
    except AzureError as exc:
        raise PluginFailure(ERROR, str(exc.message or exc).strip()) from None


@dataclass(frozen=True)
class FetchedCertificate:
    cer: bytes
    version: str | None


class Vault:
    """The three Key Vault operations the plugin needs, over the official Python SDK (§1.8)."""

    def __init__(self, key_id: KeyId, credential: Any) -> None:
        self.key_id = key_id
        self.credential = credential
        self.options = client_options()

    def get_certificate(self) -> FetchedCertificate:
        from azure.keyvault.certificates import CertificateClient

        client = CertificateClient(self.key_id.vault_url, self.credential, **self.options)
        with azure_errors():
            if self.key_id.version:
                cert = client.get_certificate_version(self.key_id.name, self.key_id.version)
            else:
                cert = client.get_certificate(self.key_id.name)
        if not cert.cer:
            raise PluginFailure(ERROR, f"The certificate {self.key_id.name} has no content (is it still pending?)")
        return FetchedCertificate(bytes(cert.cer), cert.properties.version if cert.properties else None)

    def get_secret(self) -> tuple[str, str | None]:
        from azure.keyvault.secrets import SecretClient

        client = SecretClient(self.key_id.vault_url, self.credential, **self.options)
        with azure_errors(secrets_hint=True):
            secret = client.get_secret(self.key_id.name, self.key_id.version)
        return secret.value or "", secret.properties.content_type

    def sign_digest(self, akv_alg: str, digest: bytes) -> tuple[bytes, str | None]:
        """POST .../sign with a locally computed digest (AZKV-08/13); returns (signature, response kid)."""
        from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm

        client = CryptographyClient(self.key_id.key_url, self.credential, **self.options)
        seen: dict[str, Any] = {}

        def hook(response: Any) -> None:
            http = getattr(response, "http_response", None)
            if http is not None and http.status_code == 200 and http.request.method == "POST":
                try:
                    body = http.json()
                    if isinstance(body, dict) and isinstance(body.get("kid"), str):
                        seen["kid"] = body["kid"]
                except Exception:  # noqa: S110 - the kid check is best effort
                    pass

        with azure_errors():
            result = client.sign(SignatureAlgorithm(akv_alg), digest, raw_response_hook=hook)
        return bytes(result.signature), seen.get("kid")


VaultFactory = Callable[[KeyId, Any], Vault]
