"""azure-kv end to end (azure-key-vault.md §1, AZKV-05..13): notation's plugin host runs the installed
``notation-azure-kv`` launcher, which signs through the real Azure SDK against the Key Vault emulator over TLS;
the envelope is then checked with the envelope codec. Skipped when the emulator is not available."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.keyvault.keys")
vault_mod = pytest.importorskip("notation_devstack.vault")

from notation._internal.envelope.codec import sign_envelope, verify_integrity  # noqa: E402
from notation._internal.envelope.model import SignRequest  # noqa: E402
from notation._internal.oci import mediatypes  # noqa: E402
from notation._internal.plugin import PluginCommandError, PluginManager, make_plugin_signer  # noqa: E402
from notation_azure_kv.launcher import install_launcher  # noqa: E402
from notation_azure_kv.vault import SECRETS_HINT  # noqa: E402


def _policy(
    key_type: str = "RSA", size: int | None = 2048, curve: str | None = None, content: str = "pem"
) -> dict[str, Any]:
    key: dict[str, Any] = {"exportable": False, "keyType": key_type, "reuseKey": True}
    if size:
        key["keySize"] = size
    if curve:
        key["curve"] = curve
    return {
        "issuerParameters": {"certificateTransparency": None, "name": "Self"},
        "keyProperties": key,
        "secretProperties": {"contentType": "application/x-pem-file" if content == "pem" else "application/x-pkcs12"},
        "x509CertificateProperties": {
            "ekus": ["1.3.6.1.5.5.7.3.3"],
            "keyUsage": ["digitalSignature"],
            "subject": "CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US",
            "validityInMonths": 12,
        },
    }


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with vault_mod.VaultServer(tmp_path_factory.mktemp("vault")) as server:
        server.created = {
            "rsa": server.create_certificate("wabbit-networks-io", _policy()),
            "ec": server.create_certificate("ec-cert", _policy("EC", None, "P-384", content="pkcs12")),
        }
        yield server


@pytest.fixture
def env(vault: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    """The plugin installed in a fresh libexec, the emulator CA trusted, a fake ``az`` first on PATH."""
    libexec = tmp_path / "libexec"
    install_launcher(libexec / "plugins" / "azure-kv")
    bin_dir = tmp_path / "bin"
    vault.write_fake_az(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vault.ca_cert_path))
    for knob in ("AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION", "AZURE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE"):
        monkeypatch.delenv(knob, raising=False)  # the SDK defaults (challenge verification on) must work
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    return PluginManager(libexec)


def _key_id(vault: Any, which: str, versioned: bool = True) -> str:
    cert_id: str = vault.created[which]["id"]  # https://host/certificates/<name>/<version>
    return cert_id if versioned else cert_id.rsplit("/", 1)[0]


def _sign(manager: PluginManager, key_id: str, config: dict[str, str], media_type: str) -> Any:
    signer = make_plugin_signer(manager, "azure-kv", key_id, config)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    request = SignRequest(
        payload=b'{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'
        + b"1" * 64
        + b'","size":7}}',
        payload_content_type=mediatypes.NOTARY_PAYLOAD,
        signing_time=now,
    )
    return verify_integrity(media_type, sign_envelope(media_type, request, signer))  # type: ignore[arg-type]


def test_azkv_tutorial_self_signed_cose_azurecli(vault: Any, env: PluginManager) -> None:
    """The seed command: --signature-format cose --plugin azure-kv --plugin-config self_signed=true."""
    info = _sign(
        env, _key_id(vault, "rsa"), {"self_signed": "true", "credential_type": "azurecli"}, mediatypes.COSE_ENVELOPE
    )
    assert len(info.certificate_chain) == 1
    assert "wabbit-networks.io" in info.certificate_chain[0].subject.rfc4514_string()


def test_azkv_chain_from_pem_secret_versionless_jws(vault: Any, env: PluginManager) -> None:
    info = _sign(env, _key_id(vault, "rsa", versioned=False), {"credential_type": "azurecli"}, mediatypes.JWS_ENVELOPE)
    assert info.signature_algorithm.plugin_name == "RSASSA-PSS-SHA-256"


def test_azkv_ec384_chain_from_pkcs12_secret(vault: Any, env: PluginManager) -> None:
    key_id = _key_id(vault, "ec").replace("/certificates/", "/keys/")
    info = _sign(env, key_id, {"credential_type": "azurecli"}, mediatypes.COSE_ENVELOPE)
    assert info.signature_algorithm.plugin_name == "ECDSA-SHA-384"


def test_azkv_managed_identity(vault: Any, env: PluginManager, monkeypatch: pytest.MonkeyPatch) -> None:
    principal = vault.managed_identity_object_id()
    vault.set_policy(principal, certificates=["get"], keys=["sign"], secrets=["get"])
    monkeypatch.setenv("IDENTITY_ENDPOINT", vault.managed_identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "test")
    info = _sign(env, _key_id(vault, "rsa"), {"credential_type": "managedid"}, mediatypes.JWS_ENVELOPE)
    assert info.certificate_chain


def test_azkv_workload_identity(
    vault: Any, env: PluginManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client_id = "11111111-2222-3333-4444-555555555555"
    vault.set_policy(vault.object_id_for_client(client_id), certificates=["get"], keys=["sign"])
    token_file = tmp_path / "federated-token"
    token_file.write_text("assertion")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", vault.authority_host)
    monkeypatch.setenv("AZURE_TENANT_ID", vault.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", client_id)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    info = _sign(
        env, _key_id(vault, "rsa"), {"credential_type": "workloadid", "self_signed": "true"}, mediatypes.COSE_ENVELOPE
    )
    assert len(info.certificate_chain) == 1


def test_azkv_environment_credential(vault: Any, env: PluginManager, monkeypatch: pytest.MonkeyPatch) -> None:
    """AZKV-05 credential_type=environment: client secret against the emulator's authority host (offline)."""
    client_id = "66666666-7777-8888-9999-000000000000"
    vault.set_policy(vault.object_id_for_client(client_id), certificates=["get"], keys=["sign"])
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", vault.authority_host)
    monkeypatch.setenv("AZURE_TENANT_ID", vault.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", client_id)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-checked-by-the-emulator")
    info = _sign(
        env, _key_id(vault, "rsa"), {"credential_type": "environment", "self_signed": "true"}, mediatypes.JWS_ENVELOPE
    )
    assert len(info.certificate_chain) == 1


