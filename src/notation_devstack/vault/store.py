"""Persistence of the emulator's state directory: one JSON document per vault plus private keys as PEM files.

Layout (all written atomically, temp file + ``os.replace``; private material with mode 0600)::

    <state>/emulator.json                 tenant, default vault, default principal
    <state>/tls/{ca,server}.pem           the local CA clients trust, and the server certificate
    <state>/identity/signing-key.pem      signs the access tokens the emulator's token endpoints issue
    <state>/identity/admin-token          bearer secret of the /_emulator/ admin API
    <state>/server.json                   url, ports and endpoints of the running server (written by serve)
    <state>/vaults/<vault>/properties.json  control plane: RBAC flag, soft delete, access policies (registry.py)
    <state>/role-assignments.json         role assignments (registry.py)
    <state>/vaults/<vault>/vault.json     the public side of keys, certificates, secrets
    <state>/vaults/<vault>/keys/<name>/<version>.pem   private keys: never sent anywhere

The server keeps the documents in memory and rewrites a vault's file after each change, under one lock. Temp files
(``.<name>.<random>``, possibly holding a private key) left by a killed process are removed when the store opens,
once older than an hour, so no live writer of a second process can own them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from notation_devstack.vault.errors import VaultError

DEFAULT_TENANT = "7a6b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"
DEFAULT_PRINCIPAL = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
DEFAULT_VAULT = "devstack-vault"
DEFAULT_APPID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the Azure CLI's public client id
MAX_STATE_BYTES = 64 * 1024 * 1024
TEMP_FILE_MAX_AGE = 3600.0

_VAULT_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write-then-rename in the same directory, so readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sweep_temp_files(root: Path, max_age: float = TEMP_FILE_MAX_AGE) -> int:
    """Remove :func:`atomic_write` temp files older than ``max_age`` seconds under ``root``; returns the count."""
    cutoff = time.time() - max_age
    removed = 0
    for path in root.rglob(".*.*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def read_json(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise VaultError(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_STATE_BYTES:
        raise VaultError(f"{path} is larger than {MAX_STATE_BYTES} bytes")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise VaultError(f"{path} is not valid JSON: {exc}") from exc


def now() -> int:
    return int(time.time())


def new_version() -> str:
    return uuid.uuid4().hex


def check_vault_name(name: str) -> str:
    if not _VAULT_NAME.match(name):
        raise VaultError(f"invalid vault name {name!r}: use 1-127 letters, digits and '-'")
    return name


class StateStore:
    """The state directory: emulator settings, vault documents and private keys, guarded by one lock."""

    def __init__(self, root: Path, tenant_id: str | None = None, default_vault: str | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.lock = threading.RLock()
        settings_path = self.root / "emulator.json"
        settings: dict[str, Any] = read_json(settings_path) if settings_path.exists() else {}
        changed = not settings_path.exists()
        for key, value in (("tenantId", tenant_id), ("defaultVault", default_vault)):
            if value and settings.get(key) != value:
                settings[key] = value
                changed = True
        settings.setdefault("tenantId", DEFAULT_TENANT)
        settings.setdefault("defaultVault", DEFAULT_VAULT)
        settings.setdefault("defaultPrincipal", DEFAULT_PRINCIPAL)
        check_vault_name(settings["defaultVault"])
        if changed:
            atomic_write(settings_path, json.dumps(settings, indent=2).encode())
        self.settings = settings
        self._vaults: dict[str, dict[str, Any]] = {}
        self._props: dict[str, tuple[tuple[int, int, int] | None, dict[str, Any]]] = {}
        self._assignments: tuple[tuple[int, int, int], list[dict[str, Any]]] | None = None
        admin = self.root / "identity" / "admin-token"
        if not admin.exists():
            atomic_write(admin, secrets.token_urlsafe(32).encode(), mode=0o600)
        self.admin_token = admin.read_text().strip()
        sweep_temp_files(self.root)

    @property
    def tenant_id(self) -> str:
        return str(self.settings["tenantId"])

    @property
    def default_vault(self) -> str:
        return str(self.settings["defaultVault"])

    @property
    def default_principal(self) -> str:
        return str(self.settings["defaultPrincipal"])

    def _vault_dir(self, name: str) -> Path:
        return self.root / "vaults" / check_vault_name(name).lower()

    def _stat_key(self, path: Path) -> tuple[int, int, int] | None:
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def properties(self, name: str, *, create: bool = True) -> dict[str, Any] | None:
        """The vault's control-plane properties (see :mod:`notation_devstack.vault.registry`), re-read whenever the
        file changed (another process, e.g. the ARM stand-in, may have written it). A vault that does not exist
        is created on first use when ``create`` and it was never deleted (the quick-start default: its creator,
        the default principal, may do everything); otherwise ``None``."""
        from notation_devstack.vault import registry

        key = name.lower()
        path = self._vault_dir(name) / registry.PROPERTIES_FILE
        with self.lock:
            stamp = self._stat_key(path)
            cached = self._props.get(key)
            if cached is not None and cached[0] == stamp and stamp is not None:
                return cached[1]
            if stamp is None:
                legacy = self._vault_dir(name) / "vault.json"
                deleted = (self.root / "deleted-vaults" / key).exists()
                if deleted or (not legacy.exists() and not create):
                    self._props.pop(key, None)
                    self._vaults.pop(key, None)
                    return None
                with registry.VaultRegistry(self.root).locked():
                    if not path.exists():
                        old = read_json(legacy) if legacy.exists() else {}
                        policies = old.get("accessPolicies")
                        props = registry.new_properties(
                            str(old.get("name") or name),
                            tenant_id=str(old.get("tenantId") or self.tenant_id),
                            enable_rbac_authorization=bool(old.get("enableRbacAuthorization", False)),
                        )
                        props["accessPolicies"] = policies if isinstance(policies, list) else [{
                            "tenantId": props["tenantId"],
                            "objectId": self.default_principal,
                            "permissions": {
                                "keys": ["all"], "secrets": ["all"], "certificates": ["all"], "storage": [],
                            },
                        }]
                        atomic_write(path, json.dumps(props, indent=1).encode())
                stamp = self._stat_key(path)
            props = read_json(path)
            if cached is not None and cached[1].get("generation") != props.get("generation"):
                self._vaults.pop(key, None)  # deleted and created again elsewhere: the objects are new too
            self._props[key] = (stamp, props)
            return props  # type: ignore[no-any-return]

    def assignments(self) -> list[dict[str, Any]]:
        """Every role assignment, re-read when ``role-assignments.json`` changed."""
        from notation_devstack.vault import registry

        path = self.root / registry.ASSIGNMENTS_FILE
        with self.lock:
            stamp = self._stat_key(path)
            if stamp is None:
                return []
            if self._assignments is None or self._assignments[0] != stamp:
                doc = read_json(path)
                value = doc.get("value") if isinstance(doc, dict) else None
                self._assignments = (stamp, list(value) if isinstance(value, list) else [])
            return self._assignments[1]

    def vault(self, name: str) -> dict[str, Any]:
        """The vault's objects document (certificates, keys, secrets); its properties must exist."""
        key = name.lower()
        with self.lock:
            props = self.properties(name)
            if props is None:
                raise VaultError(f"The vault '{name}' was not found.")
            if key in self._vaults:
                return self._vaults[key]
            path = self._vault_dir(name) / "vault.json"
            if path.exists():
                doc: dict[str, Any] = read_json(path)
                for legacy in ("accessPolicies", "enableRbacAuthorization", "tenantId"):
                    doc.pop(legacy, None)
            else:
                doc = {"name": props["name"], "certificates": {}, "keys": {}, "secrets": {}}
                self._write(name, doc)
            self._vaults[key] = doc
            return doc

    def save(self, name: str) -> None:
        with self.lock:
            self._write(name, self._vaults[name.lower()])

    def _write(self, name: str, doc: dict[str, Any]) -> None:
        atomic_write(self._vault_dir(name) / "vault.json", json.dumps(doc, indent=1, sort_keys=True).encode())

    def key_path(self, vault: str, key_name: str, version: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", version):
            raise VaultError(f"invalid key version {version!r}")
        return self._vault_dir(vault) / "keys" / key_name.lower() / f"{version}.pem"

    def write_private_key(self, vault: str, key_name: str, version: str, pem: bytes) -> None:
        atomic_write(self.key_path(vault, key_name, version), pem, mode=0o600)

    def delete_private_keys(self, vault: str, key_name: str) -> None:
        """Purge: every version's private key of ``key_name`` leaves the disk."""
        import shutil

        directory = self._vault_dir(vault) / "keys" / key_name.lower()
        shutil.rmtree(directory, ignore_errors=True)

    def backup_key(self) -> bytes:
        """The AES-256 key sealing this emulator's backup blobs (created once, mode 0600)."""
        path = self.root / "identity" / "backup-key"
        with self.lock:
            if not path.exists():
                atomic_write(path, secrets.token_bytes(32), mode=0o600)
            return path.read_bytes()

    def read_private_key(self, vault: str, key_name: str, version: str) -> bytes:
        return self.key_path(vault, key_name, version).read_bytes()
