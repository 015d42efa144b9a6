"""Trust material from a mounted directory: a private snapshot of regular files, and change detection.

Why a snapshot: notation (like Go notation) refuses symlinks in the trust store, and every file of a Kubernetes
ConfigMap or Secret volume is a symlink (``trustpolicy.json -> ..data/trustpolicy.json``, ``..data`` itself a
symlink that the kubelet swaps atomically on update). Reading the mounted tree through its links, once, into a fresh
directory of regular files gives the verifier the layout it expects and one consistent view of policy and store
(never half of an update). Links must stay inside the mounted directory (fail closed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

POLICY_FILES = ("trustpolicy.json", "trustpolicy.oci.json")
MAX_FILE_BYTES = 1 << 20
MAX_FILES = 1000


class TrustMaterialError(Exception):
    """The mounted trust material cannot be read (the last good snapshot stays in use)."""


def _read_inside(root: Path, path: Path) -> bytes:
    real = path.resolve(strict=True)
    if not real.is_relative_to(root):
        raise TrustMaterialError(f"{path} points outside {root}")
    if not real.is_file():
        raise TrustMaterialError(f"{path} is not a regular file")
    with real.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise TrustMaterialError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return data


def read_material(config_dir: Path) -> dict[str, bytes]:
    """Relative path -> content of the policy files and of ``truststore/x509/<type>/<name>/<file>``.

    Kubernetes' hidden ``..data`` / ``..<timestamp>`` entries are skipped: they are reached through the links.
    """
    try:
        root = config_dir.resolve(strict=True)
    except OSError as exc:
        raise TrustMaterialError(f"config directory {config_dir}: {exc.strerror or exc}") from exc
    files: dict[str, bytes] = {}
    try:
        for name in POLICY_FILES:
            path = root / name
            if path.exists():
                files[name] = _read_inside(root, path)
        store = root / "truststore" / "x509"
        if store.exists():
            for type_dir in _entries(root, store):
                for name_dir in _entries(root, type_dir):
                    for cert in _entries(root, name_dir):
                        rel = f"truststore/x509/{type_dir.name}/{name_dir.name}/{cert.name}"
                        files[rel] = _read_inside(root, cert)
                        if len(files) > MAX_FILES:
                            raise TrustMaterialError(f"more than {MAX_FILES} trust files")
    except OSError as exc:
        raise TrustMaterialError(f"reading trust material: {exc.strerror or exc}: {exc.filename}") from exc
    if not any(name in files for name in POLICY_FILES):
        raise TrustMaterialError(f"no trustpolicy.json or trustpolicy.oci.json in {config_dir}")
    return files


def _entries(root: Path, directory: Path) -> list[Path]:
    real = directory.resolve(strict=True)
    if not real.is_relative_to(root):
        raise TrustMaterialError(f"{directory} points outside {root}")
    if not real.is_dir():
        return []
    return sorted(directory / e for e in os.listdir(real) if not e.startswith(".."))


def fingerprint(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def write_snapshot(files: dict[str, bytes], parent: Path) -> Path:
    """A new directory under ``parent`` holding ``files`` as regular files (0600/0700)."""
    parent.mkdir(parents=True, exist_ok=True)
    snap = Path(tempfile.mkdtemp(prefix="trust-", dir=parent))
    try:
        for rel, data in files.items():
            path = snap / rel
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
    except BaseException:
        shutil.rmtree(snap, ignore_errors=True)
        raise
    return snap
