"""Export and import of one vault's contents as a JSON document, for seeding CI runs (as Lowkey Vault offers).

Format ``notation-devstack-vault-export/1``::

    {
      "format": "notation-devstack-vault-export/1",
      "vault": {"name", "enableRbacAuthorization", "enableSoftDelete", "softDeleteRetentionInDays",
                "enablePurgeProtection", "accessPolicies": [...]},       # the vault's settings
      "roleAssignments": [{"scope": "<relative to the vault: '' or '/keys/<name>'>", "roleDefinitionId",
                           "principalId", "principalType"}],
      "objects": {"certificates": {...}, "keys": {...}, "secrets": {...}, "deletedcertificates": {...},
                  "deletedkeys": {...}, "deletedsecrets": {...}, "issuers": {...}, "contacts": [...]},
      "privateKeys": {"<object name, lower case>": {"<version>": "<PKCS#8 PEM>"}}
    }

``objects`` is the emulator's own document (versions with attributes and tags, policies, pending operations,
rotation policies; timestamps as Unix seconds), so an export/import round trip is lossless: ids, versions and key
material stay the same, hence KEY_IDs recorded in a CI configuration keep working. The file holds private keys in
clear: treat it like a key file (written with mode 0600). Import goes into a vault that is created when missing
(with the exported settings) and must be empty unless ``replace``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from notation_devstack.vault.errors import VaultError
from notation_devstack.vault.store import StateStore

FORMAT = "notation-devstack-vault-export/1"
_COLLECTIONS = ("certificates", "keys", "secrets", "deletedcertificates", "deletedkeys", "deletedsecrets")
_SETTINGS = ("enableRbacAuthorization", "enableSoftDelete", "softDeleteRetentionInDays", "enablePurgeProtection",
             "accessPolicies")


def _versions_with_keys(doc: dict[str, Any]) -> dict[str, list[str]]:
    """name -> versions that have private key files (certificates, keys, and their deleted twins)."""
    out: dict[str, list[str]] = {}
    for collection in ("certificates", "keys"):
        for key, obj in (doc.get(collection) or {}).items():
            out.setdefault(key, []).extend(v for v in obj.get("order", []) if v not in out.get(key, []))
        for key, record in (doc.get(f"deleted{collection}") or {}).items():
            obj = record.get("obj") or {}
            out.setdefault(key, []).extend(v for v in obj.get("order", []) if v not in out.get(key, []))
    return out


def export_vault(store: StateStore, name: str) -> dict[str, Any]:
    from notation_devstack.vault import rbac

    with store.lock:
        props = store.properties(name, create=False)
        if props is None:
            raise VaultError(f"The vault '{name}' was not found.")
        doc = copy.deepcopy(store.vault(name))
        keys: dict[str, dict[str, str]] = {}
        for obj_name, versions in _versions_with_keys(doc).items():
            for version in versions:
                try:
                    pem = store.read_private_key(name, obj_name, version).decode()
                except OSError:
                    continue  # a pending certificate's key is there; anything else without a file is skipped
                keys.setdefault(obj_name, {})[version] = pem
        scope = str(props["id"])
        assignments = [
            {"scope": a["scope"][len(scope):], "roleDefinitionId": a["roleDefinitionId"],
             "principalId": a["principalId"], "principalType": a.get("principalType", "User")}
            for a in store.assignments() if rbac.scope_covers(scope, a["scope"])
        ]
    doc.pop("name", None)
    return {
        "format": FORMAT,
        "vault": {"name": props["name"], **{k: props.get(k) for k in _SETTINGS}},
        "roleAssignments": assignments,
        "objects": doc,
        "privateKeys": keys,
    }


def import_vault(store: StateStore, data: Any, name: str | None = None, *, replace: bool = False) -> dict[str, int]:
    """Load an export into vault ``name`` (default: the exported name); returns object counts."""
    from notation_devstack.vault.registry import VaultRegistry

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise VaultError(f"not a vault export: the file must have \"format\": \"{FORMAT}\"")
    settings = data.get("vault") or {}
    target = name or str(settings.get("name") or "")
    objects = data.get("objects")
    keys = data.get("privateKeys") or {}
    if not target or not isinstance(objects, dict) or not isinstance(keys, dict):
        raise VaultError("the export needs vault.name, objects and privateKeys")
    reg = VaultRegistry(store.root)
    with store.lock:
        if store.properties(target, create=False) is None:
            reg.create_vault(
                target,
                enable_rbac_authorization=bool(settings.get("enableRbacAuthorization")),
                enable_soft_delete=settings.get("enableSoftDelete", True) is not False,
                soft_delete_retention_days=int(settings.get("softDeleteRetentionInDays") or 90),
                enable_purge_protection=settings.get("enablePurgeProtection"),
                access_policies=settings.get("accessPolicies"),
            )
        current = store.vault(target)
        if not replace and any(current.get(c) for c in _COLLECTIONS):
            raise VaultError(f"the vault '{target}' is not empty (use --replace to overwrite its contents)")
        for obj_name, versions in keys.items():
            if not isinstance(versions, dict):
                raise VaultError(f"privateKeys.{obj_name} must map versions to PEM")
            for version, pem in versions.items():
                if not isinstance(pem, str) or "PRIVATE KEY" not in pem or not re.fullmatch(r"[0-9a-f]{32}", version):
                    raise VaultError(f"privateKeys.{obj_name}.{version} is not a PEM private key of a version")
                store.write_private_key(target, obj_name, version, pem.encode())
        current.clear()
        current.update(copy.deepcopy(objects))
        current["name"] = target
        store.save(target)
        props = store.properties(target, create=False) or {}
        for assignment in data.get("roleAssignments") or []:
            try:
                reg.role_assignments.create(f"{props['id']}{assignment.get('scope') or ''}",
                                            str(assignment["roleDefinitionId"]), str(assignment["principalId"]),
                                            principal_type=str(assignment.get("principalType") or "User"))
            except VaultError:
                pass  # already there
            except (KeyError, ValueError) as exc:
                raise VaultError(f"invalid role assignment in the export: {exc}") from exc
    return {c: len(objects.get(c) or {}) for c in ("certificates", "keys", "secrets")}
