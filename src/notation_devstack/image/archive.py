"""Load an image that already exists on disk: an OCI image layout directory or a `docker save` tarball."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path

from notation_devstack.image.build import Image, _load_layout_base
from notation_devstack.image.dockerfile import DockerfileError

MAX_ARCHIVE = 2 * 1024 * 1024 * 1024
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def load(source: Path, tag: str | None = None) -> Image:
    if source.is_dir():
        return _load_layout_base(f"{source}:{tag or 'latest'}")
    if not tarfile.is_tarfile(source):
        raise DockerfileError(f"{source} is neither an OCI image layout directory nor a tar archive")
    if source.stat().st_size > MAX_ARCHIVE:
        raise DockerfileError(f"{source} is larger than {MAX_ARCHIVE} bytes")
    with tarfile.open(source) as tar:
        names = set(tar.getnames())
        if "index.json" in names and "oci-layout" in names:
            with tempfile.TemporaryDirectory() as tmp:
                for member in tar.getmembers():
                    if member.isfile():
                        tar.extract(member, tmp, filter="data")
                return _load_layout_base(f"{tmp}:{tag or _first_tag(Path(tmp))}")
        return _load_docker_save(tar)


def _first_tag(layout: Path) -> str:
    index = json.loads((layout / "index.json").read_text())
    for desc in index.get("manifests", []):
        name = desc.get("annotations", {}).get("org.opencontainers.image.ref.name")
        if name:
            return str(name).rsplit(":", 1)[-1]
    return "latest"


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.getmember(name)
    if not member.isfile():
        raise DockerfileError(f"docker archive entry {name} is not a file")
    handle = tar.extractfile(member)
    if handle is None:
        raise DockerfileError(f"docker archive entry {name} cannot be read")
    return handle.read()


def _load_docker_save(tar: tarfile.TarFile) -> Image:
    try:
        manifest = json.loads(_read(tar, "manifest.json"))[0]
        config = json.loads(_read(tar, manifest["Config"]))
        layers = [_read(tar, name) for name in manifest["Layers"]]
    except (KeyError, IndexError, json.JSONDecodeError) as exc:
        raise DockerfileError(f"not a docker save archive: {exc}") from exc
    return Image(config, layers, [OCI_LAYER] * len(layers))


__all__ = ["io", "load"]
