"""JWS JSON flattened serialization of a Notary signature (signature.md §7, JWS-01..15).

Pure encode/decode: no certificate rules here. Decoding is strict (exact members, strict base64url, duplicate
JSON members rejected) and keeps the received ``protected`` and ``payload`` strings, because the signature covers
those exact bytes (SIG-31). Encoding writes the protected header as Go does (a JSON object with sorted keys).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from notation._internal.envelope._common import STANDARD_HEADERS, DecodedEnvelope, b64std_decode, b64url_decode
from notation._internal.envelope._common import b64url_encode as _b64url
from notation._internal.envelope._json import go_dumps, strict_loads
from notation._internal.envelope._times import format_rfc3339, parse_rfc3339
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
from notation._internal.oci.mediatypes import JWS_ENVELOPE
from notation._internal.records import dataclass
from notation._internal.x509.keys import parse_der_certificate
from notation.errors import EnvelopeError, SigningError

if TYPE_CHECKING:
    import datetime as dt

    from cryptography import x509

_MEMBERS = ("payload", "protected", "header", "signature")
_REGISTERED = ("alg", "cty", "crit")
_NOT_EXTENDED = frozenset((*_REGISTERED, *STANDARD_HEADERS))


def _fail(message: str) -> EnvelopeError:
    return EnvelopeError(message)


def _protected_error(detail: str) -> EnvelopeError:
    return EnvelopeError(f"jws envelope protected header can't be decoded: {detail}")


def _time_header(header: dict[str, Any], key: str) -> dt.datetime | None:
    if key not in header:
        return None
    value = header[key]
    if not isinstance(value, str):
        raise _protected_error(f'"{key}" must be an RFC 3339 time string')
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise _protected_error(f'"{key}": {exc}') from exc


def _check_scheme_and_crit(header: dict[str, Any], crit: list[str], extended: dict[str, Any]) -> None:
    """SIG-11, SIG-15, JWS-07, JWS-08, in Go's order (validateProtectedHeaders)."""
    scheme = header.get(HEADER_SIGNING_SCHEME)
    if scheme == SCHEME_X509:
        if HEADER_AUTHENTIC_SIGNING_TIME in header:
            raise _fail(
                f'"{HEADER_AUTHENTIC_SIGNING_TIME}" header must not be present for {SCHEME_X509} signing scheme'
            )
    elif scheme == SCHEME_SIGNING_AUTHORITY:
        if HEADER_SIGNING_TIME in header:
            raise _fail(
                f'"{HEADER_SIGNING_TIME}" header must not be present for {SCHEME_SIGNING_AUTHORITY} signing scheme'
            )
        if HEADER_AUTHENTIC_SIGNING_TIME not in header:
            # [sic] Go names the wrong scheme in this message.
            raise _fail(f'"{HEADER_AUTHENTIC_SIGNING_TIME}" header must be present for {SCHEME_X509} signing scheme')
    else:
        raise _fail(f"unsupported SigningScheme: `{scheme if isinstance(scheme, str) else ''}`")

    if not crit:
        raise _fail('missing "crit" header')
    must = [HEADER_SIGNING_SCHEME]
    if HEADER_EXPIRY in header:
        must.append(HEADER_EXPIRY)
    if scheme == SCHEME_SIGNING_AUTHORITY:
        must.append(HEADER_AUTHENTIC_SIGNING_TIME)
    for name in crit:
        if name in must:
            must.remove(name)
        elif name not in extended:
            raise _fail(f'"{name}" header is marked critical but not present')
    if must:
        raise _fail(f"these required headers are not marked as critical: [{' '.join(must)}]")


_X5C_LIMIT = 4096
_X5C: dict[str, tuple[str, x509.Certificate]] = {}
"""x5c entry -> the certificate parsed from it, successes only, bounded (cleared when full). Every envelope of one
signer carries the same x5c: strict base64 decoding of it was a third of decoding an envelope, and the DER-keyed
memos downstream (parse, chain rules) then hit by object. Keyed by the entry's last characters (the certificate's
signature) and holding the whole text, compared on every hit: the same answers as a dict keyed by the text, without
hashing some 5 KB of fresh strings per envelope."""
_X5C_KEY = 64