def _mi(vault: Any, monkeypatch: pytest.MonkeyPatch, client_id: str, **perms: list[str]) -> None:
    vault.set_policy(vault.managed_identity_object_id(client_id), **perms)
    monkeypatch.setenv("IDENTITY_ENDPOINT", vault.managed_identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "test")
    monkeypatch.setenv("AZURE_CLIENT_ID", client_id)


def test_azkv09_missing_sign_permission(vault: Any, env: PluginManager, monkeypatch: pytest.MonkeyPatch) -> None:
    _mi(vault, monkeypatch, "no-sign", certificates=["get"], keys=[], secrets=["get"])
    with pytest.raises(PluginCommandError) as err:
        _sign(
            env, _key_id(vault, "rsa"), {"credential_type": "managedid", "self_signed": "true"}, mediatypes.JWS_ENVELOPE
        )
    assert err.value.code == "ACCESS_DENIED"
    assert "does not have keys sign permission" in str(err.value)


def test_azkv06_missing_secrets_permission_hint(
    vault: Any, env: PluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mi(vault, monkeypatch, "no-secrets", certificates=["get"], keys=["sign"], secrets=[])
    with pytest.raises(PluginCommandError) as err:
        _sign(env, _key_id(vault, "rsa"), {"credential_type": "managedid"}, mediatypes.JWS_ENVELOPE)
    assert str(err.value) == SECRETS_HINT


def test_azkv09_unknown_certificate(vault: Any, env: PluginManager) -> None:
    key_id = f"{vault.url}/keys/does-not-exist"
    with pytest.raises(PluginCommandError) as err:
        _sign(env, key_id, {"credential_type": "azurecli"}, mediatypes.JWS_ENVELOPE)
    assert err.value.code == "VALIDATION_ERROR"
    assert str(err.value).startswith("A certificate with (name/id) does-not-exist was not found in this key vault.")


def test_azkv_signing_through_rbac_only_vault(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An RBAC vault (enableRbacAuthorization, no access policies): the plugin gets ForbiddenByRbac until the
    signed-in user holds Key Vault Crypto User (sign) and Certificate User (certificate + secret read), then signs
    with the chain from the secret; Certificate User alone at the certificate's scope yields the secrets hint."""
    with vault_mod.VaultServer(tmp_path_factory.mktemp("rbac-vault")) as rbac:
        reg = rbac.registry
        created = rbac.create_certificate("rbac-cert", _policy())
        reg.update_vault(rbac.vault_name, enable_rbac_authorization=True)
        libexec = tmp_path / "libexec"
        install_launcher(libexec / "plugins" / "azure-kv")
        rbac.write_fake_az(tmp_path / "bin")
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(rbac.ca_cert_path))
        for knob in (
            "AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION",
            "AZURE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE",
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_SECRET",
            "IDENTITY_ENDPOINT",
        ):
            monkeypatch.delenv(knob, raising=False)
        manager = PluginManager(libexec)
        config = {"credential_type": "azurecli"}
        with pytest.raises(PluginCommandError) as err:
            _sign(manager, created["id"], config, mediatypes.JWS_ENVELOPE)
        assert err.value.code == "ACCESS_DENIED"
        assert "Action: 'Microsoft.KeyVault/vaults/certificates/read'" in str(err.value)
        vault_id = reg.vault_id(rbac.vault_name)
        reg.role_assignments.create(f"{vault_id}/certificates/rbac-cert", "Key Vault Reader", rbac.default_principal)
        reg.role_assignments.create(vault_id, "Key Vault Crypto User", rbac.default_principal)
        with pytest.raises(PluginCommandError) as err:
            _sign(manager, created["id"], config, mediatypes.JWS_ENVELOPE)
        assert str(err.value) == SECRETS_HINT
        reg.role_assignments.create(vault_id, "Key Vault Certificate User", rbac.default_principal)
        info = _sign(manager, created["id"], config, mediatypes.JWS_ENVELOPE)
        assert "wabbit-networks.io" in info.certificate_chain[0].subject.rfc4514_string()


def test_azkv_blob_sign_verify_ec384_cli(
    vault: Any, env: PluginManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """BLOB-04/06 through the CLI: ``notation blob sign`` with a key added for the azure-kv plugin streams the blob
    through the plugin's key spec (EC P-384 -> sha384), and ``notation blob verify`` trusts the vault's chain."""
    import json

    from cryptography.hazmat.primitives import serialization

    from notation._internal.cli.main import main
    from notation._internal.config import dirs
    from notation._internal.envelope.codec import parse_envelope
    from notation._internal.envelope.payload import parse_payload

    monkeypatch.setenv("NOTATION_LIBEXEC", str(tmp_path / "libexec"))
    key_id = _key_id(vault, "ec").replace("/certificates/", "/keys/")
    argv = ["key", "add", "--plugin", "azure-kv", "--id", key_id, "--plugin-config", "credential_type=azurecli", "akv"]
    assert main(argv) == 0
    blob = tmp_path / "model.safetensors"
    blob.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    assert main(["blob", "sign", "-k", "akv", "--signature-format", "cose", str(blob)]) == 0
    sig = tmp_path / "model.safetensors.cose.sig"
    out = capsys.readouterr().out
    assert out.endswith(f"Successfully signed {blob}\nSignature file written to {sig}\n")
    info = parse_envelope(mediatypes.COSE_ENVELOPE, sig.read_bytes())
    assert info.signature_algorithm.plugin_name == "ECDSA-SHA-384"
    target = parse_payload(info.payload)
    assert target.digest.startswith("sha384:") and target.size == blob.stat().st_size
    assert " azure-kv/" in (info.unsigned.signing_agent or "")  # SIG-22: the raw-signing plugin is named
    root = tmp_path / "akv-root.pem"
    root.write_bytes(info.certificate_chain[-1].public_bytes(serialization.Encoding.PEM))
    assert main(["cert", "add", "-t", "ca", "-s", "akv", str(root)]) == 0
    (dirs.config_dir() / "trustpolicy.blob.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "akv",
                        "globalPolicy": True,
                        # the emulator's certificates name no revocation service (nothing to ask on loopback)
                        "signatureVerification": {"level": "strict", "override": {"revocation": "skip"}},
                        "trustStores": ["ca:akv"],
                        "trustedIdentities": ["*"],
                    }
                ],
            }
        )
    )
    capsys.readouterr()
    assert main(["blob", "verify", "-s", str(sig), str(blob)]) == 0
    assert capsys.readouterr().out == f"Successfully verified signature for {blob}\n"
    with blob.open("r+b") as fh:
        fh.seek(1024 * 1024)
        fh.write(b"\0" if fh.read(1) != b"\0" else b"\1")
    assert main(["blob", "verify", "-s", str(sig), str(blob)]) == 1
    assert capsys.readouterr().err == (
        "Error: signature verification failed: integrity check failed. signature does not match the given blob\n"
    )
