"""The full data plane through the real Azure SDK for Python with its default options (challenge verification on,
the emulator CA the only client setting): soft delete / recover / purge with truthful recoveryLevel, backup and
restore, imports (PKCS#12 with and without password, PEM with chain, JWK), policy and property updates, pending
operations, issuers and contacts, paging, rotation, encrypt/decrypt/wrap/unwrap, random bytes (issue 12, KVE-16).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

pytest.importorskip("azure.keyvault.certificates")

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateContact,
    CertificateContentType,
    CertificatePolicy,
    WellKnownIssuerNames,
)
from azure.keyvault.keys import (
    JsonWebKey,
    KeyClient,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
)
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm
from azure.keyvault.secrets import SecretClient

from notation_devstack.vault import VaultServer


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with VaultServer(tmp_path_factory.mktemp("dataplane")) as server:
        yield server


@pytest.fixture(scope="module")
def c(vault: VaultServer) -> dict[str, Any]:
    kw = {"connection_verify": str(vault.ca_cert_path)}
    cred = vault.credential()
    return {"certs": CertificateClient(vault.url, cred, **kw), "keys": KeyClient(vault.url, cred, **kw),
            "secrets": SecretClient(vault.url, cred, **kw), "cred": cred, "kw": kw}


def _chain() -> tuple[Any, x509.Certificate, x509.Certificate]:
    """A leaf key, its certificate, and the CA certificate that issued it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Import Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imported")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("imported.example")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, leaf, ca


def test_certificate_soft_delete_recover_purge_and_conflict(vault: VaultServer, c: dict[str, Any]) -> None:
    certs: CertificateClient = c["certs"]
    created = certs.begin_create_certificate("sd-cert", CertificatePolicy.get_default()).result()
    assert created.properties.recovery_level == "Recoverable+Purgeable"
    assert created.properties.recoverable_days == 90
    deleted = certs.begin_delete_certificate("sd-cert").result()
    assert deleted.recovery_id.endswith("/deletedcertificates/sd-cert")
    assert deleted.scheduled_purge_date > deleted.deleted_on
    with pytest.raises(ResourceNotFoundError):
        certs.get_certificate("sd-cert")
    with pytest.raises(ResourceNotFoundError):
        c["keys"].get_key("sd-cert")  # the managed key went with it
    assert certs.get_deleted_certificate("sd-cert").name == "sd-cert"
    assert "sd-cert" in [d.name for d in certs.list_deleted_certificates()]
    with pytest.raises(ResourceExistsError) as err:
        certs.begin_create_certificate("sd-cert", CertificatePolicy.get_default()).result()
    assert "deleted but recoverable state" in err.value.message
    recovered = certs.begin_recover_deleted_certificate("sd-cert").result()
    assert recovered.id == created.id
    assert c["secrets"].get_secret("sd-cert").value  # secret and key are back too
    certs.begin_delete_certificate("sd-cert").result()
    certs.purge_deleted_certificate("sd-cert")
    with pytest.raises(ResourceNotFoundError):
        certs.get_deleted_certificate("sd-cert")
    certs.begin_create_certificate("sd-cert", CertificatePolicy.get_default()).result()  # name free again


def test_certificate_imports_pkcs12_password_and_pem_chain(c: dict[str, Any]) -> None:
    certs: CertificateClient = c["certs"]
    key, leaf, ca = _chain()
    pfx = pkcs12.serialize_key_and_certificates(b"x", key, leaf, [ca], serialization.BestAvailableEncryption(b"pw"))
    imported = certs.import_certificate("imp-p12", pfx, password="pw")
    assert imported.cer == leaf.public_bytes(serialization.Encoding.DER)
    assert imported.policy.issuer_name == "Unknown"
    assert imported.policy.san_dns_names == ["imported.example"]
    with pytest.raises(HttpResponseError) as err:
        certs.import_certificate("imp-bad", pfx, password="wrong")
    assert err.value.status_code == 400
    plain = pkcs12.serialize_key_and_certificates(None, key, leaf, None, serialization.NoEncryption())
    assert certs.import_certificate("imp-plain", plain).name == "imp-plain"
    pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + leaf.public_bytes(serialization.Encoding.PEM)
           + ca.public_bytes(serialization.Encoding.PEM))
    policy = CertificatePolicy(issuer_name="Unknown", subject="CN=imported", content_type=CertificateContentType.pem,
                               exportable=True)
    certs.import_certificate("imp-pem", pem, policy=policy)
    secret = c["secrets"].get_secret("imp-pem").value
    assert secret.count("BEGIN CERTIFICATE") == 2 and "PRIVATE KEY" in secret  # exportable: key and chain
    signed = CryptographyClient(certs.get_certificate("imp-pem").key_id, c["cred"], **c["kw"])
    assert signed.key_id


