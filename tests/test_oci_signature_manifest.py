"""Signature manifests (signature.md §11.1): Go-identical building (MAN-03, MAN-06..08) and reading (MAN-01/02/04)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from notation._internal.oci.descriptor import Descriptor, compute_digest
from notation._internal.oci.mediatypes import (
    ANNOTATION_CREATED,
    ANNOTATION_THUMBPRINTS,
    EMPTY_JSON_DIGEST,
    JWS_ENVELOPE,
    NOTARY_SIGNATURE,
    OCI_ARTIFACT_MANIFEST,
    OCI_EMPTY,
    OCI_IMAGE_INDEX,
    OCI_IMAGE_MANIFEST,
)
from notation._internal.oci.signature_manifest import (
    FORM_A,
    FORM_ARTIFACT,
    FORM_B,
    build_signature_manifest,
    format_signing_time,
    is_signature_manifest_descriptor,
    marshal_go_json,
    parse_signature_manifest,
)
from notation.errors import SigningError, StoreError

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop" / "v1"

SUBJECT = Descriptor(OCI_IMAGE_MANIFEST, "sha256:" + "b1" * 32, 401)
ENVELOPE = Descriptor(JWS_ENVELOPE, "sha256:" + "c2" * 32, 2193)
THUMB = "4a5c2de706d7cf22c69d7d92f95e13170477585df9376a09c78a1ca2f018fc69"
WHEN = dt.datetime(2026, 11, 28, 10, 26, 4, tzinfo=dt.UTC)


def _interop_signature_manifests() -> list[tuple[str, dict[str, Any], bytes]]:
    """(case name, index.json entry, manifest bytes) for every Go-made signature in the interop layouts."""
    out = []
    for index_path in sorted((INTEROP / "cases").glob("*/layout/index.json")):
        for entry in json.loads(index_path.read_bytes())["manifests"]:
            if "org.opencontainers.image.ref.name" in entry.get("annotations", {}):
                continue
            blob = index_path.parent / "blobs" / "sha256" / entry["digest"].split(":", 1)[1]
            out.append((index_path.parent.parent.name, entry, blob.read_bytes()))
    return out


needs_interop = pytest.mark.skipif(not INTEROP.is_dir(), reason="shared/interop not present")


@needs_interop
def test_man03_rebuilt_manifests_are_byte_identical_to_go() -> None:
    """MAN-03/06/07: from the subject, envelope, thumbprints and time, we write exactly Go 1.3.2's bytes."""
    cases = _interop_signature_manifests()
    assert len(cases) >= 20
    for name, entry, raw in cases:
        doc = json.loads(raw)
        annotations = doc["annotations"]
        when = dt.datetime.strptime(annotations[ANNOTATION_CREATED], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        data, desc = build_signature_manifest(
            Descriptor.from_dict(doc["subject"]),
            Descriptor.from_dict(doc["layers"][0]),
            signing_time=when,
            thumbprints=json.loads(annotations[ANNOTATION_THUMBPRINTS]),
        )
        assert data == raw, name
        assert desc.digest == entry["digest"] and desc.size == entry["size"], name
        assert dict(desc.annotations) == entry["annotations"], name
        assert desc.artifact_type == NOTARY_SIGNATURE


@needs_interop
def test_man01_go_manifests_parse_as_form_a() -> None:
    for name, entry, raw in _interop_signature_manifests():
        sm = parse_signature_manifest(raw, Descriptor.from_dict(entry))
        assert sm.form == FORM_A, name
        assert sm.envelope.media_type in ("application/jose+json", "application/cose"), name
        assert sm.subject is not None and sm.subject.media_type == OCI_IMAGE_MANIFEST
        assert sm.descriptor.artifact_type == NOTARY_SIGNATURE
        assert dict(sm.annotations) == entry["annotations"]


def test_ref04_descriptor_is_the_referrers_index_entry_form() -> None:
    data, desc = build_signature_manifest(SUBJECT, ENVELOPE, signing_time=WHEN, thumbprints=[THUMB])
    entry = marshal_go_json(desc.to_dict())
    assert entry == (
        b'{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'
        + compute_digest(data).encode()
        + b'","size":'
        + str(len(data)).encode()
        + b',"annotations":{"io.cncf.notary.x509chain.thumbprint#S256":"[\\"'
        + THUMB.encode()
        + b'\\"]","org.opencontainers.image.created":"2026-11-28T10:26:04Z"},'
        b'"artifactType":"application/vnd.cncf.notary.signature"}'
    )
    assert is_signature_manifest_descriptor(desc)


def test_man02_form_a_layout() -> None:
    data, _ = build_signature_manifest(SUBJECT, ENVELOPE, signing_time=WHEN, thumbprints=[THUMB.upper()])
    doc = json.loads(data)
    assert list(doc) == ["schemaVersion", "mediaType", "config", "layers", "subject", "annotations"]
    assert doc["config"] == {"mediaType": NOTARY_SIGNATURE, "digest": EMPTY_JSON_DIGEST, "size": 2}
    assert doc["layers"] == [ENVELOPE.to_dict()]
    assert "artifactType" not in doc
    # MAN-06: lowercase hex even when given uppercase.
    assert doc["annotations"][ANNOTATION_THUMBPRINTS] == json.dumps([THUMB], separators=(",", ":"))


def test_man08_plugin_annotations_first_then_overwritten_and_sorted() -> None:
    data, desc = build_signature_manifest(
        SUBJECT,
        ENVELOPE,
        signing_time=WHEN,
        thumbprints=[THUMB, "ab" * 32],
        extra_annotations={"zz.plugin": "a<b&c>", ANNOTATION_CREATED: "stale", "aa.plugin": "x"},
    )
    doc = json.loads(data)
    assert list(doc["annotations"]) == ["aa.plugin", ANNOTATION_THUMBPRINTS, ANNOTATION_CREATED, "zz.plugin"]
    assert doc["annotations"][ANNOTATION_CREATED] == "2026-11-28T10:26:04Z"
    assert json.loads(doc["annotations"][ANNOTATION_THUMBPRINTS]) == [THUMB, "ab" * 32]
    # Go's HTML-safe escaping of < > & inside strings.
    assert b'"a\\u003cb\\u0026c\\u003e"' in data
    assert desc.annotations["zz.plugin"] == "a<b&c>"


def test_man07_signing_time_is_utc_whole_seconds() -> None:
    tz = dt.timezone(dt.timedelta(hours=-8))
    assert format_signing_time(dt.datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=tz)) == "2026-01-02T11:04:05Z"
    assert format_signing_time(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"


def test_marshal_go_json_escapes() -> None:
    assert marshal_go_json({"k": "\u2028\u2029\b\f\n\x01é"}) == '{"k":"\\u2028\\u2029\\b\\f\\n\\u0001é"}'.encode()


@pytest.mark.parametrize("bad", [[], ["xyz"], ["ab" * 31]])
def test_build_rejects_bad_thumbprints(bad: list[str]) -> None:
    with pytest.raises(SigningError):
        build_signature_manifest(SUBJECT, ENVELOPE, signing_time=WHEN, thumbprints=bad)


def test_build_rejects_unknown_envelope_type() -> None:
    with pytest.raises(SigningError, match="not supported"):
        build_signature_manifest(
            SUBJECT, Descriptor("text/plain", ENVELOPE.digest, 1), signing_time=WHEN, thumbprints=[THUMB]
        )


# -- reading ------------------------------------------------------------------------------------------------------


def _manifest(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_MANIFEST,
        "config": {"mediaType": NOTARY_SIGNATURE, "digest": EMPTY_JSON_DIGEST, "size": 2},
        "layers": [ENVELOPE.to_dict()],
        "subject": SUBJECT.to_dict(),
        "annotations": {ANNOTATION_THUMBPRINTS: f'["{THUMB}"]'},
    }
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


def _parse(doc: dict[str, Any], media_type: str = OCI_IMAGE_MANIFEST) -> Any:
    data = json.dumps(doc).encode()
    return parse_signature_manifest(data, Descriptor.for_content(media_type, data))


def test_man02_form_b_is_accepted() -> None:
    sm = _parse(
        _manifest(
            artifactType=NOTARY_SIGNATURE,
            config={"mediaType": OCI_EMPTY, "digest": EMPTY_JSON_DIGEST, "size": 2, "data": "e30="},
        )
    )
    assert sm.form == FORM_B
    assert sm.envelope == ENVELOPE
    assert sm.subject == SUBJECT


def test_man01_withdrawn_artifact_manifest_is_accepted() -> None:
    doc = {
        "mediaType": OCI_ARTIFACT_MANIFEST,
        "artifactType": NOTARY_SIGNATURE,
        "blobs": [ENVELOPE.to_dict()],
        "subject": SUBJECT.to_dict(),
    }
    sm = _parse(doc, OCI_ARTIFACT_MANIFEST)
    assert sm.form == FORM_ARTIFACT
    assert sm.envelope == ENVELOPE


@pytest.mark.parametrize("count", [0, 2])
def test_man04_exactly_one_layer_with_go_message(count: int) -> None:
    with pytest.raises(StoreError) as err:
        _parse(_manifest(layers=[ENVELOPE.to_dict()] * count))
    assert str(err.value) == f"signature manifest requries exactly one signature envelope blob, got {count}"


def test_man04_unknown_layer_type_is_left_to_the_envelope_reader() -> None:
    sm = _parse(_manifest(layers=[{"mediaType": "application/x-other", "digest": ENVELOPE.digest, "size": 5}]))
    assert sm.envelope_media_type == "application/x-other"


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (_manifest(schemaVersion=1), "schemaVersion must be 2"),
        (_manifest(artifactType="application/example"), "not a Notary Project signature"),
        (_manifest(config={"mediaType": OCI_EMPTY, "digest": EMPTY_JSON_DIGEST, "size": 2}), "not a Notary"),
        (_manifest(layers={"x": 1}), "layers must be an array"),
        (_manifest(layers=[{"mediaType": JWS_ENVELOPE, "digest": "sha256:../../x", "size": 1}]), "invalid digest"),
        (_manifest(annotations={"a": 1}), "annotations must map strings to strings"),
        (_manifest(mediaType=OCI_IMAGE_INDEX), "does not match"),
        (_manifest(subject="nope"), "subject"),
    ],
)
def test_malformed_manifests_raise_store_error(doc: dict[str, Any], fragment: str) -> None:
    with pytest.raises(StoreError, match=fragment):
        _parse(doc)


