"""ARM's own state (resource groups, ACR Tasks runs, uploaded build sources) in one JSON file.

Vaults, access policies and role assignments live in the Key Vault emulator; ARM keeps only what it does not own.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from notation_devstack.vault.store import atomic_write


class ArmStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = self.root / "arm.json"
        self.lock = threading.RLock()
        self.doc: dict[str, Any] = json.loads(self.path.read_text()) if self.path.exists() else {}
        for key in ("resourceGroups", "runs"):
            self.doc.setdefault(key, {})

    def save(self) -> None:
        with self.lock:
            atomic_write(self.path, json.dumps(self.doc, indent=1, sort_keys=True).encode(), mode=0o600)

    @property
    def uploads(self) -> Path:
        path = self.root / "uploads"
        path.mkdir(exist_ok=True, mode=0o700)
        return path
