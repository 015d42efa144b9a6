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


def authorize(vault: dict[str, Any], who: Principal, collection: str, permission: str) -> None:
    """Raise the service's 403 unless an applying entry grants ``collection/permission`` (KVA-02..04)."""
    vault_desc = f"{vault['name']};location={LOCATION}"
    entries = [e for e in vault.get("accessPolicies", []) if _applies(e, vault, who)]
    if not entries:
        raise ApiError(
            403,
            "Forbidden",
            f"Access denied. Caller was not found on any access policy.\r\nCaller: {who.describe()}\r\n"
            f"Vault: {vault_desc}",
            inner="AccessDenied",
        )
    for entry in entries:
        granted = {p.lower() for p in (entry.get("permissions") or {}).get(collection) or []}
        if "all" in granted or permission.lower() in granted:
            return
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
