"""Key Vault emulator coverage probe: calls every public operation of the Python SDK clients once against a fresh
emulator, with the SDKs' default options (challenge verification on; the emulator CA the only setting), and prints
which ones work (run: .venv/bin/python bench/vault_sdk_coverage.py). Asserts nothing; the tests do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Callable
from typing import Any

from azure.keyvault.certificates import CertificateClient, CertificateContact, CertificatePolicy
from azure.keyvault.keys import (
    JsonWebKey,
    KeyClient,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
)
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from notation_devstack.vault import VaultServer

RESULTS: dict[str, str] = {}


def probe(name: str, fn: Callable[[], Any]) -> None:
    try:
        fn()
        RESULTS[name] = "ok"
    except Exception as exc:  # a probe: record and go on
        RESULTS[name] = f"FAIL {type(exc).__name__}: {str(exc).splitlines()[0][:100]}"


def _cert(subject_key: Any, issuer_key: Any, subject: x509.Name, issuer: x509.Name) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(subject_key)
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=9)).sign(issuer_key, hashes.SHA256()))


def certificates(c: CertificateClient, blobs: dict[str, bytes]) -> None:
    default = CertificatePolicy.get_default()
    probe("begin_create_certificate", lambda: c.begin_create_certificate("c1", default).result())
    probe("get_certificate", lambda: c.get_certificate("c1"))
    probe("get_certificate_version",
          lambda: c.get_certificate_version("c1", str(c.get_certificate("c1").properties.version)))
    probe("get_certificate_operation", lambda: c.get_certificate_operation("c1"))
    probe("get_certificate_policy", lambda: c.get_certificate_policy("c1"))
    probe("update_certificate_policy", lambda: c.update_certificate_policy(
        "c1", CertificatePolicy(issuer_name="Self", subject="CN=x", validity_in_months=3)))
    probe("update_certificate_properties", lambda: c.update_certificate_properties("c1", tags={"a": "b"}))
    probe("list_properties_of_certificates", lambda: list(c.list_properties_of_certificates()))
    probe("list_properties_of_certificate_versions", lambda: list(c.list_properties_of_certificate_versions("c1")))
    probe("backup_certificate", lambda: blobs.setdefault("c", c.backup_certificate("c1")))
    probe("begin_delete_certificate", lambda: c.begin_delete_certificate("c1").result())
    probe("get_deleted_certificate", lambda: c.get_deleted_certificate("c1"))
    probe("list_deleted_certificates", lambda: list(c.list_deleted_certificates()))
    probe("begin_recover_deleted_certificate", lambda: c.begin_recover_deleted_certificate("c1").result())

    def purge() -> None:
        c.begin_delete_certificate("c1").result()
        c.purge_deleted_certificate("c1")

    probe("purge_deleted_certificate", purge)
    probe("restore_certificate_backup", lambda: c.restore_certificate_backup(blobs["c"]))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe")])
    pfx = pkcs12.serialize_key_and_certificates(b"i", key, _cert(key.public_key(), key, name, name), None,
                                                serialization.BestAvailableEncryption(b"p"))
    probe("import_certificate", lambda: c.import_certificate("imp", pfx, password="p"))
    c.begin_create_certificate("pend", CertificatePolicy(issuer_name="Unknown", subject="CN=p"))
    probe("cancel_certificate_operation", lambda: c.cancel_certificate_operation("pend"))
    probe("delete_certificate_operation", lambda: c.delete_certificate_operation("pend"))

    def merge() -> None:
        c.begin_create_certificate("m", CertificatePolicy(issuer_name="Unknown", subject="CN=m"))
        csr = x509.load_der_x509_csr(bytes(c.get_certificate_operation("m").csr or b""))
        leaf = _cert(csr.public_key(), ec.generate_private_key(ec.SECP256R1()), csr.subject, name)
        c.merge_certificate("m", [leaf.public_bytes(serialization.Encoding.DER)])

    probe("merge_certificate", merge)
    probe("create_issuer", lambda: c.create_issuer("iss", "Test"))
    probe("get_issuer", lambda: c.get_issuer("iss"))
    probe("update_issuer", lambda: c.update_issuer("iss", provider="T2"))
    probe("list_properties_of_issuers", lambda: list(c.list_properties_of_issuers()))
    probe("delete_issuer", lambda: c.delete_issuer("iss"))
    probe("set_contacts", lambda: c.set_contacts([CertificateContact(email="a@example.org")]))
    probe("get_contacts", lambda: c.get_contacts())
    probe("delete_contacts", lambda: c.delete_contacts())


def _b(i: int) -> bytes:
    return i.to_bytes((i.bit_length() + 7) // 8, "big")


def keys(k: KeyClient, cred: Any, kw: dict[str, Any], blobs: dict[str, bytes]) -> None:
    probe("create_rsa_key", lambda: k.create_rsa_key("r"))
    probe("create_ec_key", lambda: k.create_ec_key("e"))
    probe("create_key", lambda: k.create_key("k", "EC"))
    probe("create_oct_key", lambda: k.create_oct_key("o"))
    probe("get_key", lambda: k.get_key("r"))
    probe("list_properties_of_keys", lambda: list(k.list_properties_of_keys()))
    probe("list_properties_of_key_versions", lambda: list(k.list_properties_of_key_versions("r")))
    probe("update_key_properties", lambda: k.update_key_properties("r", tags={"a": "b"}))
    probe("rotate_key", lambda: k.rotate_key("r"))
    action = KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")
    probe("update_key_rotation_policy",
          lambda: k.update_key_rotation_policy("r", KeyRotationPolicy(lifetime_actions=[action], expires_in="P1Y")))
    probe("get_key_rotation_policy", lambda: k.get_key_rotation_policy("r"))
    probe("get_random_bytes", lambda: k.get_random_bytes(16))
    nums = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    jwk = JsonWebKey(kty="RSA", n=_b(nums.public_numbers.n), e=_b(nums.public_numbers.e), d=_b(nums.d),
                     p=_b(nums.p), q=_b(nums.q))
    probe("import_key", lambda: k.import_key("impk", jwk))
    probe("backup_key", lambda: blobs.setdefault("k", k.backup_key("e")))
    probe("begin_delete_key", lambda: k.begin_delete_key("e").result())
    probe("get_deleted_key", lambda: k.get_deleted_key("e"))
    probe("list_deleted_keys", lambda: list(k.list_deleted_keys()))
    probe("begin_recover_deleted_key", lambda: k.begin_recover_deleted_key("e").result())

    def purge() -> None:
        k.begin_delete_key("e").result()
        k.purge_deleted_key("e")

    probe("purge_deleted_key", purge)
    probe("restore_key_backup", lambda: k.restore_key_backup(blobs["k"]))
    probe("get_cryptography_client", lambda: k.get_cryptography_client("r"))
    probe("release_key", lambda: k.release_key("r", "token"))
    probe("get_key_attestation", lambda: k.get_key_attestation("r"))
    cr = CryptographyClient(k.get_key("r").id, cred, **kw)
    ce = CryptographyClient(k.get_key("e").id, cred, **kw)
    digest = hashlib.sha256(b"x").digest()
    probe("crypto.sign", lambda: ce.sign(SignatureAlgorithm.es256, digest))
    probe("crypto.verify", lambda: ce.verify(SignatureAlgorithm.es256, digest,
                                             ce.sign(SignatureAlgorithm.es256, digest).signature))
    oaep = EncryptionAlgorithm.rsa_oaep
    probe("crypto.encrypt", lambda: cr.encrypt(oaep, b"x"))
    probe("crypto.decrypt", lambda: cr.decrypt(oaep, cr.encrypt(oaep, b"x").ciphertext))
    wrap = KeyWrapAlgorithm.rsa_oaep
    probe("crypto.wrap_key", lambda: cr.wrap_key(wrap, b"k" * 16))
    probe("crypto.unwrap_key", lambda: cr.unwrap_key(wrap, cr.wrap_key(wrap, b"k" * 16).encrypted_key))


def secrets(s: SecretClient, blobs: dict[str, bytes]) -> None:
    probe("set_secret", lambda: s.set_secret("s", "v"))
    probe("get_secret", lambda: s.get_secret("s"))
    probe("update_secret_properties", lambda: s.update_secret_properties("s", content_type="t"))
    probe("list_properties_of_secrets", lambda: list(s.list_properties_of_secrets()))
    probe("list_properties_of_secret_versions", lambda: list(s.list_properties_of_secret_versions("s")))
    probe("backup_secret", lambda: blobs.setdefault("s", s.backup_secret("s")))
    probe("begin_delete_secret", lambda: s.begin_delete_secret("s").result())
    probe("get_deleted_secret", lambda: s.get_deleted_secret("s"))
    probe("list_deleted_secrets", lambda: list(s.list_deleted_secrets()))
    probe("begin_recover_deleted_secret", lambda: s.begin_recover_deleted_secret("s").result())

    def purge() -> None:
        s.begin_delete_secret("s").result()
        s.purge_deleted_secret("s")

    probe("purge_deleted_secret", purge)
    probe("restore_secret_backup", lambda: s.restore_secret_backup(blobs["s"]))


def main() -> None:
    with tempfile.TemporaryDirectory() as state, VaultServer(state) as vault:
        kw: dict[str, Any] = {"connection_verify": str(vault.ca_cert_path)}
        cred = vault.credential()
        blobs: dict[str, bytes] = {}
        certificates(CertificateClient(vault.url, cred, **kw), blobs)
        keys(KeyClient(vault.url, cred, **kw), cred, kw, blobs)
        secrets(SecretClient(vault.url, cred, **kw), blobs)
    ok = sum(1 for r in RESULTS.values() if r == "ok")
    print(f"{ok}/{len(RESULTS)} SDK operations work with default client options")
    for name, result in RESULTS.items():
        if result != "ok":
            print(f"  {name}: {result}")


if __name__ == "__main__":
    main()
