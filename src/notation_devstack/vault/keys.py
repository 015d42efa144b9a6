"""Key material of the emulator: generation, the public JWK, and signing over a digest as Key Vault does.

Key Vault signs a *digest* the client computed (spec §2.7 K2): RSA-PSS with MGF1 of the same hash and salt length =
hash length, PKCS#1 v1.5 for RS*, and ECDSA returned as raw fixed-width ``r||s`` (not DER). Private keys live only
in the state directory; only :func:`public_jwk` output ever leaves the process.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from notation_devstack.vault.errors import ApiError, bad_parameter

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

RSA_SIZES = (2048, 3072, 4096)
CURVES = {"P-256": 256, "P-384": 384, "P-521": 521, "P-256K": 256}
_CURVE_BYTES = {"P-256": 32, "P-384": 48, "P-521": 66, "P-256K": 32}
_HASH_BYTES = {"256": 32, "384": 48, "512": 64}
_EC_ALG_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "P-256K"}

RSA_KEY_OPS = ["sign", "verify", "wrapKey", "unwrapKey", "encrypt", "decrypt"]
EC_KEY_OPS = ["sign", "verify"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; a malformed value is a 400, never a traceback."""
    try:
        cleaned = text.strip()
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, TypeError) as exc:
        raise bad_parameter("Property 'value' is not a valid base64url string.") from exc


def base_kty(kty: str) -> str:
    """``RSA-HSM`` signs like ``RSA``: the emulator has no HSM, only the name differs."""
    return "EC" if kty.upper().startswith("EC") else "RSA"


def generate(kty: str, key_size: int | None, crv: str | None) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if base_kty(kty) == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size or 2048)
    curve: ec.EllipticCurve = {
        "P-256": ec.SECP256R1(),
        "P-384": ec.SECP384R1(),
        "P-521": ec.SECP521R1(),
        "P-256K": ec.SECP256K1(),
    }[crv or "P-256"]
    return ec.generate_private_key(curve)


def curve_name(key: Any) -> str:
    return {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp256k1": "P-256K"}[
        key.curve.name
    ]


def public_jwk(key: PrivateKeyTypes, kid: str, kty: str, key_ops: list[str]) -> dict[str, Any]:
    """The public half only (never ``d``, ``p``, ``q``...), with the service's member names and encodings."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"kid": kid, "kty": kty, "key_ops": list(key_ops), "n": b64url(n), "e": b64url(e)}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        crv = curve_name(key)
        width = _CURVE_BYTES[crv]
        pub = key.public_key().public_numbers()
        return {
            "kid": kid,
            "kty": kty,
            "key_ops": list(key_ops),
            "crv": crv,
            "x": b64url(pub.x.to_bytes(width, "big")),
            "y": b64url(pub.y.to_bytes(width, "big")),
        }
    raise ApiError(500, "InternalError", "unsupported key type in the state directory")


def _hash(alg: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[-3:]]


def _check_digest(alg: str, digest: bytes) -> None:
    want = _HASH_BYTES[alg[-3:]] if not alg.endswith("256K") else 32
    if len(digest) != want:
        raise bad_parameter(
            f"Invalid length of 'value': {len(digest)} bytes. {alg} requires {want} bytes, encoded with base64url."
        )


def _check_alg(key: PrivateKeyTypes, alg: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if alg in ("PS256", "PS384", "PS512", "RS256", "RS384", "RS512"):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise bad_parameter(f"Key and signing algorithm are incompatible. Algorithm {alg} requires an RSA key.")
        return
    if alg in _EC_ALG_CURVE:
        if isinstance(key, rsa.RSAPrivateKey):
            raise bad_parameter(f"Unsupported key size ({key.key_size}). Supported sizes are [256, 384, 521]")
        if not isinstance(key, ec.EllipticCurvePrivateKey) or curve_name(key) != _EC_ALG_CURVE[alg]:
            raise bad_parameter(
                f"Key and signing algorithm are incompatible. {alg} requires curve {_EC_ALG_CURVE[alg]}."
            )
        return
    raise bad_parameter(f"Invalid algorithm: {alg}")


def sign_digest(key: PrivateKeyTypes, alg: str, digest: bytes) -> bytes:
    """Sign a client-computed digest; ECDSA output is raw ``r||s`` of the curve's width."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    _check_alg(key, alg)
    hash_alg = _hash(alg[:2] + "256") if alg == "ES256K" else _hash(alg)
    _check_digest(alg, digest)
    prehashed = utils.Prehashed(hash_alg)
    if isinstance(key, rsa.RSAPrivateKey):
        if alg.startswith("PS"):
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size
            )
        else:
            pad = padding.PKCS1v15()
        return key.sign(digest, pad, prehashed)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    der = key.sign(digest, ec.ECDSA(prehashed))
    r, s = utils.decode_dss_signature(der)
    width = _CURVE_BYTES[curve_name(key)]
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")


