"""X.509 for the emulator: the local TLS CA and server certificate, and the certificates a ``Self`` policy issues.

Issued certificates follow spec §2.9: exactly what the policy asks for (subject, key usage, EKU, SAN, validity), a
random positive serial, SKI/AKI, basic constraints ``cA=false``, self-signed with SHA-256/384/512 chosen by key
size. Policies are never "repaired": Notation, not the vault, judges the result.
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation_devstack.vault.errors import bad_parameter

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

SKEW = dt.timedelta(minutes=5)

_KEY_USAGE_FIELDS = {
    "digitalsignature": "digital_signature",
    "nonrepudiation": "content_commitment",
    "keyencipherment": "key_encipherment",
    "dataencipherment": "data_encipherment",
    "keyagreement": "key_agreement",
    "keycertsign": "key_cert_sign",
    "crlsign": "crl_sign",
    "encipheronly": "encipher_only",
    "decipheronly": "decipher_only",
}


def _attr_oids() -> dict[str, Any]:
    from cryptography.x509.oid import NameOID

    return {
        "CN": NameOID.COMMON_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "L": NameOID.LOCALITY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "S": NameOID.STATE_OR_PROVINCE_NAME,
        "C": NameOID.COUNTRY_NAME,
        "E": NameOID.EMAIL_ADDRESS,
        "EMAIL": NameOID.EMAIL_ADDRESS,
        "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
        "DC": NameOID.DOMAIN_COMPONENT,
        "STREET": NameOID.STREET_ADDRESS,
        "SERIALNUMBER": NameOID.SERIAL_NUMBER,
        "POSTALCODE": NameOID.POSTAL_CODE,
        "T": NameOID.TITLE,
        "TITLE": NameOID.TITLE,
        "G": NameOID.GIVEN_NAME,
        "SN": NameOID.SURNAME,
    }


def _split_rdns(text: str) -> list[str]:
    """Split ``CN=a\\,b,O="x, y"`` at unescaped, unquoted commas (and semicolons), unescaping as it goes."""
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch in ",;" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    if quoted:
        raise bad_parameter(f"Invalid subject: unbalanced quote in '{text}'")
    parts.append("".join(buf))
    return parts


def parse_subject(text: str) -> x509.Name:
    """RFC 4514-style ``CN=…,O=…,L=…,ST=…,C=…`` in the given order; ``S=`` is accepted for the state."""
    from cryptography import x509

    oids = _attr_oids()
    attrs = []
    for part in _split_rdns(text):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().upper()
        if not sep or key not in oids or not value.strip():
            raise bad_parameter(f"Invalid subject name: '{text}'")
        value = value.strip()
        if key == "C" and len(value) != 2:
            raise bad_parameter(f"Invalid subject name: country '{value}' must be two letters")
        attrs.append(x509.NameAttribute(oids[key], value))
    if not attrs:
        raise bad_parameter(f"Invalid subject name: '{text}'")
    return x509.Name(attrs)


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    month = when.month - 1 + months
    year = when.year + month // 12
    month = month % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _hash_for(key: PrivateKeyTypes) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        bits = key.key_size
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        bits = key.curve.key_size
    else:
        raise bad_parameter("unsupported key type")
    if bits >= 4096 or bits == 521:
        return hashes.SHA512()
    if bits >= 3072 or bits == 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _extensions(x509_props: dict[str, Any]) -> list[tuple[Any, bool]]:
    """(extension value, critical) for key usage, EKU, SAN and basic constraints as the policy asks."""
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    out: list[tuple[Any, bool]] = []
    usages = [u.lower() for u in (x509_props.get("key_usage") or [])]
    if usages:
        flags = dict.fromkeys(_KEY_USAGE_FIELDS.values(), False)
        for usage in usages:
            if usage not in _KEY_USAGE_FIELDS:
                raise bad_parameter(f"Invalid key usage: {usage}")
            flags[_KEY_USAGE_FIELDS[usage]] = True
        out.append((x509.KeyUsage(**flags), True))
    ekus = x509_props.get("ekus") or []
    if ekus:
        try:
            out.append((x509.ExtendedKeyUsage([ObjectIdentifier(oid) for oid in ekus]), False))
        except ValueError as exc:
            raise bad_parameter(f"Invalid EKU: {exc}") from exc
    sans = x509_props.get("sans") or {}
    names: list[x509.GeneralName] = []
    names += [x509.RFC822Name(e) for e in sans.get("emails") or []]
    names += [x509.DNSName(d) for d in sans.get("dns_names") or []]
    names += [x509.UniformResourceIdentifier(u) for u in sans.get("uris") or []]
    try:
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sans.get("ipAddresses") or []]
    except ValueError as exc:
        raise bad_parameter(f"Invalid IP address in subject alternative names: {exc}") from exc
    if sans.get("upns"):
        from cryptography.x509.oid import ObjectIdentifier as Oid

        upn_oid = Oid("1.3.6.1.4.1.311.20.2.3")
        for upn in sans["upns"]:
            raw = upn.encode("utf-8")
            # OtherName value: UTF8String, DER (tag 0x0c, short or long length).
            length = bytes([len(raw)]) if len(raw) < 128 else bytes([0x81, len(raw)])
            names.append(x509.OtherName(upn_oid, b"\x0c" + length + raw))
    if names:
        out.append((x509.SubjectAlternativeName(names), False))
    out.append((x509.BasicConstraints(ca=False, path_length=None), False))
    return out


def issue_self_signed(
    key: PrivateKeyTypes, x509_props: dict[str, Any], now: dt.datetime | None = None
) -> x509.Certificate:
    from cryptography import x509

    now = now or dt.datetime.now(dt.UTC)
    subject = parse_subject(x509_props.get("subject") or "") if x509_props.get("subject") else x509.Name([])
    not_before = now.replace(microsecond=0) - SKEW
    not_after = add_months(not_before, int(x509_props.get("validity_months") or 12))
    public: Any = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(int.from_bytes(os.urandom(16), "big") >> 1 or 1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext, critical in _extensions(x509_props):
        builder = builder.add_extension(ext, critical=critical)
    builder = builder.add_extension(ski, critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False
    )
    return builder.sign(key, _hash_for(key))  # type: ignore[arg-type]


def make_csr(key: PrivateKeyTypes, x509_props: dict[str, Any]) -> bytes:
    """PKCS#10 (DER) for the subject with the requested extensions, as the service puts in ``csr``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    subject = parse_subject(x509_props["subject"]) if x509_props.get("subject") else x509.Name([])
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    for ext, critical in _extensions(x509_props):
        builder = builder.add_extension(ext, critical=critical)
    csr = builder.sign(key, _hash_for(key))  # type: ignore[arg-type]
    return csr.public_bytes(serialization.Encoding.DER)


