"""What the JWS and COSE codecs share: the decoded form with its signed bytes, and strict base64 helpers."""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

from notation._internal.envelope.model import (
    HEADER_AUTHENTIC_SIGNING_TIME,
    HEADER_EXPIRY,
    HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME,
    SignerInfo,
)

STANDARD_HEADERS = (HEADER_SIGNING_SCHEME, HEADER_SIGNING_TIME, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY)

_B64STD_RE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class DecodedEnvelope(NamedTuple):
    """A structurally valid envelope: its content plus the exact bytes the primitive signature covers (internal, and
    a NamedTuple: one is built per envelope verified, at a quarter of a frozen record's cost)."""

    info: SignerInfo
    signed_bytes: bytes
    """JWS: ASCII(protected '.' payload) as received; COSE: the Sig_structure over the received protected bytes."""


_URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URL_VALUES = {c: i for i, c in enumerate(_URL_ALPHABET)}
_URL_TO_STD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")
_UNUSED_BITS = (0, 0, 0x0F, 0x03)
"""By length mod 4: the low bits of the last character that encode no data, zero in the one canonical encoding."""


def b64url_decode(text: str) -> bytes:
    """Strict RFC 7515 base64url: no padding, URL alphabet only, canonical trailing bits (JWS-02).

    The alphabet: no ``+``, ``/`` or ``=`` (the standard alphabet's own), and binascii's strict mode refuses every
    other character outside it after ``-_`` became ``+/`` (a regex over the text cost as much as the decoding; the
    two agree on 400k mutated inputs). Canonical means re-encoding gives the same text; with the alphabet checked
    that is exactly "the unused low bits of the last character are zero", which is tested directly.
    """
    rem = len(text) % 4
    if rem == 1 or "+" in text or "/" in text or "=" in text:
        raise ValueError("illegal base64url data")
    try:
        data = binascii.a2b_base64(text.encode("ascii").translate(_URL_TO_STD) + _PADDING[rem], strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("illegal base64url data") from None
    if rem and _URL_VALUES[text[-1]] & _UNUSED_BITS[rem]:
        raise ValueError("non-canonical base64url data")
    return data


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64std_decode(text: str) -> bytes:
    """Strict standard base64 with padding (x5c, timestamp token; JWS-02)."""
    if not _B64STD_RE.match(text) or len(text) % 4 != 0:
        raise ValueError("illegal base64 data")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("illegal base64 data") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("non-canonical base64 data")
    return data


_SEMVER = (  # re.match compiles and caches it on first use: not at import (start-up)
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def is_semver(text: str) -> bool:
    return bool(re.match(_SEMVER, text))