def test_non_json_and_wrong_descriptor_type() -> None:
    with pytest.raises(StoreError, match="not valid JSON"):
        parse_signature_manifest(b"\xff{", Descriptor.for_content(OCI_IMAGE_MANIFEST, b"\xff{"))
    with pytest.raises(StoreError, match="not a JSON object"):
        parse_signature_manifest(b"[]", Descriptor.for_content(OCI_IMAGE_MANIFEST, b"[]"))
    with pytest.raises(StoreError, match=r"sigManifestDesc\.MediaType requires"):
        parse_signature_manifest(b"{}", Descriptor.for_content(OCI_IMAGE_INDEX, b"{}"))


def test_round_trip_build_then_parse() -> None:
    data, desc = build_signature_manifest(SUBJECT, ENVELOPE, signing_time=WHEN, thumbprints=[THUMB])
    sm = parse_signature_manifest(data, Descriptor(desc.media_type, desc.digest, desc.size))
    assert sm.form == FORM_A
    assert sm.descriptor == desc
    assert sm.envelope == ENVELOPE and sm.subject == SUBJECT


def test_is_signature_manifest_descriptor_filters_by_artifact_type() -> None:
    assert not is_signature_manifest_descriptor(Descriptor(OCI_IMAGE_MANIFEST, SUBJECT.digest, 1))
    assert not is_signature_manifest_descriptor(
        Descriptor(OCI_IMAGE_MANIFEST, SUBJECT.digest, 1, artifact_type="application/vnd.dev.cosign.artifact")
    )
    assert is_signature_manifest_descriptor(
        Descriptor(OCI_ARTIFACT_MANIFEST, SUBJECT.digest, 1, artifact_type=NOTARY_SIGNATURE)
    )
