"""What ``up`` adds for the real ``az``: the Azure control plane service, the registry's ACR token exchange, the
env file's ``AZURE_CONFIG_DIR``/``HTTPS_PROXY`` and, when ``az`` is installed, the devstack sign-in."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notation_devstack.stack.passwords import new_password

USER_UPN = "devstack-user@devstack.localhost"


@dataclass
class CloudArgs:
    state: Path
    tenant_id: str
    vault_name: str
    creds: dict[str, str]

    @property
    def jwks(self) -> Path:
        return self.state / "cloud" / "jwks.json"

    @property
    def registry_argv(self) -> list[str]:
        return ["--acr-jwks", str(self.jwks), "--acr-tenant", self.tenant_id]

    def cloud_argv(self, registry_host: str, acr_name: str, cert: Path, key: Path) -> list[str]:
        from notation_devstack.vault.identity import managed_identity_object_id
        from notation_devstack.vault.store import atomic_write

        vault_server = json.loads((self.state / "vault" / "server.json").read_text())
        vault_port = int(str(vault_server["url"]).rsplit(":", 1)[1].rstrip("/"))
        config = {
            "user": {"upn": USER_UPN, "password": self.creds["az_user_password"],
                     # one principal for the signed-in user and the managed identity, so the plugin's default
                     # credential chain (managed identity first) signs as the user the tutorial grants
                     "objectId": managed_identity_object_id(None), "displayName": "Devstack User"},
            "registry": {"name": acr_name, "host": registry_host, "username": self.creds["registry_username"],
                         "password": self.creds["registry_password"]},
            "vault_port": vault_port,
            "vaults": [self.vault_name],
        }
        path = self.state / "cloud" / "config.json"
        atomic_write(path, json.dumps(config, indent=2).encode(), mode=0o600)
        return ["cloud", "serve", "--state-dir", str(self.state / "cloud"), "--vault-state-dir",
                str(self.state / "vault"), "--tls-cert", str(cert), "--tls-key", str(key), "--config", str(path)]

    def info(self, pid: int, _line: str, _log: Path, acr_name: str) -> dict[str, Any]:
        from notation_devstack.vault.registry import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION

        server = json.loads((self.state / "cloud" / "server.json").read_text())
        arm_url = str(server["url"]).replace("//login.", "//management.") + "/"
        return {"pid": pid, "url": server["url"], "arm_url": arm_url, "proxy": server["proxy"], "acr_name": acr_name,
                "config": str(self.state / "cloud" / "config.json"), "az_config_dir": str(self.state / "az"),
                "subscription_id": DEFAULT_SUBSCRIPTION, "resource_group": DEFAULT_RESOURCE_GROUP,
                "tenant_id": self.tenant_id}


def prepare_cloud(state: Path, creds: dict[str, str], vault_name: str) -> CloudArgs:
    """Write the authority's JWKS (the vault's token key) for the registry; give the user a password."""
    from notation_devstack.vault.store import atomic_write, read_json
    from notation_devstack.vault.tokens import TokenIssuer

    creds.setdefault("az_user_password", new_password())
    tenant = str(read_json(state / "vault" / "emulator.json")["tenantId"])
    args = CloudArgs(state, tenant, vault_name, creds)
    (state / "cloud").mkdir(parents=True, exist_ok=True, mode=0o700)
    issuer = TokenIssuer(state / "vault" / "identity", tenant)
    atomic_write(args.jwks, json.dumps(issuer.jwks()).encode())
    return args


def cloud_env(info: dict[str, Any]) -> dict[str, str]:
    cloud = info["cloud"]
    return {
        "AZURE_CONFIG_DIR": cloud["az_config_dir"],
        # *.localhost names (az's --vault-name URLs) tunnel through the loopback-only proxy; loopback IPs go direct
        "HTTPS_PROXY": cloud["proxy"],
        "NO_PROXY": "127.0.0.1,::1",
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "DEVSTACK_CLOUD_URL": cloud["url"],
        "DEVSTACK_ACR_NAME": cloud["acr_name"],
        "DEVSTACK_SUBSCRIPTION_ID": cloud["subscription_id"],
        "DEVSTACK_RESOURCE_GROUP": cloud["resource_group"],
    }


def maybe_az_login(state: Path) -> None:
    """Sign az in when it is installed (never fatal: ``notation-devstack az-login`` retries and says why)."""
    from notation_devstack.cloud.azlogin import find_az, login_from_state

    if os.environ.get("DEVSTACK_NO_AZ_LOGIN") or find_az() is None:
        return
    print("Signing the Azure CLI in to the devstack cloud ...", file=sys.stderr)
    try:
        for line in login_from_state(state):
            print(f"  {line}", file=sys.stderr)
    except Exception as exc:  # up still works for notation; az-login can be run again
        print(f"  az sign-in failed: {exc} (run `notation-devstack az-login`)", file=sys.stderr)
