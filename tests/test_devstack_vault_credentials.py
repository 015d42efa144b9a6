"""KVE-09: each azure-identity credential type gets a token from the emulator offline and reads a certificate.

Environment variables are set per test (monkeypatch); each credential's principal is granted certificates/get so
the read proves the token was issued for the expected ``oid``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.identity")

from azure.identity import (
    AzureCliCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.keyvault.certificates import CertificateClient

from notation_devstack.vault import VaultServer
from notation_devstack.vault.tokens import decode_unverified

POLICY = {
    "issuerParameters": {"name": "Self"},
    "keyProperties": {"exportable": False, "keySize": 2048, "keyType": "RSA"},
    "secretProperties": {"contentType": "application/x-pem-file"},
    "x509CertificateProperties": {"subject": "CN=cred-test", "keyUsage": ["digitalSignature"]},
}
_AZ_VARS = (
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_CLIENT_CERTIFICATE_PATH",
)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with VaultServer(tmp_path_factory.mktemp("vault-cred")) as server:
        server.create_certificate("cert", POLICY)
        yield server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, vault: VaultServer) -> None:
    for name in _AZ_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vault.ca_cert_path))


def _read_with(vault: VaultServer, credential: Any, expected_oid: str) -> None:
    token = credential.get_token("https://vault.azure.net/.default", tenant_id=vault.tenant_id).token
    assert decode_unverified(token)["oid"] == expected_oid
    client = CertificateClient(vault.url, credential)
    assert client.get_certificate("cert").name == "cert"


def test_managed_identity_app_service_style(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """IDENTITY_ENDPOINT + IDENTITY_HEADER (plain HTTP on loopback)."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", vault.managed_identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "anything")
    oid = vault.managed_identity_object_id()
    vault.set_policy(oid, certificates=["get"])
    _read_with(vault, ManagedIdentityCredential(), oid)


def test_managed_identity_imds_style_user_assigned(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """AZURE_POD_IDENTITY_AUTHORITY_HOST points the IMDS client at the emulator; client_id picks the identity."""
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vault.imds_authority)
    oid = vault.managed_identity_object_id("my-uami")
    vault.set_policy(oid, certificates=["get"])
    _read_with(vault, ManagedIdentityCredential(client_id="my-uami"), oid)


def test_workload_identity(vault: VaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2EifQ.")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", vault.authority_host)
    monkeypatch.setenv("AZURE_TENANT_ID", vault.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", "workload-app")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    oid = vault.object_id_for_client("workload-app")
    vault.set_policy(oid, certificates=["get"])
    _read_with(vault, WorkloadIdentityCredential(), oid)


def test_environment_client_secret(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """MSAL needs disable_instance_discovery=True for a non-Microsoft authority host (offline)."""
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", vault.authority_host)
    monkeypatch.setenv("AZURE_TENANT_ID", vault.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", "env-app")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cret")
    oid = vault.object_id_for_client("env-app")
    vault.set_policy(oid, certificates=["get"])
    _read_with(vault, EnvironmentCredential(disable_instance_discovery=True), oid)


def test_azure_cli_with_fake_az(vault: VaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    az = vault.write_fake_az(tmp_path / "bin")
    assert os.access(az, os.X_OK)
    monkeypatch.setenv("PATH", f"{az.parent}{os.pathsep}{os.environ['PATH']}")
    _read_with(vault, AzureCliCredential(), vault.default_principal)


def test_token_endpoint_rejects_other_tenant_and_missing_secret(vault: VaultServer) -> None:
    import requests

    url = f"{vault.authority_host}/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b",
            "scope": "https://vault.azure.net/.default"}
    r = requests.post(url, data=form, verify=str(vault.ca_cert_path), timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    url = f"{vault.authority_host}/{vault.tenant_id}/oauth2/v2.0/token"
    r = requests.post(url, data={**form, "client_secret": ""}, verify=str(vault.ca_cert_path), timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    # managed identity without its header is refused, like IMDS does
    r = requests.get(f"{vault.managed_identity_endpoint}?resource=https://vault.azure.net", timeout=10)
    assert r.status_code == 400