# --- TLS for the emulator itself -------------------------------------------------------------------------------


def ensure_tls(directory: Path, hostnames: list[str]) -> tuple[Path, Path, Path]:
    """A local CA and a server certificate for loopback names, generated once into ``directory``.

    Returns (ca_cert_path, server_cert_path, server_key_path). The server certificate is re-issued when it does not
    cover a requested hostname, so adding a vault name never needs a new CA (clients keep trusting ca.pem).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from notation_devstack.vault.store import atomic_write

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_cert_path, ca_key_path = directory / "ca.pem", directory / "ca-key.pem"
    cert_path, key_path = directory / "server.pem", directory / "server-key.pem"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if ca_cert_path.exists() and ca_key_path.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "notation-devstack Key Vault emulator CA")])
        ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - SKEW)
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(ski, critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        atomic_write(ca_key_path, to_pem_key(ca_key), mode=0o600)
        atomic_write(ca_cert_path, ca_cert.public_bytes(serialization.Encoding.PEM))
    # No "*.localhost": OpenSSL refuses a wildcard right below a single-label name; named vaults get a certificate
    # for exactly their host name through SNI instead (leaf_for_host).
    wanted = sorted({*hostnames, "localhost", "127.0.0.1", "::1"})
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        try:
            san = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            have = {*san.get_values_for_type(x509.DNSName), *(str(a) for a in san.get_values_for_type(x509.IPAddress))}
        except x509.ExtensionNotFound:
            have = set()
        if set(wanted) <= have and current.not_valid_after_utc > now + dt.timedelta(days=1):
            return ca_cert_path, cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in wanted:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - SKEW)
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    atomic_write(key_path, to_pem_key(key), mode=0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return ca_cert_path, cert_path, key_path


def leaf_for_host(directory: Path, hostname: str) -> tuple[Path, Path]:
    """A server certificate for exactly ``hostname`` (one DNS SAN), issued by the emulator's CA in ``directory``
    and cached as ``hosts/<hostname>.pem``; re-issued when it expires within a day. Served through SNI, so each
    named vault (``<vault>.localhost``) presents a certificate for its own name only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from notation_devstack.vault.store import atomic_write

    name = hostname.lower().rstrip(".")
    cert_path = directory / "hosts" / f"{name}.pem"
    key_path = directory / "hosts" / f"{name}-key.pem"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if current.not_valid_after_utc > now + dt.timedelta(days=1):
            return cert_path, key_path
    ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    ca_key: Any = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - SKEW)
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    atomic_write(key_path, to_pem_key(key), mode=0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def to_pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    data: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return data
