"""Signature checks for OCSP responses, CRLs and CMS SignerInfos: asn1crypto names the algorithm, cryptography verifies.

Hand-written dispatch because neither library verifies "a signature described by an AlgorithmIdentifier" for OCSP
or CMS in one call; SHA-1 and MD5 based signatures are refused (as Go does for certificates, ALG-07).
"""

from __future__ import annotations

from typing import Any

from notation._internal.asn1_errors import ASN1_ERRORS

_HASHES = ("sha256", "sha384", "sha512")


class BadSignature(Exception):
    """The signature does not verify or uses an algorithm we refuse (message says which)."""


def hash_by_name(name: str) -> Any:
    """A cryptography hash object for an asn1crypto digest name (sha256/sha384/sha512 only)."""
    from cryptography.hazmat.primitives import hashes

    table: dict[str, Any] = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
    if name not in table:
        raise BadSignature(f"unsupported hash algorithm {name}")
    return table[name]()


def digest(name: str, data: bytes) -> bytes:
    import hashlib

    if name not in _HASHES:
        raise BadSignature(f"unsupported hash algorithm {name}")
    return hashlib.new(name, data).digest()


def verify(public_key: Any, signature: bytes, data: bytes, algorithm: Any, digest_name: str | None = None) -> None:
    """Verify ``signature`` over ``data`` with ``public_key``.

    ``algorithm`` is an asn1crypto ``SignedDigestAlgorithm``; ``digest_name`` supplies the hash when the algorithm
    names only the key type (CMS SignerInfos commonly say ``rsassa_pkcs1v15`` or ``ecdsa`` plus a digestAlgorithm).
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        sig_algo = algorithm.signature_algo
    except ASN1_ERRORS as exc:  # an OID asn1crypto does not know, or a malformed identifier
        raise BadSignature(f"unsupported signature algorithm: {exc}") from exc
    try:
        hash_name = algorithm.hash_algo
    except ValueError:
        hash_name = None
    if sig_algo == "rsassa_pss":
        try:
            params = algorithm["parameters"]
            hash_name = params["hash_algorithm"]["algorithm"].native
            salt = params["salt_length"].native
        except ASN1_ERRORS as exc:
            raise BadSignature(f"malformed RSASSA-PSS parameters: {exc}") from exc
    if hash_name is None:
        hash_name = digest_name
    if sig_algo == "ed25519":
        if not isinstance(public_key, ed25519.Ed25519PublicKey):
            raise BadSignature("signature algorithm does not match the public key type")
        try:
            public_key.verify(signature, data)
        except InvalidSignature as exc:
            raise BadSignature("ed25519 verification failure") from exc
        return
    if hash_name not in _HASHES:
        raise BadSignature(f"insecure or unsupported signature hash algorithm {hash_name}")
    hash_alg = hash_by_name(hash_name)
    try:
        if sig_algo in ("rsassa_pkcs1v15", "rsassa_pss"):
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise BadSignature("signature algorithm does not match the public key type")
            pad: Any = (
                padding.PKCS1v15()
                if sig_algo == "rsassa_pkcs1v15"
                else padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=salt)
            )
            public_key.verify(signature, data, pad, hash_alg)
        elif sig_algo == "ecdsa":
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                raise BadSignature("signature algorithm does not match the public key type")
            public_key.verify(signature, data, ec.ECDSA(hash_alg))
        else:
            raise BadSignature(f"unsupported signature algorithm {sig_algo}")
    except InvalidSignature as exc:
        raise BadSignature(
            "crypto/rsa: verification error" if sig_algo.startswith("rsa") else "ECDSA verification failure"
        ) from exc
    except ValueError as exc:  # e.g. a PSS salt length the key cannot hold
        raise BadSignature(f"invalid signature parameters: {exc}") from exc


def cert_signed_by(cert: Any, issuer: Any) -> None:
    """Check that cryptography certificate ``cert`` was signed by cryptography certificate ``issuer``."""
    from asn1crypto import x509 as ax509
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        issuer_key = issuer.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadSignature(f"x509: cannot parse public key: {exc}") from exc
    try:
        parsed = ax509.Certificate.load(cert.public_bytes(_der()))
        signature = parsed["signature_value"].native
    except ASN1_ERRORS as exc:
        raise BadSignature(f"x509: malformed certificate: {exc}") from exc
    verify(issuer_key, signature, cert.tbs_certificate_bytes, parsed["signature_algorithm"])


def _der() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER
