"""The Key Vault data plane (spec §2.5-2.8): certificates, keys and secrets of one vault, after authentication.

Every handler authorizes first (KVA-05: authorization, then existence, then validation) and builds ids from the
request's ``Host`` (KVE-02), because the SDKs re-derive the vault URL from the ids they receive.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

from notation_devstack.vault import certpolicy, keys, pki
from notation_devstack.vault.access import Principal, check
from notation_devstack.vault.errors import ApiError, bad_parameter, not_found
from notation_devstack.vault.store import StateStore, new_version, now

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_VERSION = re.compile(r"^[0-9A-Za-z]{1,64}$")
_OPS = {
    "pending", "policy", "versions", "create", "import", "backup", "restore", "rotate", "sign", "verify",
    "encrypt", "decrypt", "wrapkey", "unwrapkey", "merge", "recover", "rotationpolicy", "release",
}
PAGE_MAX = 25
_DELETED = {"deletedcertificates": "certificates", "deletedkeys": "keys", "deletedsecrets": "secrets"}


@dataclass
class Request:
    method: str
    segments: list[str]
    host: str
    principal: Principal
    body: Any
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Path:
    collection: str
    name: str | None
    version: str | None
    op: str | None
    extra: list[str]


def _parse(segments: list[str]) -> _Path:
    """KVE-03: empty version segments mean latest; operation words are never versions (case-insensitive)."""
    collection = segments[0].lower()
    name = segments[1] if len(segments) > 1 and segments[1] else None
    rest = segments[2:]
    while rest and rest[-1] == "":
        rest = rest[:-1]
    version: str | None = None
    op: str | None = None
    extra: list[str] = []
    if rest:
        if rest[0].lower() in _OPS:
            op, extra = rest[0].lower(), rest[1:]
        else:
            version = rest[0] or None
            if len(rest) > 1:
                op, extra = rest[1].lower() or None, rest[2:]
    if any(extra) and not (op == "pending" and [e.lower() for e in extra] == ["merge"]):
        raise bad_parameter("The request URI is not valid.")
    if op == "pending" and extra:
        op = "merge"
    return _Path(collection, name, version, op, [])


def _check_name(name: str | None, kind: str) -> str:
    if not name or not _NAME.match(name):
        raise bad_parameter(f"The request URI contains an invalid name: {name}")
    return name


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_body(req: Request) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad_parameter("The request body is missing or is not a JSON object.")
    return req.body


def _kind(collection: str) -> str:
    return collection[:-1]


class DataPlane:
    """Serves one request against one vault document held by the :class:`StateStore`."""

    def __init__(self, store: StateStore, vault_name: str) -> None:
        self.store = store
        self.vault_name = vault_name
        props = store.properties(vault_name)
        if props is None:
            raise ApiError(404, "VaultNotFound", f"The vault '{vault_name}' was not found.")
        self.props = props
        self.vault = store.vault(vault_name)
        self.base = ""
        self._expire_deleted()
        self._auto_rotate()

    def authorize(self, operation: str, object_name: str | None = None) -> None:
        """Access policies or RBAC, per the vault's ``enableRbacAuthorization`` (KVA-02..05)."""
        check(self.props, self.store.assignments(), self.req.principal, operation, object_name)

    # --- dispatch -------------------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        self.base = f"https://{req.host}"
        self.req = req
        m = req.method
        segs = req.segments
        c = segs[0].lower()
        second = segs[1].lower() if len(segs) > 1 else ""
        # collection-level routes first (no object name)
        if c == "rng" and m == "POST" and len(segs) == 1:
            self.authorize("keys.randombytes")
            return self.random_bytes()
        if c == "certificates" and second == "issuers":
            return self._issuers(m, segs[2:])
        if c == "certificates" and second == "contacts" and len(segs) == 2:
            return self._contacts(m)
        if c in ("certificates", "keys", "secrets") and second == "restore" and len(segs) == 2 and m == "POST":
            self.authorize(f"{c}.restore")
            return self.restore(c)
        if c in ("certificates", "keys", "secrets", *_DELETED) and (len(segs) == 1 or (len(segs) == 2 and not segs[1])):
            if m != "GET":
                raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")
            self.authorize(f"{_DELETED.get(c, c)}.list")
            return self.list_deleted(c) if c in _DELETED else self.list_collection(c)
        path = _parse(segs)
        if c in _DELETED:
            return self._deleted_route(m, path)
        table: dict[tuple[str, str, str | None], tuple[str, Any]] = {
            # (collection, method, op) -> (operation, handler)
            ("certificates", "GET", None): ("certificates.get", self.get_certificate),
            ("certificates", "PATCH", None): ("certificates.update", self.update_certificate),
            ("certificates", "DELETE", None): ("certificates.delete", self.delete_object),
            ("certificates", "POST", "create"): ("certificates.create", self.create_certificate),
            ("certificates", "POST", "import"): ("certificates.import", self.import_certificate),
            ("certificates", "GET", "pending"): ("certificates.get", self.get_pending),
            ("certificates", "PATCH", "pending"): ("certificates.update", self.cancel_pending),
            ("certificates", "DELETE", "pending"): ("certificates.update", self.delete_pending),
            ("certificates", "POST", "merge"): ("certificates.create", self.merge_certificate),
            ("certificates", "GET", "policy"): ("certificates.get", self.get_policy),
            ("certificates", "PATCH", "policy"): ("certificates.update", self.update_policy),
            ("certificates", "GET", "versions"): ("certificates.list", self.list_versions),
            ("certificates", "POST", "backup"): ("certificates.backup", self.backup),
            ("keys", "GET", None): ("keys.get", self.get_key),
            ("keys", "PUT", None): ("keys.import", self.import_key),
            ("keys", "PATCH", None): ("keys.update", self.update_key),
            ("keys", "DELETE", None): ("keys.delete", self.delete_object),
            ("keys", "POST", "create"): ("keys.create", self.create_key),
            ("keys", "POST", "rotate"): ("keys.rotate", self.rotate_key),
            ("keys", "GET", "rotationpolicy"): ("keys.getrotationpolicy", self.get_rotation_policy),
            ("keys", "PUT", "rotationpolicy"): ("keys.setrotationpolicy", self.set_rotation_policy),
            ("keys", "GET", "versions"): ("keys.list", self.list_versions),
            ("keys", "POST", "backup"): ("keys.backup", self.backup),
            ("keys", "POST", "sign"): ("keys.sign", self.sign),
            ("keys", "POST", "verify"): ("keys.verify", self.verify),
            ("keys", "POST", "encrypt"): ("keys.encrypt", self.encrypt),
            ("keys", "POST", "decrypt"): ("keys.decrypt", self.decrypt),
            ("keys", "POST", "wrapkey"): ("keys.wrapkey", self.wrap),
            ("keys", "POST", "unwrapkey"): ("keys.unwrapkey", self.unwrap),
            ("secrets", "GET", None): ("secrets.get", self.get_secret),
            ("secrets", "PUT", None): ("secrets.set", self.set_secret),
            ("secrets", "PATCH", None): ("secrets.update", self.update_secret),
            ("secrets", "DELETE", None): ("secrets.delete", self.delete_object),
            ("secrets", "GET", "versions"): ("secrets.list", self.list_versions),
            ("secrets", "POST", "backup"): ("secrets.backup", self.backup),
        }
        if path.name is None:
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        entry = table.get((c, m, path.op))
        if entry is None:
            if c in ("certificates", "keys", "secrets"):
                raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        operation, handler = entry
        self.authorize(operation, path.name)
        name = _check_name(path.name, c)
        if path.version is not None and not _VERSION.match(path.version):
            raise not_found(_kind(c), name, path.version)
        self.collection = c
        try:
            result: Response = handler(name, path.version)
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            # A body of the wrong shape (e.g. "sans": "x") is the client's error, never a 500.
            raise bad_parameter(f"The request body has an invalid value: {exc}") from exc
        return result

    def _deleted_route(self, m: str, path: _Path) -> Response:
        live = _DELETED[path.collection]
        name = path.name
        if path.version is not None or path.name is None:
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        if m == "GET" and path.op is None:
            self.authorize(f"{live}.get", name)
            return self.get_deleted(live, _check_name(name, live))
        if m == "DELETE" and path.op is None:
            self.authorize(f"{live}.purge", name)
            return self.purge(live, _check_name(name, live))
        if m == "POST" and path.op == "recover":
            self.authorize(f"{live}.recover", name)
            return self.recover(live, _check_name(name, live))
        raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")

    # --- helpers --------------------------------------------------------------------------------------------

    def _coll(self, kind: str) -> dict[str, Any]:
        coll: dict[str, Any] = self.vault.setdefault(kind, {})
        return coll

    def _obj(self, kind: str, name: str, version: str | None) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """(object, resolved version, version record) or the service's 404."""
        singular = kind[:-1]
        obj = self._coll(kind).get(name.lower())
        if obj is None or not obj.get("order"):
            raise not_found(singular, name, version)
        if version is None:
            version = obj["order"][-1]
        ver = obj["versions"].get(version.lower())
        if ver is None:
            raise not_found(singular, name, version)
        return obj, version.lower(), ver

    def _attrs(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Stored attributes plus the vault's truthful ``recoveryLevel`` / ``recoverableDays``."""
        from notation_devstack.vault.registry import recovery_level

        out = {k: v for k, v in attrs.items() if v is not None}
        level, days = recovery_level(self.props)
        out["recoveryLevel"] = level
        if days is not None:
            out["recoverableDays"] = days
        return out

    def _id(self, kind: str, name: str, version: str | None = None) -> str:
        return f"{self.base}/{kind}/{name}" + (f"/{version}" if version else "")

    def _save(self) -> None:
        self.store.save(self.vault_name)

    # --- certificates ---------------------------------------------------------------------------------------

    def _policy_bundle(self, name: str, cert: dict[str, Any]) -> dict[str, Any]:
        policy = dict(cert["policy"])
        policy["id"] = f"{self._id('certificates', name)}/policy"
        return policy

    def _cert_bundle(self, obj: dict[str, Any], version: str, ver: dict[str, Any]) -> dict[str, Any]:
        name = obj["name"]
        der = base64.b64decode(ver["cer"])
        return {
            "id": self._id("certificates", name, version),
            "kid": self._id("keys", name, version),
            "sid": self._id("secrets", name, version),
            "x5t": keys.b64url(hashlib.sha1(der).digest()),  # noqa: S324 - x5t is SHA-1 by definition
            "cer": ver["cer"],
            "attributes": self._attrs(ver["attributes"]),
            "policy": self._policy_bundle(name, obj),
            "tags": ver.get("tags") or {},
        }

    def _operation(self, obj: dict[str, Any], status_override: str | None = None) -> dict[str, Any]:
        op = dict(obj["operation"])
        name = obj["name"]
        body: dict[str, Any] = {
            "id": f"{self._id('certificates', name)}/pending",
            "issuer": op["issuer"],
            "csr": op["csr"],
            "cancellation_requested": False,
            "status": status_override or op["status"],
            "status_details": op["status_details"],
            "request_id": op["request_id"],
        }
        if op["status"] == "completed" and status_override is None:
            body["target"] = self._id("certificates", name)
        return body

    def create_certificate(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        self._check_not_deleted("certificates", name)
        policy = certpolicy.normalize(body.get("policy"), self._issuer_names())
        if name.lower() in self._coll("secrets") and not self._coll("secrets")[name.lower()].get("managed"):
            raise ApiError(409, "Conflict", f"Secret {name} already exists and is not managed by a certificate.")
        if name.lower() in self._coll("keys") and not self._coll("keys")[name.lower()].get("managed"):
            raise ApiError(409, "Conflict", f"Key {name} already exists and is not managed by a certificate.")
        kp = policy["key_props"]
        private = keys.generate(kp["kty"], kp["key_size"], kp.get("crv"))
        version = new_version()
        ts = now()
        attributes = {"enabled": True, **{k: v for k, v in (body.get("attributes") or {}).items() if k == "enabled"}}
        policy["attributes"] = {"enabled": True, "created": ts, "updated": ts}
        csr = pki.make_csr(private, policy["x509_props"])
        self.store.write_private_key(self.vault_name, name, version, keys.to_pem(private))
        obj = self._coll("certificates").setdefault(name.lower(), {"name": name, "versions": {}, "order": []})
        obj["policy"] = policy
        request_id = new_version()
        if policy["issuer"]["name"] == "Self":
            cert = pki.issue_self_signed(private, policy["x509_props"])
            self._add_cert_version(obj, version, cert, [], attributes.get("enabled", True), body.get("tags") or {})
            obj["operation"] = {
                "issuer": policy["issuer"], "csr": _b64(csr), "status": "completed", "request_id": request_id,
                "status_details": "", "version": version,
            }
        else:
            obj["operation"] = {
                "issuer": policy["issuer"], "csr": _b64(csr), "status": "inProgress", "request_id": request_id,
                "status_details": "Pending certificate created. Please Perform Merge to complete the request.",
                "version": version, "tags": body.get("tags") or {}, "enabled": attributes.get("enabled", True),
            }
        self._save()
        headers = {
            "Location": f"{self._id('certificates', name)}/pending?api-version={self.req.query.get('api-version', '')}",
            "Retry-After": "1",
        }
        return Response(202, self._operation(obj, status_override="inProgress"), headers)

    def _add_cert_version(
        self, obj: dict[str, Any], version: str, cert: Any, chain: list[Any], enabled: bool, tags: dict[str, Any]
    ) -> None:
        from cryptography.hazmat.primitives import serialization

        name = obj["name"]
        policy = obj["policy"]
        ts = now()
        nbf = int(cert.not_valid_before_utc.timestamp())
        exp = int(cert.not_valid_after_utc.timestamp())
        attrs = {"enabled": enabled, "nbf": nbf, "exp": exp, "created": ts, "updated": ts}
        obj["versions"][version] = {
            "cer": _b64(cert.public_bytes(serialization.Encoding.DER)),
            "chain": [_b64(c.public_bytes(serialization.Encoding.DER)) for c in chain],
            "attributes": attrs,
            "tags": tags,
        }
        obj["order"].append(version)
        kp = policy["key_props"]
        kobj = self._coll("keys").setdefault(name.lower(), {"name": name, "versions": {}, "order": [], "managed": True})
        kobj["versions"][version] = {
            "kty": kp["kty"],
            "key_ops": keys.RSA_KEY_OPS if keys.base_kty(kp["kty"]) == "RSA" else keys.EC_KEY_OPS,
            "attributes": {**attrs, "exportable": kp["exportable"]},
            "tags": tags,
        }
        kobj["order"].append(version)
        sobj = self._coll("secrets").setdefault(
            name.lower(), {"name": name, "versions": {}, "order": [], "managed": True}
        )
        sobj["versions"][version] = {
            "contentType": policy["secret_props"]["contentType"],
            "certificate": True,
            "exportable": kp["exportable"],
            "attributes": attrs,
            "tags": tags,
        }
        sobj["order"].append(version)

    def get_pending(self, name: str, _version: str | None) -> Response:
        obj = self._coll("certificates").get(name.lower())
        if obj is None or "operation" not in obj:
            raise ApiError(404, "PendingCertificateNotFound", f"Pending certificate not found: {name}")
        return Response(200, self._operation(obj))

    def merge_certificate(self, name: str, _version: str | None) -> Response:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        body = _json_body(self.req)
        obj = self._coll("certificates").get(name.lower())
        if obj is None or obj.get("operation", {}).get("status") != "inProgress":
            raise ApiError(404, "PendingCertificateNotFound", f"Pending certificate not found: {name}")
        x5c = body.get("x5c")
        if not isinstance(x5c, list) or not x5c:
            raise bad_parameter("Property x5c has invalid value X5C must has at least one valid item")
        try:
            certs = [x509.load_der_x509_certificate(base64.b64decode(item, validate=True)) for item in x5c]
        except (ValueError, TypeError) as exc:
            raise bad_parameter("Property x5c has invalid value X5C must has at least one valid item") from exc
        op = obj["operation"]
        version = op["version"]
        private = keys.from_pem(self.store.read_private_key(self.vault_name, name, version))
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        pem = serialization.Encoding.PEM
        pending_public: Any = private.public_key()
        if certs[0].public_key().public_bytes(pem, spki) != pending_public.public_bytes(pem, spki):
            raise bad_parameter("Public key from x5c parameter does not match with key of pending certificate.")
        enabled = bool((body.get("attributes") or {}).get("enabled", op.get("enabled", True)))
        self._add_cert_version(obj, version, certs[0], certs[1:], enabled, body.get("tags") or op.get("tags") or {})
        op["status"] = "completed"
        op["status_details"] = ""
        self._save()
        return Response(201, self._cert_bundle(obj, version, obj["versions"][version]))

    def get_certificate(self, name: str, version: str | None) -> Response:
        obj, ver_id, ver = self._obj("certificates", name, version)
        return Response(200, self._cert_bundle(obj, ver_id, ver))

    def update_certificate(self, name: str, version: str | None) -> Response:
        body = _json_body(self.req)
        obj, ver_id, ver = self._obj("certificates", name, version)
        if isinstance(body.get("policy"), dict):
            obj["policy"] = self._merged_policy(obj, body["policy"])
        if "enabled" in (body.get("attributes") or {}):
            ver["attributes"]["enabled"] = bool(body["attributes"]["enabled"])
        if isinstance(body.get("tags"), dict):
            ver["tags"] = body["tags"]
        ver["attributes"]["updated"] = now()
        self._save()
        return Response(200, self._cert_bundle(obj, ver_id, ver))

    def get_policy(self, name: str, _version: str | None) -> Response:
        obj = self._coll("certificates").get(name.lower())
        if obj is None:
            raise not_found("certificate", name)
        return Response(200, self._policy_bundle(obj["name"], obj))

    # --- keys -----------------------------------------------------------------------------------------------

    def _key_item(self, obj: dict[str, Any], version: str | None, ver: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kid": self._id("keys", obj["name"], version),
            "attributes": self._attrs(ver["attributes"]),
            "tags": ver.get("tags") or {},
        }
        if obj.get("managed"):
            item["managed"] = True
        return item

    def _key_bundle(self, obj: dict[str, Any], version: str, ver: dict[str, Any]) -> dict[str, Any]:
        private = keys.from_pem(self.store.read_private_key(self.vault_name, obj["name"], version))
        bundle = self._key_item(obj, version, ver)
        bundle["key"] = keys.public_jwk(private, bundle.pop("kid"), ver["kty"], ver["key_ops"])
        return bundle

    def get_key(self, name: str, version: str | None) -> Response:
        obj, ver_id, ver = self._obj("keys", name, version)
        return Response(200, self._key_bundle(obj, ver_id, ver))

    def create_key(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        self._check_not_deleted("keys", name)
        if name.lower() in self._coll("keys") and self._coll("keys")[name.lower()].get("managed"):
            raise ApiError(403, "Forbidden", f"Key {name} is managed by a certificate and cannot be changed.")
        kty = body.get("kty")
        if kty not in ("RSA", "RSA-HSM", "EC", "EC-HSM"):
            raise bad_parameter(f"Invalid key type: {kty}.")
        if keys.base_kty(kty) == "RSA":
            size = body.get("key_size") or 2048
            if size not in keys.RSA_SIZES:
                raise bad_parameter(f"Unsupported key size ({size}). Supported sizes are [2048, 3072, 4096]")
            private = keys.generate(kty, size, None)
            default_ops = keys.RSA_KEY_OPS
        else:
            crv = body.get("crv") or "P-256"
            if crv not in keys.CURVES:
                raise bad_parameter(f"Invalid curve name: {crv}.")
            private = keys.generate(kty, None, crv)
            default_ops = keys.EC_KEY_OPS
        return self._store_key(name, private, kty, body.get("key_ops") or default_ops, body)

    def _store_key(self, name: str, private: Any, kty: str, key_ops: Any, body: dict[str, Any]) -> Response:
        """A new version of key ``name`` holding ``private`` (create, import, rotate)."""
        if not isinstance(key_ops, list) or not all(isinstance(o, str) for o in key_ops):
            raise bad_parameter("Property key_ops has invalid value.")
        version = new_version()
        ts = now()
        in_attrs = body.get("attributes") or {}
        attrs = {
            "enabled": bool(in_attrs.get("enabled", True)),
            "nbf": in_attrs.get("nbf"),
            "exp": in_attrs.get("exp"),
            "created": ts,
            "updated": ts,
            "exportable": bool(in_attrs.get("exportable", False)),
        }
        self.store.write_private_key(self.vault_name, name, version, keys.to_pem(private))
        obj = self._coll("keys").setdefault(name.lower(), {"name": name, "versions": {}, "order": []})
        obj["versions"][version] = {"kty": kty, "key_ops": key_ops, "attributes": attrs, "tags": body.get("tags") or {}}
        obj["order"].append(version)
        self._save()
        return Response(200, self._key_bundle(obj, version, obj["versions"][version]))

    def _usable_key(self, name: str, version: str | None, op: str) -> tuple[dict[str, Any], str, Any]:
        obj, ver_id, ver = self._obj("keys", name, version)
        attrs = ver["attributes"]
        ts = now()
        if not attrs.get("enabled", True):
            raise ApiError(403, "Forbidden", f"Operation {op} is not allowed on a disabled key.")
        if (attrs.get("nbf") and ts < attrs["nbf"]) or (attrs.get("exp") and ts > attrs["exp"]):
            raise ApiError(403, "Forbidden", f"Operation {op} is not allowed on an expired or not yet valid key.")
        if op not in ver["key_ops"]:
            raise ApiError(403, "Forbidden", f"Operation {op} is not permitted on this key.", "KeyOperationForbidden")
        private = keys.from_pem(self.store.read_private_key(self.vault_name, obj["name"], ver_id))
        return obj, ver_id, private

    def sign(self, name: str, version: str | None) -> Response:
        body = _json_body(self.req)
        obj, ver_id, private = self._usable_key(name, version, "sign")
        alg, value = body.get("alg"), body.get("value")
        if not isinstance(alg, str) or not isinstance(value, str):
            raise bad_parameter("Property 'alg' and 'value' are required.")
        signature = keys.sign_digest(private, alg, keys.b64url_decode(value))
        return Response(200, {"kid": self._id("keys", obj["name"], ver_id), "value": keys.b64url(signature)})

    def verify(self, name: str, version: str | None) -> Response:
        body = _json_body(self.req)
        _obj, _ver_id, private = self._usable_key(name, version, "verify")
        alg, digest, value = body.get("alg"), body.get("digest"), body.get("value")
        if not isinstance(alg, str) or not isinstance(digest, str) or not isinstance(value, str):
            raise bad_parameter("Property 'alg', 'digest' and 'value' are required.")
        ok = keys.verify_digest(private, alg, keys.b64url_decode(digest), keys.b64url_decode(value))
        return Response(200, {"value": ok})

    # --- secrets --------------------------------------------------------------------------------------------

    def _secret_item(self, obj: dict[str, Any], version: str | None, ver: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self._id("secrets", obj["name"], version),
            "attributes": self._attrs(ver["attributes"]),
            "tags": ver.get("tags") or {},
            "contentType": ver.get("contentType"),
        }
        if obj.get("managed"):
            item["managed"] = True
        return item

    def _certificate_secret_value(self, name: str, version: str, ver: dict[str, Any]) -> str:
        """KVE-12: PEM or PKCS#12 of the certificate version; the private key only when exportable."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        cobj = self._coll("certificates")[name.lower()]
        cver = cobj["versions"][version]
        certs = [x509.load_der_x509_certificate(base64.b64decode(d)) for d in [cver["cer"], *cver["chain"]]]
        private = None
        if ver.get("exportable"):
            private = keys.from_pem(self.store.read_private_key(self.vault_name, name, version))
        if ver["contentType"] == "application/x-pem-file":
            parts = [keys.to_pem(private)] if private is not None else []
            parts += [c.public_bytes(serialization.Encoding.PEM) for c in certs]
            return b"".join(parts).decode("ascii")
        pfx = pkcs12.serialize_key_and_certificates(
            None,
            private,  # type: ignore[arg-type]
            certs[0],
            certs[1:] or None,
            serialization.NoEncryption(),
        )
        return _b64(pfx)

    def get_secret(self, name: str, version: str | None) -> Response:
        obj, ver_id, ver = self._obj("secrets", name, version)
        item = self._secret_item(obj, ver_id, ver)
        if ver.get("certificate"):
            item["value"] = self._certificate_secret_value(obj["name"], ver_id, ver)
            item["kid"] = self._id("keys", obj["name"], ver_id)
        else:
            item["value"] = ver["value"]
        return Response(200, item)

    def set_secret(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        self._check_not_deleted("secrets", name)
        existing = self._coll("secrets").get(name.lower())
        if existing is not None and existing.get("managed"):
            raise ApiError(409, "Conflict", f"Secret {name} is managed by a certificate and cannot be set.")
        value = body.get("value")
        if not isinstance(value, str):
            raise bad_parameter("Property 'value' is required.")
        version = new_version()
        ts = now()
        in_attrs = body.get("attributes") or {}
        obj = self._coll("secrets").setdefault(name.lower(), {"name": name, "versions": {}, "order": []})
        obj["versions"][version] = {
            "value": value,
            "contentType": body.get("contentType"),
            "attributes": {
                "enabled": bool(in_attrs.get("enabled", True)),
                "nbf": in_attrs.get("nbf"),
                "exp": in_attrs.get("exp"),
                "created": ts,
                "updated": ts,
            },
            "tags": body.get("tags") or {},
        }
        obj["order"].append(version)
        self._save()
        item = self._secret_item(obj, version, obj["versions"][version])
        item["value"] = value
        return Response(200, item)


    def update_secret(self, name: str, version: str | None) -> Response:
        body = _json_body(self.req)
        obj, ver_id, ver = self._obj("secrets", name, version)
        if obj.get("managed"):
            raise ApiError(403, "Forbidden", f"Secret {name} is managed by a certificate; update the certificate.")
        self._update_attrs(ver, body, ("enabled", "nbf", "exp"))
        if "contentType" in body:
            ver["contentType"] = body["contentType"]
        self._save()
        return Response(200, self._secret_item(obj, ver_id, ver))

    # --- shared helpers for the full data plane ------------------------------------------------------------

    def _update_attrs(self, ver: dict[str, Any], body: dict[str, Any], allowed: tuple[str, ...]) -> None:
        attrs = body.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise bad_parameter("Property attributes has invalid value.")
        for key in allowed:
            if key in attrs:
                ver["attributes"][key] = bool(attrs[key]) if key == "enabled" else attrs[key]
        if isinstance(body.get("tags"), dict):
            ver["tags"] = body["tags"]
        ver["attributes"]["updated"] = now()

    def _check_not_deleted(self, collection: str, name: str) -> None:
        """409 ObjectIsDeletedButRecoverable for a name in the deleted state (spec §2.4)."""
        deleted = self.vault.get(f"deleted{collection}", {})
        kind = _kind(collection)
        managed_by_cert = collection != "certificates" and name.lower() in self.vault.get("deletedcertificates", {})
        if name.lower() in deleted or managed_by_cert:
            raise ApiError(
                409, "Conflict",
                f"{kind.capitalize()} {name} is currently in a deleted but recoverable state, and its name cannot be "
                f"reused; in this state, the {kind} can only be recovered or purged.",
                inner="ObjectIsDeletedButRecoverable",
            )

    def _page(self, items: list[dict[str, Any]], path: str) -> Response:
        """``maxresults`` (1-25) and an opaque ``$skiptoken`` in ``nextLink`` (KVE-02: ids use the Host)."""
        raw = self.req.query.get("maxresults")
        size = PAGE_MAX
        if raw not in (None, ""):
            try:
                size = int(str(raw))
            except ValueError:
                size = 0
            if not 1 <= size <= PAGE_MAX:
                raise bad_parameter(
                    f"The value of parameter maxresults is out of range. It must be between 1 and {PAGE_MAX}."
                )
        token = self.req.query.get("$skiptoken") or ""
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
            except (ValueError, UnicodeDecodeError) as exc:
                raise bad_parameter("The value of $skiptoken is not valid.") from exc
        page = items[start : start + size]
        next_link = None
        if start + size < len(items):
            skip = base64.urlsafe_b64encode(str(start + size).encode()).decode().rstrip("=")
            api = self.req.query.get("api-version", "")
            next_link = f"{self.base}/{path}?api-version={api}&$skiptoken={skip}"
            if raw not in (None, ""):
                next_link += f"&maxresults={size}"
        return Response(200, {"value": page, "nextLink": next_link})

    def _cert_item(self, obj: dict[str, Any], version: str | None, ver: dict[str, Any]) -> dict[str, Any]:
        der = base64.b64decode(ver["cer"])
        return {
            "id": self._id("certificates", obj["name"], version),
            "x5t": keys.b64url(hashlib.sha1(der).digest()),  # noqa: S324 - x5t is SHA-1 by definition
            "attributes": self._attrs(ver["attributes"]),
            "tags": ver.get("tags") or {},
        }

    def _item(self, collection: str, obj: dict[str, Any], version: str | None) -> dict[str, Any]:
        ver = obj["versions"][version or obj["order"][-1]]
        if collection == "certificates":
            return self._cert_item(obj, version, ver)
        if collection == "keys":
            return self._key_item(obj, version, ver)
        return self._secret_item(obj, version, ver)

    def list_collection(self, collection: str) -> Response:
        objs = sorted(self._coll(collection).values(), key=lambda o: str(o["name"]).lower())
        items = [self._item(collection, o, None) for o in objs if o.get("order")]
        if collection == "certificates" and self.req.query.get("includePending", "").lower() == "true":
            items += [
                {"id": self._id("certificates", o["name"]), "attributes": self._attrs({"enabled": True}), "tags": {}}
                for o in objs if not o.get("order") and o.get("operation")
            ]
        return self._page(items, collection)

    def list_versions(self, name: str, _version: str | None) -> Response:
        collection = self.collection
        obj = self._coll(collection).get(name.lower())
        if obj is None or not obj["order"]:
            raise not_found(_kind(collection), name)
        items = [self._item(collection, obj, v) for v in obj["order"]]
        return self._page(items, f"{collection}/{obj['name']}/versions")

    # --- certificates: import, policy, pending operation, issuers, contacts ----------------------------------

    def _issuer_names(self) -> frozenset[str]:
        return frozenset(self.vault.get("issuers", {}))

    def _merged_policy(self, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        current = {k: v for k, v in obj["policy"].items() if k != "attributes"}
        for section, value in patch.items():
            if section in ("id", "attributes"):
                continue
            if isinstance(value, dict) and isinstance(current.get(section), dict):
                current[section] = {**current[section], **value}
            else:
                current[section] = value
        policy = certpolicy.normalize(current, self._issuer_names())
        ts = now()
        policy["attributes"] = {**(obj["policy"].get("attributes") or {"created": ts}), "enabled": True, "updated": ts}
        return policy

    def update_policy(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        obj = self._coll("certificates").get(name.lower())
        if obj is None:
            raise not_found("certificate", name)
        obj["policy"] = self._merged_policy(obj, body)
        self._save()
        return Response(200, self._policy_bundle(obj["name"], obj))

    def import_certificate(self, name: str, _version: str | None) -> Response:
        """PKCS#12 (base64, optional ``pwd``) or PEM (key + certificates); the policy is derived from the
        certificate where the body does not say otherwise (issuer ``Unknown``, as the service records)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        body = _json_body(self.req)
        self._check_not_deleted("certificates", name)
        value = body.get("value")
        if not isinstance(value, str) or not value:
            raise bad_parameter("Property 'value' is required.")
        policy_in = body.get("policy") or {}
        # The SDKs base64-encode whatever they import; PEM content is base64 of the PEM text (raw PEM is taken too).
        try:
            raw_pem = value.lstrip().startswith("-----BEGIN")
            decoded = value.encode() if raw_pem else base64.b64decode(value, validate=True)
        except ValueError as exc:
            raise bad_parameter("Property 'value' is not valid base64.") from exc
        looks_pem = decoded.lstrip().startswith(b"-----BEGIN")
        content_type = ((policy_in.get("secret_props") or {}).get("contentType")) or (
            "application/x-pem-file" if looks_pem else "application/x-pkcs12"
        )
        pwd = body.get("pwd")
        private: Any = None
        certs: list[x509.Certificate] = []
        if content_type == "application/x-pem-file":
            data = decoded
            try:
                cert_blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S)
                certs = [x509.load_pem_x509_certificate(block) for block in cert_blocks]
                if not certs:
                    raise ValueError("no certificate")
            except ValueError as exc:
                raise bad_parameter("The specified PEM X.509 certificate content is in an unexpected format. "
                                    "Please check if certificate is in valid PEM format.") from exc
            blocks = re.findall(rb"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----.+?-----END [A-Z ]*KEY-----",
                                data, re.S)
            if not blocks:
                raise bad_parameter("Private key is not specified in the specified X.509 PEM certificate content. "
                                    "Please specify private key in the X.509 PEM certificate content.")
            try:
                private = serialization.load_pem_private_key(blocks[0], password=pwd.encode() if pwd else None)
            except (ValueError, TypeError) as exc:
                raise bad_parameter(f"The private key in the PEM content cannot be read: {exc}") from exc
        else:
            try:
                private, leaf, extra = pkcs12.load_key_and_certificates(decoded, pwd.encode() if pwd else None)
            except (ValueError, TypeError) as exc:
                raise bad_parameter("The specified PKCS#12 X.509 certificate content can not be read. Please check "
                                    "if certificate is in valid PKCS#12 format and the password is correct.") from exc
            if private is None or leaf is None:
                raise bad_parameter("The PKCS#12 content has no private key or no certificate.")
            certs = [leaf, *extra]
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        pub = private.public_key().public_bytes(serialization.Encoding.DER, spki)
        leaf_cert = next((c for c in certs if c.public_key().public_bytes(serialization.Encoding.DER, spki) == pub),
                         None)
        if leaf_cert is None:
            raise bad_parameter("The private key does not match the public key of any certificate in the content.")
        chain = [c for c in certs if c is not leaf_cert]
        size, crv = keys.describe(private)
        derived = {
            "key_props": {"kty": "EC" if crv else "RSA", "key_size": size, **({"crv": crv} if crv else {}),
                          "exportable": True, "reuse_key": False},
            "secret_props": {"contentType": content_type},
            "x509_props": self._x509_props_of(leaf_cert),
            "issuer": {"name": "Unknown"},
        }
        for section, val in policy_in.items():
            if isinstance(val, dict) and isinstance(derived.get(section), dict):
                derived[section] = {**derived[section], **val}
            elif section not in ("id", "attributes"):
                derived[section] = val
        policy = certpolicy.normalize(derived, self._issuer_names())
        ts = now()
        policy["attributes"] = {"enabled": True, "created": ts, "updated": ts}
        version = new_version()
        self.store.write_private_key(self.vault_name, name, version, keys.to_pem(private))
        obj = self._coll("certificates").setdefault(name.lower(), {"name": name, "versions": {}, "order": []})
        obj["policy"] = policy
        enabled = bool((body.get("attributes") or {}).get("enabled", True))
        self._add_cert_version(obj, version, leaf_cert, chain, enabled, body.get("tags") or {})
        self._save()
        return Response(200, self._cert_bundle(obj, version, obj["versions"][version]))

    @staticmethod
    def _x509_props_of(cert: Any) -> dict[str, Any]:
        from cryptography import x509

        months = max(1, round((cert.not_valid_after_utc - cert.not_valid_before_utc).days / 30.4))
        props: dict[str, Any] = {"subject": cert.subject.rfc4514_string() or None, "validity_months": min(months, 1200)}
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            props["sans"] = {k: v for k, v in (("dns_names", san.get_values_for_type(x509.DNSName)),
                                               ("emails", san.get_values_for_type(x509.RFC822Name))) if v}
        except x509.ExtensionNotFound:
            props["sans"] = {}
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            props["ekus"] = [o.dotted_string for o in eku]
        except x509.ExtensionNotFound:
            props["ekus"] = []
        try:
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            names = {"digital_signature": "digitalSignature", "content_commitment": "nonRepudiation",
                     "key_encipherment": "keyEncipherment", "data_encipherment": "dataEncipherment",
                     "key_agreement": "keyAgreement", "key_cert_sign": "keyCertSign", "crl_sign": "cRLSign"}
            props["key_usage"] = [v for k, v in names.items() if getattr(ku, k)]
        except x509.ExtensionNotFound:
            props["key_usage"] = []
        if not props["subject"] and not props["sans"]:
            props["subject"] = "CN=imported"
        return props

    def _pending(self, name: str) -> dict[str, Any]:
        obj = self._coll("certificates").get(name.lower())
        if obj is None or "operation" not in obj:
            raise ApiError(404, "PendingCertificateNotFound", f"Pending certificate not found: {name}")
        found: dict[str, Any] = obj
        return found

    def cancel_pending(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        obj = self._pending(name)
        if "cancellation_requested" not in body:
            raise bad_parameter("Property 'cancellation_requested' is required.")
        op = obj["operation"]
        if body["cancellation_requested"] and op["status"] == "inProgress":
            op["status"] = "cancelled"
            op["cancellation_requested"] = True
            op["status_details"] = "The certificate operation was cancelled."
            self._save()
        result = self._operation(obj)
        result["cancellation_requested"] = bool(op.get("cancellation_requested"))
        return Response(200, result)

    def delete_pending(self, name: str, _version: str | None) -> Response:
        obj = self._pending(name)
        result = self._operation(obj)
        del obj["operation"]
        if not obj["order"]:  # a certificate that never completed goes with its operation
            del self._coll("certificates")[name.lower()]
        self._save()
        return Response(200, result)

    def _issuer_bundle(self, issuer: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in issuer.items() if k not in ("name", "credentials")}
        creds = issuer.get("credentials") or {}
        if creds:
            out["credentials"] = {k: v for k, v in creds.items() if k != "pwd"}
        out["id"] = f"{self.base}/certificates/issuers/{issuer['name']}"
        return out

    def _issuers(self, m: str, rest: list[str]) -> Response:
        issuers: dict[str, Any] = self.vault.setdefault("issuers", {})
        rest = [r for r in rest if r]
        if not rest:
            if m != "GET":
                raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")
            self.authorize("certificates.listissuers")
            items = [{"id": f"{self.base}/certificates/issuers/{i['name']}", "provider": i.get("provider")}
                     for i in sorted(issuers.values(), key=lambda i: str(i["name"]).lower())]
            return self._page(items, "certificates/issuers")
        if len(rest) != 1:
            raise bad_parameter("The request URI is not valid.")
        op = {"GET": "getissuers", "PUT": "setissuers", "PATCH": "setissuers", "DELETE": "deleteissuers"}.get(m)
        if op is None:
            raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")
        self.authorize(f"certificates.{op}")
        name = _check_name(rest[0], "issuers")
        current = issuers.get(name.lower())
        if m in ("GET", "DELETE", "PATCH") and current is None:
            raise ApiError(404, "CertificateIssuerNotFound", f"Issuer not found: {name}")
        if m == "GET":
            return Response(200, self._issuer_bundle(current))  # type: ignore[arg-type]
        if m == "DELETE":
            del issuers[name.lower()]
            self._save()
            return Response(200, self._issuer_bundle(current))  # type: ignore[arg-type]
        body = _json_body(self.req)
        ts = now()
        if m == "PUT":
            provider = body.get("provider")
            if not isinstance(provider, str) or not provider:
                raise bad_parameter("Property 'provider' is required.")
            current = {"name": name, "provider": provider, "attributes": {"enabled": True, "created": ts}}
        assert current is not None
        for key in ("provider", "credentials", "org_details"):
            if key in body and body[key] is not None:
                current[key] = body[key]
        attrs = body.get("attributes") or {}
        if "enabled" in attrs:
            current["attributes"]["enabled"] = bool(attrs["enabled"])
        current["attributes"]["updated"] = ts
        issuers[name.lower()] = current
        self._save()
        return Response(200, self._issuer_bundle(current))

    def _contacts(self, m: str) -> Response:
        self.authorize("certificates.getcontacts" if m == "GET" else "certificates.managecontacts")
        current = self.vault.get("contacts")
        body_id = f"{self.base}/certificates/contacts"
        if m == "GET" or m == "DELETE":
            if not current:
                raise ApiError(404, "ContactsNotFound", "Contacts not found")
            if m == "DELETE":
                self.vault["contacts"] = None
                self._save()
            return Response(200, {"id": body_id, "contacts": current})
        if m != "PUT":
            raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")
        contacts = _json_body(self.req).get("contacts")
        if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
            raise bad_parameter("Property 'contacts' has invalid value.")
        self.vault["contacts"] = [{k: v for k, v in c.items() if k in ("email", "name", "phone")} for c in contacts]
        self._save()
        return Response(200, {"id": body_id, "contacts": self.vault["contacts"]})

    # --- keys: import, update, rotate, rotation policy, crypto, random bytes ----------------------------------

    def import_key(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        self._check_not_deleted("keys", name)
        if name.lower() in self._coll("keys") and self._coll("keys")[name.lower()].get("managed"):
            raise ApiError(403, "Forbidden", f"Key {name} is managed by a certificate and cannot be changed.")
        jwk = body.get("key")
        private, kty = keys.from_jwk(jwk)  # type: ignore[arg-type]
        if body.get("hsm") and not kty.endswith("-HSM"):
            kty = f"{kty}-HSM"
        default_ops = keys.RSA_KEY_OPS if keys.base_kty(kty) == "RSA" else keys.EC_KEY_OPS
        return self._store_key(name, private, kty, (jwk or {}).get("key_ops") or default_ops, body)

    def update_key(self, name: str, version: str | None) -> Response:
        body = _json_body(self.req)
        obj, ver_id, ver = self._obj("keys", name, version)
        if obj.get("managed"):
            raise ApiError(403, "Forbidden", f"Key {name} is managed by a certificate; update the certificate.")
        if "key_ops" in body:
            ops = body["key_ops"]
            if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
                raise bad_parameter("Property key_ops has invalid value.")
            ver["key_ops"] = ops
        self._update_attrs(ver, body, ("enabled", "nbf", "exp"))
        self._save()
        return Response(200, self._key_bundle(obj, ver_id, ver))

    def rotate_key(self, name: str, _version: str | None) -> Response:
        obj, _ver_id, _ver = self._obj("keys", name, None)
        if obj.get("managed"):
            raise ApiError(403, "Forbidden", f"Key {name} is managed by a certificate and cannot be rotated.")
        return self._rotate(obj)

    def _rotation_policy_body(self, obj: dict[str, Any]) -> dict[str, Any]:
        policy = obj.get("rotationPolicy") or {
            "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {},
        }
        return {"id": f"{self._id('keys', obj['name'])}/rotationpolicy", **policy}

    def get_rotation_policy(self, name: str, _version: str | None) -> Response:
        obj, _v, _ver = self._obj("keys", name, None)
        return Response(200, self._rotation_policy_body(obj))

    def set_rotation_policy(self, name: str, _version: str | None) -> Response:
        body = _json_body(self.req)
        obj, _v, _ver = self._obj("keys", name, None)
        actions = body.get("lifetimeActions") or []
        if not isinstance(actions, list):
            raise bad_parameter("Property lifetimeActions has invalid value.")
        for action in actions:
            kind = str(((action or {}).get("action") or {}).get("type") or "").lower()
            trigger = (action or {}).get("trigger") or {}
            if kind not in ("rotate", "notify"):
                raise bad_parameter(f"Invalid lifetime action type: {kind}. Allowed: Rotate, Notify.")
            for key in ("timeAfterCreate", "timeBeforeExpiry"):
                if trigger.get(key) is not None:
                    _iso_duration_seconds(str(trigger[key]))
        attrs = dict(body.get("attributes") or {})
        if attrs.get("expiryTime") is not None:
            _iso_duration_seconds(str(attrs["expiryTime"]))
        ts = now()
        created = ((obj.get("rotationPolicy") or {}).get("attributes") or {}).get("created", ts)
        attrs.update({"created": created, "updated": ts})
        obj["rotationPolicy"] = {"lifetimeActions": actions, "attributes": attrs}
        self._save()
        return Response(200, self._rotation_policy_body(obj))

    def _crypt(self, name: str, version: str | None, op: str, forward: bool) -> Response:
        body = _json_body(self.req)
        obj, ver_id, private = self._usable_key(name, version, op)
        alg, value = body.get("alg"), body.get("value")
        if not isinstance(alg, str) or not isinstance(value, str):
            raise bad_parameter("Property 'alg' and 'value' are required.")
        data = keys.b64url_decode(value)
        out = keys.encrypt(private, alg, data) if forward else keys.decrypt(private, alg, data)
        return Response(200, {"kid": self._id("keys", obj["name"], ver_id), "value": keys.b64url(out)})

    def encrypt(self, name: str, version: str | None) -> Response:
        return self._crypt(name, version, "encrypt", True)

    def decrypt(self, name: str, version: str | None) -> Response:
        return self._crypt(name, version, "decrypt", False)

    def wrap(self, name: str, version: str | None) -> Response:
        return self._crypt(name, version, "wrapKey", True)

    def unwrap(self, name: str, version: str | None) -> Response:
        return self._crypt(name, version, "unwrapKey", False)

    def random_bytes(self) -> Response:
        count = _json_body(self.req).get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 128:
            raise bad_parameter("Property 'count' must be an integer between 1 and 128.")
        return Response(200, {"value": keys.b64url(os.urandom(count))})

    # --- soft delete, recover, purge ----------------------------------------------------------------------

    def _deleted_fields(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        out = {
            "recoveryId": f"{self.base}/deleted{collection}/{record['obj']['name']}",
            "deletedDate": record["deletedDate"],
        }
        if record.get("scheduledPurgeDate"):
            out["scheduledPurgeDate"] = record["scheduledPurgeDate"]
        return out

    def _bundle_of(self, collection: str, obj: dict[str, Any]) -> dict[str, Any]:
        version = obj["order"][-1]
        ver = obj["versions"][version]
        if collection == "certificates":
            return self._cert_bundle(obj, version, ver)
        if collection == "keys":
            return self._key_bundle(obj, version, ver)
        return self._secret_item(obj, version, ver)

    def delete_object(self, name: str, _version: str | None) -> Response:
        collection = self.collection
        coll = self._coll(collection)
        obj = coll.get(name.lower())
        if collection == "certificates" and obj is not None and not obj.get("order") and obj.get("operation"):
            # a certificate that never completed (pending, cancelled): nothing to keep, it goes at once
            del coll[name.lower()]
            self._save()
            self.store.delete_private_keys(self.vault_name, obj["name"])
            return Response(200, {"id": self._id("certificates", obj["name"]),
                                  "policy": self._policy_bundle(obj["name"], obj),
                                  "attributes": self._attrs({"enabled": False})})
        if obj is None or not obj.get("order"):
            raise not_found(_kind(collection), name)
        if obj.get("managed"):
            raise ApiError(403, "Forbidden", f"{_kind(collection).capitalize()} {name} is managed by a certificate; "
                           "delete the certificate instead.")
        bundle = self._bundle_of(collection, obj)
        del coll[name.lower()]
        record: dict[str, Any] = {"obj": obj, "deletedDate": now()}
        if collection == "certificates":
            record["key"] = self._coll("keys").pop(name.lower(), None)
            record["secret"] = self._coll("secrets").pop(name.lower(), None)
        from notation_devstack.vault.registry import recovery_level

        _level, days = recovery_level(self.props)
        if days is None:  # soft delete off: the object is gone now
            self._save()
            self._drop_key_files(collection, record)
            return Response(200, bundle)
        record["scheduledPurgeDate"] = record["deletedDate"] + days * 86400
        self.vault.setdefault(f"deleted{collection}", {})[name.lower()] = record
        self._save()
        return Response(200, {**bundle, **self._deleted_fields(collection, record)})

    def _deleted_record(self, collection: str, name: str) -> dict[str, Any]:
        record = self.vault.get(f"deleted{collection}", {}).get(name.lower())
        if record is None:
            kind = _kind(collection)
            raise ApiError(404, f"{kind.capitalize()}NotFound",
                           f"Deleted {kind.capitalize()} not found: {name}")
        return record  # type: ignore[no-any-return]

    def get_deleted(self, collection: str, name: str) -> Response:
        record = self._deleted_record(collection, name)
        return Response(200, {**self._bundle_of(collection, record["obj"]), **self._deleted_fields(collection, record)})

    def list_deleted(self, deleted_collection: str) -> Response:
        collection = _DELETED[deleted_collection]
        records = sorted(self.vault.get(deleted_collection, {}).values(), key=lambda r: str(r["obj"]["name"]).lower())
        items = [{**self._item(collection, r["obj"], None), **self._deleted_fields(collection, r)} for r in records]
        return self._page(items, deleted_collection)

    def recover(self, collection: str, name: str) -> Response:
        record = self._deleted_record(collection, name)
        if name.lower() in self._coll(collection):
            raise ApiError(409, "Conflict", f"{_kind(collection).capitalize()} {name} already exists.")
        del self.vault[f"deleted{collection}"][name.lower()]
        self._coll(collection)[name.lower()] = record["obj"]
        if collection == "certificates":
            for part in ("key", "secret"):
                if record.get(part):
                    self._coll(f"{part}s")[name.lower()] = record[part]
        self._save()
        return Response(200, self._bundle_of(collection, record["obj"]))

    def purge(self, collection: str, name: str) -> Response:
        record = self._deleted_record(collection, name)
        if self.props.get("enablePurgeProtection"):
            raise ApiError(
                403, "Forbidden",
                f"Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault "
                f"service will automatically purge it after the retention period has passed.\r\nVault: "
                f"{self.props['name']};location={self.props.get('location', 'local')}",
            )
        del self.vault[f"deleted{collection}"][name.lower()]
        self._save()
        self._drop_key_files(collection, record)
        return Response(204, None)

    def _drop_key_files(self, collection: str, record: dict[str, Any]) -> None:
        if collection in ("certificates", "keys"):
            self.store.delete_private_keys(self.vault_name, record["obj"]["name"])

    def _expire_deleted(self) -> None:
        """Objects past their scheduledPurgeDate are purged (the service does it in the background)."""
        ts = now()
        changed: list[tuple[str, dict[str, Any]]] = []
        for collection in ("certificates", "keys", "secrets"):
            deleted = self.vault.get(f"deleted{collection}") or {}
            for key in [k for k, r in deleted.items() if r.get("scheduledPurgeDate") and r["scheduledPurgeDate"] <= ts]:
                changed.append((collection, deleted.pop(key)))
        if changed:
            self._save()
            for collection, record in changed:
                self._drop_key_files(collection, record)

    def _auto_rotate(self) -> None:
        """Rotation policies with a ``Rotate`` action take effect when due (checked lazily, on the next request,
        as the service's background job would have). Durations shorter than the service's 7-day minimum are
        accepted on purpose, so CI can watch a rotation happen."""
        ts = now()
        for obj in list(self._coll("keys").values()):
            policy = obj.get("rotationPolicy") or {}
            if obj.get("managed") or not obj.get("order"):
                continue
            latest = obj["versions"][obj["order"][-1]]["attributes"]
            for action in policy.get("lifetimeActions") or []:
                if str(((action or {}).get("action") or {}).get("type") or "").lower() != "rotate":
                    continue
                trigger = (action or {}).get("trigger") or {}
                due = False
                if trigger.get("timeAfterCreate"):
                    after = _iso_duration_seconds(str(trigger["timeAfterCreate"]))
                    due = ts >= int(latest.get("created") or ts) + after
                if not due and trigger.get("timeBeforeExpiry") and latest.get("exp"):
                    due = ts >= int(latest["exp"]) - _iso_duration_seconds(str(trigger["timeBeforeExpiry"]))
                if due:
                    self._rotate(obj)
                    break

    def _rotate(self, obj: dict[str, Any]) -> Response:
        ver_id = obj["order"][-1]
        ver = obj["versions"][ver_id]
        current = keys.from_pem(self.store.read_private_key(self.vault_name, obj["name"], ver_id))
        size, crv = keys.describe(current)
        private = keys.generate(ver["kty"], size if crv is None else None, crv)
        body: dict[str, Any] = {"tags": ver.get("tags") or {}, "attributes": {}}
        expiry = ((obj.get("rotationPolicy") or {}).get("attributes") or {}).get("expiryTime")
        if expiry:
            body["attributes"]["exp"] = now() + _iso_duration_seconds(expiry)
        return self._store_key(obj["name"], private, ver["kty"], ver["key_ops"], body)

    # --- backup / restore ---------------------------------------------------------------------------------

    def backup(self, name: str, _version: str | None) -> Response:
        collection = self.collection
        obj = self._coll(collection).get(name.lower())
        if obj is None or not obj.get("order"):
            raise not_found(_kind(collection), name)
        if obj.get("managed"):
            raise ApiError(403, "Forbidden", f"{_kind(collection).capitalize()} {name} is managed by a certificate; "
                           "back up the certificate instead.")
        doc: dict[str, Any] = {"kind": collection, "obj": obj}
        if collection == "certificates":
            doc["key"] = self._coll("keys").get(name.lower())
            doc["secret"] = self._coll("secrets").get(name.lower())
        if collection in ("certificates", "keys"):
            doc["pem"] = {v: self.store.read_private_key(self.vault_name, obj["name"], v).decode()
                          for v in obj["order"]}
        return Response(200, {"value": backup_seal(self.store, doc)})

    def restore(self, collection: str) -> Response:
        body = _json_body(self.req)
        value = body.get("value")
        if not isinstance(value, str):
            raise bad_parameter("Property 'value' is required.")
        doc = backup_open(self.store, value)
        if doc.get("kind") != collection:
            raise bad_parameter(f"The backup blob is not a {_kind(collection)} backup.")
        obj = doc["obj"]
        name = str(obj["name"])
        self._check_not_deleted(collection, name)
        taken = [collection] + (["keys", "secrets"] if collection == "certificates" else [])
        if any(name.lower() in self._coll(c) for c in taken):
            raise ApiError(409, "Conflict", f"{_kind(collection).capitalize()} {name} already exists.")
        for version, pem in (doc.get("pem") or {}).items():
            self.store.write_private_key(self.vault_name, name, version, pem.encode())
        self._coll(collection)[name.lower()] = obj
        for part in ("key", "secret"):
            if doc.get(part):
                self._coll(f"{part}s")[name.lower()] = doc[part]
        self._save()
        return Response(200, self._bundle_of(collection, obj))


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _iso_duration_seconds(text: str) -> int:
    match = _DURATION.match(text.strip().upper())
    if not match or not any(match.groups()):
        raise bad_parameter(f"Invalid ISO 8601 duration: {text}")
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    return ((y * 365 + mo * 30 + d) * 24 + h) * 3600 + mi * 60 + s


_BACKUP_MAGIC = b"NDKVB1"


def backup_seal(store: StateStore, doc: dict[str, Any]) -> str:
    """An opaque backup blob: AES-256-GCM under this emulator's backup key, so it restores into any vault of
    the same emulator (the service binds backups to a subscription and geography) and nowhere else."""
    import json

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(store.backup_key()).encrypt(nonce, json.dumps(doc).encode(), _BACKUP_MAGIC)
    return keys.b64url(_BACKUP_MAGIC + nonce + sealed)


def backup_open(store: StateStore, value: str) -> dict[str, Any]:
    import json

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = keys.b64url_decode(value)
    if not raw.startswith(_BACKUP_MAGIC) or len(raw) < len(_BACKUP_MAGIC) + 28:
        raise bad_parameter("Backup blob contains invalid or corrupt version.")
    body = raw[len(_BACKUP_MAGIC):]
    try:
        plain = AESGCM(store.backup_key()).decrypt(body[:12], body[12:], _BACKUP_MAGIC)
    except InvalidTag as exc:
        raise bad_parameter(
            "Backup blob could not be decrypted: it was made by another emulator or is corrupt."
        ) from exc
    doc: dict[str, Any] = json.loads(plain)
    return doc
