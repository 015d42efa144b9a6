"""The adapter between ARM's ``Microsoft.KeyVault/vaults`` / ``Microsoft.Authorization`` and the Key Vault
emulator, which owns vaults, access policies and role assignments (``notation_devstack.vault.registry``).

The registry works from any process (flock'ed read-modify-write, picked up by the running emulator on its next
request), so ARM calls it in-process and the data plane enforces the result at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class RegistryVaults:
    def __init__(self, state_dir: Path) -> None:
        from notation_devstack.vault.registry import VaultRegistry

        self.registry = VaultRegistry(state_dir)

    def view(self, props: dict[str, Any], vault_uri: str) -> dict[str, Any]:
        """The ARM resource body from the emulator's properties document."""
        return {
            "id": props["id"], "name": props["name"], "type": "Microsoft.KeyVault/vaults",
            "location": props.get("location", "local"), "tags": props.get("tags") or {},
            "systemData": {"createdAt": props.get("createdAt")},
            "properties": {
                "tenantId": props["tenantId"],
                "sku": props.get("sku") or {"family": "A", "name": "standard"},
                "accessPolicies": [
                    {"tenantId": p.get("tenantId"), "objectId": p.get("objectId"),
                     **({"applicationId": p["applicationId"]} if p.get("applicationId") else {}),
                     "permissions": {k: list((p.get("permissions") or {}).get(k, [])) for k in
                                     ("keys", "secrets", "certificates", "storage")}}
                    for p in props.get("accessPolicies", [])
                ],
                "vaultUri": vault_uri,
                "enabledForDeployment": False, "enabledForDiskEncryption": False,
                "enabledForTemplateDeployment": False,
                "enableSoftDelete": bool(props.get("enableSoftDelete", True)),
                "softDeleteRetentionInDays": props.get("softDeleteRetentionInDays", 90),
                "enablePurgeProtection": props.get("enablePurgeProtection"),
                "enableRbacAuthorization": bool(props.get("enableRbacAuthorization", False)),
                "provisioningState": "Succeeded", "publicNetworkAccess": "Enabled",
            },
        }
