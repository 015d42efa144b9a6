"""Issue 8, the tamper corpus: valid signatures of every format and key type, mutated in every way we can name,
must never pass ``verify_integrity`` unless the mutation left the signed bytes and the certificate chain unchanged
(VER-11, SIG-31, JWS-02..15, COSE-01..13, CERT-01..12).

Bases: JWS and COSE x RSA 2048/3072/4096 and EC P-256/384/521 x (self-signed leaf, leaf/intermediate/root), made
with ``sign_envelope`` and ``LocalSigner``, plus every Go-made interop signature that passes integrity
(``/work/shared/interop/v1``; skipped when absent).

Mutations: byte flips (sampled per region in the default mode: the protected header, payload, signature, every
certificate and the framing; every position with ``NOTATION_HARDENING_LONG=1``); every JSON member and CBOR map
entry removed, duplicated, retyped and reordered (envelope, unprotected header, protected header, payload);
certificates swapped, reordered, truncated, duplicated, cut short, padded and replaced by another trusted
certificate; signatures emptied, cut, extended, zeroed and replaced.

A mutation that verifies is acceptable only when the decoded envelope is equivalent: same signed bytes, signature,
algorithm, signed attributes and certificate chain (reordering unprotected members or changing the signing agent
may pass). The totals are reported by ``test_tamper_summary`` (printed, and as the ``tamper_*`` junit properties).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from notation._internal.envelope import _cbor
from notation._internal.envelope._common import b64url_decode, b64url_encode
from notation._internal.envelope._json import go_dumps
from notation._internal.envelope.codec import _decode, sign_envelope, verify_integrity
from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.envelope.model import SignRequest
from notation._internal.envelope.payload import build_payload
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD
from notation.errors import NotationError
from support import pki

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz import seeds as fuzz_seeds

LONG = os.environ.get("NOTATION_HARDENING_LONG") == "1"
FLIPS_PER_REGION = 64
"""Short mode: flipped positions per region (evenly spread, both ends included)."""
FLIP_MASKS = (0x01, 0x02, 0x80, 0xFF) if LONG else (0x01,)

KEY_KINDS = ["rsa2048", "rsa3072", "rsa4096", "ec256", "ec384", "ec521"]
FORMATS = {"jws": JWS_ENVELOPE, "cose": COSE_ENVELOPE}
TARGET = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "9" * 64, 1234, {"env": "prod"})
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)

RETYPE_JSON: tuple[Any, ...] = (None, 0, True, "", "x", [], {}, ["x"], 1.5)
RETYPE_CBOR: tuple[Any, ...] = (0, -1, "", "x", b"", b"x", [], {}, _cbor.Tag(1, 0), None, True, 1.5)


@dataclass
class Totals:
    bases: int = 0
    mutations: int = 0
    rejected: int = 0
    accepted_equivalent: int = 0
    accepted_bad: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)


TOTALS = Totals()


# --- the signatures under attack -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    name: str
    media_type: str
    envelope: bytes


@pytest.fixture(scope="module")
def outsiders() -> list[x509.Certificate]:
    """Certificates that are valid and trusted somewhere, but not part of any base's chain."""
    root = pki.root_ca("Other Trusted Root", key_kind="ec384")
    inter = pki.issue("Other Intermediate", key_kind="ec256", issuer=root, ca=True, path_length=0)
    leaf = pki.issue("other leaf", key_kind="ec256", issuer=inter)
    self_signed = pki.self_signed_leaf("other self-signed", key_kind="ec256")
    return [leaf.cert, inter.cert, root.cert, self_signed.cert]


def _generated(fmt: str, kind: str, chain: str) -> Base:
    media_type = FORMATS[fmt]
    if chain == "self":
        issued = pki.self_signed_leaf(f"tamper {kind}", key_kind=kind)
    else:
        issued = pki.chain3(leaf_kind=kind, ca_kind="ec384", leaf_cn=f"tamper {kind}")[2]
    request = SignRequest(
        payload=build_payload(TARGET, media_type),
        payload_content_type=NOTARY_PAYLOAD,
        signing_time=NOW,
        expiry=NOW + dt.timedelta(days=1),
        signing_agent="notation-py/tamper",
    )
    envelope = sign_envelope(media_type, request, LocalSigner(issued.key, issued.chain))
    return Base(f"{fmt}-{kind}-{chain}", media_type, envelope)