def test_certificate_policy_update_pending_cancel_delete_issuers_contacts(c: dict[str, Any]) -> None:
    certs: CertificateClient = c["certs"]
    certs.begin_create_certificate("pol-cert", CertificatePolicy.get_default()).result()
    assert certs.get_certificate_policy("pol-cert").validity_in_months == 12
    policy = CertificatePolicy(issuer_name="Self", subject="CN=DefaultPolicy", validity_in_months=6)
    assert certs.update_certificate_policy("pol-cert", policy).validity_in_months == 6
    assert certs.get_certificate_policy("pol-cert").validity_in_months == 6
    updated = certs.update_certificate_properties("pol-cert", enabled=False, tags={"a": "b"})
    assert updated.properties.enabled is False and updated.properties.tags == {"a": "b"}

    certs.begin_create_certificate("pend", CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown,
                                                             subject="CN=pend"))
    op = certs.cancel_certificate_operation("pend")
    assert op.cancellation_requested is True and op.status == "cancelled"
    certs.delete_certificate_operation("pend")
    with pytest.raises(ResourceNotFoundError):
        certs.get_certificate_operation("pend")
    certs.begin_create_certificate("pend2", CertificatePolicy(issuer_name="Unknown", subject="CN=pend2"))
    certs.begin_delete_certificate("pend2").result()  # never completed: deleted at once, name free again
    with pytest.raises(ResourceNotFoundError):
        certs.get_certificate_operation("pend2")
    certs.begin_create_certificate("pend2", CertificatePolicy(issuer_name="Unknown", subject="CN=pend2"))

    issuer = certs.create_issuer("my-ca", "Test", account_id="acct", password="pw")
    assert issuer.provider == "Test" and issuer.account_id == "acct"
    assert certs.get_issuer("my-ca").provider == "Test"
    assert certs.update_issuer("my-ca", provider="Other").provider == "Other"
    assert [i.name for i in certs.list_properties_of_issuers()] == ["my-ca"]
    poller = certs.begin_create_certificate("via-issuer", CertificatePolicy(issuer_name="my-ca", subject="CN=x"))
    assert certs.get_certificate_operation("via-issuer").status == "inProgress"
    # a named issuer never completes offline: cancel, so the poller's background thread ends (left running, it
    # kept polling and logging into later tests' caplog)
    certs.cancel_certificate_operation("via-issuer")
    poller.wait(timeout=15)
    assert poller.done()
    certs.delete_issuer("my-ca")
    with pytest.raises(ResourceNotFoundError):
        certs.get_issuer("my-ca")

    contacts = [CertificateContact(email="a@example.org", name="A", phone="1")]
    assert [x.email for x in certs.set_contacts(contacts)] == ["a@example.org"]
    assert [x.email for x in certs.get_contacts()] == ["a@example.org"]
    certs.delete_contacts()
    with pytest.raises(ResourceNotFoundError):
        certs.get_contacts()


def test_paging_every_list(c: dict[str, Any]) -> None:
    secrets: SecretClient = c["secrets"]
    for i in range(5):
        secrets.set_secret(f"page-{i}", str(i))
    secrets.set_secret("page-0", "again")
    pages = list(secrets.list_properties_of_secrets(max_page_size=2).by_page())
    assert len(pages) >= 3
    names = [p.name for page in pages for p in page]
    assert {f"page-{i}" for i in range(5)} <= set(names)
    assert len(names) == len(set(names))
    versions = list(secrets.list_properties_of_secret_versions("page-0", max_page_size=1).by_page())
    assert len(versions) == 2
    certs: CertificateClient = c["certs"]
    assert len(list(certs.list_properties_of_certificates(max_page_size=1).by_page())) >= 2
    keys: KeyClient = c["keys"]
    for i in range(3):
        keys.create_ec_key(f"pk-{i}")
    assert len(list(keys.list_properties_of_keys(max_page_size=1).by_page())) >= 3
    for i in range(2):
        keys.begin_delete_key(f"pk-{i}").result()
    deleted = list(keys.list_deleted_keys(max_page_size=1).by_page())
    assert len(deleted) >= 2 and {"pk-0", "pk-1"} <= {k.name for page in deleted for k in page}
    with pytest.raises(HttpResponseError) as err:
        list(secrets.list_properties_of_secrets(max_page_size=26))
    assert "between 1 and 25" in err.value.message


