"""ARM's HTTP surface: ``/tenants``, ``/subscriptions/...`` with resource groups, vaults, registries (and their
ACR Tasks quick runs), role definitions and role assignments; and the blob URL that ``az acr build`` uploads to.

Every request needs an ARM token from the devstack authority (``aud`` = the cloud's management audience).
Responses follow the shapes the azure-mgmt SDKs deserialize; PUTs answer 200 with ``provisioningState``
``Succeeded`` so long-running-operation pollers finish at once.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from notation_devstack.arm import roles
from notation_devstack.arm.store import ArmStore
from notation_devstack.arm.vaults import AdminApiVaults
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
    vault_uri_template: str  # "https://{name}.vault.localhost:<port>/"
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
    def __init__(self, config: ArmConfig, store: ArmStore, issuer: TokenIssuer, vaults: AdminApiVaults) -> None:
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

    def _vault_view(self, name: str) -> dict[str, Any]:
        meta = self.store.doc["vaults"][name.lower()]
        state = self.vaults.get(meta["name"])
        return {
            "id": f"{self.sub_id}/resourceGroups/{meta['resourceGroup']}/providers/Microsoft.KeyVault/vaults/"
                  f"{meta['name']}",
            "name": meta["name"], "type": "Microsoft.KeyVault/vaults", "location": meta.get("location", LOCATION),
            "tags": meta.get("tags") or {},
            "systemData": {"createdAt": meta.get("created", _now())},
            "properties": {
                "tenantId": state.get("tenantId", self.config.tenant_id),
                "sku": {"family": "A", "name": meta.get("sku", "standard")},
                "accessPolicies": [
                    {"tenantId": p.get("tenantId"), "objectId": p.get("objectId"),
                     **({"applicationId": p["applicationId"]} if p.get("applicationId") else {}),
                     "permissions": {k: list(p.get("permissions", {}).get(k, [])) for k in
                                     ("keys", "secrets", "certificates", "storage")}}
                    for p in state.get("accessPolicies", [])
                ],
                "vaultUri": self.config.vault_uri_template.format(name=meta["name"]),
                "enabledForDeployment": False, "enabledForDiskEncryption": False,
                "enabledForTemplateDeployment": False,
                "enableSoftDelete": True, "softDeleteRetentionInDays": 90,
                "enableRbacAuthorization": bool(state.get("enableRbacAuthorization", False)),
                "provisioningState": "Succeeded", "publicNetworkAccess": "Enabled",
            },
        }

    def _find_vault(self, name: str, group: str | None) -> dict[str, Any]:
        meta: dict[str, Any] | None = self.store.doc["vaults"].get(name.lower())
        if meta is None or (group is not None and meta["resourceGroup"].lower() != group.lower()):
            raise _not_found("Microsoft.KeyVault/vaults", name, group)
        return meta

    def register_vault(self, name: str, group: str | None = None) -> None:
        """Make an emulator vault visible in ARM (the default vault at start-up)."""
        with self.store.lock:
            if name.lower() not in self.store.doc["vaults"]:
                self.store.doc["vaults"][name.lower()] = {"name": name, "resourceGroup": group or
                                                          self.config.resource_group, "created": _now()}
                self.store.save()

    def _vault(self, request: Request, group: str, name: str, rest: list[str]) -> Response:
        if rest and rest[0].lower() == "accesspolicies" and len(rest) == 2 and request.method == "PUT":
            self._find_vault(name, group)
            entries = (request.json().get("properties") or {}).get("accessPolicies") or []
            try:
                self.vaults.change_policies(name, rest[1].lower(), entries)
            except Exception as exc:
                raise HttpError(400, "BadRequest", str(exc).split(") ", 1)[-1]) from exc
            view = self._vault_view(name)
            return Response(200, {"id": view["id"] + f"/accessPolicies/{rest[1]}", "type":
                                  "Microsoft.KeyVault/vaults/accessPolicies",
                                  "properties": {"accessPolicies": view["properties"]["accessPolicies"]}})
        if rest:
            raise HttpError(404, "NotFound", f"notation-devstack ARM does not serve vault child {'/'.join(rest)}")
        if request.method == "GET":
            self._find_vault(name, group)
            return Response(200, self._vault_view(name))
        if request.method in ("PUT", "PATCH"):
            self._group(group)
            doc = request.json()
            props = doc.get("properties") or {}
            with self.store.lock:
                meta = self.store.doc["vaults"].get(name.lower())
                if meta is not None and meta["resourceGroup"].lower() != group.lower():
                    raise HttpError(409, "VaultAlreadyExists", f"The vault name '{name}' is already in use.")
                created = meta is None
                if meta is None:
                    meta = {"name": name, "resourceGroup": self._group(group)["name"], "created": _now()}
                    self.store.doc["vaults"][name.lower()] = meta
                if "location" in doc:
                    meta["location"] = doc["location"]
                if "tags" in doc:
                    meta["tags"] = doc.get("tags") or {}
                if isinstance(props.get("sku"), dict):
                    meta["sku"] = props["sku"].get("name", "standard")
                self.store.save()
            current = self.vaults.get(name)
            if "accessPolicies" in props and request.method == "PUT":
                try:
                    self.vaults.set_policies(name, list(props.get("accessPolicies") or []))
                except Exception as exc:
                    raise HttpError(400, "BadRequest", str(exc).split(") ", 1)[-1]) from exc
            if "enableRbacAuthorization" in props and props["enableRbacAuthorization"] is not None:
                wanted = bool(props["enableRbacAuthorization"])
                if wanted != bool(current.get("enableRbacAuthorization")):
                    setter = getattr(self.vaults, "set_rbac", None)
                    if setter is None:
                        raise HttpError(400, "NotSupported", "the Key Vault emulator cannot switch the "
                                                             "permission model yet")
                    setter(name, wanted)
            return Response(201 if created else 200, self._vault_view(name))
        if request.method == "DELETE":
            with self.store.lock:
                if self.store.doc["vaults"].pop(name.lower(), None) is None:
                    return Response(204)
                self.store.save()
            return Response(200)
        raise HttpError(405, "MethodNotAllowed", f"{request.method} is not allowed on a vault")

    def _vault_list(self, group: str | None) -> list[dict[str, Any]]:
        metas = [m for m in self.store.doc["vaults"].values()
                 if group is None or m["resourceGroup"].lower() == group.lower()]
        return [self._vault_view(m["name"]) for m in metas]

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

    def _authorization(self, request: Request, scope: str, rest: list[str]) -> Response:
        kind = rest[0].lower()
        if kind == "roledefinitions":
            if len(rest) == 1 and request.method == "GET":
                wanted = _filter_value(request.query.get("$filter", ""), "roleName")
                names = [n for n in roles.BUILTIN_ROLES if wanted is None or n.lower() == wanted.lower()]
                return Response(200, {"value": [roles.definition(scope, n) for n in names]})
            if len(rest) == 2 and request.method == "GET":
                name = roles.BY_ID.get(rest[1].lower())
                if name is None:
                    raise HttpError(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
                                                                       f"'{rest[1]}' does not exist.")
                return Response(200, roles.definition(scope, name))
        if kind == "roleassignments":
            assignments: dict[str, Any] = self.store.doc["roleAssignments"]
            if len(rest) == 1 and request.method == "GET":
                principal = _filter_value(request.query.get("$filter", ""), "principalId")
                at_scope = "atScope()" in request.query.get("$filter", "")
                out = [a for a in assignments.values()
                       if (principal is None or a["properties"]["principalId"].lower() == principal.lower())
                       and (a["properties"]["scope"].lower().startswith(scope.lower()) if not at_scope else
                            scope.lower().startswith(a["properties"]["scope"].lower()))]
                return Response(200, {"value": out})
            if len(rest) == 2:
                key = rest[1].lower()
                if request.method == "GET":
                    if key not in assignments:
                        raise HttpError(404, "RoleAssignmentNotFound", f"The role assignment '{rest[1]}' is not found.")
                    return Response(200, assignments[key])
                if request.method == "PUT":
                    props = request.json().get("properties") or {}
                    role_id = str(props.get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()
                    if role_id not in roles.BY_ID:
                        raise HttpError(400, "RoleDefinitionDoesNotExist",
                                        f"The specified role definition with ID '{role_id}' does not exist.")
                    for existing in assignments.values():
                        p = existing["properties"]
                        if (p["principalId"].lower() == str(props.get("principalId", "")).lower()
                                and p["roleDefinitionId"].rsplit("/", 1)[-1].lower() == role_id
                                and p["scope"].lower() == scope.lower()):
                            raise HttpError(409, "RoleAssignmentExists", "The role assignment already exists.")
                    doc = {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{rest[1]}",
                           "name": rest[1], "type": "Microsoft.Authorization/roleAssignments",
                           "properties": {"roleDefinitionId": f"{self.sub_id}/providers/Microsoft.Authorization/"
                                                              f"roleDefinitions/{role_id}",
                                          "principalId": props.get("principalId"),
                                          "principalType": props.get("principalType") or "User",
                                          "scope": scope, "createdOn": _now(), "updatedOn": _now()}}
                    with self.store.lock:
                        assignments[key] = doc
                        self.store.save()
                    self._rbac_changed()
                    return Response(201, doc)
                if request.method == "DELETE":
                    with self.store.lock:
                        doc = assignments.pop(key, None)
                        self.store.save()
                    if doc is None:
                        return Response(204)
                    self._rbac_changed()
                    return Response(200, doc)
        raise HttpError(404, "NotFound", f"notation-devstack ARM does not serve {request.method} {request.path}")

    def _rbac_changed(self) -> None:
        """Hand the vault-scoped data-plane assignments to the emulator (when it can take them)."""
        hook = getattr(self.vaults, "set_role_assignments", None)
        if hook is None:
            return
        for meta in self.store.doc["vaults"].values():
            vault_scope = (f"{self.sub_id}/resourceGroups/{meta['resourceGroup']}/providers/"
                           f"Microsoft.KeyVault/vaults/{meta['name']}").lower()
            applying = []
            for a in self.store.doc["roleAssignments"].values():
                p = a["properties"]
                if vault_scope.startswith(p["scope"].lower().rstrip("/")):
                    name = roles.BY_ID.get(p["roleDefinitionId"].rsplit("/", 1)[-1].lower(), "")
                    applying.append({"principalId": p["principalId"], "roleName": name,
                                     "dataActions": roles.BUILTIN_ROLES[name][2] if name else []})
            hook(meta["name"], applying)

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
            with self.store.lock:
                for key, meta in list(self.store.doc["vaults"].items()):
                    if meta["resourceGroup"].lower() == name.lower():
                        del self.store.doc["vaults"][key]
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
            taken = name.lower() in self.store.doc["vaults"]
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


def new_run_id(count: int) -> str:
    return f"dt{count + 1}"


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def random_id() -> str:
    return uuid.uuid4().hex
