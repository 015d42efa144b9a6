"""The OCI content descriptor, and digest helpers that check content against it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from notation._internal.records import dataclass, field
from notation.errors import StoreError

_DIGEST_RE = re.compile(r"^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$")


def is_valid_digest(digest: str) -> bool:
    """True for the digests we can check: sha256/384/512 with lowercase hex of the right length."""
    return bool(_DIGEST_RE.match(digest))


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


@dataclass(frozen=True)
class Descriptor:
    """An OCI descriptor: what a piece of content is, its digest and its size."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """Members we do not model (urls, platform, data), kept so that a descriptor can be written back unchanged."""

    @classmethod
    def for_content(cls, media_type: str, data: bytes, **kwargs: Any) -> Descriptor:
        return cls(media_type=media_type, digest=compute_digest(data), size=len(data), **kwargs)

    @classmethod
    def from_dict(cls, obj: Any) -> Descriptor:
        """Parse a JSON descriptor strictly: a malformed one raises StoreError."""
        if not isinstance(obj, dict):
            raise StoreError("invalid descriptor: not a JSON object")
        media_type = obj.get("mediaType")
        digest = obj.get("digest")
        size = obj.get("size")
        if not isinstance(media_type, str) or not media_type:
            raise StoreError("invalid descriptor: missing mediaType")
        if not isinstance(digest, str) or not is_valid_digest(digest):
            raise StoreError(f"invalid descriptor: invalid digest {digest!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise StoreError(f"invalid descriptor: invalid size {size!r}")
        annotations = obj.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
        ):
            raise StoreError("invalid descriptor: annotations must map strings to strings")
        artifact_type = obj.get("artifactType")
        if artifact_type is not None and not isinstance(artifact_type, str):
            raise StoreError("invalid descriptor: artifactType must be a string")
        known = {"mediaType", "digest", "size", "annotations", "artifactType"}
        extra = {k: v for k, v in obj.items() if k not in known}
        return cls(media_type, digest, size, dict(annotations), artifact_type, extra)

    def to_dict(self) -> dict[str, Any]:
        """JSON form in OCI member order (mediaType, digest, size, annotations, artifactType)."""
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        out.update(self.extra)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    def same_content(self, other: Descriptor) -> bool:
        """Equal on mediaType, digest and size: the comparison VER-32 asks for."""
        return (self.media_type, self.digest, self.size) == (other.media_type, other.digest, other.size)

    def check(self, data: bytes) -> bytes:
        """Return ``data`` if it matches this descriptor's size and digest, else raise StoreError."""
        if len(data) != self.size:
            raise StoreError(f"content size mismatch for {self.digest}: expected {self.size} bytes, got {len(data)}")
        algorithm = self.digest.split(":", 1)[0]
        if algorithm not in ("sha256", "sha384", "sha512"):
            raise StoreError(f"unsupported digest algorithm in {self.digest}")
        if compute_digest(data, algorithm) != self.digest:
            raise StoreError(f"content digest mismatch: expected {self.digest}")
        return data
