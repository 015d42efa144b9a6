"""Go-made envelopes from ../shared/interop (notation v1.3.2): verify_integrity accepts every untampered one and
rejects the tampered ones; our JWS protected header has the same shape as Go's (§7.1, §8.1, SIG-02, SIG-31)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from notation._internal.envelope import _cbor
from notation._internal.envelope.codec import sign_envelope, verify_integrity
from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.envelope.model import SignRequest
from notation._internal.envelope.payload import build_payload, parse_payload
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD, NOTARY_SIGNATURE
from notation.errors import SignatureIntegrityError
from support import pki

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop" / "v1"
pytestmark = pytest.mark.skipif(not (INTEROP / "cases.json").is_file(), reason="../shared/interop is absent")
# Cases whose envelope itself was altered after signing (the others fail later, on policy or trust).
TAMPERED = {"tampered", "swapped"}


def _cases() -> list[dict[str, Any]]:
    if not (INTEROP / "cases.json").is_file():
        return []
    return list(json.loads((INTEROP / "cases.json").read_text())["cases"])


def _blob(layout: Path, digest: str) -> bytes:
    algorithm, hexdigest = digest.split(":", 1)
    return (layout / "blobs" / algorithm / hexdigest).read_bytes()


def _envelope(case: dict[str, Any]) -> tuple[str, bytes]:
    """index.json -> the signature manifest (config.mediaType = notary signature) -> layers[0]."""
    layout = INTEROP / case["layout"]
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        manifest = json.loads(_blob(layout, entry["digest"]))
        if manifest.get("config", {}).get("mediaType") == NOTARY_SIGNATURE:
            layer = manifest["layers"][0]
            return layer["mediaType"], _blob(layout, layer["digest"])
    raise AssertionError(f"no signature manifest in {layout}")


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c["name"]))
def test_go_envelope_integrity(case: dict[str, Any]) -> None:
    media_type, envelope = _envelope(case)
    if any(word in case["name"] for word in TAMPERED):
        with pytest.raises(SignatureIntegrityError, match="signature is invalid"):
            verify_integrity(media_type, envelope)
        return
    info = verify_integrity(media_type, envelope)
    assert info.media_type == media_type
    assert parse_payload(info.payload).digest == case["digest"]
    assert info.unsigned.signing_agent == "notation-go/1.3.2"


def _go_envelope(media_type: str) -> bytes:
    for case in _cases():
        mt, envelope = _envelope(case)
        if mt == media_type and case["name"].endswith("rsa2048self"):
            return envelope
    raise AssertionError("no Go rsa2048self envelope")


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _ours(media_type: str, expiry: bool = False) -> bytes:
    leaf = pki.self_signed_leaf(key_kind="rsa2048")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    go = _go_envelope(media_type)
    go_payload = _b64(json.loads(go)["payload"]) if media_type == JWS_ENVELOPE else _cbor.loads(go).value[2]
    target = parse_payload(go_payload)
    request = SignRequest(
        payload=build_payload(target, media_type),
        payload_content_type=NOTARY_PAYLOAD,
        signing_time=now,
        expiry=now + dt.timedelta(days=1) if expiry else None,
        signing_agent="notation-py/test",
    )
    return sign_envelope(media_type, request, LocalSigner(leaf.key, leaf.chain))


def test_jws_header_shape_matches_go() -> None:
    go = json.loads(_go_envelope(JWS_ENVELOPE))
    ours = json.loads(_ours(JWS_ENVELOPE))
    assert list(ours) == list(go)
    assert list(ours["header"]) == list(go["header"])
    go_protected, our_protected = json.loads(_b64(go["protected"])), json.loads(_b64(ours["protected"]))
    assert list(our_protected) == list(go_protected)  # same keys, same (sorted) order
    assert our_protected["crit"] == go_protected["crit"]
    assert {k: v for k, v in our_protected.items() if "Time" not in k} == {
        k: v for k, v in go_protected.items() if "Time" not in k
    }
    # Same payload bytes as Go for the same target (PAY-06).
    assert ours["payload"] == go["payload"]


def test_jws_expiry_header_shape_matches_go() -> None:
    go_expiring = next(_envelope(c)[1] for c in _cases() if c["name"] == "jws-expired")
    go_protected = json.loads(_b64(json.loads(go_expiring)["protected"]))
    our_protected = json.loads(_b64(json.loads(_ours(JWS_ENVELOPE, expiry=True))["protected"]))
    assert list(our_protected) == list(go_protected)
    assert our_protected["crit"] == go_protected["crit"] == ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]


def test_cose_protected_shape_matches_go() -> None:
    go = _cbor.loads(_go_envelope(COSE_ENVELOPE))
    ours = _cbor.loads(_ours(COSE_ENVELOPE))
    go_protected, our_protected = _cbor.loads(go.value[0]), _cbor.loads(ours.value[0])
    assert list(our_protected) == list(go_protected)
    assert {k: v for k, v in our_protected.items() if "Time" not in str(k)} == {
        k: v for k, v in go_protected.items() if "Time" not in str(k)
    }
    assert list(ours.value[1]) == list(go.value[1])
    # The COSE payload bytes are identical to Go's for the same target (struct order).
    assert ours.value[2] == go.value[2]
    # Our deterministic encoder reproduces Go's protected bytes exactly.
    assert _cbor.dumps(go_protected) == go.value[0]
