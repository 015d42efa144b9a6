"""Sign -> verify_integrity round trips for every key type, both formats, self-signed and chained (SIG-02, ALG-01,
SIGN-04, SIGN-05, PAY-06)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from envelope_support import forge
from notation._internal.envelope import _cbor
from notation._internal.envelope.codec import ENVELOPE_TYPES, parse_envelope, sign_envelope, verify_integrity
from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.envelope.model import SignRequest
from notation._internal.envelope.payload import build_payload, parse_payload
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD
from notation.errors import SigningError, UnsupportedSignatureFormatError
from support import pki

TARGET = Descriptor(
    "application/vnd.oci.image.manifest.v1+json", "sha256:" + "b" * 64, 401, {"build": "42", "a<b>&c": "x"}
)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
KEY_KINDS = ["rsa2048", "rsa3072", "rsa4096", "ec256", "ec384", "ec521"]
FORMATS = [JWS_ENVELOPE, COSE_ENVELOPE]


def _request(media_type: str, *, expiry: dt.datetime | None = None) -> SignRequest:
    return SignRequest(
        payload=build_payload(TARGET, media_type),
        payload_content_type=NOTARY_PAYLOAD,
        signing_time=NOW,
        expiry=expiry,
        signing_agent="notation-py/test",
    )


@pytest.mark.parametrize("media_type", FORMATS)
@pytest.mark.parametrize("kind", KEY_KINDS)
def test_round_trip_self_signed(kind: str, media_type: str) -> None:
    """ALG-01: every supported key signs and verifies, self-signed leaf (CERT-02)."""
    leaf = pki.self_signed_leaf(f"self {kind}", key_kind=kind)
    envelope = sign_envelope(media_type, _request(media_type), LocalSigner(leaf.key, leaf.chain))
    info = verify_integrity(media_type, envelope)
    assert info.signature_algorithm is LocalSigner(leaf.key, leaf.chain).key_spec().algorithm
    assert info.certificate_chain == (leaf.cert,)
    assert info.signing_time == NOW
    assert info.unsigned.signing_agent == "notation-py/test"
    assert parse_payload(info.payload) == TARGET


@pytest.mark.parametrize("media_type", FORMATS)
@pytest.mark.parametrize("kind", KEY_KINDS)
def test_round_trip_with_intermediate(kind: str, media_type: str) -> None:
    root, inter, leaf = pki.chain3(leaf_kind=kind, ca_kind="ec384")
    expiry = NOW + dt.timedelta(days=1)
    envelope = sign_envelope(media_type, _request(media_type, expiry=expiry), LocalSigner(leaf.key, leaf.chain))
    info = verify_integrity(media_type, envelope)
    assert info.certificate_chain == (leaf.cert, inter.cert, root.cert)
    assert info.signed.expiry == expiry
    assert parse_envelope(media_type, envelope) == info


def test_jws_shape_matches_go() -> None:
    """JWS-03/§7.1: member order, protected header keys sorted, crit = [signingScheme, expiry], sorted payload."""
    leaf = pki.self_signed_leaf()
    request = _request(JWS_ENVELOPE, expiry=NOW + dt.timedelta(hours=1))
    envelope = sign_envelope(JWS_ENVELOPE, request, LocalSigner(leaf.key, leaf.chain))
    doc = json.loads(envelope)
    assert list(doc) == ["payload", "protected", "header", "signature"]
    assert list(doc["header"]) == ["x5c", "io.cncf.notary.signingAgent"]
    protected = forge_decode(doc["protected"])
    assert list(json.loads(protected)) == sorted(json.loads(protected))
    assert json.loads(protected)["crit"] == ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    assert protected.startswith(b'{"alg":"PS256","crit":[')
    payload = forge_decode(doc["payload"])
    # PAY-06: sorted keys, Go's HTML escaping.
    assert payload.startswith(
        b'{"targetArtifact":{"annotations":{"a\\u003cb\\u003e\\u0026c":"x","build":"42"},"digest"'
    )


def test_cose_shape_matches_go() -> None:
    """§8.1: tag 18, protected map in Go's order, x5chain array in the unprotected map, struct-order payload."""
    leaf = pki.self_signed_leaf(key_kind="ec256")
    envelope = sign_envelope(COSE_ENVELOPE, _request(COSE_ENVELOPE), LocalSigner(leaf.key, leaf.chain))
    assert envelope[:2] == b"\xd2\x84"
    message = _cbor.loads(envelope)
    protected = _cbor.loads(message.value[0])
    assert list(protected) == [1, 2, 3, "io.cncf.notary.signingTime", "io.cncf.notary.signingScheme"]
    assert protected["io.cncf.notary.signingTime"] == _cbor.Tag(1, int(NOW.timestamp()))
    assert message.value[1][33] == [forge.der(leaf.cert)]
    assert message.value[2].startswith(b'{"targetArtifact":{"mediaType":')


def test_rsa_pss_salt_is_hash_length() -> None:
    """ALG-05: we sign with salt = hash length, so a COSE verifier (salt = hash length) accepts JWS signatures too."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    leaf = pki.self_signed_leaf(key_kind="rsa3072")
    envelope = sign_envelope(JWS_ENVELOPE, _request(JWS_ENVELOPE), LocalSigner(leaf.key, leaf.chain))
    doc = json.loads(envelope)
    data = f"{doc['protected']}.{doc['payload']}".encode()
    leaf.cert.public_key().verify(  # type: ignore[union-attr, call-arg]
        forge_decode(doc["signature"]),
        data,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
        hashes.SHA384(),
    )


def test_sign_rejects_unknown_format() -> None:
    leaf = pki.self_signed_leaf()
    with pytest.raises(UnsupportedSignatureFormatError, match='media type "application/x" is not supported'):
        sign_envelope("application/x", _request(JWS_ENVELOPE), LocalSigner(leaf.key, leaf.chain))
    assert ENVELOPE_TYPES == {"jws": JWS_ENVELOPE, "cose": COSE_ENVELOPE}


@pytest.mark.parametrize("media_type", FORMATS)
def test_sign_rejects_expired_certificate_at_signing_time(media_type: str) -> None:
    """SIGN-05 / CERT-06: the chain must be valid at the signing time."""
    leaf = pki.self_signed_leaf(not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(days=1))
    with pytest.raises(SigningError, match="was invalid at signing time of"):
        sign_envelope(media_type, _request(media_type), LocalSigner(leaf.key, leaf.chain))


def test_sign_rejects_expiry_not_after_signing_time() -> None:
    """SIG-13 at signing."""
    leaf = pki.self_signed_leaf()
    with pytest.raises(SigningError, match=r"^expiry cannot be equal or before the signing time$"):
        sign_envelope(JWS_ENVELOPE, _request(JWS_ENVELOPE, expiry=NOW), LocalSigner(leaf.key, leaf.chain))


def test_sign_rejects_bad_chain() -> None:
    """SIGN-05: chain rules checked on our own output (leaf with a CA key usage)."""
    leaf = pki.self_signed_leaf(key_usage="digital_signature,key_encipherment")
    with pytest.raises(
        SigningError, match='The key usage must be "Digital Signature" only, but found "KeyEncipherment"'
    ):
        sign_envelope(COSE_ENVELOPE, _request(COSE_ENVELOPE), LocalSigner(leaf.key, leaf.chain))


def forge_decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
