"""COSE envelope rules (signature.md §8: COSE-01..13) plus SIG-11..15, ALG-04..06 through the COSE codec."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from envelope_support import forge
from envelope_support.forge import cose_protected
from notation._internal.envelope import _cbor
from notation._internal.envelope.algorithms import SignatureAlgorithm
from notation._internal.envelope.codec import verify_integrity
from notation._internal.oci.mediatypes import COSE_ENVELOPE
from notation.errors import EnvelopeError, SignatureIntegrityError
from support import pki

RSA = pki.self_signed_leaf("rsa signer", key_kind="rsa2048")
EC = pki.self_signed_leaf("ec signer", key_kind="ec384")
T = _cbor.Tag(1, int(forge.NOW.timestamp()))


def _verify(data: bytes) -> Any:
    return verify_integrity(COSE_ENVELOPE, data)


def _rejects(data: bytes, message: str, error: type[Exception] = EnvelopeError) -> None:
    with pytest.raises(error) as err:
        _verify(data)
    assert str(err.value) == message


def test_valid_forged_envelopes() -> None:
    assert _verify(forge.cose(RSA)).signature_algorithm is SignatureAlgorithm.RSASSA_PSS_SHA256
    assert _verify(forge.cose(EC)).signature_algorithm is SignatureAlgorithm.ECDSA_SHA384


def test_cose01_tag_18_required() -> None:
    data = forge.cose(RSA)
    _rejects(data[1:], "cbor: invalid COSE_Sign1_Tagged object")  # untagged COSE_Sign1
    _rejects(b"\xd8\x62" + data[1:], "cbor: invalid COSE_Sign1_Tagged object")  # COSE_Sign (tag 98)
    _rejects(b"", "cbor: invalid COSE_Sign1_Tagged object")


def test_cose02_trailing_bytes_rejected() -> None:
    with pytest.raises(EnvelopeError, match="extraneous data"):
        _verify(forge.cose(RSA) + b"\x00")


def test_cose02_duplicate_labels_rejected() -> None:
    raw = _cbor.dumps(cose_protected())
    dup = bytes([raw[0] + 1]) + raw[1:] + _cbor.dumps(1) + _cbor.dumps(-37)
    with pytest.raises(EnvelopeError, match="duplicate CBOR map key 1"):
        _verify(forge.cose(RSA, protected_raw=dup))


def test_cose02_indefinite_length_rejected() -> None:
    data = bytearray(forge.cose(RSA))
    assert data[1] == 0x84
    data[1] = 0x9F  # indefinite-length array
    with pytest.raises(EnvelopeError):
        _verify(bytes(data) + b"\xff")
    raw = _cbor.dumps(cose_protected())
    indefinite = b"\xbf" + raw[1:] + b"\xff"
    with pytest.raises(EnvelopeError, match="indefinite-length CBOR items are not allowed"):
        _verify(forge.cose(RSA, protected_raw=indefinite))


def test_cose02_label_in_both_buckets() -> None:
    unprotected = {33: [forge.der(RSA.cert)], 3: "x"}
    with pytest.raises(EnvelopeError, match="present in both protected and unprotected headers"):
        _verify(forge.cose(RSA, unprotected=unprotected))


def test_cose02_label_types() -> None:
    with pytest.raises(EnvelopeError, match="header labels must be integers or text strings"):
        _verify(forge.cose(RSA, unprotected={33: [forge.der(RSA.cert)], b"x": 1}))


def test_cose04_crit_rules() -> None:
    p = cose_protected()
    del p[2]
    _rejects(forge.cose(RSA, p), "these required headers are not marked as critical: [io.cncf.notary.signingScheme]")
    _rejects(forge.cose(RSA, cose_protected() | {2: []}), "invalid crit header: must be a non-empty array")
    p = cose_protected()
    p[2] = ["io.cncf.notary.signingScheme", "com.example.absent"]
    _rejects(forge.cose(RSA, p), "missing critical header: com.example.absent")
    p = cose_protected(io__cncf__notary__expiry=_cbor.Tag(1, int(forge.NOW.timestamp()) + 3600))
    _rejects(forge.cose(RSA, p), "these required headers are not marked as critical: [io.cncf.notary.expiry]")
    p[2] = ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    assert _verify(forge.cose(RSA, p)).signed.expiry is not None


def test_cose05_times_must_be_tag_1() -> None:
    for bad in (int(forge.NOW.timestamp()), _cbor.Tag(0, "2026-01-01T00:00:00Z")):
        _rejects(
            forge.cose(RSA, cose_protected(io__cncf__notary__signingTime=bad)),
            "invalid signingTime: only Tag `1` Datetime CBOR object is supported",
        )
    p = cose_protected(io__cncf__notary__expiry=1)
    p[2] = ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    _rejects(forge.cose(RSA, p), "invalid expiry: only Tag `1` Datetime CBOR object is supported")


def test_cose06_content_type() -> None:
    _rejects(forge.cose(RSA, cose_protected() | {3: 50}), "content type should be of 'tstr' type")
    p = cose_protected()
    del p[3]
    _rejects(forge.cose(RSA, p), "missing content type")
    _rejects(
        forge.cose(RSA, cose_protected() | {3: "application/json"}),
        'payload content type "application/json" not supported',
        SignatureIntegrityError,
    )


def test_cose07_x5chain_array_in_unprotected() -> None:
    _rejects(forge.cose(RSA, unprotected={33: forge.der(RSA.cert)}), "certificate chain is not present")
    _rejects(forge.cose(RSA, unprotected={}), "certificate chain is not present")
    _rejects(forge.cose(RSA, unprotected={33: []}), "certificate chain is not present")
    _rejects(forge.cose(RSA, unprotected={33: [b"junk"]}), "malformed leaf certificate")
    p = cose_protected() | {33: [forge.der(RSA.cert)]}
    _rejects(forge.cose(RSA, p, unprotected={}), "certificate chain must be in the unprotected header")


def test_cose08_unsigned_attributes() -> None:
    unprotected = {
        33: [forge.der(RSA.cert)],
        "io.cncf.notary.signingAgent": "agent/1",
        "io.cncf.notary.timestampSignature": b"\x30\x00",
    }
    info = _verify(forge.cose(RSA, unprotected=unprotected))
    assert (info.unsigned.signing_agent, info.unsigned.timestamp_signature) == ("agent/1", b"\x30\x00")
    unprotected["io.cncf.notary.timestampSignature"] = "not bytes"
    with pytest.raises(EnvelopeError, match="must be a byte string"):
        _verify(forge.cose(RSA, unprotected=unprotected))


def test_cose09_payload_attached() -> None:
    raw = _cbor.dumps(cose_protected())
    detached = _cbor.dumps(_cbor.Tag(18, [raw, {33: [forge.der(RSA.cert)]}, None, b"\x01"]))
    _rejects(detached, "payload not present or detached")


def test_cose10_exact_protected_bytes_are_verified() -> None:
    """A re-encoding of the same protected map (other key order) is not what was signed."""
    raw = _cbor.dumps(cose_protected())
    data = _cbor.loads(forge.cose(RSA, protected_raw=raw))
    items = _cbor.loads(raw)
    reordered = bytes([raw[0]]) + b"".join(_cbor.dumps(k) + _cbor.dumps(v) for k, v in reversed(list(items.items())))
    assert _cbor.loads(reordered) == items and reordered != raw
    data.value[0] = reordered
    _rejects(_cbor.dumps(data), "signature is invalid. Error: verification error", SignatureIntegrityError)


def test_cose10_tampered_payload_and_signature() -> None:
    message = _cbor.loads(forge.cose(EC))
    message.value[2] = message.value[2].replace(b"401", b"402")
    _rejects(_cbor.dumps(message), "signature is invalid. Error: verification error", SignatureIntegrityError)
    message = _cbor.loads(forge.cose(RSA))
    message.value[3] = bytes([message.value[3][0] ^ 1]) + message.value[3][1:]
    _rejects(_cbor.dumps(message), "signature is invalid. Error: verification error", SignatureIntegrityError)


def test_cose12_extended_attributes() -> None:
    p = cose_protected() | {"com.example.x": 1, 77: "y"}
    info = _verify(forge.cose(RSA, p))
    assert {(a.key, a.value, a.critical) for a in info.signed.extended} == {
        ("com.example.x", 1, False),
        ("77", "y", False),
    }
    p[2] = ["io.cncf.notary.signingScheme", 77]
    with pytest.raises(SignatureIntegrityError, match='unknown critical extended attribute "77"'):
        _verify(forge.cose(RSA, p))


def test_cose13_alg04_algorithm_mismatch_and_unknown() -> None:
    data = forge.cose(RSA, cose_protected(-38), algorithm=SignatureAlgorithm.RSASSA_PSS_SHA384)
    with pytest.raises(SignatureIntegrityError, match=r"^mismatch between signature algorithm derived from signing"):
        _verify(data)
    _rejects(
        forge.cose(RSA, cose_protected(-257), algorithm=SignatureAlgorithm.RSASSA_PSS_SHA256),
        "signature algorithm not supported: -257",
    )
    p = cose_protected()
    del p[1]
    _rejects(forge.cose(RSA, p, algorithm=SignatureAlgorithm.RSASSA_PSS_SHA256), "algorithm not found")


def test_alg05_cose_requires_salt_equal_hash_length() -> None:
    raw = _cbor.dumps(cose_protected())
    tbs = _cbor.dumps(["Signature1", raw, b"", forge.PAYLOAD])
    sig = RSA.key.sign(tbs, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=20), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    _rejects(
        forge.cose(RSA, protected_raw=raw, signature=sig),
        "signature is invalid. Error: verification error",
        SignatureIntegrityError,
    )


def test_alg06_der_ecdsa_rejected() -> None:
    raw = _cbor.dumps(cose_protected(-35))
    tbs = _cbor.dumps(["Signature1", raw, b"", forge.PAYLOAD])
    der_sig = EC.key.sign(tbs, ec.ECDSA(hashes.SHA384()))  # type: ignore[union-attr, call-arg]
    _rejects(
        forge.cose(EC, protected_raw=raw, signature=der_sig),
        "signature is invalid. Error: verification error",
        SignatureIntegrityError,
    )


def test_sig11_sig15_schemes() -> None:
    _rejects(
        forge.cose(RSA, cose_protected(io__cncf__notary__authenticSigningTime=T)),
        '"io.cncf.notary.authenticSigningTime" header must not be present for notary.x509 signing scheme',
    )
    _rejects(
        forge.cose(RSA, cose_protected(io__cncf__notary__signingTime=None)),
        '"io.cncf.notary.signingTime" header is missing for notary.x509 signing scheme',
    )
    sa = cose_protected(io__cncf__notary__signingScheme="notary.x509.signingAuthority")
    sa["io.cncf.notary.authenticSigningTime"] = T
    sa[2] = ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime"]
    _rejects(
        forge.cose(RSA, sa),
        '"io.cncf.notary.signingTime" header must not be present for notary.x509.signingAuthority signing scheme',
    )
    del sa["io.cncf.notary.signingTime"]
    assert _verify(forge.cose(RSA, sa)).signed.authentic_signing_time is not None
    _rejects(forge.cose(RSA, cose_protected(io__cncf__notary__signingScheme="x")), "unsupported signingScheme: x")
    _rejects(forge.cose(RSA, cose_protected(io__cncf__notary__signingScheme=5)), "invalid signingScheme")


def test_sig13_expiry_not_after_signing_time() -> None:
    p = cose_protected(io__cncf__notary__expiry=T)
    p[2] = ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    _rejects(forge.cose(RSA, p), "expiry cannot be equal or before the signing time", SignatureIntegrityError)


def test_chain_rules_apply() -> None:
    _root, inter, leaf = pki.chain3(leaf_kind="ec256", ca_kind="ec256")
    _verify(forge.cose(leaf))
    with pytest.raises(SignatureIntegrityError, match=r"^certificate-chain is invalid, "):
        _verify(forge.cose(leaf, chain=[leaf.cert, inter.cert]))


def test_hostile_nesting_is_a_typed_error() -> None:
    """Deeply nested CBOR and JSON fail as EnvelopeError, never as a crash."""
    deep = b"\xd2\x84" + b"\x81" * 10_000 + b"\x00"
    with pytest.raises(EnvelopeError, match="nesting too deep"):
        _verify(deep)
    from notation._internal.envelope.codec import parse_envelope

    with pytest.raises(EnvelopeError, match="nested too deeply"):
        parse_envelope("application/jose+json", b"[" * 100_000 + b"]" * 100_000)


def test_truncated_cbor_is_a_typed_error() -> None:
    data = forge.cose(RSA)
    for cut in (3, 50, len(data) // 2, len(data) - 1):
        with pytest.raises(EnvelopeError):
            _verify(data[:cut])
