"""Build an OCI image from a context directory and its Dockerfile, reproducibly.

Layers are gzip'd tars with sorted entries, zero mtimes and root ownership, so the same context gives the same
digest on every machine: the image a user signs in the tutorial is stable across runs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notation_devstack.image import dockerfile
from notation_devstack.image.client import ImageRef, RegistryClient, json_bytes
from notation_devstack.image.dockerfile import DockerfileError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass
class Image:
    config: dict[str, Any]
    layers: list[bytes] = field(default_factory=list)
    """Compressed layer blobs, base first."""
    layer_media_types: list[str] = field(default_factory=list)

    def blobs(self) -> tuple[bytes, bytes, dict[str, bytes]]:
        """(manifest, config, {digest: blob}) ready to push or write to a layout."""
        config = json_bytes(self.config)
        blobs = {_digest(config): config}
        layer_descs = []
        for blob, media_type in zip(self.layers, self.layer_media_types, strict=True):
            blobs[_digest(blob)] = blob
            layer_descs.append({"mediaType": media_type, "digest": _digest(blob), "size": len(blob)})
        manifest = json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
                "layers": layer_descs,
            }
        )
        return manifest, config, blobs


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _empty_config() -> dict[str, Any]:
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }


def _layer_from(context: Path, sources: list[str], dest: str, workdir: str, line: int) -> tuple[bytes, str]:
    """A reproducible tar.gz of ``sources`` (relative to the context) placed at ``dest``; returns (blob, diff_id)."""
    root = context.resolve()
    entries: list[tuple[str, Path]] = []
    dest_abs = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
    into_dir = dest.endswith("/") or len(sources) > 1
    for source in sources:
        path = (root / source).resolve()
        if path != root and root not in path.parents:
            raise DockerfileError(f"Dockerfile line {line}: {source} is outside the build context")
        if not path.exists():
            raise DockerfileError(f"Dockerfile line {line}: {source} not found in the build context")
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).as_posix()
                entries.append((posixpath.join(dest_abs, rel), child))
        else:
            target = posixpath.join(dest_abs, path.name) if into_dir else dest_abs
            entries.append((target, path))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in sorted(entries):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size = len(data)
                info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    compressed = gzip.compress(tar_bytes, compresslevel=6, mtime=0)
    return compressed, _digest(tar_bytes)


def _load_base(base: str, client_for: Any) -> Image:
    if base == "scratch":
        return Image(_empty_config())
    if base.startswith("oci-layout:"):
        return _load_layout_base(base[len("oci-layout:") :])
    ref = ImageRef.parse(base)
    client: RegistryClient = client_for(ref.registry)
    _media_type, manifest_bytes = client.get_manifest(ref.repository, ref.tag)
    manifest = json.loads(manifest_bytes)
    if "layers" not in manifest:
        raise DockerfileError(f"FROM {base}: only single-platform image manifests are supported as base images")
    config = json.loads(client.get_blob(ref.repository, manifest["config"]["digest"]))
    layers = [client.get_blob(ref.repository, layer["digest"]) for layer in manifest["layers"]]
    return Image(config, layers, [layer["mediaType"] for layer in manifest["layers"]])


def _load_layout_base(spec: str) -> Image:
    path_text, _, tag = spec.rpartition(":") if ":" in spec else (spec, "", "latest")
    layout = Path(path_text or spec)
    index = json.loads((layout / "index.json").read_text())
    for desc in index.get("manifests", []):
        if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") == (tag or "latest"):
            manifest = json.loads(_read_blob(layout, desc["digest"]))
            config = json.loads(_read_blob(layout, manifest["config"]["digest"]))
            layers = [_read_blob(layout, layer["digest"]) for layer in manifest["layers"]]
            return Image(config, layers, [layer["mediaType"] for layer in manifest["layers"]])
    raise DockerfileError(f"FROM oci-layout:{spec}: tag {tag or 'latest'} not found in {layout}")


def _read_blob(layout: Path, digest: str) -> bytes:
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise DockerfileError(f"invalid digest {digest!r} in layout {layout}")
    data = (layout / "blobs" / "sha256" / hexpart).read_bytes()
    if _digest(data) != digest:
        raise DockerfileError(f"blob {digest} in layout {layout} does not match its digest")
    return data


def build(
    context: Path,
    dockerfile_path: Path | None = None,
    *,
    client_for: Any = None,
    build_args: dict[str, str] | None = None,
) -> Image:
    """Build the image described by ``context``/Dockerfile (not pushed)."""
    dockerfile_path = dockerfile_path or context / "Dockerfile"
    if not dockerfile_path.is_file():
        raise DockerfileError(f"no Dockerfile found at {dockerfile_path}")
    spec = dockerfile.parse(dockerfile_path.read_text())
    image = _load_base(spec.base, client_for)
    config = image.config.setdefault("config", {})
    env = dict(item.split("=", 1) for item in config.get("Env", []) if "=" in item)
    args = dict(build_args or {})
    image.config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    history = image.config.setdefault("history", [])
    for ins in spec.instructions:
        created_by = f"{ins.keyword} {ins.args}"
        if ins.keyword == "ARG":
            key, _, default = ins.args.partition("=")
            args.setdefault(key.strip(), default.strip())
            continue
        scope = {**args, **env}
        if ins.keyword in ("COPY", "ADD"):
            parts = [p for p in dockerfile.words(ins) if not p.startswith("--")]
            if len(parts) < 2:
                raise DockerfileError(f"Dockerfile line {ins.line}: {ins.keyword} needs a source and a destination")
            if any(p.startswith(("http://", "https://")) for p in parts[:-1]):
                raise DockerfileError(f"Dockerfile line {ins.line}: remote sources are not supported offline")
            sources = [dockerfile.substitute(p, scope) for p in parts[:-1]]
            dest = dockerfile.substitute(parts[-1], scope)
            blob, diff_id = _layer_from(context, sources, dest, config.get("WorkingDir", "/"), ins.line)
            image.layers.append(blob)
            image.layer_media_types.append(OCI_LAYER_GZIP)
            image.config["rootfs"]["diff_ids"].append(diff_id)
            history.append({"created_by": created_by})
            continue
        if ins.keyword == "ENV":
            for key, value in dockerfile.key_values(ins):
                env[key] = dockerfile.substitute(value, scope)
            config["Env"] = [f"{k}={v}" for k, v in env.items()]
        elif ins.keyword == "LABEL":
            config.setdefault("Labels", {}).update(dict(dockerfile.key_values(ins)))
        elif ins.keyword == "WORKDIR":
            path = dockerfile.substitute(ins.args, scope)
            config["WorkingDir"] = posixpath.join(config.get("WorkingDir", "/"), path)
        elif ins.keyword == "USER":
            config["User"] = dockerfile.substitute(ins.args, scope)
        elif ins.keyword == "EXPOSE":
            for port in ins.args.split():
                config.setdefault("ExposedPorts", {})[port if "/" in port else f"{port}/tcp"] = {}
        elif ins.keyword == "CMD":
            config["Cmd"] = dockerfile.words(ins) if ins.args.startswith("[") else ["/bin/sh", "-c", ins.args]
        elif ins.keyword == "ENTRYPOINT":
            config["Entrypoint"] = dockerfile.words(ins) if ins.args.startswith("[") else ["/bin/sh", "-c", ins.args]
        history.append({"created_by": created_by, "empty_layer": True})
    return image


def push(image: Image, client: RegistryClient, repository: str, tag: str) -> str:
    """Push blobs then the manifest under ``tag``; return the manifest digest."""
    manifest, _config, blobs = image.blobs()
    for blob in blobs.values():
        client.push_blob(repository, blob)
    return client.push_manifest(repository, tag, OCI_MANIFEST, manifest)


def write_layout(image: Image, layout: Path, tag: str) -> str:
    """Write the image into an OCI image layout (created if missing) and tag it; return the manifest digest."""
    manifest, _config, blobs = image.blobs()
    blobs[_digest(manifest)] = manifest
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for digest, blob in blobs.items():
        (layout / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(blob)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index_path = layout / "index.json"
    index: dict[str, Any] = (
        json.loads(index_path.read_text()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
    )
    index["manifests"] = [
        d for d in index["manifests"] if d.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag
    ]
    index["manifests"].append(
        {
            "mediaType": OCI_MANIFEST,
            "digest": _digest(manifest),
            "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }
    )
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index))
    tmp.replace(index_path)
    return _digest(manifest)
