"""Raw-HTTPS helpers for loading the Key Vault emulator: certificate creation, key signing, local verification.

Signatures are checked with ``cryptography`` against the public key in the certificate the vault returned, so a
signature only counts when it really verifies.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

API = {"api-version": "7.4"}
ALGS = {"EC": "ES256", "RSA": "PS256"}


class VaultUnexpected(Exception):
    """The emulator answered something other than what the protocol promises for this request."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def policy(kty: str, subject: str) -> dict[str, Any]:
    key_props: dict[str, Any] = {"kty": kty, "exportable": False, "reuse_key": False}
    if kty == "EC":
        key_props["crv"] = "P-256"
    else:
        key_props["key_size"] = 2048
    return {
        "key_props": key_props,
        "secret_props": {"contentType": "application/x-pem-file"},
        "x509_props": {"subject": subject, "ekus": ["1.3.6.1.5.5.7.3.3"], "key_usage": ["digitalSignature"],
                       "validity_months": 12},
        "issuer": {"name": "Self"},
    }


@dataclass(frozen=True)
class IssuedCert:
    name: str
    kid: str
    der: bytes
    kty: str


def session(ca: Path, token: str | None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    s.verify = str(ca)
    if token is not None:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def _expect(r: requests.Response, status: int, what: str) -> Any:
    if r.status_code != status:
        raise VaultUnexpected(f"{what}: HTTP {r.status_code} (wanted {status}): {r.text[:200]}")
    return r.json()


def create_certificate(s: requests.Session, url: str, name: str, kty: str) -> None:
    """POST .../create; returns once the vault acknowledged it (202 with the pending operation)."""
    body = {"policy": policy(kty, f"CN={name},O=Notation load")}
    answer = _expect(s.post(f"{url}/certificates/{name}/create", params=API, json=body), 202, f"create {name}")
    if not str(answer.get("id", "")).endswith(f"/certificates/{name}/pending"):
        raise VaultUnexpected(f"create {name}: pending operation {answer.get('id')!r}")


def get_certificate(s: requests.Session, url: str, name: str, kty: str) -> IssuedCert:
    doc = _expect(s.get(f"{url}/certificates/{name}", params=API), 200, f"get {name}")
    return IssuedCert(name=name, kid=str(doc["kid"]), der=base64.b64decode(doc["cer"]), kty=kty)


def sign(s: requests.Session, url: str, cert: IssuedCert, message: bytes) -> bytes:
    """Remote sign of SHA-256(message) with the certificate's key (URL rebuilt on ``url``: ports change)."""
    key_path = cert.kid.split("/keys/", 1)[1]
    digest = hashlib.sha256(message).digest()
    doc = _expect(s.post(f"{url}/keys/{key_path}/sign", params=API,
                         json={"alg": ALGS[cert.kty], "value": b64url(digest)}), 200, f"sign {cert.name}")
    return unb64url(str(doc["value"]))


def verifies(cert: IssuedCert, message: bytes, signature: bytes) -> bool:
    """Check a vault signature with ``cryptography`` against the certificate's public key."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    public = x509.load_der_x509_certificate(cert.der).public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            width = (public.curve.key_size + 7) // 8
            if len(signature) != 2 * width:
                return False
            der = utils.encode_dss_signature(int.from_bytes(signature[:width], "big"),
                                             int.from_bytes(signature[width:], "big"))
            public.verify(der, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                          hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def random_message() -> bytes:
    return os.urandom(64)


# --- the rest of the data plane in the mix: import, soft delete / recover, key rotation (issue 12) -------------


def make_pfx(password: str = "load") -> str:
    """base64 of a password-protected PKCS#12 holding a fresh EC key and its self-signed certificate."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imported under load")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    pfx = pkcs12.serialize_key_and_certificates(b"load", key, cert, None,
                                                serialization.BestAvailableEncryption(password.encode()))
    return base64.b64encode(pfx).decode()


def import_certificate(s: requests.Session, url: str, name: str, pfx: str, password: str = "load") -> IssuedCert:
    body = {"value": pfx, "pwd": password, "policy": {"secret_props": {"contentType": "application/x-pkcs12"}}}
    doc = _expect(s.post(f"{url}/certificates/{name}/import", params=API, json=body), 200, f"import {name}")
    return IssuedCert(name=name, kid=str(doc["kid"]), der=base64.b64decode(doc["cer"]), kty="EC")


def delete_certificate(s: requests.Session, url: str, name: str) -> None:
    doc = _expect(s.delete(f"{url}/certificates/{name}", params=API), 200, f"delete {name}")
    if not str(doc.get("recoveryId", "")).endswith(f"/deletedcertificates/{name}"):
        raise VaultUnexpected(f"delete {name}: no recoveryId in {doc}")


def recover_certificate(s: requests.Session, url: str, name: str) -> None:
    _expect(s.post(f"{url}/deletedcertificates/{name}/recover", params=API), 200, f"recover {name}")


@dataclass(frozen=True)
class KeyVersion:
    kid: str
    x: bytes
    y: bytes


def _key_version(doc: dict[str, Any]) -> KeyVersion:
    key = doc["key"]
    return KeyVersion(kid=str(key["kid"]), x=unb64url(key["x"]), y=unb64url(key["y"]))


def create_key(s: requests.Session, url: str, name: str) -> KeyVersion:
    doc = _expect(s.post(f"{url}/keys/{name}/create", params=API, json={"kty": "EC", "crv": "P-256"}), 200,
                  f"create key {name}")
    return _key_version(doc)


def rotate_key(s: requests.Session, url: str, name: str) -> KeyVersion:
    return _key_version(_expect(s.post(f"{url}/keys/{name}/rotate", params=API), 200, f"rotate {name}"))


def get_key(s: requests.Session, url: str, kid: str) -> KeyVersion:
    key_path = kid.split("/keys/", 1)[1]
    return _key_version(_expect(s.get(f"{url}/keys/{key_path}", params=API), 200, f"get key {key_path}"))


def key_signs(s: requests.Session, url: str, key: KeyVersion) -> bool:
    """Sign remotely with exactly this key version and verify locally against its public JWK."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    message = random_message()
    key_path = key.kid.split("/keys/", 1)[1]
    doc = _expect(s.post(f"{url}/keys/{key_path}/sign", params=API,
                         json={"alg": "ES256", "value": b64url(hashlib.sha256(message).digest())}), 200,
                  f"sign {key_path}")
    signature = unb64url(str(doc["value"]))
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(key.x, "big"), int.from_bytes(key.y, "big"),
                                           ec.SECP256R1()).public_key()
    try:
        public.verify(utils.encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                                 int.from_bytes(signature[32:], "big")),
                      message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
