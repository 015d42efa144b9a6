"""Access policies (spec §3, KVA-01..06): who may do what in a vault, and the service's 403 texts.

Authorization is checked per collection and permission before the object is looked up, so a principal without
``keys/get`` gets 403 even for a key that does not exist (KVA-05); the SDKs' "try GET key, sign remotely on 403"
depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notation_devstack.vault.errors import ApiError

LOCATION = "local"
_KV = "Microsoft.KeyVault/vaults"

# Every data-plane operation -> (access policy collection, permission, RBAC data action). ``None`` as permission:
# no access policy permission exists for it (any caller on a policy may). Spec §3.3, extended from the REST docs.
OPERATIONS: dict[str, tuple[str, str | None, str]] = {
    # certificates
    "certificates.get": ("certificates", "get", f"{_KV}/certificates/read"),
    "certificates.list": ("certificates", "list", f"{_KV}/certificates/read"),
    "certificates.create": ("certificates", "create", f"{_KV}/certificates/create/action"),
    "certificates.import": ("certificates", "import", f"{_KV}/certificates/import/action"),
    "certificates.update": ("certificates", "update", f"{_KV}/certificates/update/action"),
    "certificates.delete": ("certificates", "delete", f"{_KV}/certificates/delete"),
    "certificates.recover": ("certificates", "recover", f"{_KV}/certificates/recover/action"),
    "certificates.purge": ("certificates", "purge", f"{_KV}/certificates/purge/action"),
    "certificates.backup": ("certificates", "backup", f"{_KV}/certificates/backup/action"),
    "certificates.restore": ("certificates", "restore", f"{_KV}/certificates/restore/action"),
    "certificates.getissuers": ("certificates", "getissuers", f"{_KV}/certificatecas/read"),
    "certificates.listissuers": ("certificates", "listissuers", f"{_KV}/certificatecas/read"),
    "certificates.setissuers": ("certificates", "setissuers", f"{_KV}/certificatecas/write"),
    "certificates.deleteissuers": ("certificates", "deleteissuers", f"{_KV}/certificatecas/delete"),
    "certificates.getcontacts": ("certificates", "managecontacts", f"{_KV}/certificatecontacts/read"),
    "certificates.managecontacts": ("certificates", "managecontacts", f"{_KV}/certificatecontacts/write"),
    # keys
    "keys.get": ("keys", "get", f"{_KV}/keys/read"),
    "keys.list": ("keys", "list", f"{_KV}/keys/read"),
    "keys.create": ("keys", "create", f"{_KV}/keys/create/action"),
    "keys.import": ("keys", "import", f"{_KV}/keys/import/action"),
    "keys.update": ("keys", "update", f"{_KV}/keys/update/action"),
    "keys.delete": ("keys", "delete", f"{_KV}/keys/delete"),
    "keys.recover": ("keys", "recover", f"{_KV}/keys/recover/action"),
    "keys.purge": ("keys", "purge", f"{_KV}/keys/purge/action"),
    "keys.backup": ("keys", "backup", f"{_KV}/keys/backup/action"),
    "keys.restore": ("keys", "restore", f"{_KV}/keys/restore/action"),
    "keys.sign": ("keys", "sign", f"{_KV}/keys/sign/action"),
    "keys.verify": ("keys", "verify", f"{_KV}/keys/verify/action"),
    "keys.encrypt": ("keys", "encrypt", f"{_KV}/keys/encrypt/action"),
    "keys.decrypt": ("keys", "decrypt", f"{_KV}/keys/decrypt/action"),
    "keys.wrapkey": ("keys", "wrapkey", f"{_KV}/keys/wrap/action"),
    "keys.unwrapkey": ("keys", "unwrapkey", f"{_KV}/keys/unwrap/action"),
    "keys.release": ("keys", "release", f"{_KV}/keys/release/action"),
    "keys.rotate": ("keys", "rotate", f"{_KV}/keys/rotate/action"),
    "keys.getrotationpolicy": ("keys", "getrotationpolicy", f"{_KV}/keyrotationpolicies/read"),
    "keys.setrotationpolicy": ("keys", "setrotationpolicy", f"{_KV}/keyrotationpolicies/write"),
    "keys.randombytes": ("keys", None, f"{_KV}/rng/action"),
    # secrets
    "secrets.get": ("secrets", "get", f"{_KV}/secrets/getSecret/action"),
    "secrets.list": ("secrets", "list", f"{_KV}/secrets/readMetadata/action"),
    "secrets.set": ("secrets", "set", f"{_KV}/secrets/setSecret/action"),
    "secrets.update": ("secrets", "set", f"{_KV}/secrets/update/action"),
    "secrets.delete": ("secrets", "delete", f"{_KV}/secrets/delete"),
    "secrets.recover": ("secrets", "recover", f"{_KV}/secrets/recover/action"),
    "secrets.purge": ("secrets", "purge", f"{_KV}/secrets/purge/action"),
    "secrets.backup": ("secrets", "backup", f"{_KV}/secrets/backup/action"),
    "secrets.restore": ("secrets", "restore", f"{_KV}/secrets/restore/action"),
}

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "keys": (
        "all", "encrypt", "decrypt", "wrapkey", "unwrapkey", "sign", "verify", "get", "list", "create", "update",
        "import", "delete", "backup", "restore", "recover", "purge", "release", "rotate", "getrotationpolicy",
        "setrotationpolicy",
    ),
    "secrets": ("all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge"),
    "certificates": (
        "all", "get", "list", "delete", "create", "import", "update", "managecontacts", "getissuers",
        "listissuers", "setissuers", "deleteissuers", "manageissuers", "recover", "purge", "backup", "restore",
    ),
    "storage": (
        "all", "get", "list", "delete", "set", "update", "regeneratekey", "recover", "purge", "backup", "restore",
        "setsas", "listsas", "getsas", "deletesas",
    ),
}
# az and ARM spell some permissions in camelCase; we compare lower-case and print these spellings back.
_CANONICAL = {"wrapkey": "wrapKey", "unwrapkey": "unwrapKey"}


@dataclass(frozen=True)
class Principal:
    """The caller, from the token's ``oid``, ``tid`` and ``appid``/``azp`` claims (KVA-01)."""

    object_id: str
    tenant_id: str
    app_id: str = ""

    def describe(self) -> str:
        return f"appid={self.app_id};oid={self.object_id};iss=https://sts.windows.net/{self.tenant_id}/"


