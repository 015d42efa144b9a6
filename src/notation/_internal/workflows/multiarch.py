"""Multi-platform images: the platform manifests an image index (or Docker manifest list) lists.

Used by ``notation sign --recursive`` and ``notation verify --require-all-platforms`` (notation-py extensions, not in
Go notation). The index is fetched through the store (bounded, digest checked) and its entries are parsed strictly.
"""

from __future__ import annotations

import json
from typing import Any

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.store import ArtifactStore
from notation._internal.records import dataclass
from notation.errors import StoreError

INDEX_MEDIA_TYPES = (mediatypes.OCI_IMAGE_INDEX, mediatypes.DOCKER_MANIFEST_LIST)
MAX_PLATFORM_MANIFESTS = 256
"""An index listing more entries than this is refused: signing or verifying each costs round trips."""


@dataclass(frozen=True)
class PlatformManifest:
    """One entry of an index: its plain descriptor (mediaType, digest, size) and ``os/arch[/variant]``."""

    descriptor: Descriptor
    platform: str | None


def is_index(descriptor: Descriptor) -> bool:
    return descriptor.media_type in INDEX_MEDIA_TYPES


def platform_string(platform: Any) -> str | None:
    """``os/architecture[/variant]`` from an OCI platform object, None when it is not one."""
    if not isinstance(platform, dict):
        return None
    os_name, arch = platform.get("os"), platform.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return None
    variant = platform.get("variant")
    return f"{os_name}/{arch}" + (f"/{variant}" if isinstance(variant, str) and variant else "")


def platform_manifests(store: ArtifactStore, index: Descriptor) -> list[PlatformManifest]:
    """The manifests ``index`` lists, in index order, duplicates dropped; StoreError for a malformed index."""
    if not is_index(index):
        raise StoreError(f"{index.digest} is not an image index ({index.media_type})")
    data = store.fetch(index, mediatypes.MAX_MANIFEST_SIZE)
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise StoreError(f"invalid image index {index.digest}: not valid JSON") from None
    entries = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise StoreError(f"invalid image index {index.digest}: no manifests list")
    if len(entries) > MAX_PLATFORM_MANIFESTS:
        raise StoreError(
            f"image index {index.digest} lists {len(entries)} manifests, more than {MAX_PLATFORM_MANIFESTS}"
        )
    out: list[PlatformManifest] = []
    seen: set[str] = set()
    for raw in entries:
        desc = Descriptor.from_dict(raw)
        if desc.media_type not in mediatypes.MANIFEST_MEDIA_TYPES:
            raise StoreError(f"image index {index.digest} lists {desc.digest} with media type {desc.media_type}")
        if desc.digest in seen or desc.digest == index.digest:
            continue
        seen.add(desc.digest)
        plain = Descriptor(desc.media_type, desc.digest, desc.size)
        out.append(PlatformManifest(plain, platform_string(desc.extra.get("platform"))))
    return out
