"""Signing into an OCI layout through the sign workflow (MAN-09, MAN-21, CLI-43): what lands on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.oci.layout import OCILayout, write_image
from notation._internal.oci.mediatypes import (
    ANNOTATION_REF_NAME,
    COSE_ENVELOPE,
    EMPTY_JSON_DIGEST,
    JWS_ENVELOPE,
    MAX_ENVELOPE_SIZE,
    MAX_MANIFEST_SIZE,
)
from notation._internal.oci.signature_manifest import FORM_A, parse_signature_manifest
from notation._internal.workflows.sign import sign_artifact
from support.pki import self_signed_leaf


@pytest.mark.parametrize("media_type", [JWS_ENVELOPE, COSE_ENVELOPE])
def test_man21_sign_into_layout_then_list_and_read_back(tmp_path: Path, media_type: str) -> None:
    root = tmp_path / "layout"
    subject = write_image(root, "v1", {"app/message.txt": b"hello\n"})
    leaf = self_signed_leaf()
    layout = OCILayout.open(root)
    result = sign_artifact(layout, "v1", LocalSigner(leaf.key, [leaf.cert]), envelope_media_type=media_type)
    assert result.reference == f"{root}@{subject.digest}"  # CLI-43: layout path as given

    reopened = OCILayout.open(root)
    sigs = list(reopened.list_signatures(subject))
    assert sigs == [result.signature_manifest]
    manifest = parse_signature_manifest(reopened.fetch(sigs[0], MAX_MANIFEST_SIZE), sigs[0])
    assert manifest.form == FORM_A and manifest.subject == subject
    assert manifest.envelope.media_type == media_type
    assert reopened.fetch(manifest.envelope, MAX_ENVELOPE_SIZE)
    assert reopened.has_blob(EMPTY_JSON_DIGEST)
    entries = json.loads((root / "index.json").read_bytes())["manifests"]
    assert [e.get("annotations", {}).get(ANNOTATION_REF_NAME) for e in entries] == ["v1", None]
    assert "artifactType" not in entries[1]
