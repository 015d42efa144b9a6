"""A local CA and a loopback server certificate, so the stand-ins speak real TLS that clients can verify."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

# The Azure control plane's names (login.devstack.localhost, ...): MSAL drops the port from the authority for
# some calls, so the loopback proxy maps these names' port 443 to the control plane (see notation_devstack.cloud).
CLOUD_NAMES = {"devstack.localhost", "*.devstack.localhost"}


def ensure_tls(directory: Path) -> tuple[Path, Path, Path]:
    """Return (CA certificate, server certificate, server key), creating them once (reused while valid)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_path, cert_path, key_path = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    now = dt.datetime.now(dt.UTC)
    if ca_path.exists() and cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            covered = set(names.get_values_for_type(x509.DNSName)) >= CLOUD_NAMES
        except x509.ExtensionNotFound:
            covered = False
        if covered and cert.not_valid_after_utc > now + dt.timedelta(days=1):
            return ca_path, cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "notation-devstack local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), *(x509.DNSName(n) for n in sorted(CLOUD_NAMES)),
                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        0o600,
    )
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(ca_path, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca_path, cert_path, key_path


def ca_bundle(directory: Path, ca_paths: list[Path]) -> Path:
    """Our CAs plus the usual public roots, so pointing REQUESTS_CA_BUNDLE at it breaks nothing else."""
    bundle = directory / "ca-bundle.pem"
    parts = [p.read_bytes() for p in ca_paths]
    try:
        import certifi

        parts.append(Path(certifi.where()).read_bytes())
    except ImportError:  # certifi comes with requests; without it our CA alone still serves the stand-ins
        pass
    _write(bundle, b"\n".join(parts), 0o644)
    return bundle


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
