"""ARM's HTTP surface: ``/tenants``, ``/subscriptions/...`` with resource groups, vaults, registries (and their
ACR Tasks quick runs), role definitions and role assignments; and the blob URL that ``az acr build`` uploads to.

Every request needs an ARM token from the devstack authority (``aud`` = the cloud's management audience).
Responses follow the shapes the azure-mgmt SDKs deserialize; PUTs answer 200 with ``provisioningState``
``Succeeded`` so long-running-operation pollers finish at once.
"""

from __future__ import annotations

import contextlib
import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from notation_devstack.arm.store import ArmStore
from notation_devstack.arm.vaults import RegistryVaults
from notation_devstack.cloud.http import HttpError, Request, Response
from notation_devstack.vault.tokens import InvalidToken, TokenIssuer

LOCATION = "local"
_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")


@dataclass
class ArmConfig:
    tenant_id: str
    subscription_id: str
    audience: str
    resource_group: str
    vault_uri_template: str  # "https://{name}.localhost:<port>/"
    registry_name: str
    registry_login_server: str
    registry_username: str
    registry_password: str


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())


def _not_found(kind: str, name: str, group: str | None = None) -> HttpError:
    where = f" under resource group '{group}'" if group else ""
    return HttpError(404, "ResourceNotFound", f"The Resource '{kind}/{name}'{where} was not found. For more "
                                              "details please go to https://aka.ms/ARMResourceNotFoundFix")


def _filter_value(text: str, field: str) -> str | None:
    match = re.search(rf"{field}\s+eq\s+'([^']*)'", text or "", re.IGNORECASE)
    return match.group(1) if match else None