def test_key_import_update_rotate_policy_crypto_random(c: dict[str, Any]) -> None:
    keys: KeyClient = c["keys"]
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nums = private.private_numbers()

    def b(n: int) -> bytes:
        return n.to_bytes((n.bit_length() + 7) // 8, "big")

    jwk = JsonWebKey(kty="RSA", n=b(nums.public_numbers.n), e=b(nums.public_numbers.e), d=b(nums.d), p=b(nums.p),
                     q=b(nums.q), dp=b(nums.dmp1), dq=b(nums.dmq1), qi=b(nums.iqmp))
    imported = keys.import_key("imp-key", jwk)
    assert imported.key.n == b(nums.public_numbers.n)
    crypto = CryptographyClient(imported.id, c["cred"], **c["kw"])
    for alg in (EncryptionAlgorithm.rsa_oaep, EncryptionAlgorithm.rsa_oaep_256, EncryptionAlgorithm.rsa1_5):
        ciphertext = crypto.encrypt(alg, b"hello").ciphertext
        assert crypto.decrypt(alg, ciphertext).plaintext == b"hello"
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == b"k" * 32
    # the remote decrypt really used the imported private key
    assert private.decrypt(
        crypto.encrypt(EncryptionAlgorithm.rsa1_5, b"x").ciphertext,
        __import__("cryptography.hazmat.primitives.asymmetric.padding", fromlist=["PKCS1v15"]).PKCS1v15(),
    ) == b"x"

    updated = keys.update_key_properties("imp-key", enabled=False, tags={"t": "1"}, key_operations=["decrypt"])
    assert updated.properties.enabled is False and updated.key_operations == ["decrypt"]
    with pytest.raises(HttpResponseError):
        CryptographyClient(updated.id, c["cred"], **c["kw"]).decrypt(EncryptionAlgorithm.rsa_oaep, b"\0" * 256)

    ec_key = keys.create_ec_key("rot-key", curve="P-384")
    policy = keys.update_key_rotation_policy("rot-key", KeyRotationPolicy(
        lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P90D")],
        expires_in="P1Y",
    ))
    assert policy.expires_in == "P1Y"
    assert keys.get_key_rotation_policy("rot-key").lifetime_actions[0].action == KeyRotationPolicyAction.rotate
    rotated = keys.rotate_key("rot-key")
    assert rotated.properties.version != ec_key.properties.version
    assert rotated.key.crv == "P-384" and rotated.properties.expires_on is not None
    assert len(list(keys.list_properties_of_key_versions("rot-key"))) == 2
    with pytest.raises(HttpResponseError):
        CryptographyClient(rotated.id, c["cred"], **c["kw"]).encrypt(EncryptionAlgorithm.rsa_oaep, b"x")

    random = keys.get_random_bytes(32)
    assert len(random) == 32 and random != keys.get_random_bytes(32)


def test_key_and_secret_delete_recover_purge_backup_restore(c: dict[str, Any]) -> None:
    keys: KeyClient = c["keys"]
    secrets: SecretClient = c["secrets"]
    key = keys.create_rsa_key("br-key")
    blob = keys.backup_key("br-key")
    keys.begin_delete_key("br-key").result()
    assert keys.get_deleted_key("br-key").key.n == key.key.n
    assert keys.begin_recover_deleted_key("br-key").result().id == key.id
    keys.begin_delete_key("br-key").result()
    keys.purge_deleted_key("br-key")
    restored = keys.restore_key_backup(blob)
    assert restored.id == key.id and restored.key.n == key.key.n
    with pytest.raises(ResourceExistsError):
        keys.restore_key_backup(blob)
    with pytest.raises(HttpResponseError):
        keys.restore_key_backup(blob[:-4] + b"abcd")  # tampered: refused

    secrets.set_secret("br-secret", "v1")
    assert secrets.update_secret_properties("br-secret", content_type="text/plain").content_type == "text/plain"
    sblob = secrets.backup_secret("br-secret")
    secrets.begin_delete_secret("br-secret").result()
    assert "br-secret" in [s.name for s in secrets.list_deleted_secrets()]
    with pytest.raises(ResourceExistsError):
        secrets.set_secret("br-secret", "v2")
    secrets.begin_recover_deleted_secret("br-secret").result()
    assert secrets.get_secret("br-secret").value == "v1"
    secrets.begin_delete_secret("br-secret").result()
    secrets.purge_deleted_secret("br-secret")
    assert secrets.restore_secret_backup(sblob).name == "br-secret"
    assert secrets.get_secret("br-secret").value == "v1"

    certs: CertificateClient = c["certs"]
    certs.begin_create_certificate("br-cert", CertificatePolicy.get_default()).result()
    cblob = certs.backup_certificate("br-cert")
    certs.begin_delete_certificate("br-cert").result()
    certs.purge_deleted_certificate("br-cert")
    assert certs.restore_certificate_backup(cblob).name == "br-cert"
    assert c["secrets"].get_secret("br-cert").value


def test_purge_protection_and_soft_delete_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Per-vault settings through the SDK: a purge-protected vault with 7-day retention refuses purge (403) and
    says CustomizedRecoverable; a vault without soft delete is Purgeable and deletes at once."""
    from notation_devstack.vault.registry import VaultRegistry

    protected_state = tmp_path_factory.mktemp("protected")
    VaultRegistry(protected_state).create_vault("protected", enable_purge_protection=True,
                                                soft_delete_retention_days=7)
    with VaultServer(protected_state, vault_name="protected") as server:
        secrets = SecretClient(server.url, server.credential(), connection_verify=str(server.ca_cert_path))
        made = secrets.set_secret("s", "x")
        assert made.properties.recovery_level == "CustomizedRecoverable"
        assert made.properties.recoverable_days == 7
        deleted = secrets.begin_delete_secret("s").result()
        assert deleted.scheduled_purge_date - deleted.deleted_date == dt.timedelta(days=7)
        with pytest.raises(HttpResponseError) as err:
            secrets.purge_deleted_secret("s")
        assert err.value.status_code == 403 and "purge protection is enabled" in err.value.message
        assert secrets.begin_recover_deleted_secret("s").result().name == "s"
    plain_state = tmp_path_factory.mktemp("nosoft")
    VaultRegistry(plain_state).create_vault("nosoft", enable_soft_delete=False)
    with VaultServer(plain_state, vault_name="nosoft") as server:
        keys = KeyClient(server.url, server.credential(), connection_verify=str(server.ca_cert_path))
        key = keys.create_ec_key("k")
        assert key.properties.recovery_level == "Purgeable" and key.properties.recoverable_days is None
        keys.begin_delete_key("k").result()
        with pytest.raises(ResourceNotFoundError):
            keys.get_deleted_key("k")
        assert keys.create_ec_key("k").name == "k"  # the name is free at once


def test_bad_token_and_unknown_object_through_the_sdk(vault: VaultServer) -> None:
    """A token the emulator did not issue: the SDK answers the challenge, is refused again, and raises
    ClientAuthenticationError with the emulator's reason; an unknown object is ResourceNotFoundError."""
    from azure.core.credentials import AccessToken, AccessTokenInfo
    from azure.core.exceptions import ClientAuthenticationError

    class Forged:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("e30.e30.c2ln", 2_000_000_000)

        def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
            return AccessTokenInfo("e30.e30.c2ln", 2_000_000_000)

    secrets = SecretClient(vault.url, Forged(), connection_verify=str(vault.ca_cert_path))
    with pytest.raises(ClientAuthenticationError) as err:
        secrets.get_secret("anything")
    assert "AKV10" in str(err.value)
    good = SecretClient(vault.url, vault.credential(), connection_verify=str(vault.ca_cert_path))
    with pytest.raises(ResourceNotFoundError) as missing:
        good.get_secret("never-set")
    assert "A secret with (name/id) never-set was not found in this key vault." in missing.value.message


def test_rotation_policy_rotates_when_due(c: dict[str, Any]) -> None:
    """A Rotate action with timeAfterCreate takes effect lazily once due (short durations allowed for CI)."""
    import time

    keys: KeyClient = c["keys"]
    first = keys.create_ec_key("auto-rot")
    keys.update_key_rotation_policy("auto-rot", KeyRotationPolicy(
        lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="PT1S")],
    ))
    time.sleep(2.1)
    rotated = keys.get_key("auto-rot")
    assert rotated.properties.version != first.properties.version
    assert rotated.key.crv == first.key.crv
    keys.update_key_rotation_policy("auto-rot", KeyRotationPolicy(lifetime_actions=[]))  # stop rotating
