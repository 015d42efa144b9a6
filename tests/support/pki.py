"""A small PKI for tests: roots, intermediates and leaves with the options the Notary rules care about.

Real keys and real certificates (cryptography), so every test that uses them exercises real crypto.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_KEY_CACHE: dict[str, CertificateIssuerPrivateKeyTypes] = {}


def new_key(kind: str = "rsa2048", *, cached: bool = True) -> CertificateIssuerPrivateKeyTypes:
    """kind: rsa2048 rsa3072 rsa4096 rsa1024 ec256 ec384 ec521 ec224 ed25519. RSA keys are cached (slow to make)."""
    if cached and kind in _KEY_CACHE and kind.startswith("rsa"):
        return _KEY_CACHE[kind]
    key: CertificateIssuerPrivateKeyTypes
    if kind.startswith("rsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    elif kind.startswith("ec"):
        curve = {"ec256": ec.SECP256R1(), "ec384": ec.SECP384R1(), "ec521": ec.SECP521R1(), "ec224": ec.SECP224R1()}
        key = ec.generate_private_key(curve[kind])
    elif kind == "ed25519":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(kind)
    if cached and kind.startswith("rsa"):
        _KEY_CACHE[kind] = key
    return key


def name(cn: str, o: str = "Notary", c: str = "US", st: str = "WA", l: str = "Seattle") -> x509.Name:  # noqa: E741
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, c),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, st),
            x509.NameAttribute(NameOID.LOCALITY_NAME, l),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class Issued:
    key: CertificateIssuerPrivateKeyTypes
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)
    """This certificate followed by its issuers up to the root (leaf first)."""

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write <stem>.key (PKCS#8) and <stem>.crt (chain, leaf first); return (key path, cert path)."""
        directory.mkdir(parents=True, exist_ok=True)
        kp, cp = directory / f"{stem}.key", directory / f"{stem}.crt"
        kp.write_bytes(self.key_pem())
        cp.write_bytes(self.chain_pem())
        return kp, cp


def _hash_for(
    key: CertificateIssuerPrivateKeyTypes, hash_alg: hashes.HashAlgorithm | None
) -> hashes.HashAlgorithm | None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    return hash_alg or hashes.SHA256()


def issue(
    cn: str,
    *,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    key_kind: str = "rsa2048",
    issuer: Issued | None = None,
    ca: bool = False,
    path_length: int | None = None,
    key_usage: str | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    hash_alg: hashes.HashAlgorithm | None = None,
    subject: x509.Name | None = None,
    basic_constraints: bool = True,
    bc_critical: bool = True,
    ku_critical: bool = True,
    eku_critical: bool = False,
    issuer_name: x509.Name | None = None,
    extra_extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
) -> Issued:
    """Issue a certificate. Defaults: CA certs get keyCertSign, leaves digitalSignature + codeSigning EKU.

    key_usage: "default", "none", or a comma list of names (digital_signature, key_cert_sign, crl_sign, ...).
    issuer_name overrides the issuer field (to forge name mismatches); extra_extensions are added as given.
    """
    key = key or new_key(key_kind)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    nb = not_before or now - dt.timedelta(hours=1)
    na = not_after or now + dt.timedelta(days=30)
    subj = subject or name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subj)
        .issuer_name(issuer_name or (issuer.cert.subject if issuer else subj))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(nb)
        .not_valid_after(na)
    )
    if basic_constraints and (ca or issuer is not None):
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), bc_critical
        )
    names = {"digital_signature", "key_cert_sign"} if ca else {"digital_signature"}
    if key_usage == "none":
        names = set()
    elif key_usage and key_usage != "default":
        names = set(key_usage.split(","))
    if names:
        flags = {
            k: (k in names)
            for k in (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "key_cert_sign",
                "crl_sign",
                "encipher_only",
                "decipher_only",
            )
        }
        builder = builder.add_extension(x509.KeyUsage(**flags), ku_critical)
    if eku is None and not ca:
        eku = [ExtendedKeyUsageOID.CODE_SIGNING]
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), eku_critical)
    for ext, critical in extra_extensions or []:
        builder = builder.add_extension(ext, critical)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    signer_key = issuer.key if issuer else key
    cert = builder.sign(signer_key, _hash_for(signer_key, hash_alg))
    chain = [cert] + (issuer.chain if issuer else [])
    return Issued(key=key, cert=cert, chain=chain)


