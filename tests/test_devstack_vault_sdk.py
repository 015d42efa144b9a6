"""The Key Vault emulator driven by the real Azure SDK for Python (KVE-16), over real TLS on loopback.

The clients are unmodified except ``connection_verify=<emulator CA>`` (challenge verification on, KVE-06).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

pytest.importorskip("azure.keyvault.certificates")

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import CertificateClient, CertificatePolicy, KeyType
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient

from notation_devstack.vault import VaultServer

TUTORIAL_POLICY: dict[str, Any] = {
    "issuerParameters": {"certificateTransparency": None, "name": "Self"},
    "keyProperties": {"exportable": False, "keySize": 2048, "keyType": "RSA", "reuseKey": True},
    "secretProperties": {"contentType": "application/x-pem-file"},
    "x509CertificateProperties": {
        "ekus": ["1.3.6.1.5.5.7.3.3"],
        "keyUsage": ["digitalSignature"],
        "subject": "CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US",
        "validityInMonths": 12,
    },
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with VaultServer(tmp_path_factory.mktemp("vault-state")) as server:
        yield server


def _clients(vault: VaultServer, object_id: str | None = None) -> dict[str, Any]:
    kw = {"connection_verify": str(vault.ca_cert_path)}  # SDK defaults: challenge verification on
    cred = vault.credential(object_id)
    return {
        "certs": CertificateClient(vault.url, cred, **kw),
        "keys": KeyClient(vault.url, cred, **kw),
        "secrets": SecretClient(vault.url, cred, **kw),
        "cred": cred,
        "kw": kw,
    }


def _wire_policy(
    subject: str, kty: str = "RSA", size: int | None = 2048, curve: str | None = None
) -> CertificatePolicy:
    return CertificatePolicy(
        issuer_name="Self",
        subject=subject,
        exportable=False,
        key_type=KeyType(kty),
        key_size=size,
        key_curve_name=curve,
        reuse_key=True,
        content_type="application/x-pem-file",
        enhanced_key_usage=["1.3.6.1.5.5.7.3.3"],
        key_usage=["digitalSignature"],
        validity_in_months=12,
    )


def test_create_certificate_from_sdk_poll_and_read_back(vault: VaultServer) -> None:
    """KVE-13, KVE-17: begin_create_certificate -> 202 inProgress -> pending completed -> certificate."""
    c = _clients(vault)
    poller = c["certs"].begin_create_certificate("sdk-rsa", _wire_policy("CN=sdk,O=Notation,ST=WA,C=US"))
    cert = poller.result()
    assert cert is not None and cert.name == "sdk-rsa"
    assert cert.key_id == f"{vault.url}/keys/sdk-rsa/{cert.properties.version}"
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    assert leaf.subject == leaf.issuer
    assert leaf.subject.rfc4514_string() == "C=US,ST=WA,O=Notation,CN=sdk"
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_encipherment
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [o.dotted_string for o in eku] == ["1.3.6.1.5.5.7.3.3"]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    op = c["certs"].get_certificate_operation("sdk-rsa")
    assert op.status == "completed" and op.target.endswith("/certificates/sdk-rsa")
    x509.load_der_x509_csr(bytes(op.csr))  # a real PKCS#10
    policy = c["certs"].get_certificate_policy("sdk-rsa")
    assert policy.exportable is False and policy.key_size == 2048 and policy.issuer_name == "Self"
    versions = list(c["certs"].list_properties_of_certificate_versions("sdk-rsa"))
    assert [v.version for v in versions] == [cert.properties.version]
    assert "sdk-rsa" in [p.name for p in c["certs"].list_properties_of_certificates()]
    # x5t is base64url SHA-1 of the DER
    assert bytes(cert.properties.x509_thumbprint) == hashlib.sha1(bytes(cert.cer)).digest()


@pytest.mark.parametrize(
    ("kty", "size", "curve", "alg", "hash_alg"),
    [
        ("RSA", 2048, None, SignatureAlgorithm.ps256, hashes.SHA256()),
        ("RSA", 3072, None, SignatureAlgorithm.ps384, hashes.SHA384()),
        ("EC", None, "P-256", SignatureAlgorithm.es256, hashes.SHA256()),
        ("EC", None, "P-384", SignatureAlgorithm.es384, hashes.SHA384()),
        ("EC", None, "P-521", SignatureAlgorithm.es512, hashes.SHA512()),
    ],
)
def test_sign_with_cryptography_client_verifies_against_certificate(
    vault: VaultServer, kty: str, size: int | None, curve: str | None, alg: SignatureAlgorithm, hash_alg: Any
) -> None:
    """KVE-14 / AZKV-08: the vault signs a digest: RSA-PSS (salt = hash length) or raw r||s ECDSA."""
    c = _clients(vault)
    name = f"sign-{kty.lower()}-{size or curve}".replace("P-", "p")
    cert = c["certs"].begin_create_certificate(
        name, _wire_policy("CN=signer,O=Notation,ST=WA,C=US", kty, size, curve)
    ).result()
    public = x509.load_der_x509_certificate(bytes(cert.cer)).public_key()
    payload = b"notation payload " + name.encode()
    h = hashes.Hash(hash_alg)
    h.update(payload)
    digest = h.finalize()
    crypto = CryptographyClient(cert.key_id, c["cred"], **c["kw"])
    result = crypto.sign(alg, digest)
    if isinstance(public, rsa.RSAPublicKey):
        assert len(result.signature) == public.key_size // 8
        public.verify(
            result.signature,
            payload,
            padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size),
            hash_alg,
        )
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        width = (public.curve.key_size + 7) // 8
        assert len(result.signature) == 2 * width  # raw r||s, not DER
        r = int.from_bytes(result.signature[:width], "big")
        s = int.from_bytes(result.signature[width:], "big")
        public.verify(utils.encode_dss_signature(r, s), payload, ec.ECDSA(hash_alg))
    # remote verify agrees, and a tampered digest fails
    assert crypto.verify(alg, digest, result.signature).is_valid
    bad = bytes([digest[0] ^ 1]) + digest[1:]
    assert not crypto.verify(alg, bad, result.signature).is_valid


def test_key_and_secret_of_non_exportable_certificate(vault: VaultServer) -> None:
    """KVE-12: the certificate's secret holds only the certificate; the key shows only public members."""
    c = _clients(vault)
    bundle = vault.create_certificate("tut", TUTORIAL_POLICY)
    key = c["keys"].get_key("tut")
    assert key.id == bundle["kid"]
    assert key.key_type == "RSA" and key.key.n and key.key.e
    assert key.key.d is None and key.key.p is None
    assert key.properties.managed is True
    secret = c["secrets"].get_secret("tut")
    assert secret.properties.content_type == "application/x-pem-file"
    assert "PRIVATE KEY" not in secret.value
    certs = x509.load_pem_x509_certificates(secret.value.encode())
    assert [x.public_bytes(serialization.Encoding.DER) for x in certs] == [bytes(c["certs"].get_certificate("tut").cer)]


