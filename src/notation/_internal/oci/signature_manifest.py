"""Notary Project signature manifests (signature.md §11.1): build them as Go 1.3.2 does, read both forms.

Building must be byte-identical to Go: the manifest digest is what `notation list` prints and what the referrers
index records, so a drop-in must produce the same bytes for the same inputs (MAN-03). Reading is lenient in form
(Form A, Form B, the withdrawn artifact manifest) but strict in structure: anything malformed raises StoreError.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.mediatypes import (
    ANNOTATION_CREATED,
    ANNOTATION_THUMBPRINTS,
    EMPTY_JSON,
    EMPTY_JSON_DIGEST,
    ENVELOPE_MEDIA_TYPES,
    NOTARY_SIGNATURE,
    OCI_ARTIFACT_MANIFEST,
    OCI_EMPTY,
    OCI_IMAGE_MANIFEST,
)
from notation._internal.records import dataclass, field
from notation.errors import SigningError, StoreError

SignatureManifestForm = Literal["A", "B", "artifact"]
FORM_A: Final = "A"
"""Legacy form written by Go 1.3.x: ``config.mediaType`` is the notary type, no ``artifactType``."""
FORM_B: Final = "B"
"""OCI 1.1 form: ``artifactType`` is the notary type, the config is the empty descriptor."""
FORM_ARTIFACT: Final = "artifact"
"""The withdrawn OCI artifact manifest (envelope in ``blobs[0]``); read-only (MAN-01)."""

_THUMBPRINT = r"^[0-9a-f]{64}$"  # re.match compiles and caches on first use: not at import (start-up)

# Go's encoding/json escapes these inside strings; Python's json module does not.
_GO_EXTRA_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_EXTRA_ESCAPES_CLASS = "[<>&\u2028\u2029]"


def marshal_go_json(obj: Any) -> bytes:
    """Serialize ``obj`` exactly as Go's ``json.Marshal`` would for the same members in the same order.

    Compact separators, UTF-8 output, HTML-safe escapes (``<`` ``>`` ``&`` U+2028 U+2029), Go's control character
    escapes (which since Go 1.22 match Python's: short forms for \\b \\f \\n \\r \\t, ``\\u00xx`` otherwise).
    Map ordering is the caller's job: build dicts in struct-field order and sort map-typed members by key, as Go
    sorts map keys.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # '<', '>', '&', U+2028/9 can only occur inside JSON strings, so a global replacement is exact.
    text = re.sub(_GO_EXTRA_ESCAPES_CLASS, lambda m: _GO_EXTRA_ESCAPES[m.group(0)], text)
    return text.encode("utf-8")


def format_signing_time(signing_time: dt.datetime) -> str:
    """MAN-07: UTC, RFC 3339, whole seconds (Go ``time.RFC3339`` drops fractions). Naive times are taken as UTC."""
    if signing_time.tzinfo is None:
        signing_time = signing_time.replace(tzinfo=dt.UTC)
    t = signing_time.astimezone(dt.UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def _plain(desc: Descriptor) -> dict[str, Any]:
    """The three members Go writes for the subject and the envelope layer (mediaType, digest, size)."""
    return {"mediaType": desc.media_type, "digest": desc.digest, "size": desc.size}


def build_signature_manifest(
    subject: Descriptor,
    envelope: Descriptor,
    *,
    signing_time: dt.datetime,
    thumbprints: list[str],
    extra_annotations: Mapping[str, str] | None = None,
) -> tuple[bytes, Descriptor]:
    """Build the Form A signature manifest Go 1.3.2 writes (MAN-02..08) and its referrers-index descriptor (REF-04).

    ``thumbprints`` are the SHA-256 hex digests of the envelope's certificate chain, leaf first (MAN-06);
    ``extra_annotations`` are an envelope-generator plugin's annotations (MAN-08), overwritten by the two
    annotations notation always sets. Returns the manifest bytes and its descriptor carrying the manifest
    annotations and ``artifactType`` = the notary signature type.
    """
    if envelope.media_type not in ENVELOPE_MEDIA_TYPES:
        raise SigningError(f'signature envelope format with media type "{envelope.media_type}" is not supported')
    normalized: list[str] = []
    for thumbprint in thumbprints:
        lowered = thumbprint.lower()
        if not re.match(_THUMBPRINT, lowered):
            raise SigningError(f"invalid certificate thumbprint {thumbprint!r}: expected 64 hex digits")
        normalized.append(lowered)
    if not normalized:
        raise SigningError("a signature manifest needs the thumbprints of at least one certificate")

    annotations: dict[str, str] = dict(extra_annotations or {})
    annotations[ANNOTATION_THUMBPRINTS] = marshal_go_json(normalized).decode("utf-8")
    annotations[ANNOTATION_CREATED] = format_signing_time(signing_time)
    annotations = dict(sorted(annotations.items()))  # Go marshals map keys in sorted order

    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_MANIFEST,
        "config": {"mediaType": NOTARY_SIGNATURE, "digest": EMPTY_JSON_DIGEST, "size": len(EMPTY_JSON)},
        "layers": [_plain(envelope)],
        "subject": _plain(subject),
        "annotations": annotations,
    }
    data = marshal_go_json(manifest)
    descriptor = Descriptor.for_content(
        OCI_IMAGE_MANIFEST, data, annotations=annotations, artifact_type=NOTARY_SIGNATURE
    )
    return data, descriptor


def is_signature_manifest_descriptor(desc: Descriptor) -> bool:
    """True for a referrers-index entry that names a Notary signature manifest (REF-01/03 artifactType filter)."""
    return desc.artifact_type == NOTARY_SIGNATURE and desc.media_type in (OCI_IMAGE_MANIFEST, OCI_ARTIFACT_MANIFEST)


@dataclass(frozen=True)
class SignatureManifest:
    """What the verify, list and inspect workflows need from a signature manifest."""

    descriptor: Descriptor
    """The manifest's own descriptor (as listed), with the manifest annotations and the notary artifactType."""
    envelope: Descriptor
    """The envelope blob (the single layer, or ``blobs[0]`` of an artifact manifest)."""
    subject: Descriptor | None
    annotations: Mapping[str, str] = field(default_factory=dict)
    form: SignatureManifestForm = FORM_A

    @property
    def envelope_media_type(self) -> str:
        return self.envelope.media_type


def _string_map(obj: Any, what: str) -> dict[str, str]:
    if obj is None:
        return {}
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in obj.items()):
        raise StoreError(f"invalid signature manifest: {what} must map strings to strings")
    return dict(obj)


