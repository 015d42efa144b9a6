"""Certificates: key spec of the signing certificate (AZKV-06), secret / PEM parsing and the chain builder of the
published plugin (AZKV-07, AZKV-12): issuer -> subject by name only, leaf first, root last."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notation_azure_kv.protocol import ERROR, VALIDATION_ERROR, PluginFailure

if TYPE_CHECKING:
    from cryptography import x509


@dataclass(frozen=True)
class Algorithm:
    """keySpec, Key Vault ``alg``, hashlib name and the plugin protocol's ``signingAlgorithm`` (§1.7)."""

    key_spec: str
    akv_alg: str
    hash_name: str
    signing_algorithm: str


_RSA = {
    2048: Algorithm("RSA-2048", "PS256", "sha256", "RSASSA-PSS-SHA-256"),
    3072: Algorithm("RSA-3072", "PS384", "sha384", "RSASSA-PSS-SHA-384"),
    4096: Algorithm("RSA-4096", "PS512", "sha512", "RSASSA-PSS-SHA-512"),
}
_EC = {
    "secp256r1": Algorithm("EC-256", "ES256", "sha256", "ECDSA-SHA-256"),
    "secp384r1": Algorithm("EC-384", "ES384", "sha384", "ECDSA-SHA-384"),
    "secp521r1": Algorithm("EC-521", "ES512", "sha512", "ECDSA-SHA-512"),
}


def algorithm_for(cert: x509.Certificate) -> Algorithm:
    """AZKV-06, by curve name for EC keys (a secp256k1 key is refused, not mistaken for P-256)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        alg = _RSA.get(key.key_size)
        if alg is None:
            raise PluginFailure(VALIDATION_ERROR, f"RSA key size {key.key_size} bits is not supported")
        return alg
    if isinstance(key, ec.EllipticCurvePublicKey):
        alg = _EC.get(key.curve.name)
        if alg is None:
            raise PluginFailure(VALIDATION_ERROR, f"ECDSA key size {key.curve.key_size} bits is not supported")
        return alg
    raise PluginFailure(VALIDATION_ERROR, "Unsupported public key type")


def load_der(data: bytes) -> x509.Certificate:
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise PluginFailure(ERROR, f"The certificate from Azure Key Vault cannot be parsed: {exc}") from None


def certificates_from_secret(value: str, content_type: str | None) -> list[x509.Certificate]:
    """§1.6 mode C: PKCS#12 (base64, no password) or PEM; private keys in the secret are ignored."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    if content_type == "application/x-pkcs12":
        try:
            bundle = pkcs12.load_pkcs12(base64.b64decode(value), None)
        except ValueError as exc:
            raise PluginFailure(ERROR, f"The PKCS#12 content of the secret cannot be parsed: {exc}") from None
        certs = [bundle.cert.certificate] if bundle.cert else []
        return certs + [c.certificate for c in bundle.additional_certs]
    if content_type == "application/x-pem-file":
        return _pem_certificates(value.encode(), "the secret")
    raise PluginFailure(VALIDATION_ERROR, f"Unsupported secret content type: {content_type or ''}")


def _pem_certificates(data: bytes, where: str) -> list[x509.Certificate]:
    from cryptography import x509

    if b"-----BEGIN CERTIFICATE-----" not in data:
        return []
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise PluginFailure(ERROR, f"Failed to parse certificates in {where}: {exc}") from None


def load_ca_certs(path: str) -> list[x509.Certificate]:
    """§1.6 mode B: a PEM bundle on disk (relative paths from the working directory of notation)."""
    full = Path(path).absolute()
    try:
        with open(full, "rb") as f:
            data = f.read(16 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise PluginFailure(ERROR, f"Could not find file '{full}'.") from None
    except OSError as exc:
        raise PluginFailure(ERROR, f"{exc.strerror or exc}: '{full}'") from None
    if len(data) > 16 * 1024 * 1024:
        raise PluginFailure(ERROR, f"The certificate bundle {path} is too large")
    certs = _pem_certificates(data, path)
    if not certs:
        raise PluginFailure(ERROR, f"No certificate found in {path}")
    return certs


def dotnet_name(name: x509.Name) -> str:
    """A distinguished name as .NET prints it (most specific first, ``, `` separated, ``S=`` for the state)."""
    parts = []
    for rdn in reversed(name.rdns):
        text = rdn.rfc4514_string()
        if text.startswith("ST="):
            text = "S=" + text[3:]
        parts.append(text)
    return ", ".join(parts)


def build_chain(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """AZKV-07: order ``certs`` leaf -> root by names only (no signature or validity checks), as the plugin does."""
    if not certs:
        raise PluginFailure(ERROR, "The certificates that need to be built into a chain are empty.")

    def subject(c: x509.Certificate) -> bytes:
        return c.subject.public_bytes()

    def issuer(c: x509.Certificate) -> bytes:
        return c.issuer.public_bytes()

    if len(certs) == 1:
        if subject(certs[0]) != issuer(certs[0]):
            raise PluginFailure(
                ERROR,
                "Only obtained one certificate but it is not a self-signed certificate. Please complete the "
                "certificate bundle by `ca_certs` through plugin config.",
            )
        return [certs[0]]
    by_subject: dict[bytes, x509.Certificate] = {}
    for c in certs:
        if subject(c) in by_subject:
            raise PluginFailure(ERROR, f"Found duplicated certificates: {dotnet_name(c.subject)}")
        by_subject[subject(c)] = c
    issuers = {issuer(c) for c in certs}
    leaves = [c for c in certs if subject(c) not in issuers]
    if len(leaves) != 1:
        raise PluginFailure(ERROR, "Found multiple leaf certificates or unreferenced intermediate CAs")
    chain = [leaves[0]]
    seen_issuers: set[bytes] = set()
    current = leaves[0]
    while subject(current) != issuer(current):
        if issuer(current) in seen_issuers:
            raise PluginFailure(ERROR, f"Found multiple certificates issued by {dotnet_name(current.issuer)}")
        seen_issuers.add(issuer(current))
        parent = by_subject.get(issuer(current))
        if parent is None:
            raise PluginFailure(
                ERROR,
                f"Certificate chain is not complete. The issuer of {dotnet_name(current.subject)} is not found.",
            )
        chain.append(parent)
        current = parent
    if len(chain) != len(certs):
        raise PluginFailure(
            ERROR,
            f"Obtained {len(certs)} certificates but the certificate chain only needs {len(chain)} certficates.",
        )  # [sic]
    return chain
