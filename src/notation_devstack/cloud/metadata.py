"""``/metadata/endpoints``: the cloud description ``az cloud register --endpoint-resource-manager`` reads.

Every endpoint is this server under a ``*.devstack.localhost`` name (login, management, graph),
except the Key Vault DNS suffix: ``localhost:<vault port>``, so
``--vault-name V`` becomes ``https://V.localhost:<port>``, the emulator's name for vault V (KVE-02).
"""

from __future__ import annotations

from typing import Any

from notation_devstack.cloud.http import Request, Response

CLOUD_NAME = "notation-devstack"
ARM_AUDIENCE = "https://management.devstack.localhost/"


def endpoints(base: str, vault_port: int, tenant_id: str) -> dict[str, Any]:
    port = base.rsplit(":", 1)[1].rstrip("/") if base.count(":") > 1 else "443"
    root = f"https://management.devstack.localhost:{port}/"
    graph = f"https://graph.devstack.localhost:{port}/"
    return {
        "name": CLOUD_NAME,
        "portal": root + "portal",
        "authentication": {"loginEndpoint": f"https://login.devstack.localhost:{port}", "audiences": [ARM_AUDIENCE],
                           "tenant": tenant_id, "identityProvider": "AAD"},
        "resourceManager": root,
        "microsoftGraphResourceId": graph,
        "graph": graph,
        "graphAudience": graph,
        "gallery": root + "gallery/",
        "batch": "https://batch.devstack.localhost/",
        "media": root + "media/",
        "sqlManagement": root + "sql/",
        "vmImageAliasDoc": root + "vmimagealiases.json",
        "activeDirectoryDataLake": "https://datalake.devstack.localhost/",
        "suffixes": {
            "keyVaultDns": f"localhost:{vault_port}",
            "mhsmDns": f"managedhsm.localhost:{vault_port}",
            "acrLoginServer": "localhost",
            "storage": "devstack.localhost",
            "sqlServerHostname": "sql.devstack.localhost",
        },
    }


class Metadata:
    def __init__(self, vault_port: int, tenant_id: str) -> None:
        self.vault_port = vault_port
        self.tenant_id = tenant_id

    def route(self, request: Request) -> Response | None:
        if request.segments == ["metadata", "endpoints"] and request.method == "GET":
            return Response(200, endpoints(request.base, self.vault_port, self.tenant_id))
        return None
