"""COSE_Sign1_Tagged encoding of a Notary signature (signature.md §8, COSE-01..13).

Pure encode/decode on the strict reader in ``_cbor``: tag 18 required, duplicate labels and indefinite lengths
rejected, times must be tag 1, x5chain must be an array in the unprotected bucket (as Go reads and writes it).
The received protected-header bytes are kept and the Sig_structure is built from them, never from a re-encoding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from notation._internal.envelope import _cbor
from notation._internal.envelope._common import STANDARD_HEADERS, DecodedEnvelope
from notation._internal.envelope.algorithms import SignatureAlgorithm
from notation._internal.envelope.model import (
    HEADER_AUTHENTIC_SIGNING_TIME,
    HEADER_EXPIRY,
    HEADER_SIGNING_AGENT,
    HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME,
    HEADER_TIMESTAMP_SIGNATURE,
    NO_UNSIGNED,
    SCHEME_SIGNING_AUTHORITY,
    SCHEME_X509,
    ExtendedAttribute,
    SignedAttributes,
    SignerInfo,
    SignRequest,
    UnsignedAttributes,
)
from notation._internal.oci.mediatypes import COSE_ENVELOPE
from notation._internal.records import dataclass
from notation._internal.x509.keys import parse_der_certificate
from notation.errors import EnvelopeError, SigningError

if TYPE_CHECKING:
    from cryptography import x509

LABEL_ALG = 1
LABEL_CRIT = 2
LABEL_CONTENT_TYPE = 3
LABEL_X5CHAIN = 33
TAG_SIGN1 = 18
TAG_EPOCH = 1
_SIGN1_PREFIX = b"\xd2\x84"  # tag 18 + array(4) (COSE-01)
_SYSTEM_LABELS: frozenset[int | str] = frozenset((LABEL_ALG, LABEL_CRIT, LABEL_CONTENT_TYPE, *STANDARD_HEADERS))
"""A set: the labels mix integers and strings, and a tuple scan compared each text label with every integer."""


def _fail(message: str) -> EnvelopeError:
    return EnvelopeError(message)


def _check_labels(header: dict[Any, Any], bucket: str) -> None:
    for label in header:
        if not isinstance(label, (int, str)):
            raise _fail(f"{bucket} header: header labels must be integers or text strings")


def _time(protected: dict[Any, Any], label: str, name: str) -> dt.datetime:
    """COSE-05: tag 1 wrapping an integer (or float) epoch."""
    value = protected[label]
    if not isinstance(value, _cbor.Tag) or value.number != TAG_EPOCH:
        raise _fail(f"invalid {name}: only Tag `1` Datetime CBOR object is supported")
    epoch = value.value
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        raise _fail(f"invalid {name}: tag 1 content must be a number")
    try:
        return dt.datetime.fromtimestamp(epoch, dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _fail(f"invalid {name}: {exc}") from exc


def _crit_labels(protected: dict[Any, Any]) -> list[int | str]:
    """go-cose's ProtectedHeader.Critical(): a non-empty array whose labels all exist in the protected bucket."""
    if LABEL_CRIT not in protected:
        return []
    crit = protected[LABEL_CRIT]
    if not isinstance(crit, list) or not crit:
        raise _fail("invalid crit header: must be a non-empty array")
    for label in crit:
        if isinstance(label, bool) or not isinstance(label, (int, str)):
            raise _fail("invalid crit header: labels must be integers or text strings")
        if label not in protected:
            raise _fail(f"missing critical header: {label}")
    return list(crit)


