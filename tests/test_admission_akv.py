"""--akv-certificate: the trust store certificate read from Key Vault (the devstack emulator, the real Azure SDK and
azure-identity's DefaultAzureCredential through workload identity), refreshed when a new version appears (issue 14,
in the manner of Ratify's key management provider)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

pytest.importorskip("azure.keyvault.certificates")

from azure.keyvault.certificates import CertificateClient, CertificatePolicy, KeyType
from azure.keyvault.secrets import SecretClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import notation
from admission_support import client, pod, review, serving, tls_material
from notation_admission.cli import Options
from notation_admission.cli import main as admission_main
from notation_devstack.vault import VaultServer
from registry_support import push_image, running

CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def _policy() -> CertificatePolicy:
    return CertificatePolicy(
        issuer_name="Self", subject="CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US", exportable=True,
        key_type=KeyType.rsa, key_size=2048, reuse_key=False, content_type="application/x-pkcs12",
        enhanced_key_usage=["1.3.6.1.5.5.7.3.3"], key_usage=["digitalSignature"], validity_in_months=12,
    )


def _new_version(vault: VaultServer, tmp_path: Path, stem: str) -> tuple[str, object]:
    """A new version of certificate ``wabbit`` (new key); its unversioned URL and a local signer for it."""
    kw = {"connection_verify": str(vault.ca_cert_path)}
    cred = vault.credential()
    cert = CertificateClient(vault.url, cred, **kw).begin_create_certificate("wabbit", _policy()).result()
    secret = SecretClient(vault.url, cred, **kw).get_secret("wabbit", cert.properties.version)
    key, leaf, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert key is not None and leaf is not None
    kp, cp = tmp_path / f"{stem}.key", tmp_path / f"{stem}.crt"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    cp.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    return str(cert.id).rsplit("/", 1)[0], notation.signer_from_files(kp, cp)


def test_trust_store_certificate_from_key_vault_and_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with VaultServer(tmp_path / "vault-state") as vault:
        vault.set_policy(vault.object_id_for_client(CLIENT_ID), certificates=["get"])
        token = tmp_path / "federated-token"
        token.write_text("assertion")
        for name, value in {"AZURE_AUTHORITY_HOST": vault.authority_host, "AZURE_TENANT_ID": vault.tenant_id,
                            "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_FEDERATED_TOKEN_FILE": str(token),
                            "REQUESTS_CA_BUNDLE": str(vault.ca_cert_path)}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AZURE_CLIENT_SECRET", raising=False)
        url, signer = _new_version(vault, tmp_path, "v1")
        config = tmp_path / "config"
        config.mkdir()
        (config / "trustpolicy.json").write_text(json.dumps({"version": "1.0", "trustPolicies": [{
            "name": "akv", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:akv"], "trustedIdentities": ["*"]}]}))  # fmt: skip
        tls = tls_material(tmp_path / "tls")
        with running() as registry:
            desc = push_image(registry, "net-monitor", tag="v1", layer=b"net-monitor v1")
            ref = f"{registry.address}/net-monitor@{desc.digest}"
            notation.sign(ref, signer, insecure_registry=True)
            opts = Options(
                config_dir=config, host="127.0.0.1", port=0, tls_cert=tls.server_cert, tls_key=tls.server_key,
                insecure_registries=[registry.address], akv_certificates=[f"ca:akv={url}"],
                akv_refresh_interval=0.3, reload_interval=0.1, cache_ttl=0, graceful_shutdown=1,
            )
            with serving(opts) as svc:
                s = client(tls, cert=False)

                def allowed() -> bool:
                    doc = review(pod(ref))
                    return bool(s.post(svc.url + "/validate", json=doc, timeout=10).json()["response"]["allowed"])

                assert allowed()  # trusted through the certificate read from the vault
                fp = svc.running.verifier.fingerprint
                _new_version(vault, tmp_path, "v2")  # rotated: the vault's current version has another key
                deadline = time.monotonic() + 10
                while svc.running.verifier.fingerprint == fp:
                    assert time.monotonic() < deadline, "the new certificate version was not picked up"
                    time.sleep(0.05)
                assert not allowed()  # the old signature no longer chains to the trusted certificate
        assert admission_main(["serve", "--config-dir", str(config), "--plain-http", "--host", "127.0.0.1",
                               "--akv-certificate", "ca:akv=http://vault/keys/x"]) == 2
