"""Per-vault authorization through the control-plane API (VaultRegistry): RBAC vaults with built-in roles at vault
and object scope, access-policy vaults, several named vaults, changes seen by a running emulator at once.

Driven with the real SDK clients and their default options (challenge verification on), spec §3 and KVA-0x.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("azure.keyvault.keys")

from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient

from notation_devstack.vault import VaultServer
from notation_devstack.vault.errors import VaultError
from notation_devstack.vault.rbac import find_role

ALICE = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with VaultServer(tmp_path_factory.mktemp("rbac-state")) as server:
        yield server


def _kw(vault: VaultServer) -> dict[str, Any]:
    return {"connection_verify": str(vault.ca_cert_path)}


def _rbac_vault(vault: VaultServer) -> str:
    """The default vault (reachable at the IP URL) switched to RBAC, no assignments left."""
    reg = vault.registry
    vault.store.properties(vault.vault_name)
    reg.update_vault(vault.vault_name, enable_rbac_authorization=True)
    reg.role_assignments.delete(assignee=ALICE)
    return vault.vault_name


def test_kva_rbac_forbidden_text_and_vault_scope_role(vault: VaultServer) -> None:
    """No assignment: 403 ForbiddenByRbac naming the data action; Key Vault Secrets Officer at vault scope: ok."""
    name = _rbac_vault(vault)
    secrets = SecretClient(vault.url, vault.credential(ALICE), **_kw(vault))
    with pytest.raises(HttpResponseError) as err:
        secrets.set_secret("s1", "v1")
    assert err.value.status_code == 403
    assert err.value.error.code == "Forbidden"
    message = err.value.message
    assert "Caller is not authorized to perform action on resource." in message
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'" in message
    assert f"/providers/microsoft.keyvault/vaults/{name}/secrets/s1'" in message
    assert "DecisionReason: 'DeniedWithNoValidRBAC'" in message
    assert err.value.response.json()["error"]["innererror"]["code"] == "ForbiddenByRbac"
    vault.registry.role_assignments.create(vault.registry.vault_id(name), "Key Vault Secrets Officer", ALICE)
    assert secrets.set_secret("s1", "v1").value == "v1"
    assert secrets.get_secret("s1").value == "v1"


def test_kva_rbac_access_policies_ignored_and_owner_has_no_data_access(vault: VaultServer) -> None:
    """An RBAC vault ignores access policies; the Owner role (management plane only) grants no data action."""
    name = _rbac_vault(vault)
    keys = KeyClient(vault.url, vault.credential(), **_kw(vault))  # the default principal: on the access policy
    with pytest.raises(HttpResponseError) as err:
        keys.create_rsa_key("k-owner")
    assert "keys/create/action" in err.value.message
    vault.registry.role_assignments.create(vault.registry.vault_id(name), "Owner", vault.default_principal)
    with pytest.raises(HttpResponseError):
        keys.create_rsa_key("k-owner")
    with pytest.raises(VaultError, match="enable-rbac-authorization"):
        vault.registry.set_access_policy(name, ALICE, keys=["all"])


def test_kva_rbac_object_scope_crypto_user_signs_one_key_only(vault: VaultServer) -> None:
    """Crypto Officer creates two keys; Crypto User assigned on one key's scope signs with it, not with the other."""
    name = _rbac_vault(vault)
    reg = vault.registry
    officer = "22222222-2222-4333-8444-555555555555"
    reg.role_assignments.create(reg.vault_id(name), "Key Vault Crypto Officer", officer)
    admin_keys = KeyClient(vault.url, vault.credential(officer), **_kw(vault))
    k1 = admin_keys.create_ec_key("obj-k1")
    k2 = admin_keys.create_ec_key("obj-k2")
    reg.role_assignments.create(f"{reg.vault_id(name)}/keys/obj-k1", "12338af0-0e69-4776-bea7-57ae8d297424", ALICE)
    digest = hashlib.sha256(b"payload").digest()
    cred = vault.credential(ALICE)
    ok = CryptographyClient(k1.id, cred, **_kw(vault)).sign(SignatureAlgorithm.es256, digest)
    assert CryptographyClient(k1.id, cred, **_kw(vault)).verify(SignatureAlgorithm.es256, digest, ok.signature).is_valid
    with pytest.raises(HttpResponseError) as err:
        CryptographyClient(k2.id, cred, **_kw(vault)).sign(SignatureAlgorithm.es256, digest)
    assert "keys/sign/action" in err.value.message
    listed = reg.role_assignments.list(scope=reg.vault_id(name), include_children=True, assignee=ALICE)
    assert [a["roleDefinitionName"] for a in listed] == ["Key Vault Crypto User"]
    assert listed[0]["roleDefinitionId"].endswith("/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424")
    with pytest.raises(VaultError, match="RoleAssignmentExists"):
        reg.role_assignments.create(f"{reg.vault_id(name)}/keys/obj-k1", "Key Vault Crypto User", ALICE)
    assert len(reg.role_assignments.delete(assignee=ALICE)) == 1
    with pytest.raises(HttpResponseError):
        CryptographyClient(k1.id, cred, **_kw(vault)).sign(SignatureAlgorithm.es256, digest)