def _signed_attributes(protected: dict[Any, Any]) -> tuple[SignatureAlgorithm, SignedAttributes]:
    """COSE-03..06, COSE-12, SIG-11, SIG-15, in notation-core-go's order (parseProtectedHeaders)."""
    crit = _crit_labels(protected)
    scheme = protected.get(HEADER_SIGNING_SCHEME)
    if not isinstance(scheme, str):
        raise _fail("invalid signingScheme")
    must: list[int | str] = [HEADER_SIGNING_SCHEME]
    if scheme == SCHEME_SIGNING_AUTHORITY:
        must.append(HEADER_AUTHENTIC_SIGNING_TIME)
    if HEADER_EXPIRY in protected:
        must.append(HEADER_EXPIRY)
    missing = [label for label in must if label not in crit]
    if missing:
        raise _fail(f"these required headers are not marked as critical: [{' '.join(str(m) for m in missing)}]")

    alg_label = protected.get(LABEL_ALG)
    if alg_label is None:
        raise _fail("algorithm not found")
    algorithm = None
    if isinstance(alg_label, int) and not isinstance(alg_label, bool):
        algorithm = SignatureAlgorithm.from_cose(alg_label)
    if algorithm is None:
        raise _fail(f"signature algorithm not supported: {alg_label}")

    if scheme == SCHEME_X509:
        if HEADER_AUTHENTIC_SIGNING_TIME in protected:
            raise _fail(
                f'"{HEADER_AUTHENTIC_SIGNING_TIME}" header must not be present for {SCHEME_X509} signing scheme'
            )
        if HEADER_SIGNING_TIME not in protected:
            raise _fail(f'"{HEADER_SIGNING_TIME}" header is missing for {SCHEME_X509} signing scheme')
    elif scheme == SCHEME_SIGNING_AUTHORITY:
        if HEADER_SIGNING_TIME in protected:
            raise _fail(
                f'"{HEADER_SIGNING_TIME}" header must not be present for {SCHEME_SIGNING_AUTHORITY} signing scheme'
            )
        if HEADER_AUTHENTIC_SIGNING_TIME not in protected:
            raise _fail(
                f'"{HEADER_AUTHENTIC_SIGNING_TIME}" header is missing for {SCHEME_SIGNING_AUTHORITY} signing scheme'
            )
    else:
        raise _fail(f"unsupported signingScheme: {scheme}")

    signing_time = authentic_time = expiry = None
    if scheme == SCHEME_X509:
        signing_time = _time(protected, HEADER_SIGNING_TIME, "signingTime")
    else:
        authentic_time = _time(protected, HEADER_AUTHENTIC_SIGNING_TIME, "authenticSigningTime")
    if HEADER_EXPIRY in protected:
        expiry = _time(protected, HEADER_EXPIRY, "expiry")

    if LABEL_CONTENT_TYPE not in protected:
        raise _fail("missing content type")
    content_type = protected[LABEL_CONTENT_TYPE]
    if not isinstance(content_type, str):
        raise _fail("content type should be of 'tstr' type")

    extended: list[ExtendedAttribute] = []
    seen: set[str] = set()
    for label, value in protected.items():
        if label in _SYSTEM_LABELS:
            continue
        key = str(label)
        if key in seen:
            raise _fail(f"protected header label {label!r} is ambiguous")
        seen.add(key)
        extended.append(ExtendedAttribute(key, value, label in crit))
    return algorithm, SignedAttributes(
        signing_scheme=scheme,
        content_type=content_type,
        signing_time=signing_time,
        authentic_signing_time=authentic_time,
        expiry=expiry,
        extended=tuple(extended),
    )


def _certificate_chain(unprotected: dict[Any, Any]) -> list[x509.Certificate]:
    """COSE-07: an array of bstr in the unprotected bucket."""
    certs = unprotected.get(LABEL_X5CHAIN)
    if not isinstance(certs, list) or not certs or not all(isinstance(c, bytes) for c in certs):
        raise _fail("certificate chain is not present")
    chain = []
    for index, raw in enumerate(certs):
        try:
            chain.append(parse_der_certificate(raw))
        except ValueError as exc:
            raise _fail(
                "malformed leaf certificate" if index == 0 else f"malformed certificate in chain: {exc}"
            ) from exc
    return chain


_SIG_STRUCTURE_PREFIX = b"\x84" + _cbor.dumps("Signature1")  # array(4), "Signature1"


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """COSE-10: the to-be-signed bytes for COSE_Sign1 with empty external AAD: the encoding of
    ``["Signature1", protected, h'', payload]``, written directly (it is built for every envelope verified)."""
    return b"".join((_SIG_STRUCTURE_PREFIX, _cbor.bytes_head(len(protected)), protected, b"\x40",
                     _cbor.bytes_head(len(payload)), payload))  # fmt: skip


