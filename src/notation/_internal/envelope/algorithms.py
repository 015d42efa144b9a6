"""The six signature algorithms of the Notary Project, chosen from the signing key alone (signature.md §6)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from notation.errors import CertificateError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


class SignatureAlgorithm(enum.Enum):
    """value = (JWS alg, COSE alg, plugin signingAlgorithm, hash name)."""

    RSASSA_PSS_SHA256 = ("PS256", -37, "RSASSA-PSS-SHA-256", "sha256")
    RSASSA_PSS_SHA384 = ("PS384", -38, "RSASSA-PSS-SHA-384", "sha384")
    RSASSA_PSS_SHA512 = ("PS512", -39, "RSASSA-PSS-SHA-512", "sha512")
    ECDSA_SHA256 = ("ES256", -7, "ECDSA-SHA-256", "sha256")
    ECDSA_SHA384 = ("ES384", -35, "ECDSA-SHA-384", "sha384")
    ECDSA_SHA512 = ("ES512", -36, "ECDSA-SHA-512", "sha512")

    # Members are singletons compared by identity; Enum's own __hash__ is a Python-level call hashing the name, on
    # the path of every signature verified (parameter caches, the RSA set).
    __hash__ = object.__hash__

    @property
    def jws(self) -> str:
        return self.value[0]

    @property
    def cose(self) -> int:
        return self.value[1]

    @property
    def plugin_name(self) -> str:
        return self.value[2]

    @property
    def hash_name(self) -> str:
        """hashlib name: sha256 / sha384 / sha512 (also the blob digest algorithm, ALG-03)."""
        return self.value[3]

    @property
    def plugin_hash_name(self) -> str:
        """The plugin protocol's hashAlgorithm: SHA-256 / SHA-384 / SHA-512."""
        return "SHA-" + self.value[3][3:]

    @property
    def is_rsa(self) -> bool:
        return self in _RSA

    @classmethod
    def from_jws(cls, name: str) -> SignatureAlgorithm | None:
        return _BY_JWS.get(name)

    @classmethod
    def from_cose(cls, label: int) -> SignatureAlgorithm | None:
        return _BY_COSE.get(label)

    @classmethod
    def from_plugin_name(cls, name: str) -> SignatureAlgorithm | None:
        return next((a for a in cls if a.plugin_name == name), None)


# Lookups done for every envelope decoded (iterating the enum and reading member properties was not free).
_BY_JWS = {a.jws: a for a in SignatureAlgorithm}
_BY_COSE = {a.cose: a for a in SignatureAlgorithm}
_RSA = frozenset(a for a in SignatureAlgorithm if a.name.startswith("RSASSA"))


class KeySpec(enum.Enum):
    """value = (plugin keySpec name, algorithm)."""

    RSA_2048 = ("RSA-2048", SignatureAlgorithm.RSASSA_PSS_SHA256)
    RSA_3072 = ("RSA-3072", SignatureAlgorithm.RSASSA_PSS_SHA384)
    RSA_4096 = ("RSA-4096", SignatureAlgorithm.RSASSA_PSS_SHA512)
    EC_256 = ("EC-256", SignatureAlgorithm.ECDSA_SHA256)
    EC_384 = ("EC-384", SignatureAlgorithm.ECDSA_SHA384)
    EC_521 = ("EC-521", SignatureAlgorithm.ECDSA_SHA512)

    @property
    def plugin_name(self) -> str:
        return self.value[0]

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self.value[1]

    @classmethod
    def from_plugin_name(cls, name: str) -> KeySpec | None:
        return next((k for k in cls if k.plugin_name == name), None)

    @classmethod
    def from_public_key(cls, key: PublicKeyTypes) -> KeySpec:
        """ALG-01/ALG-02, with the Go messages for what is not supported."""
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        if isinstance(key, rsa.RSAPublicKey):
            bits = key.key_size
            spec = {2048: cls.RSA_2048, 3072: cls.RSA_3072, 4096: cls.RSA_4096}.get(bits)
            if spec is None:
                raise CertificateError(f"rsa key size {bits} bits is not supported")
            return spec
        if isinstance(key, ec.EllipticCurvePublicKey):
            bits = key.curve.key_size
            spec = {"secp256r1": cls.EC_256, "secp384r1": cls.EC_384, "secp521r1": cls.EC_521}.get(key.curve.name)
            if spec is None:
                raise CertificateError(f"ecdsa key size {bits} bits is not supported")
            return spec
        raise CertificateError("unsupported public key type")
