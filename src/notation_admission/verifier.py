"""The one place the service touches notation: a long-lived verifier over a private snapshot of the trust material.

Everything that decides whether a signature is good is ``notation.Verifier`` (the library's public API); this module
only owns the snapshot life cycle (see :mod:`notation_admission.trust`): a changed mount becomes a new snapshot,
the verifier re-reads it, and a snapshot the verifier refuses is rolled back so the last good material stays live.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notation_admission.trust import TrustMaterialError, fingerprint, read_material, write_snapshot


@dataclass(frozen=True)
class VerifierSettings:
    config_dir: Path
    state_dir: Path
    registry_config: Path | None = None
    insecure_registries: Sequence[str] = ()
    max_workers: int = 8
    timeout: float | None = None
    max_signatures: int = 100
    extra: dict[str, Any] = field(default_factory=dict)
    extra_files: Callable[[], dict[str, bytes]] | None = None
    """More trust files (relative path -> content), e.g. certificates from Key Vault (akv.py)."""


class TrustVerifier:
    """``notation.Verifier`` bound to the current trust snapshot; ``refresh`` picks up changes of the mount."""

    def __init__(self, settings: VerifierSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._live = settings.state_dir / "live"
        files = self._read()
        if self._live.exists():
            shutil.rmtree(self._live)
        os.rename(write_snapshot(files, settings.state_dir), self._live)
        self.fingerprint = fingerprint(files)
        self.verifier = self._open(self._live)

    def _read(self) -> dict[str, bytes]:
        files = read_material(self.settings.config_dir)
        if self.settings.extra_files is not None:
            for path, data in self.settings.extra_files().items():
                if path in files:
                    raise TrustMaterialError(f"{path} is both mounted and fetched from Key Vault")
                files[path] = data
        return files

    def _open(self, config_dir: Path) -> Any:
        import notation

        s = self.settings
        return notation.Verifier(
            config_dir=config_dir,
            registry_config=str(s.registry_config) if s.registry_config else None,
            insecure_registries=tuple(s.insecure_registries),
            max_signatures=s.max_signatures,
            max_workers=s.max_workers,
            timeout=s.timeout,
            **s.extra,
        )

    def refresh(self) -> bool:
        """Re-read the mount; True when the trust material changed and is now live.

        Raises :class:`TrustMaterialError` or a ``notation.errors`` error when the new material is unreadable or
        refused; the previous material then stays live (the verifier keeps it, and so does the snapshot).
        """
        files = self._read()
        new_fp = fingerprint(files)
        if new_fp == self.fingerprint:
            return False
        with self._lock:
            staged = write_snapshot(files, self.settings.state_dir)
            old = self.settings.state_dir / f"old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            os.rename(self._live, old)
            os.rename(staged, self._live)
            try:
                self.verifier.reload()
            except BaseException:
                shutil.rmtree(self._live, ignore_errors=True)
                os.rename(old, self._live)
                raise
            shutil.rmtree(old, ignore_errors=True)
            self.fingerprint = new_fp
        return True

    def resolve(self, reference: str) -> str:
        """The digest ``reference`` (``registry/repo:tag``) points at now."""
        return str(self.verifier.resolve(reference).digest)

    def report(self, reference: str) -> Any:
        """``notation.Verifier.report``: never raises; ``.exception`` (typed) or ``.outcome``, and ``.trace`` with
        every signature looked at (the per-signature reasons a denial names)."""
        return self.verifier.report(reference)

    def verify_document(self, references: list[str]) -> dict[str, Any]:
        """What ``notation verify -o json`` prints for ``references``."""
        doc: dict[str, Any] = self.verifier.verify_document(references)
        return doc

    @property
    def request_count(self) -> int:
        return int(getattr(self.verifier, "request_count", 0) or 0)

    def close(self) -> None:
        self.verifier.close()
        shutil.rmtree(self._live, ignore_errors=True)


__all__ = ["TrustMaterialError", "TrustVerifier", "VerifierSettings"]
