"""The adapter between ARM's ``Microsoft.KeyVault/vaults`` and the Key Vault emulator that owns the vaults.

ARM asks for a vault's properties and writes access policies and the RBAC flag; the emulator enforces them on the
data plane. Today this goes through the emulator's admin API (``/_emulator/vaults/<name>``); the interface is the
seam where the emulator's in-process API plugs in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class VaultBackend(Protocol):
    def get(self, name: str) -> dict[str, Any]:
        """``{"name", "tenantId", "enableRbacAuthorization", "accessPolicies"}``; creates the vault if new."""

    def change_policies(self, name: str, operation: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """``operation`` is add, replace or remove (ARM's accessPolicies/{operation} semantics)."""


class AdminApiVaults:
    """Over the emulator's admin HTTP API, found through its state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._client: Any = None

    def _admin(self) -> Any:
        if self._client is None:
            from notation_devstack.vault.client import EmulatorClient

            self._client = EmulatorClient(self.state_dir)
        return self._client

    def get(self, name: str) -> dict[str, Any]:
        view = self._admin().admin("GET", f"vaults/{name}")
        return {"name": view["name"], **view["properties"]}

    def change_policies(self, name: str, operation: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        view = self._admin().admin("PUT", f"vaults/{name}/accessPolicies/{operation}",
                                   {"properties": {"accessPolicies": entries}})
        return {"name": view["name"], **view["properties"]}

    def set_policies(self, name: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """A full PUT of the vault: the policy list becomes ``entries`` exactly."""
        current = self.get(name)
        if current.get("accessPolicies"):
            ids = [{k: e[k] for k in ("objectId", "tenantId", "applicationId") if e.get(k)}
                   for e in current["accessPolicies"]]
            self.change_policies(name, "remove", ids)
        if entries:
            return self.change_policies(name, "replace", entries)
        return self.get(name)
