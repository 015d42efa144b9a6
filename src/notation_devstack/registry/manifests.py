"""Parse and check pushed manifests: what the registry must know about one before it stores the exact bytes.

The registry keeps manifests byte for byte; this module only extracts the facts the server needs (media type,
referenced blobs and child manifests, ``subject`` and the referrer descriptor) and rejects malformed JSON and
malformed descriptors, so nothing half-valid reaches the referrers index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from notation_devstack.registry import errors, grammar

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_ARTIFACT = "application/vnd.oci.artifact.manifest.v1+json"  # withdrawn, still accepted for old clients
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
MANIFEST_TYPES = (*IMAGE_TYPES, *INDEX_TYPES, OCI_ARTIFACT)


@dataclass
class ParsedManifest:
    media_type: str
    blobs: list[str] = field(default_factory=list)
    """Digests of config and layers (image) or blobs (artifact) that must exist in the repository."""
    children: list[str] = field(default_factory=list)
    """Digests of the manifests an index lists; they must exist in the repository."""
    subject: dict[str, Any] | None = None
    artifact_type: str | None = None
    """The referrers-API artifactType: ``artifactType``, else (image manifests) the config media type."""
    annotations: dict[str, str] | None = None

    def referrer_descriptor(self, digest: str, size: int) -> dict[str, Any]:
        """The descriptor the referrers API lists for this manifest (distribution spec v1.1)."""
        desc: dict[str, Any] = {"mediaType": self.media_type, "digest": digest, "size": size}
        if self.artifact_type:
            desc["artifactType"] = self.artifact_type
        if self.annotations:
            desc["annotations"] = self.annotations
        return desc


def _descriptor(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.manifest_invalid(f"{where} is not a descriptor object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise errors.manifest_invalid(f"{where}.mediaType is missing or not a string")
    if not isinstance(digest, str):
        raise errors.manifest_invalid(f"{where}.digest is missing or not a string")
    try:
        grammar.check_digest(digest)
    except errors.DistributionError as exc:
        raise errors.manifest_invalid(f"{where}.digest: {exc.message}") from None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise errors.manifest_invalid(f"{where}.size is missing or not a non-negative integer")
    annotations = value.get("annotations")
    if annotations is not None and not _is_annotations(annotations):
        raise errors.manifest_invalid(f"{where}.annotations must map strings to strings")
    return value


def _is_annotations(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _descriptor_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise errors.manifest_invalid(f"{where} must be an array")
    return [_descriptor(item, f"{where}[{i}]") for i, item in enumerate(value)]


def parse(body: bytes, content_type: str | None) -> ParsedManifest:
    """Check a manifest body and return what the registry needs to know about it."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.manifest_invalid("body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise errors.manifest_invalid("body is not a JSON object")
    header_type = (content_type or "").split(";", 1)[0].strip() or None
    body_type = doc.get("mediaType")
    if body_type is not None and not isinstance(body_type, str):
        raise errors.manifest_invalid("mediaType is not a string")
    if body_type and header_type and header_type in MANIFEST_TYPES and body_type != header_type:
        raise errors.manifest_invalid(f"mediaType {body_type!r} does not match Content-Type {header_type!r}")
    media_type = body_type or (header_type if header_type in MANIFEST_TYPES else None)
    if media_type is None:
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    if media_type not in MANIFEST_TYPES:
        raise errors.manifest_invalid(f"unsupported manifest media type {media_type!r}")
    if media_type != OCI_ARTIFACT and doc.get("schemaVersion") != 2:
        raise errors.manifest_invalid("schemaVersion must be 2")

    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise errors.manifest_invalid("artifactType is not a string")
    annotations = doc.get("annotations")
    if annotations is not None and not _is_annotations(annotations):
        raise errors.manifest_invalid("annotations must map strings to strings")
    subject = _descriptor(doc["subject"], "subject") if doc.get("subject") is not None else None
    parsed = ParsedManifest(media_type=media_type, subject=subject, artifact_type=artifact_type or None,
                            annotations=annotations or None)

    if media_type in IMAGE_TYPES:
        config = _descriptor(doc.get("config"), "config")
        layers = _descriptor_list(doc.get("layers", []), "layers")
        parsed.blobs = [config["digest"]] + [d["digest"] for d in layers if not d.get("urls")]
        if parsed.artifact_type is None and media_type == OCI_MANIFEST:
            parsed.artifact_type = config["mediaType"]
    elif media_type in INDEX_TYPES:
        parsed.children = [d["digest"] for d in _descriptor_list(doc.get("manifests", []), "manifests")]
    else:  # withdrawn OCI artifact manifest
        parsed.blobs = [d["digest"] for d in _descriptor_list(doc.get("blobs", []), "blobs")]
    return parsed
