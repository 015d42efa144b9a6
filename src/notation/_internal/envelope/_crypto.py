"""The primitive signature operations of the six Notary algorithms (ALG-01, ALG-05, ALG-06)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from notation._internal.envelope.algorithms import SignatureAlgorithm

if TYPE_CHECKING:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
    from cryptography.hazmat.primitives.hashes import HashAlgorithm


def _hash(alg: SignatureAlgorithm) -> HashAlgorithm:
    from cryptography.hazmat.primitives import hashes

    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[alg.hash_name]


def _curve_bytes(key_size: int) -> int:
    return (key_size + 7) // 8


def sign(alg: SignatureAlgorithm, key: PrivateKeyTypes, data: bytes) -> bytes:
    """Sign ``data``: RSASSA-PSS with salt = hash length, or ECDSA as fixed-width R||S."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    h = _hash(alg)
    if alg.is_rsa:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("algorithm needs an RSA key")
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH), h)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("algorithm needs an EC key")
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
    n = _curve_bytes(key.curve.key_size)
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


@functools.cache
def _verify_params(alg: SignatureAlgorithm, pss_auto_salt: bool) -> tuple[Any, HashAlgorithm]:
    """(padding or ECDSA scheme, hash) for one algorithm: built once, not for every signature verified."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    h = _hash(alg)
    if alg.is_rsa:
        salt = padding.PSS.AUTO if pss_auto_salt else padding.PSS.DIGEST_LENGTH
        return padding.PSS(mgf=padding.MGF1(h), salt_length=salt), h
    return ec.ECDSA(h), h


@functools.cache
def _verify_types() -> tuple[type[RSAPublicKey], type[EllipticCurvePublicKey], type[InvalidSignature]]:
    """(RSAPublicKey, EllipticCurvePublicKey, InvalidSignature), imported on first use (start-up budget)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    return rsa.RSAPublicKey, ec.EllipticCurvePublicKey, InvalidSignature


def verify(
    alg: SignatureAlgorithm, key: PublicKeyTypes, data: bytes, signature: bytes, *, pss_auto_salt: bool
) -> str | None:
    """Return None if ``signature`` verifies, else Go's short reason (``crypto/rsa: verification error``...).

    ``pss_auto_salt``: accept any PSS salt length (golang-jwt, used for JWS); otherwise salt = hash length (go-cose).
    ECDSA signatures must be exactly R||S of the curve width: DER is rejected (ALG-06).
    """
    rsa_key, ec_key, invalid_signature = _verify_types()
    scheme, h = _verify_params(alg, pss_auto_salt)
    try:
        if alg.is_rsa:
            if not isinstance(key, rsa_key):
                return "key is of invalid type"
            key.verify(signature, data, scheme, h)
            return None
        if not isinstance(key, ec_key):
            return "key is of invalid type"
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        n = _curve_bytes(key.curve.key_size)
        if len(signature) != 2 * n:
            return "crypto/ecdsa: verification error"
        r, s = int.from_bytes(signature[:n], "big"), int.from_bytes(signature[n:], "big")
        key.verify(encode_dss_signature(r, s), data, scheme)
        return None
    except invalid_signature:
        return "crypto/rsa: verification error" if alg.is_rsa else "crypto/ecdsa: verification error"
