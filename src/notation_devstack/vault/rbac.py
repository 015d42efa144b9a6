"""Azure RBAC for the data plane (``enableRbacAuthorization``): built-in Key Vault roles, role assignments at
subscription, resource group, vault and object scope, and the service's ``ForbiddenByRbac`` answer.

The role definitions carry the real built-in GUIDs and data actions, so a ``roleDefinitionId`` copied from an ARM
template or ``az role assignment create --role <guid>`` means the same here. Generic ARM roles (Owner, Contributor,
Reader) are listed too, with no data actions: holding Owner on a vault does not let anyone read a secret, exactly as
on Azure, which is the most common surprise after ``az keyvault create`` switched to RBAC by default.

Evaluation (per request): the caller's assignments whose scope is the resource's scope or an ancestor of it
(segment-wise, case-insensitive) are collected; the request is allowed when one of their roles has a data action
pattern matching the operation's data action and no ``notDataActions`` pattern of that role excludes it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from notation_devstack.vault.errors import ApiError

ROLE_DEFINITION_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"
_KV = "Microsoft.KeyVault/vaults"


@dataclass(frozen=True)
class RoleDefinition:
    """A built-in role: its GUID (the ``name`` of the ARM resource), display name and data actions."""

    guid: str
    role_name: str
    description: str
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...] = ()

    def definition_id(self, subscription_id: str | None = None) -> str:
        """The ``roleDefinitionId`` ARM prints (subscription-scoped form when a subscription is given)."""
        prefix = f"/subscriptions/{subscription_id}" if subscription_id else ""
        return f"{prefix}{ROLE_DEFINITION_PREFIX}{self.guid}"

    def allows(self, data_action: str) -> bool:
        action = data_action.lower()
        if not any(fnmatch.fnmatchcase(action, p.lower()) for p in self.data_actions):
            return False
        return not any(fnmatch.fnmatchcase(action, p.lower()) for p in self.not_data_actions)

    def arm_view(self, subscription_id: str | None = None) -> dict[str, Any]:
        return {
            "id": self.definition_id(subscription_id),
            "name": self.guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "roleName": self.role_name,
            "roleType": "BuiltInRole",
            "description": self.description,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": [],
                    "notActions": [],
                    "dataActions": list(self.data_actions),
                    "notDataActions": list(self.not_data_actions),
                }
            ],
        }


BUILTIN_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator",
        "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, "
        "and secrets. Cannot manage key vault resources or manage role assignments.",
        (f"{_KV}/*",),
    ),
    RoleDefinition(
        "a4417e6f-fecd-4de8-b567-7b0420556985", "Key Vault Certificates Officer",
        "Perform any action on the certificates of a key vault, excluding reading the secret and key portions, "
        "and managing permissions.",
        (f"{_KV}/certificatecas/*", f"{_KV}/certificates/*", f"{_KV}/certificatecontacts/write"),
    ),
    RoleDefinition(
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", "Key Vault Certificate User",
        "Read entire certificate contents including secret and key portion.",
        (f"{_KV}/certificates/read", f"{_KV}/secrets/getSecret/action", f"{_KV}/secrets/readMetadata/action",
         f"{_KV}/keys/read"),
    ),
    RoleDefinition(
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer",
        "Perform any action on the keys of a key vault, except manage permissions.",
        (f"{_KV}/keys/*", f"{_KV}/keyrotationpolicies/*"),
    ),
    RoleDefinition(
        "12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User",
        "Perform cryptographic operations using keys.",
        tuple(f"{_KV}/keys/{a}" for a in (
            "read", "update/action", "backup/action", "encrypt/action", "decrypt/action", "wrap/action",
            "unwrap/action", "sign/action", "verify/action",
        )),
    ),
    RoleDefinition(
        "e147488a-f6f5-4113-8e2d-b22465e65bf6", "Key Vault Crypto Service Encryption User",
        "Read metadata of keys and perform wrap/unwrap operations.",
        (f"{_KV}/keys/read", f"{_KV}/keys/wrap/action", f"{_KV}/keys/unwrap/action"),
    ),
    RoleDefinition(
        "08bbd89e-9f13-488c-ac41-acfcb10c90ab", "Key Vault Crypto Service Release User",
        "Release keys.",
        (f"{_KV}/keys/release/action",),
    ),
    RoleDefinition(
        "21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader",
        "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such "
        "as secret contents or key material.",
        (f"{_KV}/*/read", f"{_KV}/secrets/readMetadata/action"),
    ),
    RoleDefinition(
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer",
        "Perform any action on the secrets of a key vault, except manage permissions.",
        (f"{_KV}/secrets/*",),
    ),
    RoleDefinition(
        "4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User",
        "Read secret contents including secret portion of a certificate with private key.",
        (f"{_KV}/secrets/getSecret/action", f"{_KV}/secrets/readMetadata/action"),
    ),
    RoleDefinition(
        "8b54135c-b56d-4d72-a534-26097cfdc8d8", "Key Vault Data Access Administrator",
        "Manage access to Azure Key Vault by adding or removing role assignments (no data plane access).", (),
    ),
    RoleDefinition(
        "f25e0fa2-8c6f-4bd7-b634-8d2fe0f4fcee", "Key Vault Contributor",
        "Manage key vaults, but does not allow you to assign roles in Azure RBAC, and does not allow you to "
        "access secrets, keys, or certificates.", (),
    ),
    RoleDefinition(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner",
        "Grants full access to manage all resources (no Key Vault data plane access).", (),
    ),
    RoleDefinition(
        "b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor",
        "Grants full access to manage all resources (no Key Vault data plane access).", (),
    ),
    RoleDefinition(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader",
        "View all resources (no Key Vault data plane access).", (),
    ),
    # Registry roles, so ACR assignments share this store (their data actions are the registry's business).
    RoleDefinition("7f951dda-4ed3-4680-a7ca-43fe172d538d", "AcrPull", "acr pull", ()),
    RoleDefinition("8311e382-0749-4cb8-b61a-304f252e45ec", "AcrPush", "acr push", ()),
    RoleDefinition("c2f4ef07-c644-48eb-af81-4b1b4947fb11", "AcrDelete", "acr delete", ()),
    RoleDefinition("6cef56e8-d556-48e5-a04f-b8e64114680f", "AcrImageSigner", "acr image signer", ()),
)
_BY_GUID = {r.guid: r for r in BUILTIN_ROLES}
_BY_NAME = {r.role_name.lower(): r for r in BUILTIN_ROLES}


def find_role(ref: str) -> RoleDefinition:
    """A role by display name (case-insensitive), GUID, or full role definition id; ValueError if unknown."""
    text = ref.strip()
    role = _BY_NAME.get(text.lower()) or _BY_GUID.get(text.rsplit("/", 1)[-1].lower())
    if role is None:
        raise ValueError(f"Role '{ref}' doesn't exist.")
    return role


def scope_covers(assignment_scope: str, resource_scope: str) -> bool:
    """``/a/b`` covers ``/a/b`` and ``/a/b/c`` but not ``/a/bc``; ``/`` covers everything."""
    outer = [s for s in assignment_scope.lower().split("/") if s]
    inner = [s for s in resource_scope.lower().split("/") if s]
    return inner[: len(outer)] == outer


def rbac_allows(assignments: list[dict[str, Any]], principal_id: str, data_action: str, resource_scope: str) -> bool:
    for assignment in assignments:
        if str(assignment.get("principalId", "")).lower() != principal_id.lower():
            continue
        if not scope_covers(str(assignment.get("scope", "")), resource_scope):
            continue
        try:
            role = find_role(str(assignment.get("roleDefinitionId", "")))
        except ValueError:
            continue
        if role.allows(data_action):
            return True
    return False


def forbidden_by_rbac(caller: str, data_action: str, resource_scope: str, vault_desc: str) -> ApiError:
    """The service's 403 for an RBAC vault (spec §2.4), innererror ``ForbiddenByRbac``."""
    return ApiError(
        403,
        "Forbidden",
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, please observe "
        "propagation time.\r\n"
        f"Caller: {caller}\r\n"
        f"Action: '{data_action}'\r\n"
        f"Resource: '{resource_scope.lower()}'\r\n"
        "Assignment: (not found)\r\n"
        "DenyAssignmentId: null\r\n"
        "DecisionReason: 'DeniedWithNoValidRBAC' \r\n"
        f"Vault: {vault_desc}\r\n",
        inner="ForbiddenByRbac",
    )