# --- what a verifying mutation must preserve -------------------------------------------------------------------


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _essence(media_type: str, data: bytes) -> tuple[Any, ...]:
    decoded = _decode(media_type, data)
    info = decoded.info
    return (
        decoded.signed_bytes,
        info.payload,
        info.signature,
        info.signature_algorithm,
        info.signed,
        info.unsigned.timestamp_signature,
        tuple(_der(c) for c in info.certificate_chain),
    )


# --- byte flips ----------------------------------------------------------------------------------------------


def _spread(start: int, end: int, count: int) -> set[int]:
    length = end - start
    if length <= 0:
        return set()
    if LONG or length <= count:
        return set(range(start, end))
    return {start + (i * (length - 1)) // (count - 1) for i in range(count)}


def _flip_positions(data: bytes, regions: list[bytes]) -> list[int]:
    """Every region sampled, plus the framing outside the regions (small, so all of it)."""
    positions: set[int] = set()
    covered: set[int] = set()
    for region in regions:
        start = data.find(region)
        assert start >= 0 and region, "region not found in envelope"
        positions |= _spread(start, start + len(region), FLIPS_PER_REGION)
        covered |= set(range(start, start + len(region)))
    framing = [i for i in range(len(data)) if i not in covered]
    positions |= set(framing) if LONG or len(framing) <= 4 * FLIPS_PER_REGION else set(framing[:: len(framing) // 96])
    return sorted(positions)


def _flips(data: bytes, regions: list[bytes]) -> Iterator[tuple[str, bytes]]:
    for pos in _flip_positions(data, regions):
        for mask in FLIP_MASKS:
            mutated = bytearray(data)
            mutated[pos] ^= mask
            yield f"flip[{pos}]^{mask:#x}", bytes(mutated)


# --- structural edits on ordered member lists --------------------------------------------------------------------

Pairs = list[tuple[Any, Any]]


def _member_edits(pairs: Pairs, retypes: tuple[Any, ...]) -> Iterator[tuple[str, Pairs]]:
    """Each member removed, duplicated (same and different value), retyped; the members reversed and rotated."""
    for i, (key, value) in enumerate(pairs):
        yield f"remove {key!r}", pairs[:i] + pairs[i + 1 :]
        yield f"duplicate {key!r}", [*pairs[: i + 1], (key, value), *pairs[i + 1 :]]
        yield f"duplicate {key!r} retyped", [*pairs, (key, retypes[1])]
        for new in retypes:
            if type(new) is not type(value) or new != value:
                yield f"retype {key!r}={new!r}", [*pairs[:i], (key, new), *pairs[i + 1 :]]
    if len(pairs) > 1:
        yield "reverse members", pairs[::-1]
        yield "rotate members", pairs[1:] + pairs[:1]


class _Raw:
    """Pre-encoded JSON or CBOR spliced into an encoding (a mutated member inside an otherwise unchanged document)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def _json_object(pairs: Pairs) -> bytes:
    """A JSON object from an ordered member list (duplicates allowed), in Go's compact form."""
    members = []
    for key, value in pairs:
        encoded = value.data if isinstance(value, _Raw) else go_dumps(value, sort_keys=False)
        members.append(go_dumps(str(key), sort_keys=False) + b":" + encoded)
    return b"{" + b",".join(members) + b"}"


def _cbor_map(pairs: Pairs) -> bytes:
    """A CBOR map from an ordered entry list (duplicates and any order allowed)."""
    return _cbor._head(5, len(pairs)) + b"".join(_cbor_dumps(k) + _cbor_dumps(v) for k, v in pairs)


def _cbor_dumps(value: Any) -> bytes:
    """``_cbor.dumps`` plus floats and pre-encoded parts."""
    if isinstance(value, _Raw):
        return value.data
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, list):
        return _cbor._head(4, len(value)) + b"".join(_cbor_dumps(v) for v in value)
    if isinstance(value, dict):
        return _cbor_map(list(value.items()))
    if isinstance(value, _cbor.Tag):
        return _cbor._head(6, value.number) + _cbor_dumps(value.value)
    return _cbor.dumps(value)


# --- certificate-chain edits (shared by both formats) --------------------------------------------------------


def _chain_edits(chain: list[bytes], outsiders: list[bytes]) -> Iterator[tuple[str, list[bytes]]]:
    n = len(chain)
    for perm in itertools.permutations(range(n)):
        if list(perm) != list(range(n)):
            yield f"reorder {perm}", [chain[i] for i in perm]
    for i in range(n):
        yield f"drop cert {i}", chain[:i] + chain[i + 1 :]
        yield f"duplicate cert {i}", [*chain[: i + 1], chain[i], *chain[i + 1 :]]
        yield f"cut cert {i} short", [*chain[:i], chain[i][: len(chain[i]) // 2], *chain[i + 1 :]]
        yield f"cut cert {i} by one byte", [*chain[:i], chain[i][:-1], *chain[i + 1 :]]
        yield f"pad cert {i}", [*chain[:i], chain[i] + b"\x00", *chain[i + 1 :]]
        for j, other in enumerate(outsiders):
            yield f"replace cert {i} by trusted outsider {j}", [*chain[:i], other, *chain[i + 1 :]]
    yield "truncate to leaf", chain[:1]
    yield "outsider chain", outsiders[:3]
    yield "outsider prepended", [outsiders[0], *chain]
    yield "outsider appended", [*chain, outsiders[2]]
    yield "empty chain", []


def _signature_edits(signature: bytes) -> Iterator[tuple[str, bytes]]:
    yield "empty signature", b""
    yield "signature cut by one byte", signature[:-1]
    yield "signature extended", signature + b"\x00"
    yield "signature zeroed", bytes(len(signature))
    yield "signature halves swapped", signature[len(signature) // 2 :] + signature[: len(signature) // 2]
    yield "signature doubled", signature + signature


# --- JWS ---------------------------------------------------------------------------------------------------------


def _jws_mutations(data: bytes, outsiders: list[bytes]) -> Iterator[tuple[str, bytes]]:
    doc = json.loads(data)
    top: Pairs = list(doc.items())
    header: Pairs = list(doc["header"].items())

    def with_top(**changes: Any) -> bytes:
        return _json_object([(k, changes.get(k, v)) for k, v in top])

    def with_header(pairs: Pairs) -> bytes:
        return _json_object([(k, _Raw(_json_object(pairs)) if k == "header" else v) for k, v in top])

    regions = [doc["protected"].encode(), doc["payload"].encode(), doc["signature"].encode()]
    regions += [c.encode() for c in doc["header"]["x5c"]]
    agent = doc["header"].get("io.cncf.notary.signingAgent")
    if agent:
        regions.append(agent.encode())
    yield from _flips(data, regions)

    for label, pairs in _member_edits(top, RETYPE_JSON):
        yield f"envelope: {label}", _json_object(pairs)
    for label, pairs in _member_edits(header, RETYPE_JSON):
        yield f"header: {label}", with_header(pairs)

    protected: Pairs = list(json.loads(b64url_decode(doc["protected"])).items())
    for label, pairs in _member_edits(protected, RETYPE_JSON):
        yield f"protected: {label}", with_top(protected=b64url_encode(_json_object(pairs)))
    crit = dict(protected)["crit"]
    for i in range(len(crit)):
        edited = [(k, crit[:i] + crit[i + 1 :] if k == "crit" else v) for k, v in protected]
        yield f"protected: crit without {crit[i]}", with_top(protected=b64url_encode(_json_object(edited)))
    yield "protected: padded base64", with_top(protected=doc["protected"] + "=")

    payload = json.loads(b64url_decode(doc["payload"]))
    for label, pairs in _member_edits(list(payload["targetArtifact"].items()), RETYPE_JSON):
        edited = _json_object([("targetArtifact", _Raw(_json_object(pairs)))])
        yield f"payload: {label}", with_top(payload=b64url_encode(edited))
    yield "payload: re-serialized", with_top(payload=b64url_encode(json.dumps(payload, indent=1).encode()))
    yield "payload: trailing space", with_top(payload=b64url_encode(b64url_decode(doc["payload"]) + b" "))

    x5c_der = [base64.b64decode(c, validate=True) for c in doc["header"]["x5c"]]
    for label, chain in _chain_edits(x5c_der, outsiders):
        x5c = [base64.b64encode(c).decode() for c in chain]
        yield f"x5c: {label}", with_header([(k, x5c if k == "x5c" else v) for k, v in header])
    signature = b64url_decode(doc["signature"])
    for label, sig in _signature_edits(signature):
        yield f"jws {label}", with_top(signature=b64url_encode(sig))
    yield "signature: not base64url", with_top(signature=doc["signature"] + "==")
    yield "detached payload", with_top(payload="")


# --- COSE --------------------------------------------------------------------------------------------------------


def _cose_mutations(data: bytes, outsiders: list[bytes]) -> Iterator[tuple[str, bytes]]:
    message = _cbor.loads(data)
    protected_raw, unprotected, payload, signature = message.value
    protected: Pairs = list(_cbor.loads(protected_raw).items())
    unprot: Pairs = list(unprotected.items())
    chain = list(unprotected[33])

    def message_with(
        protected_bytes: bytes = protected_raw,
        unprotected_raw: bytes | None = None,
        payload_bytes: bytes = payload,
        sig: bytes = signature,
    ) -> bytes:
        unprot_raw = unprotected_raw if unprotected_raw is not None else _cbor.dumps(unprotected)
        return _cbor_dumps(_cbor.Tag(18, [protected_bytes, _Raw(unprot_raw), payload_bytes, sig]))

    regions = [protected_raw, payload, signature, *chain]
    yield from _flips(data, regions)

    elements: Pairs = list(enumerate([protected_raw, unprotected, payload, signature]))
    for label, pairs in _member_edits(elements, RETYPE_CBOR):
        yield f"message: {label}", _cbor_dumps(_cbor.Tag(18, [v for _, v in pairs]))
    yield "message: untagged", _cbor.dumps(message.value)
    yield "message: tag 98", _cbor.dumps(_cbor.Tag(98, message.value))
    yield "message: trailing byte", data + b"\x00"

    for label, pairs in _member_edits(unprot, RETYPE_CBOR):
        yield f"unprotected: {label}", message_with(unprotected_raw=_cbor_map(pairs))
    for label, pairs in _member_edits(protected, RETYPE_CBOR):
        yield f"protected: {label}", message_with(protected_bytes=_cbor_map(pairs))
    crit = dict(protected)[2]
    for i in range(len(crit)):
        edited = [(k, crit[:i] + crit[i + 1 :] if k == 2 else v) for k, v in protected]
        yield f"protected: crit without {crit[i]}", message_with(protected_bytes=_cbor_map(edited))
    yield (
        "protected: moved to unprotected",
        message_with(protected_bytes=b"\xa0", unprotected_raw=_cbor_map(unprot + protected)),
    )
    yield (
        "protected: non-shortest length head",
        message_with(protected_bytes=b"\xb8" + bytes([len(protected)]) + _cbor_map(protected)[1:]),
    )

    target = json.loads(payload)["targetArtifact"]
    for label, pairs in _member_edits(list(target.items()), RETYPE_JSON):
        edited = _json_object([("targetArtifact", _Raw(_json_object(pairs)))])
        yield f"payload: {label}", message_with(payload_bytes=edited)
    yield "payload: re-serialized", message_with(payload_bytes=json.dumps(json.loads(payload), indent=1).encode())
    yield "payload: detached", _cbor_dumps(_cbor.Tag(18, [protected_raw, unprotected, None, signature]))

    for label, edited_chain in _chain_edits(chain, outsiders):
        value: Any = edited_chain
        yield (
            f"x5chain: {label}",
            message_with(unprotected_raw=_cbor_map([(k, value if k == 33 else v) for k, v in unprot])),
        )
    yield (
        "x5chain: single bstr",
        message_with(unprotected_raw=_cbor_map([(k, v[0] if k == 33 else v) for k, v in unprot])),
    )
    yield "x5chain: in protected", message_with(protected_bytes=_cbor_map([*protected, (33, chain)]))
    for label, sig in _signature_edits(signature):
        yield f"cose {label}", message_with(sig=sig)


# --- running a corpus ----------------------------------------------------------------------------------------------


def _run(base: Base, outsiders: list[x509.Certificate], record_property: Callable[[str, object], None]) -> None:
    original = _essence(base.media_type, base.envelope)
    verify_integrity(base.media_type, base.envelope)  # the base itself is valid
    others = [_der(c) for c in outsiders]
    mutate = _jws_mutations if base.media_type == JWS_ENVELOPE else _cose_mutations
    count = rejected = equivalent = 0
    bad: list[str] = []
    crashes: list[str] = []
    for label, mutated in mutate(base.envelope, others):
        if mutated == base.envelope:
            continue
        count += 1
        try:
            verify_integrity(base.media_type, mutated)
        except NotationError:
            rejected += 1
            continue
        except Exception as exc:  # any other exception is a bug of its own
            crashes.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        if _essence(base.media_type, mutated) == original:
            equivalent += 1
        else:
            bad.append(label)
    TOTALS.bases += 1
    TOTALS.mutations += count
    TOTALS.rejected += rejected
    TOTALS.accepted_equivalent += equivalent
    TOTALS.accepted_bad += [f"{base.name}: {b}" for b in bad]
    TOTALS.crashes += [f"{base.name}: {c}" for c in crashes]
    record_property("tamper_mutations", count)
    record_property("tamper_accepted_equivalent", equivalent)
    assert count > 100, f"{base.name}: too few mutations ({count})"
    assert not crashes, f"{base.name}: {len(crashes)} mutations raised a non-NotationError: {crashes[:5]}"
    assert not bad, f"{base.name}: {len(bad)} of {count} mutations verified with changed content: {bad[:10]}"


@pytest.mark.parametrize("chain", ["self", "chain3"])
@pytest.mark.parametrize("kind", KEY_KINDS)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_tamper_generated(
    fmt: str, kind: str, chain: str, outsiders: list[x509.Certificate], record_property: Callable[[str, object], None]
) -> None:
    """VER-11: no mutation of our own signatures verifies unless it changes nothing signed."""
    _run(_generated(fmt, kind, chain), outsiders, record_property)


def _interop_bases() -> list[Base]:
    out = []
    for sig in fuzz_seeds.interop_signatures():
        try:
            verify_integrity(sig.envelope_media_type, sig.envelope)
        except NotationError:
            continue  # the deliberately tampered cases are not bases
        out.append(Base(f"interop-{sig.case}", sig.envelope_media_type, sig.envelope))
    return out


_INTEROP = _interop_bases()


@pytest.mark.skipif(not _INTEROP, reason="Go interop vectors (/work/shared/interop/v1) not present")
@pytest.mark.parametrize("base", _INTEROP or [None], ids=lambda b: b.name if b else "none")
def test_tamper_interop(
    base: Base, outsiders: list[x509.Certificate], record_property: Callable[[str, object], None]
) -> None:
    """VER-11 on Go-made envelopes (notation v1.3.2): same rule, byte flips cover Go's exact layout."""
    _run(base, outsiders, record_property)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_certificate_signature_unused_bits_are_refused(fmt: str) -> None:
    """Found by the long corpus: changing the unused-bits count of a certificate's signature BIT STRING kept the
    signature verifying in cryptography (a different DER certificate with the same signature); Go fails it."""
    from notation._internal.x509.keys import _tlv_end

    for _ in range(40):  # the certificate's signature must end in a zero bit for the forgery to parse
        base = _generated(fmt, "ec256", "self")
        der = _der(verify_integrity(base.media_type, base.envelope).certificate_chain[0])
        if der[-1] & 1 == 0:
            break
    body, _ = _tlv_end(der, 0)
    _, pos = _tlv_end(der, body)
    _, pos = _tlv_end(der, pos)
    start, _ = _tlv_end(der, pos)
    assert der[pos] == 0x03 and der[start] == 0
    forged = der[:start] + b"\x01" + der[start + 1 :]
    x509.load_der_x509_certificate(forged)  # cryptography itself accepts it
    if fmt == "jws":
        doc = json.loads(base.envelope)
        doc["header"]["x5c"] = [base64.b64encode(forged).decode()]
        mutated = json.dumps(doc).encode()
    else:
        message = _cbor.loads(base.envelope)
        message.value[1][33] = [forged]
        mutated = _cbor_dumps(message)
    with pytest.raises(NotationError, match="malformed"):
        verify_integrity(base.media_type, mutated)


def test_tamper_summary(record_property: Callable[[str, object], None]) -> None:
    """The corpus figures for the issue's closing note (runs last in file order; skipped when run alone)."""
    if not TOTALS.bases:
        pytest.skip("no tamper corpus ran in this session")
    summary = (
        f"tamper corpus: {TOTALS.bases} base signatures, {TOTALS.mutations} mutations, {TOTALS.rejected} rejected, "
        f"{TOTALS.accepted_equivalent} accepted as equivalent (unsigned changes), {len(TOTALS.accepted_bad)} accepted "
        f"with changed content, {len(TOTALS.crashes)} crashes ({'long' if LONG else 'short'} mode)"
    )
    print(summary)
    for key in ("bases", "mutations", "rejected", "accepted_equivalent"):
        record_property(f"tamper_{key}", getattr(TOTALS, key))
    record_property("tamper_accepted_bad", len(TOTALS.accepted_bad))
    report = os.environ.get("NOTATION_HARDENING_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as fh:
            fh.write(summary + "\n")
    assert not TOTALS.accepted_bad and not TOTALS.crashes, summary
    assert TOTALS.mutations > 100 * TOTALS.bases, summary