def normalize_permissions(collection: str, names: list[str]) -> list[str]:
    """Validate names against §3.1 (case-insensitive) and drop duplicates, keeping the first order."""
    allowed = PERMISSIONS[collection]
    out: list[str] = []
    for name in names:
        low = name.strip().lower()
        if low not in allowed:
            raise ValueError(f"invalid {collection} permission {name!r}; allowed: {', '.join(allowed)}")
        canon = _CANONICAL.get(low, low)
        if canon not in out:
            out.append(canon)
    return out


def _applies(entry: dict[str, Any], vault: dict[str, Any], who: Principal) -> bool:
    if str(entry.get("tenantId", "")).lower() != str(vault.get("tenantId", "")).lower():
        return False
    if str(entry.get("objectId", "")).lower() != who.object_id.lower():
        return False
    app = entry.get("applicationId")
    return not app or str(app).lower() == who.app_id.lower()


def check(
    props: dict[str, Any],
    assignments: list[dict[str, Any]],
    who: Principal,
    operation: str,
    object_name: str | None = None,
) -> None:
    """Authorize ``operation`` (a key of :data:`OPERATIONS`) on the vault whose ARM properties are ``props``.

    RBAC vaults evaluate role assignments at the object's scope (``<vault id>/<collection>/<name>``) or above and
    ignore access policies; access-policy vaults ignore role assignments, as the service does.
    """
    from notation_devstack.vault import rbac

    collection, permission, data_action = OPERATIONS[operation]
    if props.get("enableRbacAuthorization"):
        scope = str(props["id"])
        if object_name:
            scope = f"{scope}/{collection}/{object_name}"
        if not rbac.rbac_allows(assignments, who.object_id, data_action, scope):
            raise rbac.forbidden_by_rbac(
                who.describe(), data_action, scope, f"{props['name']};location={props.get('location', LOCATION)}"
            )
        return
    authorize(props, who, collection, permission)


