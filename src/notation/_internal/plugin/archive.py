"""Unpacking a plugin package into a staging directory, with the limits of plugins.md PLG-83.

A plugin package is untrusted: names with ``..`` are refused (zip slip), symbolic and hard links are refused, the
entry count and the running total of extracted bytes are capped, and only regular files land in the staging
directory (zip: root entries only; tar.gz: flattened to base names, as Go does).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from notation.errors import PluginError

MIB = 1024 * 1024
MAX_FILE_BYTES = 256 * MIB
"""PLG-83: single executables and the sum of extracted archive members must stay below this."""
MAX_ENTRIES = 4096
"""Our own cap on archive members (a plugin package holds a handful of files)."""

KIND_ZIP = "zip"
KIND_GZIP = "gzip"
KIND_FILE = "file"


def detect_kind(path: Path) -> str:
    """PLG-83: sniff the content, not the extension."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04"):
        return KIND_ZIP
    if head.startswith(b"\x1f\x8b"):
        return KIND_GZIP
    return KIND_FILE


def _copy_bounded(src: IO[bytes], dest: Path, mode: int, budget: int) -> int:
    """Copy at most ``budget`` bytes into a new file; return the bytes written (raise when over)."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    written = 0
    with os.fdopen(fd, "wb") as out:
        while True:
            chunk = src.read(1024 * 1024)
            if not chunk:
                break
            written += len(chunk)
            if written >= budget:
                raise PluginError(f"total file size reached the {MAX_FILE_BYTES // MIB} MiB size limit")
            out.write(chunk)
    os.chmod(dest, mode & 0o777)
    return written


def extract_zip(archive: Path, dest: Path) -> None:
    import zipfile

    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PluginError(f"zip: not a valid zip file: {exc}") from exc
    with zf:
        entries = zf.infolist()
        if len(entries) > MAX_ENTRIES:
            raise PluginError(f"zip archive has more than {MAX_ENTRIES} entries")
        for info in entries:  # Go checks every name before extracting anything
            if ".." in info.filename:
                raise PluginError(f"file name in zip cannot contain '..', but found \"{info.filename}\"")
        total = 0
        for info in entries:
            unix_mode = info.external_attr >> 16
            if stat.S_ISLNK(unix_mode):
                raise PluginError(f"file in zip cannot be a symbolic link, but found \"{info.filename}\"")
            if info.is_dir() or "/" in info.filename or "\\" in info.filename or not info.filename:
                continue  # only regular files at the archive root (PLG-83)
            if stat.S_IFMT(unix_mode) not in (0, stat.S_IFREG):
                continue  # devices, fifos... (no type bits at all means a regular file, as Go reads it)
            total += info.file_size
            if total >= MAX_FILE_BYTES:
                raise PluginError(f"total file size reached the {MAX_FILE_BYTES // MIB} MiB size limit")
            mode = (unix_mode & 0o777) if unix_mode else 0o666
            try:
                with zf.open(info) as src:
                    _copy_bounded(src, dest / info.filename, mode, MAX_FILE_BYTES - (total - info.file_size))
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise PluginError(f"zip: failed to extract {info.filename!r}: {exc}") from exc


def extract_tar_gz(archive: Path, dest: Path) -> None:
    import tarfile
    import zlib

    total = 0
    count = 0
    try:
        with tarfile.open(archive, mode="r|gz") as tf:
            for member in tf:
                count += 1
                if count > MAX_ENTRIES:
                    raise PluginError(f"tar.gz archive has more than {MAX_ENTRIES} entries")
                if ".." in member.name:
                    raise PluginError(f"file name in tar.gz cannot contain '..', but found \"{member.name}\"")
                if member.issym() or member.islnk():
                    raise PluginError(f"file in tar.gz cannot be a link, but found \"{member.name}\"")
                if not member.isreg():
                    continue
                base = member.name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
                if not base or base == ".":
                    continue
                total += member.size
                if total >= MAX_FILE_BYTES:
                    raise PluginError(f"total file size reached the {MAX_FILE_BYTES // MIB} MiB size limit")
                src = tf.extractfile(member)
                if src is None:
                    continue
                with src:
                    _copy_bounded(src, dest / base, member.mode, MAX_FILE_BYTES - (total - member.size))
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise PluginError(f"failed to read tar.gz archive: {exc}") from exc