def test_registry_named_vaults_properties_and_roles() -> None:
    """Built-in role lookup by name, GUID and definition id; unknown roles refused as ARM does."""
    assert find_role("key vault secrets user").guid == "4633458b-17de-408a-b874-0445c86b69e6"
    assert find_role("/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/"
                     "00482a5a-887f-4fb3-b363-3b7fe8e74483").role_name == "Key Vault Administrator"
    with pytest.raises(ValueError, match="doesn't exist"):
        find_role("Key Vault Wizard")
    assert find_role("Key Vault Reader").allows("Microsoft.KeyVault/vaults/keys/read")
    assert not find_role("Key Vault Reader").allows("Microsoft.KeyVault/vaults/secrets/getSecret/action")


def test_registry_create_delete_recover_purge(vault: VaultServer) -> None:
    reg = vault.registry
    props = reg.create_vault("kv-life", enable_purge_protection=True, soft_delete_retention_days=7)
    assert props["id"].endswith("/providers/Microsoft.KeyVault/vaults/kv-life")
    assert props["accessPolicies"][0]["objectId"] == vault.default_principal
    with pytest.raises(VaultError, match="already in use"):
        reg.create_vault("kv-life")
    with pytest.raises(VaultError, match="cannot be disabled"):
        reg.update_vault("kv-life", enable_purge_protection=False)
    reg.delete_vault("kv-life")
    assert reg.get_vault("kv-life") is None
    assert vault.store.properties("kv-life") is None  # never re-created on first use once deleted
    with pytest.raises(VaultError, match="deleted state"):
        reg.create_vault("kv-life")
    with pytest.raises(VaultError, match="purge protection"):
        reg.purge_deleted_vault("kv-life")
    assert reg.recover_vault("kv-life")["name"] == "kv-life"
    rbac = reg.create_vault("kv-rbac", enable_rbac_authorization=True)
    assert rbac["accessPolicies"] == []
    assert {v["name"] for v in reg.list_vaults()} >= {"kv-life", "kv-rbac"}


def _cli(vault: VaultServer, *argv: str) -> Any:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "notation_devstack", "vault", *argv, "--state-dir",
                          str(vault.state_dir)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip().startswith(("{", "[")) else out.stdout


NAMED = "devstack-named-test"