def authorize(vault: dict[str, Any], who: Principal, collection: str, permission: str | None) -> None:
    """Raise the service's 403 unless an applying entry grants ``collection/permission`` (KVA-02..04)."""
    vault_desc = f"{vault['name']};location={vault.get('location') or LOCATION}"
    entries = [e for e in vault.get("accessPolicies", []) if _applies(e, vault, who)]
    if not entries:
        raise ApiError(
            403,
            "Forbidden",
            f"Access denied. Caller was not found on any access policy.\r\nCaller: {who.describe()}\r\n"
            f"Vault: {vault_desc}",
            inner="AccessDenied",
        )
    if permission is None:
        return
    for entry in entries:
        granted = {p.lower() for p in (entry.get("permissions") or {}).get(collection) or []}
        if "all" in granted or permission.lower() in granted:
            return
        if permission.lower().endswith("issuers") and "manageissuers" in granted:
            return  # manageissuers covers get/list/set/delete of issuers
    raise ApiError(
        403,
        "Forbidden",
        f"The user, group or application '{who.describe()}' does not have {collection} {permission.lower()} "
        f"permission on key vault '{vault_desc}'. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125287",
        inner="AccessDenied",
    )


def apply_policy_change(vault: dict[str, Any], kind: str, entries: list[dict[str, Any]]) -> None:
    """ARM's ``accessPolicies/{add|replace|remove}`` semantics on the vault document (§3.4).

    ``add`` unions permissions into a matching entry (or appends one), ``replace`` sets the given collections of
    the matching entry (or appends), ``remove`` takes the listed permissions away and drops entries left empty;
    an entry with no permissions at all in a ``remove`` deletes the whole entry.
    """
    if kind not in ("add", "replace", "remove"):
        raise ValueError(f"unknown access policy operation {kind!r}")
    policies: list[dict[str, Any]] = vault.setdefault("accessPolicies", [])
    for raw in entries:
        oid = str(raw.get("objectId") or "").strip()
        if not oid:
            raise ValueError("access policy entry needs an objectId")
        tenant = str(raw.get("tenantId") or vault["tenantId"])
        app = raw.get("applicationId") or None
        perms_in = raw.get("permissions") or {}
        perms: dict[str, list[str]] = {}
        for collection in PERMISSIONS:
            if collection in perms_in and perms_in[collection] is not None:
                perms[collection] = normalize_permissions(collection, list(perms_in[collection]))
        match = next(
            (
                p
                for p in policies
                if p.get("objectId", "").lower() == oid.lower()
                and p.get("tenantId", "").lower() == tenant.lower()
                and (p.get("applicationId") or None) == app
            ),
            None,
        )
        if kind == "remove":
            if match is None:
                raise ValueError("No matching policies found")
            if not any(perms.values()):
                policies.remove(match)
                continue
            for collection, names in perms.items():
                match["permissions"][collection] = [
                    p for p in match["permissions"].get(collection, []) if p.lower() not in {n.lower() for n in names}
                ]
            if not any(match["permissions"].values()):
                policies.remove(match)
            continue
        if match is None:
            match = {"tenantId": tenant, "objectId": oid, "permissions": {c: [] for c in PERMISSIONS}}
            if app:
                match["applicationId"] = app
            policies.append(match)
        for collection, names in perms.items():
            if kind == "replace":
                match["permissions"][collection] = names
            else:
                current = match["permissions"].get(collection, [])
                match["permissions"][collection] = current + [n for n in names if n not in current]
