"""A PrimitiveSigner over a private key held in memory (local key files, `notation key add`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from notation._internal.envelope import _crypto
from notation._internal.envelope.algorithms import KeySpec

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


class LocalSigner:
    """Signs with ``key``; ``chain`` is the certificate chain, leaf first, whose leaf matches the key."""

    def __init__(self, key: PrivateKeyTypes, chain: Sequence[x509.Certificate]) -> None:
        if not chain:
            raise ValueError("a local signer needs at least the signing certificate")
        self._key = key
        self._chain = list(chain)
        self._spec = KeySpec.from_public_key(self._chain[0].public_key())

    @property
    def certificate_chain(self) -> list[x509.Certificate]:
        return list(self._chain)

    def key_spec(self) -> KeySpec:
        return self._spec

    def sign(self, data: bytes) -> tuple[bytes, list[x509.Certificate]]:
        return _crypto.sign(self._spec.algorithm, self._key, data), list(self._chain)