def test_exportable_pkcs12_secret_contains_key(vault: VaultServer) -> None:
    """KVE-12: exportable PKCS#12 secrets carry the key (base64 PFX, no password)."""
    import base64

    from cryptography.hazmat.primitives.serialization import pkcs12

    c = _clients(vault)
    policy = CertificatePolicy(issuer_name="Self", subject="CN=exp", exportable=True, key_type=KeyType.ec,
                               key_curve_name="P-256", content_type="application/x-pkcs12")
    cert = c["certs"].begin_create_certificate("exp", policy).result()
    secret = c["secrets"].get_secret("exp")
    assert secret.properties.content_type == "application/x-pkcs12"
    key, leaf, _extra = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert key is not None and leaf is not None
    assert leaf.public_bytes(serialization.Encoding.DER) == bytes(cert.cer)


def test_versions_and_not_found(vault: VaultServer) -> None:
    """KVE-11, KVE-13: a second create adds a version; unknown names/versions give the service's 404 text."""
    c = _clients(vault)
    first = c["certs"].begin_create_certificate("twice", _wire_policy("CN=twice")).result()
    second = c["certs"].begin_create_certificate("twice", _wire_policy("CN=twice")).result()
    assert first.properties.version != second.properties.version
    assert c["certs"].get_certificate("twice").properties.version == second.properties.version
    assert c["certs"].get_certificate_version("twice", first.properties.version).cer == first.cer
    with pytest.raises(ResourceNotFoundError) as err:
        c["certs"].get_certificate("nope")
    assert err.value.error.code == "CertificateNotFound"
    assert "A certificate with (name/id) nope was not found in this key vault." in err.value.message
    with pytest.raises(ResourceNotFoundError) as err:
        c["certs"].get_certificate_version("twice", "0" * 32)
    assert f"(name/id) twice/versions/{'0' * 32} was not found" in err.value.message
    with pytest.raises(ResourceNotFoundError) as err:
        c["keys"].get_key("nope")
    assert err.value.error.code == "KeyNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        c["secrets"].get_secret("nope")
    assert err.value.error.code == "SecretNotFound"