def decode(data: bytes) -> DecodedEnvelope:
    """Parse a JWS envelope strictly (no signature check); raises EnvelopeError with a one-line reason."""
    try:
        doc = strict_loads(data)
    except ValueError as exc:
        raise _fail(f"jws envelope is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise _fail("jws envelope is not a JSON object")
    for member in doc:
        if member not in _MEMBERS:
            raise _fail(f'jws envelope has unsupported member "{member}"')
    unprotected_member = doc.get("header")
    if not isinstance(unprotected_member, dict) or not unprotected_member.get("x5c"):
        raise _fail("certificate chain is not present")  # notation-core-go's Verify checks this before all else
    for member in _MEMBERS:
        if member not in doc:
            raise _fail(f'jws envelope is missing "{member}"')
        expected = dict if member == "header" else str
        if not isinstance(doc[member], expected):
            raise _fail(f'jws envelope member "{member}" has the wrong type')
    protected_b64: str = doc["protected"]
    payload_b64: str = doc["payload"]

    # Protected header (JWS-04..09, JWS-12).
    try:
        header = strict_loads(b64url_decode(protected_b64))
    except ValueError as exc:
        raise _protected_error(str(exc)) from exc
    if not isinstance(header, dict):
        raise _protected_error("not a JSON object")
    for key in ("alg", "cty", HEADER_SIGNING_SCHEME):
        if key in header and not isinstance(header[key], str):
            raise _protected_error(f'"{key}" must be a string')
    crit = header.get("crit", [])
    if not isinstance(crit, list) or not all(isinstance(c, str) for c in crit):
        raise _protected_error('"crit" must be an array of strings')
    signing_time = _time_header(header, HEADER_SIGNING_TIME)
    authentic_time = _time_header(header, HEADER_AUTHENTIC_SIGNING_TIME)
    expiry = _time_header(header, HEADER_EXPIRY)
    extended = {k: v for k, v in header.items() if k not in _NOT_EXTENDED}
    _check_scheme_and_crit(header, crit, extended)
    alg_name = header.get("alg", "")
    algorithm = SignatureAlgorithm.from_jws(alg_name)
    if algorithm is None:
        raise _fail(f'signature algorithm "{alg_name}" is not supported')
    if (signing_time if header[HEADER_SIGNING_SCHEME] == SCHEME_X509 else authentic_time) is None:
        raise _fail("signing-time not present")  # SIG-12

    # Signature.
    try:
        signature = b64url_decode(doc["signature"])
    except ValueError as exc:
        raise _fail(f"jws envelope signature can't be decoded: {exc}") from exc
    if not signature:
        raise _fail("signature missing in jws-json envelope")

    # Payload: golang-jwt requires JSON object claims (JWS-11).
    try:
        payload = b64url_decode(payload_b64)
    except ValueError as exc:
        raise _fail(f"jws envelope payload can't be decoded: {exc}") from exc
    try:
        claims = strict_loads(payload)
    except ValueError as exc:
        raise _fail(f"jws envelope payload is not valid JSON: {exc}") from exc
    if not isinstance(claims, dict):
        raise _fail("jws envelope payload is not a JSON object")

    # Unprotected header (JWS-10, JWS-15, SIG-22). Unknown members are unsigned and ignored.
    unprotected: dict[str, Any] = doc["header"]
    x5c = unprotected.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        raise _fail("certificate chain is not present")
    chain: list[x509.Certificate] = []
    for index, entry in enumerate(x5c):
        try:
            if not isinstance(entry, str):
                raise ValueError("x5c entry is not a string")
            seen = _X5C.get(entry[-_X5C_KEY:])
            if seen is not None and seen[0] == entry:
                cert = seen[1]
            else:
                cert = parse_der_certificate(b64std_decode(entry))
                if len(_X5C) >= _X5C_LIMIT:
                    _X5C.clear()
                _X5C[entry[-_X5C_KEY:]] = (entry, cert)
            chain.append(cert)
        except ValueError as exc:
            raise _fail(
                "malformed leaf certificate" if index == 0 else f"malformed certificate in chain: {exc}"
            ) from exc
    timestamp = None
    if HEADER_TIMESTAMP_SIGNATURE in unprotected:
        raw = unprotected[HEADER_TIMESTAMP_SIGNATURE]
        try:
            if not isinstance(raw, str):
                raise ValueError("not a string")
            timestamp = b64std_decode(raw)
        except ValueError as exc:
            raise _fail(f'"{HEADER_TIMESTAMP_SIGNATURE}" can\'t be decoded: {exc}') from exc
    agent = unprotected.get(HEADER_SIGNING_AGENT)
    if agent is not None and not isinstance(agent, str):
        raise _fail(f'"{HEADER_SIGNING_AGENT}" must be a string')

    info = SignerInfo(
        media_type=JWS_ENVELOPE,
        payload=payload,
        signature_algorithm=algorithm,
        signature=signature,
        certificate_chain=tuple(chain),
        signed=SignedAttributes(
            signing_scheme=header[HEADER_SIGNING_SCHEME],
            content_type=header.get("cty", ""),
            signing_time=signing_time,
            authentic_signing_time=authentic_time,
            expiry=expiry,
            extended=tuple(ExtendedAttribute(k, v, k in crit) for k, v in extended.items()),
        ),
        unsigned=UnsignedAttributes(timestamp or None, agent or None) if timestamp or agent else NO_UNSIGNED,
    )
    return DecodedEnvelope(info=info, signed_bytes=f"{protected_b64}.{payload_b64}".encode("ascii"))


@dataclass(frozen=True)
class ToBeSigned:
    """The JWS parts fixed before the primitive signature is made."""

    protected_b64: str
    payload_b64: str

    @property
    def signing_input(self) -> bytes:
        """JWS-03: ASCII(protected '.' payload)."""
        return f"{self.protected_b64}.{self.payload_b64}".encode("ascii")


def prepare(request: SignRequest, algorithm: SignatureAlgorithm) -> ToBeSigned:
    """Build the protected header exactly as notation-core-go does (keys sorted, crit in Go's order)."""
    header: dict[str, Any] = {
        "alg": algorithm.jws,
        "cty": request.payload_content_type,
        HEADER_SIGNING_SCHEME: request.signing_scheme,
    }
    crit = [HEADER_SIGNING_SCHEME]
    if request.signing_scheme == SCHEME_X509:
        header[HEADER_SIGNING_TIME] = format_rfc3339(request.signing_time)
    elif request.signing_scheme == SCHEME_SIGNING_AUTHORITY:
        header[HEADER_AUTHENTIC_SIGNING_TIME] = format_rfc3339(request.signing_time)
        crit.append(HEADER_AUTHENTIC_SIGNING_TIME)
    else:
        raise SigningError(f"unsupported SigningScheme: `{request.signing_scheme}`")
    if request.expiry is not None:
        header[HEADER_EXPIRY] = format_rfc3339(request.expiry)
        crit.append(HEADER_EXPIRY)
    for attr in request.extended:
        if attr.key in header or attr.key == "crit":
            raise SigningError(f"attribute key:{attr.key} repeated")  # JWS-13
        header[attr.key] = attr.value
        if attr.critical:
            crit.append(attr.key)
    header["crit"] = crit
    # Go re-serializes the payload through a map: sorted keys (PAY-06).
    try:
        claims = strict_loads(request.payload)
    except ValueError as exc:
        raise SigningError(f"payload format error: {exc}") from exc
    if not isinstance(claims, dict):
        raise SigningError("payload format error: payload is not a JSON object")
    return ToBeSigned(_b64url(go_dumps(header, sort_keys=True)), _b64url(go_dumps(claims, sort_keys=True)))


def assemble(
    prepared: ToBeSigned,
    signature: bytes,
    chain: Sequence[x509.Certificate],
    *,
    signing_agent: str | None = None,
    timestamp: bytes | None = None,
) -> bytes:
    """The envelope JSON, members in Go's order."""
    from cryptography.hazmat.primitives import serialization

    unprotected: dict[str, Any] = {}
    if timestamp:
        unprotected[HEADER_TIMESTAMP_SIGNATURE] = base64.b64encode(timestamp).decode("ascii")
    unprotected["x5c"] = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain]
    if signing_agent:
        unprotected[HEADER_SIGNING_AGENT] = signing_agent
    doc = {
        "payload": prepared.payload_b64,
        "protected": prepared.protected_b64,
        "header": unprotected,
        "signature": _b64url(signature),
    }
    return go_dumps(doc, sort_keys=False)
