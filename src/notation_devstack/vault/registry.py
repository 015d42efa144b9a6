"""The emulator's control plane: named vaults, their ARM properties, access policies and role assignments.

This is the Python API the ARM stand-in (``Microsoft.KeyVault/vaults``, ``Microsoft.Authorization/roleAssignments``)
and ``notation-devstack vault ...`` call in-process. It works on the state directory only, so it can run in any
process while the emulator serves: every change is a locked read-modify-write of one small JSON file, and the
emulator re-reads a file whenever its size, mtime or inode changed (checked per request, a ``stat``), so a policy or
role change is effective on the next request, with no propagation delay and no restart.

Files (under the emulator's state directory)::

    vaults/<name>/properties.json   ARM view: tenant, location, RBAC flag, soft delete, purge protection, policies
    role-assignments.json           every role assignment (any scope; Key Vault and registry roles alike)
    deleted-vaults/<name>/          a deleted vault (ARM soft delete of vaults), until purged or recovered
    .control.lock                   flock serialising writers across processes

Example::

    reg = VaultRegistry(state_dir)
    reg.create_vault("kv1", enable_rbac_authorization=True)
    reg.role_assignments.create(scope=reg.vault_id("kv1"), role="Key Vault Crypto User", assignee=oid)
    reg.set_access_policy("kv2", oid, keys=["sign"], certificates=["get"])
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from notation_devstack.vault import rbac
from notation_devstack.vault.access import PERMISSIONS, apply_policy_change
from notation_devstack.vault.errors import VaultError
from notation_devstack.vault.store import (
    DEFAULT_PRINCIPAL,
    DEFAULT_TENANT,
    atomic_write,
    check_vault_name,
    read_json,
)

DEFAULT_SUBSCRIPTION = "00000000-0000-4000-8000-0000000000a2"  # the fake az's subscription
DEFAULT_RESOURCE_GROUP = "notation-devstack"
DEFAULT_LOCATION = "local"
DEFAULT_RETENTION_DAYS = 90
PROPERTIES_FILE = "properties.json"
ASSIGNMENTS_FILE = "role-assignments.json"


def _utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def vault_arm_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.KeyVault/vaults/{name}"
    )


def recovery_level(props: dict[str, Any]) -> tuple[str, int | None]:
    """``recoveryLevel`` and ``recoverableDays`` the objects of this vault advertise (the service's rule)."""
    if props.get("enableSoftDelete") is False:
        return "Purgeable", None
    days = int(props.get("softDeleteRetentionInDays") or DEFAULT_RETENTION_DAYS)
    prefix = "CustomizedRecoverable" if days < DEFAULT_RETENTION_DAYS else "Recoverable"
    if props.get("enablePurgeProtection"):
        return prefix, days
    return f"{prefix}+Purgeable", days


def new_properties(
    name: str,
    *,
    tenant_id: str,
    subscription_id: str = DEFAULT_SUBSCRIPTION,
    resource_group: str = DEFAULT_RESOURCE_GROUP,
    location: str = DEFAULT_LOCATION,
    enable_rbac_authorization: bool = False,
    enable_soft_delete: bool = True,
    soft_delete_retention_days: int = DEFAULT_RETENTION_DAYS,
    enable_purge_protection: bool | None = None,
    access_policies: list[dict[str, Any]] | None = None,
    sku: str = "standard",
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    if not 7 <= int(soft_delete_retention_days) <= 90:
        raise VaultError("softDeleteRetentionInDays must be between 7 and 90")
    return {
        "name": name,
        "id": vault_arm_id(subscription_id, resource_group, name),
        "subscriptionId": subscription_id,
        "resourceGroup": resource_group,
        "location": location,
        "tenantId": tenant_id,
        "sku": {"family": "A", "name": sku},
        "enableRbacAuthorization": bool(enable_rbac_authorization),
        "enableSoftDelete": bool(enable_soft_delete),
        "softDeleteRetentionInDays": int(soft_delete_retention_days),
        "enablePurgeProtection": True if enable_purge_protection else None,
        "accessPolicies": list(access_policies or []),
        "tags": dict(tags or {}),
        "createdAt": _utcnow(),
        "generation": uuid.uuid4().hex,
    }


class RoleAssignments:
    """``Microsoft.Authorization/roleAssignments`` over ``role-assignments.json`` (ARM shapes, any scope)."""

    def __init__(self, registry: VaultRegistry) -> None:
        self._reg = registry

    @property
    def path(self) -> Path:
        return self._reg.root / ASSIGNMENTS_FILE

    def _load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        doc = read_json(self.path)
        value = doc.get("value") if isinstance(doc, dict) else None
        return list(value) if isinstance(value, list) else []

    def _save(self, items: list[dict[str, Any]]) -> None:
        atomic_write(self.path, json.dumps({"value": items}, indent=1).encode())

    def create(
        self,
        scope: str,
        role: str,
        assignee: str,
        *,
        principal_type: str = "User",
        name: str | None = None,
        description: str | None = None,
        subscription_id: str | None = None,
    ) -> dict[str, Any]:
        """Assign ``role`` (display name, GUID or definition id) to object id ``assignee`` at ``scope``.

        Raises :class:`VaultError` ``RoleAssignmentExists`` for the same (principal, role, scope) with a different
        name, as ARM answers 409; the same name again is an idempotent PUT.
        """
        definition = rbac.find_role(role)
        scope = "/" + scope.strip().strip("/")
        sub = subscription_id or _subscription_of(scope) or DEFAULT_SUBSCRIPTION
        assignment_name = (name or str(uuid.uuid4())).lower()
        with self._reg.locked():
            items = self._load()
            for item in items:
                same = (
                    item["principalId"].lower() == assignee.lower()
                    and item["roleDefinitionId"].rsplit("/", 1)[-1] == definition.guid
                    and item["scope"].lower() == scope.lower()
                )
                if same and item["name"] != assignment_name:
                    raise VaultError("RoleAssignmentExists: The role assignment already exists.")
                if same:
                    return dict(item)
            now = _utcnow()
            item = {
                "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{assignment_name}",
                "name": assignment_name,
                "type": "Microsoft.Authorization/roleAssignments",
                "scope": scope,
                "roleDefinitionId": definition.definition_id(sub),
                "roleDefinitionName": definition.role_name,
                "principalId": assignee,
                "principalType": principal_type,
                "description": description,
                "condition": None,
                "conditionVersion": None,
                "createdOn": now,
                "updatedOn": now,
                "createdBy": None,
                "updatedBy": None,
                "delegatedManagedIdentityResourceId": None,
            }
            items.append(item)
            self._save(items)
            return dict(item)

    def list(
        self,
        *,
        scope: str | None = None,
        assignee: str | None = None,
        role: str | None = None,
        include_inherited: bool = False,
        include_children: bool = False,
    ) -> list[dict[str, Any]]:
        """Filter like ``az role assignment list``: exact scope, or with ancestors / descendants when asked."""
        guid = rbac.find_role(role).guid if role else None
        out = []
        for item in self._load():
            if assignee and item["principalId"].lower() != assignee.lower():
                continue
            if guid and item["roleDefinitionId"].rsplit("/", 1)[-1] != guid:
                continue
            if scope:
                exact = item["scope"].lower() == ("/" + scope.strip("/")).lower()
                inherited = include_inherited and rbac.scope_covers(item["scope"], scope)
                child = include_children and rbac.scope_covers(scope, item["scope"])
                if not (exact or inherited or child):
                    continue
            out.append(dict(item))
        return out

    def get(self, assignment_id: str) -> dict[str, Any] | None:
        key = assignment_id.strip().lower()
        for item in self._load():
            if item["id"].lower() == key or item["name"] == key:
                return dict(item)
        return None

    def delete(
        self,
        assignment_id: str | None = None,
        *,
        scope: str | None = None,
        assignee: str | None = None,
        role: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Delete by id (or name), or every assignment matching all of scope / assignee / role; returns them."""
        if not assignment_id and not (scope or assignee or role):
            raise VaultError("Please provide at least one of these arguments: --ids, --assignee, --role, --scope")
        with self._reg.locked():
            items = self._load()
            if assignment_id:
                key = assignment_id.strip().lower()
                gone = [i for i in items if i["id"].lower() == key or i["name"] == key]
            else:
                matching = {i["id"] for i in self.list(scope=scope, assignee=assignee, role=role)}
                gone = [i for i in items if i["id"] in matching]
            if gone:
                self._save([i for i in items if i not in gone])
            return gone


def _subscription_of(scope: str) -> str | None:
    parts = [p for p in scope.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return None


class VaultRegistry:
    """Named vaults of one emulator state directory (see the module docstring)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.root = Path(state_dir)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.role_assignments = RoleAssignments(self)

    # --- locking and files ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise control-plane writers across processes (and threads: flock is per open file)."""
        with open(self.root / ".control.lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _settings(self) -> dict[str, Any]:
        path = self.root / "emulator.json"
        doc = read_json(path) if path.exists() else {}
        return doc if isinstance(doc, dict) else {}

    @property
    def tenant_id(self) -> str:
        return str(self._settings().get("tenantId") or DEFAULT_TENANT)

    @property
    def default_principal(self) -> str:
        return str(self._settings().get("defaultPrincipal") or DEFAULT_PRINCIPAL)

    def _dir(self, name: str) -> Path:
        return self.root / "vaults" / check_vault_name(name).lower()

    def _props_path(self, name: str) -> Path:
        return self._dir(name) / PROPERTIES_FILE

    def _write_props(self, props: dict[str, Any]) -> None:
        atomic_write(self._props_path(props["name"]), json.dumps(props, indent=1).encode())

    # --- vaults ---------------------------------------------------------------------------------------------

    def vault_id(self, name: str) -> str:
        """The vault's ARM resource id (the RBAC scope of the vault)."""
        props = self.get_vault(name)
        if props is None:
            raise VaultError(f"The vault '{name}' was not found.")
        return str(props["id"])

    def vault_uri(self, name: str) -> str | None:
        """``properties.vaultUri`` for ARM: ``https://<name>.localhost:<port>/`` of the running emulator (None when
        it does not run). The port is stable across ``notation-devstack down/up``."""
        from urllib.parse import urlsplit

        info_path = self.root / "server.json"
        if not info_path.exists():
            return None
        port = urlsplit(str(read_json(info_path).get("url", ""))).port
        return f"https://{check_vault_name(name).lower()}.localhost:{port}/" if port else None

    def get_vault(self, name: str) -> dict[str, Any] | None:
        path = self._props_path(name)
        if not path.exists():
            return None
        doc: dict[str, Any] = read_json(path)
        return doc

    def list_vaults(self) -> list[dict[str, Any]]:
        out = []
        base = self.root / "vaults"
        for child in sorted(base.iterdir()) if base.is_dir() else []:
            path = child / PROPERTIES_FILE
            if path.exists():
                out.append(read_json(path))
        return out

    def create_vault(
        self,
        name: str,
        *,
        tenant_id: str | None = None,
        subscription_id: str = DEFAULT_SUBSCRIPTION,
        resource_group: str = DEFAULT_RESOURCE_GROUP,
        location: str = DEFAULT_LOCATION,
        enable_rbac_authorization: bool = False,
        enable_soft_delete: bool = True,
        soft_delete_retention_days: int = DEFAULT_RETENTION_DAYS,
        enable_purge_protection: bool | None = None,
        access_policies: list[dict[str, Any]] | None = None,
        creator_object_id: str | None = None,
        sku: str = "standard",
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a vault (ARM ``PUT .../vaults/<name>``). An access-policy vault gets ``access_policies`` or, when
        none are given, one entry granting ``creator_object_id`` (default: the default principal) everything, as
        ``az keyvault create`` does for the signed-in user. An existing vault raises ``VaultError``; a deleted one
        must be recovered or purged first (``VaultAlreadyExists`` / ``ConflictError`` on Azure)."""
        check_vault_name(name)
        with self.locked():
            if self._props_path(name).exists():
                raise VaultError(f"The vault name '{name}' is already in use.")
            if (self.root / "deleted-vaults" / name.lower()).exists():
                raise VaultError(
                    f"A vault with the same name already exists in deleted state. You need to either recover or "
                    f"purge existing key vault. Vault: {name}"
                )
            tenant = tenant_id or self.tenant_id
            policies = access_policies
            if policies is None and not enable_rbac_authorization:
                policies = [{
                    "tenantId": tenant,
                    "objectId": creator_object_id or self.default_principal,
                    "permissions": {"keys": ["all"], "secrets": ["all"], "certificates": ["all"], "storage": []},
                }]
            props = new_properties(
                name, tenant_id=tenant, subscription_id=subscription_id, resource_group=resource_group,
                location=location, enable_rbac_authorization=enable_rbac_authorization,
                enable_soft_delete=enable_soft_delete, soft_delete_retention_days=soft_delete_retention_days,
                enable_purge_protection=enable_purge_protection, access_policies=[], sku=sku, tags=tags,
            )
            if policies:
                apply_policy_change(props, "add", policies)
            self._write_props(props)
            return props

    def update_vault(self, name: str, **changes: Any) -> dict[str, Any]:
        """ARM ``PATCH``: ``enable_rbac_authorization``, ``enable_purge_protection`` (cannot be turned off again),
        ``soft_delete_retention_days`` (fixed after creation on Azure: refused), ``tags``, ``access_policies``."""
        with self.locked():
            props = self.get_vault(name)
            if props is None:
                raise VaultError(f"The vault '{name}' was not found.")
            for key, value in changes.items():
                if value is None:
                    continue
                if key == "enable_rbac_authorization":
                    props["enableRbacAuthorization"] = bool(value)
                elif key == "enable_purge_protection":
                    if not value and props.get("enablePurgeProtection"):
                        raise VaultError("Once enabled, purge protection cannot be disabled.")
                    props["enablePurgeProtection"] = True if value else None
                elif key == "soft_delete_retention_days":
                    if int(value) != int(props.get("softDeleteRetentionInDays") or DEFAULT_RETENTION_DAYS):
                        raise VaultError("The soft delete retention period cannot be changed after creation.")
                elif key == "tags":
                    props["tags"] = dict(value)
                elif key == "access_policies":
                    props["accessPolicies"] = []
                    apply_policy_change(props, "add", list(value))
                else:
                    raise VaultError(f"unknown vault property {key!r}")
            self._write_props(props)
            return props

    def delete_vault(self, name: str) -> None:
        """ARM ``DELETE``: the vault and its objects move to ``deleted-vaults/`` (recover or purge later); its role
        assignments at or below the vault scope are removed, as ARM removes assignments of deleted resources."""
        with self.locked():
            props = self.get_vault(name)
            if props is None:
                raise VaultError(f"The vault '{name}' was not found.")
            target = self.root / "deleted-vaults" / name.lower()
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            props["deletionDate"] = _utcnow()
            self._write_props(props)
            os.replace(self._dir(name), target)
            scope = str(props["id"])
            items = self.role_assignments._load()
            kept = [i for i in items if not rbac.scope_covers(scope, i["scope"])]
            if len(kept) != len(items):
                self.role_assignments._save(kept)

    def list_deleted_vaults(self) -> list[dict[str, Any]]:
        base = self.root / "deleted-vaults"
        return [read_json(p / PROPERTIES_FILE) for p in sorted(base.iterdir())] if base.is_dir() else []

    def recover_vault(self, name: str) -> dict[str, Any]:
        with self.locked():
            source = self.root / "deleted-vaults" / name.lower()
            if not source.exists():
                raise VaultError(f"The deleted vault '{name}' was not found.")
            if self._dir(name).exists():
                raise VaultError(f"The vault name '{name}' is already in use.")
            self._dir(name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, self._dir(name))
            props = self.get_vault(name) or {}
            props.pop("deletionDate", None)
            self._write_props(props)
            return props

    def purge_deleted_vault(self, name: str) -> None:
        with self.locked():
            source = self.root / "deleted-vaults" / name.lower()
            if not source.exists():
                raise VaultError(f"The deleted vault '{name}' was not found.")
            props = read_json(source / PROPERTIES_FILE)
            if props.get("enablePurgeProtection"):
                raise VaultError(
                    f"Operation 'DeletedVaultPurge' is not allowed as purge protection is enabled for vault {name}."
                )
            shutil.rmtree(source)

    # --- access policies ------------------------------------------------------------------------------------

    def set_access_policy(
        self,
        name: str,
        object_id: str,
        *,
        keys: list[str] | None = None,
        secrets: list[str] | None = None,
        certificates: list[str] | None = None,
        storage: list[str] | None = None,
        application_id: str | None = None,
        tenant_id: str | None = None,
        mode: str = "replace",
    ) -> dict[str, Any]:
        """``az keyvault set-policy`` (``mode="replace"``: only the given lists change) or ARM
        ``accessPolicies/{add|replace|remove}``. Refused on an RBAC vault with az's message."""
        entry: dict[str, Any] = {"objectId": object_id, "permissions": {}}
        if application_id:
            entry["applicationId"] = application_id
        if tenant_id:
            entry["tenantId"] = tenant_id
        for collection, perms in (("keys", keys), ("secrets", secrets), ("certificates", certificates),
                                  ("storage", storage)):
            if perms is not None:
                entry["permissions"][collection] = perms
        return self.change_access_policies(name, mode, [entry])

    def change_access_policies(self, name: str, mode: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        with self.locked():
            props = self.get_vault(name)
            if props is None:
                raise VaultError(f"The vault '{name}' was not found.")
            if props.get("enableRbacAuthorization") and mode != "remove":
                raise VaultError("Cannot set policies to a vault with '--enable-rbac-authorization' specified")
            try:
                apply_policy_change(props, mode, entries)
            except ValueError as exc:
                raise VaultError(str(exc)) from exc
            self._write_props(props)
            return props

    def delete_access_policy(self, name: str, object_id: str, application_id: str | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"objectId": object_id, "permissions": {c: [] for c in PERMISSIONS}}
        if application_id:
            entry["applicationId"] = application_id
        return self.change_access_policies(name, "remove", [entry])

    def clear_access_policies(self, name: str) -> dict[str, Any]:
        with self.locked():
            props = self.get_vault(name)
            if props is None:
                raise VaultError(f"The vault '{name}' was not found.")
            props["accessPolicies"] = []
            self._write_props(props)
            return props
