"""The CRL file cache (trust.md REV-25): ``{CACHE}/crl/<sha256(url) hex>`` holding the base (and delta) CRL.

Format as Go writes it, ``{"baseCRL": "<base64 DER>", "deltaCRL": "<base64 DER>"}``, so a cache shared with Go
notation stays readable by both. The cache is an optimisation only: every read or write problem is swallowed (a
corrupt entry is treated as a miss and overwritten) and reported once per process through ``warn``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from notation._internal.log import logger as log
from notation._internal.records import dataclass

# Two 32 MiB CRLs in base64 plus JSON framing.
MAX_ENTRY_BYTES = 96 * 1024 * 1024
DISCARDED_WARNING = "Warning: CRL cache error discarded. Enable debug log through '-d' for error details."

_warned_lock = threading.Lock()
_warned = False


def stderr_warn(message: str) -> None:
    print(message, file=sys.stderr)


def go_os_error(exc: OSError, op: str) -> str:
    """Go's *PathError text: ``open /path: permission denied``."""
    reason = (exc.strerror or str(exc)).lower()
    return f"{op} {exc.filename}: {reason}" if exc.filename else f"{op}: {reason}"


@dataclass(frozen=True)
class Bundle:
    """A base CRL and its optional delta, DER bytes as fetched."""

    base: bytes
    delta: bytes | None = None


class CRLCache:
    """One directory of cached bundles; never raises on I/O problems."""

    def __init__(self, directory: Path, *, warn: Callable[[str], None] = stderr_warn) -> None:
        self.directory = directory
        self._warn = warn
        self.errors: list[str] = []
        """Discarded errors, for debug logs and tests."""

    @classmethod
    def open(cls, cache_root: Path, *, warn: Callable[[str], None] = stderr_warn) -> CRLCache | None:
        """``{cache_root}/crl`` created with mode 0700, or None (after Go's warning) when it cannot be created."""
        directory = cache_root / "crl"
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not directory.is_dir():
                raise NotADirectoryError(str(directory))
        except OSError as exc:
            warn(f"Warning: failed to create crl file cache: {go_os_error(exc, 'mkdir')}")
            return None
        return cls(directory, warn=warn)

    def path_for(self, url: str) -> Path:
        return self.directory / hashlib.sha256(url.encode()).hexdigest()

    def get(self, url: str) -> Bundle | None:
        """The cached bundle for ``url``, or None when missing or unreadable (the caller judges freshness)."""
        path = self.path_for(url)
        log.debug('Retrieving crl bundle from file cache with key "%s" ...', url)  # notation-go verifier/crl
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_ENTRY_BYTES + 1)
        except FileNotFoundError:
            log.debug('CRL file cache miss. Key "%s" does not exist', url)
            return None
        except OSError as exc:
            self.discard(f'failed to get crl bundle from file cache with key "{url}": {go_os_error(exc, "open")}')
            return None
        try:
            if len(raw) > MAX_ENTRY_BYTES:
                raise ValueError("entry too large")
            doc = json.loads(raw)
            if not isinstance(doc, dict) or not isinstance(doc.get("baseCRL"), str):
                raise ValueError("baseCRL missing")
            base = base64.b64decode(doc["baseCRL"], validate=True)
            delta_text = doc.get("deltaCRL")
            if delta_text is not None and not isinstance(delta_text, str):
                raise ValueError("deltaCRL is not a string")
            delta = base64.b64decode(delta_text, validate=True) if delta_text else None
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            self.discard(f"failed to decode file retrieved from file cache: {path}: {exc}")
            return None
        return Bundle(base, delta)

    def set(self, url: str, bundle: Bundle) -> None:
        """Write atomically: a ``notation-*`` temp file in the cache directory itself (same filesystem), then rename."""
        doc: dict[str, str] = {"baseCRL": base64.b64encode(bundle.base).decode()}
        if bundle.delta is not None:
            doc["deltaCRL"] = base64.b64encode(bundle.delta).decode()
        data = json.dumps(doc).encode()
        path = self.path_for(url)
        log.debug('Storing crl bundle to file cache with key "%s" ...', url)
        tmp: str | None = None
        try:
            import tempfile

            fd, tmp = tempfile.mkstemp(prefix="notation-", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            self.discard(f"failed to store crl bundle in file cache: {go_os_error(exc, 'open')}")
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def discard(self, error: str) -> None:
        """Record a cache error (logged at debug level, as notation's CacheWithLog does) and warn once."""
        global _warned
        log.debug("%s", error)
        self.errors.append(error)
        with _warned_lock:
            first = not _warned
            _warned = True
        if first:
            self._warn(DISCARDED_WARNING)


def reset_warning_for_tests() -> None:
    """The discarded-error warning prints once per process; tests that assert on it reset the latch."""
    global _warned
    with _warned_lock:
        _warned = False