def _descriptor(obj: Any, what: str) -> Descriptor:
    try:
        return Descriptor.from_dict(obj)
    except StoreError as exc:
        raise StoreError(f"invalid signature manifest: {what}: {exc}") from None


def _optional_str(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise StoreError(f"invalid signature manifest: {key} must be a string")
    return value


def parse_signature_manifest(data: bytes, descriptor: Descriptor) -> SignatureManifest:
    """Parse a fetched signature manifest (MAN-01, MAN-02, MAN-04); the caller has already checked size and digest.

    The descriptor's media type selects image vs. artifact manifest, as in Go. Any layer media type is accepted
    here: an unsupported envelope type is an integrity failure of that one signature (MAN-04), decided by the
    envelope reader, not a failure to read the manifest.
    """
    if descriptor.media_type not in (OCI_IMAGE_MANIFEST, OCI_ARTIFACT_MANIFEST):
        raise StoreError(
            f'sigManifestDesc.MediaType requires "{OCI_ARTIFACT_MANIFEST}" or "{OCI_IMAGE_MANIFEST}", '
            f'got "{descriptor.media_type}"'
        )
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"invalid signature manifest {descriptor.digest}: not valid JSON ({exc})") from None
    except RecursionError:  # hostile nesting must be a typed error, not a crash
        raise StoreError(f"invalid signature manifest {descriptor.digest}: JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise StoreError(f"invalid signature manifest {descriptor.digest}: not a JSON object")
    media_type = _optional_str(doc, "mediaType")
    if media_type is not None and media_type != descriptor.media_type:
        raise StoreError(
            f'invalid signature manifest {descriptor.digest}: mediaType "{media_type}" does not match the '
            f'descriptor\'s "{descriptor.media_type}"'
        )
    artifact_type = _optional_str(doc, "artifactType")
    annotations = _string_map(doc.get("annotations"), "annotations")
    subject = None if doc.get("subject") is None else _descriptor(doc["subject"], "subject")

    form: SignatureManifestForm
    if descriptor.media_type == OCI_IMAGE_MANIFEST:
        version = doc.get("schemaVersion")
        if version != 2 or isinstance(version, bool):
            raise StoreError(
                f"invalid signature manifest {descriptor.digest}: schemaVersion must be 2, got {version!r}"
            )
        config = _descriptor(doc.get("config"), "config")
        if artifact_type == NOTARY_SIGNATURE and config.media_type == OCI_EMPTY:
            form = FORM_B
        elif artifact_type is None and config.media_type == NOTARY_SIGNATURE:
            form = FORM_A
        else:
            raise StoreError(
                f"invalid signature manifest {descriptor.digest}: not a Notary Project signature "
                f'(artifactType "{artifact_type or ""}", config mediaType "{config.media_type}")'
            )
        blobs = doc.get("layers")
        blobs_name = "layers"
    else:
        if artifact_type != NOTARY_SIGNATURE:
            raise StoreError(
                f"invalid signature manifest {descriptor.digest}: not a Notary Project signature "
                f'(artifactType "{artifact_type or ""}")'
            )
        form = FORM_ARTIFACT
        blobs = doc.get("blobs")
        blobs_name = "blobs"

    if blobs is None:
        blobs = []
    if not isinstance(blobs, list):
        raise StoreError(f"invalid signature manifest {descriptor.digest}: {blobs_name} must be an array")
    if len(blobs) != 1:
        # Go's message, typo included (MAN-04).
        raise StoreError(f"signature manifest requries exactly one signature envelope blob, got {len(blobs)}")
    envelope = _descriptor(blobs[0], f"{blobs_name}[0]")

    listed = Descriptor(
        media_type=descriptor.media_type,
        digest=descriptor.digest,
        size=descriptor.size,
        annotations=annotations,
        artifact_type=NOTARY_SIGNATURE,
    )
    return SignatureManifest(descriptor=listed, envelope=envelope, subject=subject, annotations=annotations, form=form)
