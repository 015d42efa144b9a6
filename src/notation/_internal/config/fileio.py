"""Small file helpers for configuration: regular-file reads (CLI-13) and atomic 0600 writes (CLI-12)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from notation.errors import ConfigError

MAX_CONFIG_SIZE = 4 * 1024 * 1024
"""Config files are tiny; anything bigger is refused rather than read into memory."""


def read_regular_file(path: Path, *, limit: int = MAX_CONFIG_SIZE) -> bytes | None:
    """The bytes of ``path``, None when it does not exist; a symlink or directory is refused (CLI-13)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"failed to read {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f'"{path}" is not a regular file (symlinks are not supported)')
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"failed to read {path}: {exc.strerror}") from exc
    if len(data) > limit:
        raise ConfigError(f"{path} is larger than {limit} bytes")
    return data


def go_json(obj: Any) -> str:
    """json.MarshalIndent(obj, "", "    ") plus a newline: 4 spaces and Go's HTML-safe escapes."""
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text + "\n"


def make_dirs(path: Path, mode: int = 0o700) -> None:
    """Go's os.MkdirAll: every missing directory is created with ``mode`` (Path.mkdir applies it to the last only)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=mode)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, dir_mode: int = 0o700) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and os.replace (never half-written)."""
    make_dirs(path.parent, dir_mode)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_exclusive(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode``; an existing file is an error (Go's O_CREATE|O_EXCL message)."""
    make_dirs(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise ConfigError(f"open {path}: file exists") from exc
    except OSError as exc:
        raise ConfigError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
