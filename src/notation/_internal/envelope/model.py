"""The envelope data model shared by the JWS and COSE codecs (signature.md §1, §3, §4).

Pure data: no parsing, no crypto. The codecs turn bytes into a :class:`SignerInfo`, and a
:class:`SignRequest` plus a :class:`PrimitiveSigner` into bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from notation._internal.envelope.algorithms import KeySpec, SignatureAlgorithm
from notation._internal.records import dataclass, field

if TYPE_CHECKING:
    from cryptography import x509

SCHEME_X509 = "notary.x509"
SCHEME_SIGNING_AUTHORITY = "notary.x509.signingAuthority"

HEADER_SIGNING_SCHEME = "io.cncf.notary.signingScheme"
HEADER_SIGNING_TIME = "io.cncf.notary.signingTime"
HEADER_AUTHENTIC_SIGNING_TIME = "io.cncf.notary.authenticSigningTime"
HEADER_EXPIRY = "io.cncf.notary.expiry"
HEADER_VERIFICATION_PLUGIN = "io.cncf.notary.verificationPlugin"
HEADER_VERIFICATION_PLUGIN_MIN_VERSION = "io.cncf.notary.verificationPluginMinVersion"
HEADER_TIMESTAMP_SIGNATURE = "io.cncf.notary.timestampSignature"
HEADER_SIGNING_AGENT = "io.cncf.notary.signingAgent"


@dataclass(frozen=True)
class ExtendedAttribute:
    """A protected header that is not one of the standard ones (SIG-16)."""

    key: str
    value: object
    critical: bool


@dataclass(frozen=True)
class SignedAttributes:
    signing_scheme: str
    content_type: str
    signing_time: dt.datetime | None = None
    """Set under notary.x509 (SIG-11)."""
    authentic_signing_time: dt.datetime | None = None
    """Set under notary.x509.signingAuthority (SIG-11)."""
    expiry: dt.datetime | None = None
    extended: tuple[ExtendedAttribute, ...] = ()

    def extended_value(self, key: str) -> ExtendedAttribute | None:
        for attr in self.extended:
            if attr.key == key:
                return attr
        return None


@dataclass(frozen=True)
class UnsignedAttributes:
    timestamp_signature: bytes | None = None
    signing_agent: str | None = None


NO_UNSIGNED = UnsignedAttributes()
"""The (immutable) unsigned attributes of an envelope that has none: shared instead of built per envelope."""


@dataclass(frozen=True)
class SignerInfo:
    """Everything a decoded envelope says, with the exact bytes the signature covers kept by the codec."""

    media_type: str
    payload: bytes
    """The payload bytes exactly as signed (never a re-serialization; SIG-31)."""
    signature_algorithm: SignatureAlgorithm
    signature: bytes
    """The primitive signature (RSASSA-PSS bytes, or ECDSA R||S)."""
    certificate_chain: tuple[x509.Certificate, ...]
    signed: SignedAttributes
    unsigned: UnsignedAttributes = field(default_factory=UnsignedAttributes)

    @property
    def signing_time(self) -> dt.datetime:
        """The scheme's signing time (authentic signing time under signingAuthority)."""
        value = (
            self.signed.authentic_signing_time
            if self.signed.signing_scheme == SCHEME_SIGNING_AUTHORITY
            else (self.signed.signing_time)
        )
        assert value is not None  # codecs reject envelopes without it (SIG-12)
        return value


@dataclass(frozen=True)
class SignRequest:
    """What the sign workflow asks a codec to produce (SIGN-04)."""

    payload: bytes
    payload_content_type: str
    signing_time: dt.datetime
    """Whole seconds, timezone-aware."""
    expiry: dt.datetime | None = None
    signing_agent: str | None = None
    signing_scheme: str = SCHEME_X509
    extended: tuple[ExtendedAttribute, ...] = ()


class PrimitiveSigner(Protocol):
    """Makes the primitive signature: a local private key, or a plugin's ``generate-signature``."""

    def key_spec(self) -> KeySpec:
        """The key type and size (decides the algorithm before anything is signed)."""
        ...

    def sign(self, data: bytes) -> tuple[bytes, list[x509.Certificate]]:
        """Sign ``data`` (the JWS signing input or COSE Sig_structure) with the key spec's algorithm.

        Returns the raw signature (ECDSA as fixed-width R||S) and the certificate chain, leaf first.
        """
        ...