class Arm:
    def __init__(self, config: ArmConfig, store: ArmStore, issuer: TokenIssuer, vaults: RegistryVaults) -> None:
        self.config = config
        self.store = store
        self.issuer = issuer
        self.vaults = vaults
        from notation_devstack.arm.tasks import Tasks

        self.tasks = Tasks(config, store)
        with store.lock:
            store.doc["resourceGroups"].setdefault(config.resource_group.lower(),
                                                   {"name": config.resource_group, "location": LOCATION, "tags": {}})
            store.save()

    # --- helpers ------------------------------------------------------------------------------------------------

    @property
    def sub_id(self) -> str:
        return f"/subscriptions/{self.config.subscription_id}"

    def _auth(self, request: Request) -> str:
        token = request.bearer()
        if not token:
            raise HttpError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
                                                         "missing.", headers={"WWW-Authenticate": self._challenge()})
        try:
            principal = self.issuer.validate(token, {self.config.audience, self.config.audience.rstrip("/")},
                                             lenient=False, default_principal="")
        except InvalidToken as exc:
            code = "ExpiredAuthenticationToken" if "expired" in str(exc) else "InvalidAuthenticationToken"
            raise HttpError(401, code, f"The access token is invalid: {exc}",
                            headers={"WWW-Authenticate": self._challenge()}) from exc
        return principal.object_id

    def _challenge(self) -> str:
        return f'Bearer authorization_uri="https://login/{self.config.tenant_id}", error="invalid_token"'

    def _group(self, name: str) -> dict[str, Any]:
        group: dict[str, Any] | None = self.store.doc["resourceGroups"].get(name.lower())
        if group is None:
            raise HttpError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        return group

    def _group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"{self.sub_id}/resourceGroups/{group['name']}", "name": group["name"],
                "type": "Microsoft.Resources/resourceGroups", "location": group["location"],
                "tags": group.get("tags") or {}, "properties": {"provisioningState": "Succeeded"}}

    # --- vaults -------------------------------------------------------------------------------------------------

    def _vault_view(self, props: dict[str, Any]) -> dict[str, Any]:
        return self.vaults.view(props, self.config.vault_uri_template.format(name=props["name"].lower()))

    def _find_vault(self, name: str, group: str | None) -> dict[str, Any]:
        props = self.vaults.registry.get_vault(name)
        if props is None or (group is not None and str(props.get("resourceGroup", "")).lower() != group.lower()):
            raise _not_found("Microsoft.KeyVault/vaults", name, group)
        return props

    def ensure_vault(self, name: str) -> None:
        """The devstack's vault exists in ARM from the start (the tutorial's "create or use a Key Vault")."""
        from notation_devstack.vault.errors import VaultError

        if self.vaults.registry.get_vault(name) is None:
            with contextlib.suppress(VaultError):
                self.vaults.registry.create_vault(name, subscription_id=self.config.subscription_id,
                                                  resource_group=self.config.resource_group)

    def _vault(self, request: Request, group: str, name: str, rest: list[str]) -> Response:
        from notation_devstack.vault.errors import VaultError

        registry = self.vaults.registry
        try:
            if rest and rest[0].lower() == "accesspolicies" and len(rest) == 2 and request.method == "PUT":
                self._find_vault(name, group)
                entries = (request.json().get("properties") or {}).get("accessPolicies") or []
                props = registry.change_access_policies(name, rest[1].lower(), list(entries))
                return Response(200, {"id": f"{props['id']}/accessPolicies/{rest[1]}",
                                      "type": "Microsoft.KeyVault/vaults/accessPolicies",
                                      "properties": {"accessPolicies": self._vault_view(props)["properties"]
                                                     ["accessPolicies"]}})
            if rest:
                raise HttpError(404, "NotFound", f"notation-devstack ARM does not serve vault child {'/'.join(rest)}")
            if request.method == "GET":
                return Response(200, self._vault_view(self._find_vault(name, group)))
            if request.method in ("PUT", "PATCH"):
                self._group(group)
                doc = request.json()
                props_in = doc.get("properties") or {}
                existing = registry.get_vault(name)
                if existing is not None and str(existing.get("resourceGroup", "")).lower() != group.lower():
                    raise HttpError(409, "VaultAlreadyExists", f"The vault name '{name}' is already in use.")
                policies = props_in.get("accessPolicies")
                if existing is None:
                    if request.method == "PATCH":
                        raise _not_found("Microsoft.KeyVault/vaults", name, group)
                    sku: dict[str, Any] = props_in["sku"] if isinstance(props_in.get("sku"), dict) else {}
                    props = registry.create_vault(
                        name, tenant_id=props_in.get("tenantId"), subscription_id=self.config.subscription_id,
                        resource_group=self._group(group)["name"], location=doc.get("location") or LOCATION,
                        enable_rbac_authorization=bool(props_in.get("enableRbacAuthorization")),
                        enable_soft_delete=props_in.get("enableSoftDelete") is not False,
                        soft_delete_retention_days=int(props_in.get("softDeleteRetentionInDays") or 90),
                        enable_purge_protection=props_in.get("enablePurgeProtection"),
                        access_policies=list(policies) if policies is not None else [],
                        sku=str(sku.get("name") or "standard"), tags=doc.get("tags"),
                    )
                    return Response(200, self._vault_view(props))
                changes: dict[str, Any] = {
                    "enable_rbac_authorization": props_in.get("enableRbacAuthorization"),
                    "enable_purge_protection": props_in.get("enablePurgeProtection"),
                    "tags": doc.get("tags"),
                    "access_policies": (list(policies) if policies is not None and request.method == "PUT"
                                        else None),
                }
                props = registry.update_vault(name, **changes)
                if policies is not None and request.method == "PATCH":
                    props = registry.change_access_policies(name, "replace", list(policies))
                return Response(200, self._vault_view(props))
            if request.method == "DELETE":
                if registry.get_vault(name) is None:
                    return Response(204)
                self._find_vault(name, group)
                registry.delete_vault(name)
                return Response(200)
        except VaultError as exc:
            raise HttpError(400, "BadRequest", str(exc)) from exc
        raise HttpError(405, "MethodNotAllowed", f"{request.method} is not allowed on a vault")

    def _vault_list(self, group: str | None) -> list[dict[str, Any]]:
        return [self._vault_view(p) for p in self.vaults.registry.list_vaults()
                if group is None or str(p.get("resourceGroup", "")).lower() == group.lower()]

    # --- registries ---------------------------------------------------------------------------------------------

    def registry_view(self) -> dict[str, Any]:
        c = self.config
        return {
            "id": f"{self.sub_id}/resourceGroups/{c.resource_group}/providers/Microsoft.ContainerRegistry/"
                  f"registries/{c.registry_name}",
            "name": c.registry_name, "type": "Microsoft.ContainerRegistry/registries", "location": LOCATION,
            "tags": {}, "sku": {"name": "Basic", "tier": "Basic"},
            "properties": {"loginServer": c.registry_login_server, "creationDate": "2026-01-01T00:00:00Z",
                           "provisioningState": "Succeeded", "adminUserEnabled": False,
                           "publicNetworkAccess": "Enabled", "anonymousPullEnabled": False,
                           "dataEndpointEnabled": False, "networkRuleBypassOptions": "AzureServices",
                           "zoneRedundancy": "Disabled", "policies": {},
                           "roleAssignmentMode": "LegacyRegistryPermissions"},
        }

    def _registry(self, request: Request, group: str, name: str, rest: list[str]) -> Response:
        if name.lower() != self.config.registry_name.lower() or group.lower() != self.config.resource_group.lower():
            raise _not_found("Microsoft.ContainerRegistry/registries", name, group)
        if not rest and request.method == "GET":
            return Response(200, self.registry_view())
        return self.tasks.route(request, self.registry_view()["id"], rest)

    # --- authorization ------------------------------------------------------------------------------------------

    @staticmethod
    def _assignment_view(item: dict[str, Any]) -> dict[str, Any]:
        keys = ("roleDefinitionId", "principalId", "principalType", "scope", "description", "condition",
                "conditionVersion", "createdOn", "updatedOn", "createdBy", "updatedBy")
        return {"id": item["id"], "name": item["name"], "type": "Microsoft.Authorization/roleAssignments",
                "properties": {k: item.get(k) for k in keys}}

    def _authorization(self, request: Request, scope: str, rest: list[str]) -> Response:
        from notation_devstack.vault import rbac
        from notation_devstack.vault.errors import VaultError

        kind = rest[0].lower() if rest else ""
        sub = self.config.subscription_id
        if kind == "roledefinitions" and request.method == "GET":
            if len(rest) == 1:
                wanted = _filter_value(request.query.get("$filter", ""), "roleName")
                found = [r for r in rbac.BUILTIN_ROLES if wanted is None or r.role_name.lower() == wanted.lower()]
                return Response(200, {"value": [_definition(r.arm_view(sub)) for r in found]})
            if len(rest) == 2:
                try:
                    return Response(200, _definition(rbac.find_role(rest[1]).arm_view(sub)))
                except ValueError as exc:
                    raise HttpError(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
                                                                       f"'{rest[1]}' does not exist.") from exc
        if kind == "roleassignments":
            assignments = self.vaults.registry.role_assignments
            flt = request.query.get("$filter", "")
            if len(rest) == 1 and request.method == "GET":
                principal = _filter_value(flt, "principalId") or _filter_value(flt, r"assignedTo\(")
                at_scope = "atscope()" in flt.lower()
                items = assignments.list(scope=scope or "/", assignee=principal, include_inherited=True,
                                         include_children=not at_scope)
                return Response(200, {"value": [self._assignment_view(i) for i in items]})
            if len(rest) == 2:
                name = rest[1]
                if request.method == "GET":
                    item = assignments.get(name)
                    if item is None:
                        raise HttpError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
                    return Response(200, self._assignment_view(item))
                if request.method == "PUT":
                    props = request.json().get("properties") or {}
                    try:
                        item = assignments.create(scope or "/", str(props.get("roleDefinitionId") or ""),
                                                  str(props.get("principalId") or ""),
                                                  principal_type=str(props.get("principalType") or "User"),
                                                  name=name, description=props.get("description"),
                                                  subscription_id=sub)
                    except ValueError as exc:
                        raise HttpError(400, "RoleDefinitionDoesNotExist", str(exc)) from exc
                    except VaultError as exc:
                        raise HttpError(409, "RoleAssignmentExists", "The role assignment already exists.") from exc
                    return Response(201, self._assignment_view(item))
                if request.method == "DELETE":
                    gone = assignments.delete(name)
                    return Response(200, self._assignment_view(gone[0])) if gone else Response(204)
        raise HttpError(404, "NotFound", f"notation-devstack ARM does not serve {request.method} {request.path}")

    # --- routing ------------------------------------------------------------------------------------------------

    def _tenant_view(self) -> dict[str, Any]:
        tid = self.config.tenant_id
        return {"id": f"/tenants/{tid}", "tenantId": tid, "countryCode": "US", "displayName": "notation-devstack",
                "domains": ["devstack.localhost"], "tenantCategory": "Home", "defaultDomain": "devstack.localhost",
                "tenantType": "AAD"}

    def _subscription_view(self) -> dict[str, Any]:
        return {"id": self.sub_id, "authorizationSource": "RoleBased", "managedByTenants": [],
                "subscriptionId": self.config.subscription_id, "tenantId": self.config.tenant_id,
                "displayName": "notation-devstack", "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Devstack",
                                         "spendingLimit": "Off"}}

    def route(self, request: Request) -> Response | None:
        seg = request.segments
        if not seg or seg[0].lower() not in ("tenants", "subscriptions", "providers"):
            return self.tasks.blob_route(request)
        self._auth(request)
        low = [s.lower() for s in seg]
        if low == ["tenants"]:
            return Response(200, {"value": [self._tenant_view()]})
        if low == ["subscriptions"]:
            return Response(200, {"value": [self._subscription_view()], "count": {"type": "Total", "value": 1}})
        if low[0] == "providers" and len(low) >= 2 and low[1] == "microsoft.authorization":
            return self._authorization(request, "", seg[2:])
        if len(seg) < 2 or low[0] != "subscriptions":
            return None
        if seg[1].lower() != self.config.subscription_id.lower():
            raise HttpError(404, "SubscriptionNotFound", f"The subscription '{seg[1]}' could not be found.")
        rest, lrest = seg[2:], low[2:]
        if not rest:
            return Response(200, self._subscription_view())
        if lrest == ["resources"]:
            kind = _filter_value(request.query.get("$filter", ""), "resourceType")
            name = _filter_value(request.query.get("$filter", ""), "name")
            items = []
            if kind is None or kind.lower() == "microsoft.keyvault/vaults":
                items += [{k: v[k] for k in ("id", "name", "type", "location", "tags")} for v in self._vault_list(None)]
            if kind is None or kind.lower() == "microsoft.containerregistry/registries":
                r = self.registry_view()
                items.append({k: r[k] for k in ("id", "name", "type", "location", "tags", "sku")})
            return Response(200, {"value": [i for i in items if name is None or i["name"].lower() == name.lower()]})
        if lrest[0] == "providers" and len(lrest) >= 2:
            return self._provider(request, None, rest[1], rest[2:])
        if lrest[0] == "resourcegroups":
            if len(rest) == 1 and request.method == "GET":
                groups = self.store.doc["resourceGroups"].values()
                return Response(200, {"value": [self._group_view(g) for g in groups]})
            if len(rest) < 2:
                return None
            group = rest[1]
            if len(rest) == 2:
                return self._resource_group(request, group)
            if lrest[2] == "providers" and len(rest) >= 4:
                self._group(group)
                return self._provider(request, group, rest[3], rest[4:])
        return None

    def _resource_group(self, request: Request, name: str) -> Response:
        groups = self.store.doc["resourceGroups"]
        if request.method in ("GET", "HEAD"):
            if request.method == "HEAD":
                return Response(204 if name.lower() in groups else 404)
            return Response(200, self._group_view(self._group(name)))
        if request.method in ("PUT", "PATCH"):
            if not _RG_NAME.match(name):
                raise HttpError(400, "InvalidResourceGroup", f"The provided resource group name '{name}' has these "
                                                             "invalid characters.")
            doc = request.json()
            with self.store.lock:
                created = name.lower() not in groups
                group = groups.setdefault(name.lower(), {"name": name, "location": doc.get("location", LOCATION)})
                group["tags"] = doc.get("tags") or group.get("tags") or {}
                self.store.save()
            return Response(201 if created else 200, self._group_view(group))
        if request.method == "DELETE":
            self._group(name)
            if name.lower() == self.config.resource_group.lower():
                raise HttpError(409, "ScopeLocked", "notation-devstack keeps its own resource group.")
            for props in self._vault_list(name):
                self.vaults.registry.delete_vault(props["name"])
            with self.store.lock:
                del groups[name.lower()]
                self.store.save()
            return Response(200)
        raise HttpError(405, "MethodNotAllowed", f"{request.method} is not allowed on a resource group")

    def _provider(self, request: Request, group: str | None, namespace: str, rest: list[str]) -> Response:
        ns = namespace.lower()
        scope = f"{self.sub_id}" + (f"/resourceGroups/{group}" if group else "")
        if ns == "microsoft.authorization" and rest:
            return self._authorization(request, scope, rest)
        if not rest:
            raise HttpError(404, "NotFound", f"unknown provider path {namespace}")
        kind = rest[0].lower()
        if ns == "microsoft.keyvault" and kind == "vaults":
            if len(rest) == 1:
                return Response(200, {"value": self._vault_list(group)})
            if group is None:
                raise HttpError(404, "NotFound", "vault paths need a resource group")
            if len(rest) >= 4 and rest[2].lower() == "providers" and rest[3].lower() == "microsoft.authorization":
                return self._authorization(request, f"{scope}/providers/Microsoft.KeyVault/vaults/{rest[1]}", rest[4:])
            return self._vault(request, group, rest[1], rest[2:])
        if ns == "microsoft.keyvault" and kind == "checknameavailability" and request.method == "POST":
            name = str(request.json().get("name", ""))
            taken = self.vaults.registry.get_vault(name) is not None
            return Response(200, {"nameAvailable": not taken, **({"reason": "AlreadyExists", "message":
                                  f"The vault name '{name}' is already in use."} if taken else {})})
        if ns == "microsoft.containerregistry" and kind == "registries":
            if len(rest) == 1:
                found = group is None or group.lower() == self.config.resource_group.lower()
                return Response(200, {"value": [self.registry_view()] if found else []})
            if group is None:
                raise HttpError(404, "NotFound", "registry paths need a resource group")
            if len(rest) >= 4 and rest[2].lower() == "providers" and rest[3].lower() == "microsoft.authorization":
                return self._authorization(request, f"{scope}/providers/Microsoft.ContainerRegistry/registries/"
                                                    f"{rest[1]}", rest[4:])
            return self._registry(request, group, rest[1], rest[2:])
        raise HttpError(400, "NoRegisteredProviderFound", f"No registered resource provider found for location "
                                                          f"'{LOCATION}' and namespace '{namespace}'.")


def _definition(view: dict[str, Any]) -> dict[str, Any]:
    """rbac's flat view in ARM's shape (``properties`` holds the role). The id stays subscription-scoped at any
    listing scope, as ARM answers: az compares it with the assignments' ``roleDefinitionId``."""
    props = {k: view[k] for k in ("roleName", "description", "assignableScopes", "permissions")}
    props["type"] = view.get("roleType", "BuiltInRole")
    return {"id": view["id"], "name": view["name"], "type": view["type"], "properties": props}


def new_run_id(count: int) -> str:
    return f"dt{count + 1}"


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def random_id() -> str:
    return uuid.uuid4().hex
