"""``notation certificate generate-test`` (CLI-124): a self-signed RSA test key pair, registered for signing and trust.

The certificate has the shape Go's testhelper makes: subject CN=<name>,O=Notary,L=Seattle,ST=WA,C=US, 24 hours of
validity, random serial, keyUsage digitalSignature (critical), EKU codeSigning, no basicConstraints.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from notation._internal.config import dirs
from notation._internal.config.fileio import write_exclusive
from notation._internal.config.signingkeys import KeySuite, load_signing_keys, save_signing_keys
from notation._internal.records import dataclass
from notation.errors import CertificateError, ConfigError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

NAME_RE = re.compile(r"^[a-zA-Z0-9_.-]+$")
VALIDITY = dt.timedelta(hours=24)
MIN_BITS = 2048
MAX_BITS = 8192


@dataclass(frozen=True)
class TestCertificate:
    name: str
    key_path: Path
    cert_path: Path
    not_after: dt.datetime


def validate_name(name: str) -> None:
    if not name:
        raise CertificateError("missing certificate common_name")
    if not NAME_RE.match(name):
        raise CertificateError("name needs to follow [a-zA-Z0-9_.-]+ format")


def generate_key(bits: int) -> rsa.RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not MIN_BITS <= bits <= MAX_BITS:
        raise CertificateError(f"RSA key size {bits} bits is not supported, use {MIN_BITS} to {MAX_BITS} bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_certificate(name: str, key: rsa.RSAPrivateKey, now: dt.datetime | None = None) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notary"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(key, hashes.SHA256())
    )


def generate_test_certificate(
    name: str,
    bits: int,
    *,
    mark_default: bool,
    progress: Callable[[str], None],
    add_to_trust_store: Callable[[Path], object],
    now: dt.datetime | None = None,
) -> TestCertificate:
    """Do the whole CLI-124 sequence, reporting each step through ``progress`` (the CLI prints it).

    ``add_to_trust_store(cert_path)`` adds the certificate to ``ca:<name>``; it is injected so this module does
    not depend on the trust store implementation.
    """
    from cryptography.hazmat.primitives import serialization

    validate_name(name)
    load_signing_keys()  # a malformed signingkeys.json fails before anything is written
    progress(f"generating RSA Key with {bits} bits")
    key = generate_key(bits)
    cert = make_certificate(name, key, now)
    not_after = cert.not_valid_after_utc
    progress(f"generated certificate expiring on {not_after.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    key_path, cert_path = dirs.local_key_paths(name)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        write_exclusive(key_path, key_pem, 0o600)
    except ConfigError as exc:
        raise ConfigError(f"failed to write key file: {exc}") from exc
    progress(f"wrote key: {key_path}")
    try:
        write_exclusive(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    except ConfigError as exc:
        raise ConfigError(f"failed to write certificate file: {exc}") from exc
    progress(f"wrote certificate: {cert_path}")
    # Go order: signingkeys.json is updated first, then the certificate goes into ca:<name>.
    keys = load_signing_keys().add(
        KeySuite(name=name, key_path=str(key_path), cert_path=str(cert_path)), mark_default=mark_default
    )
    save_signing_keys(keys)
    add_to_trust_store(cert_path)
    progress(f"Successfully added {name}.crt to named store {name} of type ca")
    progress(f"{name}: added to the key list")
    if mark_default:
        progress(f"{name}: mark as default signing key")
    return TestCertificate(name, key_path, cert_path, not_after)
