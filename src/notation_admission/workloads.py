"""Where the images are in an admitted object, and the JSONPatch that pins them to digests.

Protocol translation only: the Pod spec paths of every built-in kind that embeds a Pod template, and Docker's image
name defaulting (``nginx`` is ``docker.io/library/nginx:latest``), which Kubernetes applies when the kubelet pulls
and which notation's references do not (they need an explicit registry).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# kind -> JSON pointer segments from the object root to its PodSpec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


class UnsupportedObject(Exception):
    """The object is not of a kind this service knows how to read (the review is denied: fail closed)."""


@dataclass(frozen=True)
class ImageRef:
    """One container image field of the object."""

    image: str
    """As written in the object."""
    pointer: str
    """JSON pointer of the ``image`` field (for the JSONPatch)."""


def pod_spec_images(obj: Mapping[str, Any], kind: str) -> list[ImageRef]:
    """Every container image of ``obj`` (a ``kind``), in the order init, regular, ephemeral containers."""
    path = POD_SPEC_PATHS.get(kind)
    if path is None:
        raise UnsupportedObject(f"kind {kind} does not carry a Pod spec that notation-admission reads")
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            node = None
            break
        node = node.get(key)
    if node is None:
        return []  # e.g. a Deployment scaled through a partial object: nothing to check
    if not isinstance(node, Mapping):
        raise ValueError(f"{'.'.join(path)} is not an object")
    base = "/" + "/".join(path)
    found: list[ImageRef] = []
    for list_name in CONTAINER_LISTS:
        containers = node.get(list_name)
        if containers is None:
            continue
        if not isinstance(containers, list):
            raise ValueError(f"{'.'.join((*path, list_name))} is not a list")
        for i, container in enumerate(containers):
            if not isinstance(container, Mapping):
                raise ValueError(f"{'.'.join((*path, list_name))}[{i}] is not an object")
            image = container.get("image")
            if not isinstance(image, str) or not image:
                raise ValueError(f"{'.'.join((*path, list_name))}[{i}].image is missing or not a string")
            found.append(ImageRef(image, f"{base}/{list_name}/{i}/image"))
    return found


@dataclass(frozen=True)
class Normalized:
    """An image name in notation's reference form (explicit registry), split for pinning."""

    repository: str
    """``registry/repository``: the trust policy scope."""
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag or 'latest'}"


def normalize(image: str) -> Normalized:
    """Docker's defaulting: no registry -> ``docker.io``; a one-part Docker Hub name -> ``library/``; no tag and no
    digest -> ``latest``. Raises ValueError with a one-line reason for names that cannot be an image reference."""
    if not image or image != image.strip() or any(c.isspace() for c in image) or len(image) > 4096:
        raise ValueError("not a valid image reference")
    name, digest = image, None
    if "@" in image:
        name, digest = image.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ValueError(f"invalid digest {digest!r}")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not tag:
            raise ValueError("empty tag")
    if not name:
        raise ValueError("empty repository name")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name
    if registry in ("docker.io", "index.docker.io") and "/" not in path:
        path = "library/" + path
    if registry == "index.docker.io":
        registry = "docker.io"
    return Normalized(f"{registry}/{path}", None if digest else tag, digest)


def pinned(image: str, digest: str) -> str:
    """``image`` with its tag replaced by ``@digest`` (the name as written otherwise: ``nginx:1`` -> ``nginx@...``)."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name = name[:colon]
    return f"{name}@{digest}"


def pin_patch(images: list[ImageRef], digests: Mapping[str, str]) -> list[dict[str, Any]]:
    """JSONPatch (RFC 6902) ops replacing each tagged image with its verified digest; digests map image -> digest."""
    ops: list[dict[str, Any]] = []
    for ref in images:
        digest = digests.get(ref.image)
        if digest is None or "@" in ref.image:  # already pinned (tag@digest: the digest is what runs)
            continue
        value = pinned(ref.image, digest)
        if value != ref.image:
            ops.append({"op": "replace", "path": ref.pointer, "value": value})
    return ops


def unique(images: list[ImageRef]) -> Iterator[str]:
    seen: set[str] = set()
    for ref in images:
        if ref.image not in seen:
            seen.add(ref.image)
            yield ref.image
