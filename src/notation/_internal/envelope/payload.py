"""The signed payload: ``{"targetArtifact": <descriptor>}`` (signature.md §2, PAY-01..08, SIG-04).

Go writes two byte forms of the same document: JWS re-serializes the payload through a map (keys sorted), COSE
keeps struct order. We write each form exactly as Go does so signatures are byte-for-byte alike; readers only
ever look at the parsed values (PAY-06).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notation._internal.envelope._json import go_dumps, strict_loads
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.mediatypes import JWS_ENVELOPE
from notation.errors import EnvelopeError, SigningError, StoreError

RESERVED_PREFIX = "io.cncf.notary"


def _target_dict(target: Descriptor) -> dict[str, Any]:
    """PAY-05: only mediaType, digest, size and (non-empty) annotations survive, in Go struct order."""
    out: dict[str, Any] = {"mediaType": target.media_type, "digest": target.digest, "size": target.size}
    if target.annotations:
        out["annotations"] = {k: target.annotations[k] for k in sorted(target.annotations)}
    return out


def build_payload(target: Descriptor, envelope_media_type: str) -> bytes:
    """The payload bytes for ``envelope_media_type`` (PAY-01..06): sorted keys for JWS, struct order for COSE."""
    doc = {"targetArtifact": _target_dict(target)}
    return go_dumps(doc, sort_keys=envelope_media_type == JWS_ENVELOPE)


def parse_payload(data: bytes) -> Descriptor:
    """Decode a payload strictly (VER-30): JSON object with a valid ``targetArtifact`` descriptor."""
    try:
        doc = strict_loads(data)
    except ValueError as exc:
        raise EnvelopeError(f"signature payload is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise EnvelopeError("signature payload is not a JSON object")
    if "targetArtifact" not in doc:
        raise EnvelopeError("signature payload is missing targetArtifact")
    try:
        return Descriptor.from_dict(doc["targetArtifact"])
    except StoreError as exc:
        raise EnvelopeError(f"signature payload has an invalid targetArtifact: {exc}") from exc


def add_user_metadata(target: Descriptor, metadata: Mapping[str, str]) -> Descriptor:
    """Merge ``--user-metadata`` into the target's annotations (SIG-04, PAY-04), with Go's messages."""
    if not metadata:
        return target
    annotations = dict(target.annotations)
    for key in sorted(metadata):
        if key.startswith(RESERVED_PREFIX):
            raise SigningError(f"error adding user metadata: metadata key {key} has reserved prefix {RESERVED_PREFIX}")
        if key in annotations:
            raise SigningError(
                f"error adding user metadata: metadata key {key} is already present in the target artifact"
            )
        annotations[key] = metadata[key]
    return Descriptor(
        media_type=target.media_type,
        digest=target.digest,
        size=target.size,
        annotations=annotations,
        artifact_type=target.artifact_type,
        extra=target.extra,
    )