def decode(data: bytes) -> DecodedEnvelope:
    """Parse a COSE_Sign1_Tagged envelope strictly (no signature check); raises EnvelopeError."""
    if not data.startswith(_SIGN1_PREFIX):
        raise _fail("cbor: invalid COSE_Sign1_Tagged object")
    try:
        protected_raw, unprotected, payload, signature = _cbor.loads_array_after(data, _SIGN1_PREFIX, 4)
    except _cbor.CBORError as exc:
        raise _fail(f"cbor: {exc}") from exc
    if not isinstance(protected_raw, bytes):
        raise _fail("cbor: invalid COSE_Sign1_Tagged object: protected header must be a byte string")
    if not isinstance(unprotected, dict):
        raise _fail("cbor: invalid COSE_Sign1_Tagged object: unprotected header must be a map")
    if not isinstance(payload, bytes):
        raise _fail("payload not present or detached")  # COSE-09
    if not isinstance(signature, bytes):
        raise _fail("cbor: invalid COSE_Sign1_Tagged object: signature must be a byte string")
    try:
        protected = _cbor.loads(protected_raw) if protected_raw else {}
    except _cbor.CBORError as exc:
        raise _fail(f"cbor: protected header: {exc}") from exc
    if not isinstance(protected, dict):
        raise _fail("cbor: protected header must be a map")
    _check_labels(protected, "protected")
    _check_labels(unprotected, "unprotected")
    both = [label for label in protected if label in unprotected]
    if both:
        raise _fail(f"header parameter {both[0]!r} present in both protected and unprotected headers")
    if LABEL_CRIT in unprotected:
        raise _fail("unprotected header: crit must be in the protected header")
    if LABEL_X5CHAIN in protected:
        raise _fail("certificate chain must be in the unprotected header")
    if not signature:
        raise _fail("signature missing in COSE envelope")

    algorithm, signed = _signed_attributes(protected)
    chain = _certificate_chain(unprotected)
    timestamp = unprotected.get(HEADER_TIMESTAMP_SIGNATURE)
    if timestamp is not None and not isinstance(timestamp, bytes):
        raise _fail(f'"{HEADER_TIMESTAMP_SIGNATURE}" must be a byte string')
    agent = unprotected.get(HEADER_SIGNING_AGENT)
    if agent is not None and not isinstance(agent, str):
        raise _fail(f'"{HEADER_SIGNING_AGENT}" must be a text string')
    info = SignerInfo(
        media_type=COSE_ENVELOPE,
        payload=payload,
        signature_algorithm=algorithm,
        signature=signature,
        certificate_chain=tuple(chain),
        signed=signed,
        unsigned=UnsignedAttributes(timestamp or None, agent or None) if timestamp or agent else NO_UNSIGNED,
    )
    return DecodedEnvelope(info=info, signed_bytes=sig_structure(protected_raw, payload))


@dataclass(frozen=True)
class ToBeSigned:
    protected: bytes
    payload: bytes

    @property
    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)


def _epoch(value: dt.datetime) -> _cbor.Tag:
    if value.tzinfo is None:
        raise SigningError("signing time must be timezone-aware")
    return _cbor.Tag(TAG_EPOCH, int(value.timestamp()))


def prepare(request: SignRequest, algorithm: SignatureAlgorithm) -> ToBeSigned:
    """The protected header as notation-core-go writes it (crit order, tag-1 times, deterministic map order)."""
    protected: dict[int | str, Any] = {
        LABEL_ALG: algorithm.cose,
        LABEL_CONTENT_TYPE: request.payload_content_type,
        HEADER_SIGNING_SCHEME: request.signing_scheme,
    }
    crit: list[int | str] = [HEADER_SIGNING_SCHEME]
    if request.signing_scheme == SCHEME_X509:
        protected[HEADER_SIGNING_TIME] = _epoch(request.signing_time)
    elif request.signing_scheme == SCHEME_SIGNING_AUTHORITY:
        protected[HEADER_AUTHENTIC_SIGNING_TIME] = _epoch(request.signing_time)
        crit.append(HEADER_AUTHENTIC_SIGNING_TIME)
    else:
        raise SigningError(f"unsupported signingScheme: {request.signing_scheme}")
    if request.expiry is not None:
        protected[HEADER_EXPIRY] = _epoch(request.expiry)
        crit.append(HEADER_EXPIRY)
    for attr in request.extended:
        if attr.key in protected or attr.key in (str(LABEL_CRIT),):
            raise SigningError(f'"{attr.key}" already exists in the protected header')  # COSE-12
        protected[attr.key] = attr.value
        if attr.critical:
            crit.append(attr.key)
    protected[LABEL_CRIT] = crit
    try:
        encoded = _cbor.dumps(protected)
    except _cbor.CBORError as exc:
        raise SigningError(f"cannot encode protected header: {exc}") from exc
    return ToBeSigned(protected=encoded, payload=request.payload)


def assemble(
    prepared: ToBeSigned,
    signature: bytes,
    chain: Sequence[x509.Certificate],
    *,
    signing_agent: str | None = None,
    timestamp: bytes | None = None,
) -> bytes:
    from cryptography.hazmat.primitives import serialization

    unprotected: dict[int | str, Any] = {
        LABEL_X5CHAIN: [c.public_bytes(serialization.Encoding.DER) for c in chain],
    }
    if signing_agent:
        unprotected[HEADER_SIGNING_AGENT] = signing_agent
    if timestamp:
        unprotected[HEADER_TIMESTAMP_SIGNATURE] = timestamp
    return _cbor.dumps(_cbor.Tag(TAG_SIGN1, [prepared.protected, unprotected, prepared.payload, signature]))