def verify_digest(key: PrivateKeyTypes, alg: str, digest: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    _check_alg(key, alg)
    hash_alg = _hash(alg[:2] + "256") if alg == "ES256K" else _hash(alg)
    _check_digest(alg, digest)
    prehashed = utils.Prehashed(hash_alg)
    try:
        if isinstance(key, rsa.RSAPrivateKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size)
                if alg.startswith("PS")
                else padding.PKCS1v15()
            )
            key.public_key().verify(signature, digest, pad, prehashed)
            return True
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        width = _CURVE_BYTES[curve_name(key)]
        if len(signature) != 2 * width:
            return False
        r = int.from_bytes(signature[:width], "big")
        s = int.from_bytes(signature[width:], "big")
        key.public_key().verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(prehashed))
        return True
    except InvalidSignature:
        return False


def to_pem(key: PrivateKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def from_pem(data: bytes) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(data, password=None)


ENCRYPTION_ALGORITHMS = ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256")


def _oaep_or_pkcs1(alg: str) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if alg == "RSA1_5":
        return padding.PKCS1v15()
    hash_alg = hashes.SHA256() if alg == "RSA-OAEP-256" else hashes.SHA1()  # noqa: S303 - RSA-OAEP is SHA-1 by definition
    return padding.OAEP(mgf=padding.MGF1(hash_alg), algorithm=hash_alg, label=None)


def _rsa_for(key: PrivateKeyTypes, alg: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    if alg not in ENCRYPTION_ALGORITHMS:
        raise bad_parameter(f"Invalid algorithm: {alg}")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise bad_parameter(f"Key and encryption algorithm are incompatible. Algorithm {alg} requires an RSA key.")
    return key


def encrypt(key: PrivateKeyTypes, alg: str, plaintext: bytes) -> bytes:
    """RSA encrypt / wrap (Key Vault: RSA1_5, RSA-OAEP, RSA-OAEP-256; EC keys cannot encrypt)."""
    rsa_key = _rsa_for(key, alg)
    limit = rsa_key.key_size // 8 - (11 if alg == "RSA1_5" else (2 * (32 if alg == "RSA-OAEP-256" else 20) + 2))
    if len(plaintext) > limit:
        raise bad_parameter(f"Invalid length of 'value': {len(plaintext)} bytes, at most {limit} for {alg}.")
    data: bytes = rsa_key.public_key().encrypt(plaintext, _oaep_or_pkcs1(alg))
    return data


def decrypt(key: PrivateKeyTypes, alg: str, ciphertext: bytes) -> bytes:
    rsa_key = _rsa_for(key, alg)
    try:
        data: bytes = rsa_key.decrypt(ciphertext, _oaep_or_pkcs1(alg))
    except ValueError as exc:
        raise bad_parameter("The parameter 'value' could not be decrypted with this key and algorithm.") from exc
    return data


def from_jwk(jwk: dict[str, Any]) -> tuple[PrivateKeyTypes, str]:
    """A private key from an imported JWK (RSA: n, e, d[, p, q, dp, dq, qi]; EC: crv, x, y, d); (key, kty)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if not isinstance(jwk, dict):
        raise bad_parameter("Property key has invalid value.")
    kty = str(jwk.get("kty") or "")

    def num(name: str) -> int:
        value = jwk.get(name)
        if not isinstance(value, str) or not value:
            raise bad_parameter(f"Property key.{name} is required for key type {kty}.")
        return int.from_bytes(b64url_decode(value), "big")

    try:
        if base_kty(kty) == "RSA" and kty in ("RSA", "RSA-HSM"):
            n, e, d = num("n"), num("e"), num("d")
            if all(jwk.get(k) for k in ("p", "q")):
                p, q = num("p"), num("q")
            else:
                p, q = rsa.rsa_recover_prime_factors(n, e, d)
            numbers = rsa.RSAPrivateNumbers(
                p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
                rsa.RSAPublicNumbers(e, n),
            )
            key: PrivateKeyTypes = numbers.private_key()
            if key.key_size not in RSA_SIZES:  # type: ignore[union-attr]
                raise bad_parameter(f"Unsupported key size ({key.key_size}). Supported sizes are [2048, 3072, 4096]")  # type: ignore[union-attr]
            return key, kty
        if kty in ("EC", "EC-HSM"):
            crv = str(jwk.get("crv") or "")
            curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1(),
                      "P-256K": ec.SECP256K1()}
            if crv not in curves:
                raise bad_parameter(f"Invalid curve name: {crv}.")
            public = ec.EllipticCurvePublicNumbers(num("x"), num("y"), curves[crv])
            return ec.EllipticCurvePrivateNumbers(num("d"), public).private_key(), kty
    except ValueError as exc:
        raise bad_parameter(f"The imported key is not a valid {kty} key: {exc}") from exc
    raise bad_parameter(f"Invalid key type: {kty}. Supported key types are RSA, RSA-HSM, EC, EC-HSM.")


def describe(key: PrivateKeyTypes) -> tuple[int | None, str | None]:
    """(key_size, crv) of a private key, for rotation and certificate policies."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return key.key_size, None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        crv = curve_name(key)
        return CURVES[crv], crv
    raise bad_parameter("Only RSA and EC keys are supported.")
