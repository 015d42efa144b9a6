"""Built-in role definitions (the ids Azure uses) that the tutorial and ``az role`` reach."""

from __future__ import annotations

from typing import Any

_KV = "Microsoft.KeyVault/vaults"
BUILTIN_ROLES: dict[str, tuple[str, list[str], list[str]]] = {
    # name: (id, actions, dataActions)
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ["*"], []),
    "Contributor": ("b24988ac-6180-42a0-ab88-20f7382dd24c", ["*"], []),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", ["*/read"], []),
    "AcrPush": ("8311e382-0749-4cb8-b61a-304f252e45ec", ["Microsoft.ContainerRegistry/registries/pull/read",
                                                         "Microsoft.ContainerRegistry/registries/push/write"], []),
    "AcrPull": ("7f951dda-4ed3-4680-a7ca-43fe172d538d", ["Microsoft.ContainerRegistry/registries/pull/read"], []),
    "Key Vault Administrator": ("00482a5a-887f-4fb3-b363-3b7fe8e74483", [], [f"{_KV}/*"]),
    "Key Vault Reader": ("21090545-7ca7-4776-b22c-e363652d74d2", [],
                         [f"{_KV}/*/read", f"{_KV}/secrets/readMetadata/action"]),
    "Key Vault Certificates Officer": ("a4417e6f-fecd-4de8-b567-7b0420556985", [],
                                       [f"{_KV}/certificatecas/*", f"{_KV}/certificates/*",
                                        f"{_KV}/certificatecontacts/write"]),
    "Key Vault Certificate User": ("db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", [],
                                   [f"{_KV}/certificates/read", f"{_KV}/secrets/getSecret/action",
                                    f"{_KV}/secrets/readMetadata/action", f"{_KV}/keys/read"]),
    "Key Vault Crypto Officer": ("14b46e9e-c2b7-41b4-b07b-48a6ebf60603", [],
                                 [f"{_KV}/keys/*", f"{_KV}/keyrotationpolicies/*"]),
    "Key Vault Crypto User": ("12338af0-0e69-4776-bea7-57ae8d297424", [],
                              [f"{_KV}/keys/read", f"{_KV}/keys/update/action", f"{_KV}/keys/backup/action",
                               f"{_KV}/keys/encrypt/action", f"{_KV}/keys/decrypt/action",
                               f"{_KV}/keys/wrap/action", f"{_KV}/keys/unwrap/action",
                               f"{_KV}/keys/sign/action", f"{_KV}/keys/verify/action"]),
    "Key Vault Secrets Officer": ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", [], [f"{_KV}/secrets/*"]),
    "Key Vault Secrets User": ("4633458b-17de-408a-b874-0445c86b69e6", [],
                               [f"{_KV}/secrets/getSecret/action", f"{_KV}/secrets/readMetadata/action"]),
}
BY_ID = {rid: name for name, (rid, _a, _d) in BUILTIN_ROLES.items()}


def definition(scope_prefix: str, name: str) -> dict[str, Any]:
    rid, actions, data_actions = BUILTIN_ROLES[name]
    return {
        "id": f"{scope_prefix}/providers/Microsoft.Authorization/roleDefinitions/{rid}",
        "name": rid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name, "type": "BuiltInRole", "description": f"{name} (notation-devstack)",
            "assignableScopes": ["/"],
            "permissions": [{"actions": actions, "notActions": [], "dataActions": data_actions,
                             "notDataActions": []}],
            "createdOn": "2020-01-01T00:00:00.0000000Z", "updatedOn": "2020-01-01T00:00:00.0000000Z",
        },
    }