def test_named_vault_via_cli_hosts_and_role_assignment(vault: VaultServer) -> None:
    """A named RBAC vault at https://<name>.localhost:<port> with SDK defaults: /etc/hosts line added by
    `vault hosts --apply`, an SNI certificate for exactly that name, a role assigned with `vault role assignment`."""
    import os
    import ssl

    from cryptography import x509

    from notation_devstack.vault import hosts

    created = _cli(vault, "create", "-n", NAMED, "--enable-rbac-authorization", "true")
    assert created["properties"]["enableRbacAuthorization"] is True
    host = hosts.vault_host(NAMED)
    if not hosts.resolves(host):
        if os.geteuid() != 0:
            pytest.skip(f"{host} does not resolve and /etc/hosts is not writable (needs `vault hosts --apply`)")
        _cli(vault, "hosts", "--apply")
    assert hosts.resolves(host)
    assert hosts.missing_lines([NAMED]) == []
    url = f"https://{host}:{vault.port}"
    pem = ssl.get_server_certificate((host, vault.port), ca_certs=str(vault.ca_cert_path))
    san = x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [host]
    client = SecretClient(url, vault.credential(ALICE), **_kw(vault))
    with pytest.raises(HttpResponseError, match="not authorized to perform action"):
        client.set_secret("n1", "v")
    assignment = _cli(vault, "role", "assignment", "create", "--role", "Key Vault Secrets Officer",
                      "--assignee", ALICE, "--vault-name", NAMED)
    assert assignment["scope"].endswith(f"/vaults/{NAMED}")
    secret = client.set_secret("n1", "v")
    assert secret.id.startswith(f"{url}/secrets/n1/")
    listed = _cli(vault, "role", "assignment", "list", "--assignee", ALICE, "--vault-name", NAMED)
    assert [a["name"] for a in listed] == [assignment["name"]]
    _cli(vault, "role", "assignment", "delete", "--ids", assignment["id"])
    with pytest.raises(HttpResponseError):
        client.get_secret("n1")
    _cli(vault, "delete", "-n", NAMED)
    _cli(vault, "purge", "-n", NAMED)


def test_export_import_round_trip_for_seeding(vault: VaultServer, tmp_path: Any) -> None:
    """`vault export` from a running emulator, `vault import` into a fresh state directory (offline), then the
    new emulator serves the same certificate, key version and secret: a KEY_ID's name/version keep signing."""
    import json

    reg = vault.registry
    reg.create_vault("seedme")
    cert = vault.create_certificate("seed-cert", {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=s"},
                                                  "issuer": {"name": "Self"}}, vault="seedme")
    reg.role_assignments.create(f"{reg.vault_id('seedme')}/keys/seed-cert", "Key Vault Crypto User", ALICE)
    out = tmp_path / "seed.json"
    _cli(vault, "export", "-n", "seedme", "--file", str(out))
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    doc = json.loads(out.read_text())
    assert doc["format"] == "notation-devstack-vault-export/1" and "seed-cert" in doc["objects"]["certificates"]
    version = cert["id"].rsplit("/", 1)[1]
    assert "PRIVATE KEY" in doc["privateKeys"]["seed-cert"][version]

    import subprocess
    import sys

    fresh = tmp_path / "fresh"
    done = subprocess.run([sys.executable, "-m", "notation_devstack", "vault", "import", "--file", str(out),
                           "-n", "notationdemo", "--state-dir", str(fresh)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["certificates"] == 1
    with VaultServer(fresh, vault_name="notationdemo") as other:
        assert other.registry.role_assignments.list(assignee=ALICE)[0]["scope"].endswith(
            "/vaults/notationdemo/keys/seed-cert")
        keys = KeyClient(other.url, other.credential(), connection_verify=str(other.ca_cert_path))
        key = keys.get_key("seed-cert", version)
        digest = hashlib.sha256(b"seeded").digest()
        crypto = CryptographyClient(key.id, other.credential(), connection_verify=str(other.ca_cert_path))
        signature = crypto.sign(SignatureAlgorithm.es256, digest).signature
        assert crypto.verify(SignatureAlgorithm.es256, digest, signature).is_valid
    again = subprocess.run([sys.executable, "-m", "notation_devstack", "vault", "import", "--file", str(out),
                            "-n", "notationdemo", "--state-dir", str(fresh)], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 1 and "is not empty" in again.stderr