def root_ca(cn: str = "Notary Test Root", key_kind: str = "rsa2048", **kw: object) -> Issued:
    return issue(cn, key_kind=key_kind, ca=True, **kw)  # type: ignore[arg-type]


def chain3(
    leaf_kind: str = "rsa2048", ca_kind: str = "rsa3072", leaf_cn: str = "leaf"
) -> tuple[Issued, Issued, Issued]:
    """(root, intermediate, leaf): the usual 3-certificate signing chain."""
    root = root_ca("Test Root", key_kind=ca_kind)
    inter = issue("Test Intermediate", key_kind=ca_kind, issuer=root, ca=True, path_length=0)
    leaf = issue(leaf_cn, key_kind=leaf_kind, issuer=inter)
    return root, inter, leaf


def self_signed_leaf(cn: str = "test", key_kind: str = "rsa2048", **kw: object) -> Issued:
    """Like `notation cert generate-test`: self-signed, digitalSignature, codeSigning, no basicConstraints."""
    return issue(cn, key_kind=key_kind, basic_constraints=False, **kw)  # type: ignore[arg-type]


# --- revocation and timestamping helpers (timestamp/revocation tests) -----------------------------------------

CA_KU_WITH_CRL = "digital_signature,key_cert_sign,crl_sign"


def revocation_urls(
    ocsp: list[str] | None = None, crl: list[str] | None = None, freshest: list[str] | None = None
) -> list[tuple[x509.ExtensionType, bool]]:
    """Extensions naming OCSP responders (AIA), CRL distribution points and Freshest CRL URLs (for ``issue``)."""
    from cryptography.x509.oid import AuthorityInformationAccessOID

    exts: list[tuple[x509.ExtensionType, bool]] = []
    if ocsp:
        exts.append(
            (
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u))
                        for u in ocsp
                    ]
                ),
                False,
            )
        )
    if crl:
        exts.append(
            (
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in crl]
                ),
                False,
            )
        )
    if freshest:
        exts.append(
            (
                x509.FreshestCRL(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in freshest]
                ),
                False,
            )
        )
    return exts


def revocable_chain3(
    *, ocsp: str | None = None, crl: str | None = None, leaf_kind: str = "ec256"
) -> tuple[Issued, Issued, Issued]:
    """(root, intermediate, leaf) where leaf and intermediate name ``{ocsp}`` / ``{crl}/<who>.crl`` endpoints.

    The CAs carry cRLSign (Go refuses CRLs signed by a CA without it). EC leaves keep the tests fast.
    """
    root = root_ca("Revocation Root", key_kind="ec384", key_usage=CA_KU_WITH_CRL)
    inter = issue(
        "Revocation Intermediate",
        key_kind="ec384",
        issuer=root,
        ca=True,
        path_length=0,
        key_usage=CA_KU_WITH_CRL,
        extra_extensions=revocation_urls([ocsp] if ocsp else None, [f"{crl}/root.crl"] if crl else None),
    )
    leaf = issue(
        "Revocation Leaf",
        key_kind=leaf_kind,
        issuer=inter,
        extra_extensions=revocation_urls([ocsp] if ocsp else None, [f"{crl}/inter.crl"] if crl else None),
    )
    return root, inter, leaf


def tsa_chain(
    *,
    cn: str = "Test TSA",
    key_kind: str = "ec256",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    eku_critical: bool = True,
    extra_extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
    root: Issued | None = None,
) -> tuple[Issued, Issued]:
    """(TSA root, TSA signing certificate): a critical timeStamping-only EKU, digitalSignature, under a CA root."""
    root = root or root_ca("TSA Root", key_kind="ec384", key_usage=CA_KU_WITH_CRL)
    leaf = issue(
        cn,
        key_kind=key_kind,
        issuer=root,
        eku=eku if eku is not None else [ExtendedKeyUsageOID.TIME_STAMPING],
        eku_critical=eku_critical,
        not_before=not_before,
        not_after=not_after,
        extra_extensions=extra_extensions,
    )
    return root, leaf


def with_serial(cert: x509.Certificate, serial: int) -> bytes:
    """``cert``'s DER with another serial number; cryptography builds positive serials only, parsers must also meet
    zero and negative ones. The signature no longer matches: for parsing tests."""
    from asn1crypto import x509 as ax509

    parsed = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    parsed["tbs_certificate"]["serial_number"] = serial
    return bytes(parsed.dump(force=True))