def test_key_client_create_sign_and_plain_secrets(vault: VaultServer) -> None:
    """K4/K5/S2/S3: standalone keys and secrets via KeyClient/SecretClient."""
    c = _clients(vault)
    key = c["keys"].create_ec_key("standalone", curve="P-256")
    assert key.key.crv == "P-256" and key.properties.managed is None
    assert [k.name for k in c["keys"].list_properties_of_key_versions("standalone")] == ["standalone"]
    digest = hashlib.sha256(b"x").digest()
    crypto = CryptographyClient(key, c["cred"], **c["kw"])
    signature = crypto.sign(SignatureAlgorithm.es256, digest).signature
    assert crypto.verify(SignatureAlgorithm.es256, digest, signature).is_valid
    with pytest.raises(HttpResponseError) as err:
        CryptographyClient(key.id, c["cred"], **c["kw"]).sign(SignatureAlgorithm.es256, digest + b"x")
    assert "Invalid length of 'value': 33 bytes. ES256 requires 32 bytes" in err.value.message
    s = c["secrets"].set_secret("plain", "hunter2", content_type="text/plain")
    assert c["secrets"].get_secret("plain").value == "hunter2" and s.properties.version
    assert "plain" in [p.name for p in c["secrets"].list_properties_of_secrets()]


def test_wrong_algorithm_for_key_is_bad_parameter(vault: VaultServer) -> None:
    c = _clients(vault)
    cert = vault.create_certificate("algmix", TUTORIAL_POLICY)
    with pytest.raises(HttpResponseError) as err:
        CryptographyClient(cert["kid"], c["cred"], **c["kw"]).sign(SignatureAlgorithm.es256, b"\0" * 32)
    assert err.value.status_code == 400 and err.value.error.code == "BadParameter"


def test_unknown_issuer_pending_then_merge(vault: VaultServer, tmp_path: Path) -> None:
    """C1-C3: Unknown issuer keeps the operation inProgress with a CSR until a merge with the right key."""
    import datetime as dt

    from cryptography.x509.oid import NameOID

    c = _clients(vault)
    policy = CertificatePolicy(issuer_name="Unknown", subject="CN=ca-issued,O=Notation,ST=WA,C=US",
                               key_type=KeyType.rsa, key_size=2048, exportable=False,
                               content_type="application/x-pem-file", key_usage=["digitalSignature"])
    poller = c["certs"].begin_create_certificate("merged", policy)
    op = c["certs"].get_certificate_operation("merged")
    assert op.status == "inProgress"
    csr = x509.load_der_x509_csr(bytes(op.csr))
    with pytest.raises(ResourceNotFoundError):
        c["certs"].get_certificate("merged")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = dt.datetime.now(dt.UTC)
    leaf = (
        x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_name).public_key(csr.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    wrong = (
        x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    with pytest.raises(HttpResponseError) as err:
        c["certs"].merge_certificate("merged", [wrong.public_bytes(der)])
    assert err.value.status_code == 400
    merged = c["certs"].merge_certificate("merged", [leaf.public_bytes(der), ca.public_bytes(der)])
    assert bytes(merged.cer) == leaf.public_bytes(der)
    assert c["certs"].get_certificate_operation("merged").status == "completed"
    chain = x509.load_pem_x509_certificates(c["secrets"].get_secret("merged").value.encode())
    assert [x.subject for x in chain] == [leaf.subject, ca.subject]
    del poller


def test_ids_follow_host_header_and_vault_by_host(vault: VaultServer) -> None:
    """KVE-02/06: a Host of <vault>.localhost:<port> selects that vault; its challenge resource is the parent."""
    import requests

    r = requests.get(
        f"{vault.url}/certificates?api-version=7.5",
        headers={"Host": f"other.localhost:{vault.port}"},
        verify=str(vault.ca_cert_path),
        timeout=10,
    )
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://other.localhost:{vault.port}/{vault.tenant_id}", '
        f'resource="https://localhost:{vault.port}"'
    )
    vault.create_certificate("in-other", TUTORIAL_POLICY, vault="other")
    token = vault.token()
    r = requests.get(
        f"{vault.url}/certificates/in-other?api-version=7.5",
        headers={"Host": f"other.localhost:{vault.port}", "Authorization": f"Bearer {token}"},
        verify=str(vault.ca_cert_path),
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json()["kid"].startswith(f"https://other.localhost:{vault.port}/keys/in-other/")
    r = requests.get(
        f"{vault.url}/certificates/in-other?api-version=7.5",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(vault.ca_cert_path),
        timeout=10,
    )
    assert r.status_code == 404  # not in the default vault
