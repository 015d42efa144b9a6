"""The Azure identity the tutorial signs as, offline: a managed identity served by the Key Vault emulator.

Managed identity is the one credential of azure-identity's default chain that needs no network look-up (MSAL's
instance discovery) and no PATH change, so the plugin's default credential finds it with two variables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def credential_env(state: Path, info: dict[str, Any]) -> dict[str, str]:
    from notation_devstack.vault.identity import managed_identity_object_id

    server = json.loads((state / "vault" / "server.json").read_text())
    return {
        "DEVSTACK_VAULT_STATE_DIR": str(state / "vault"),
        "DEVSTACK_PRINCIPAL_ID": managed_identity_object_id(None),
        "IDENTITY_ENDPOINT": str(server["managedIdentityEndpoint"]),
        "IDENTITY_HEADER": "notation-devstack",
    }
