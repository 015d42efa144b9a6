"""The Key Vault data plane (spec §2.5-2.8): certificates, keys and secrets of one vault, after authentication.

Every handler authorizes first (KVA-05: authorization, then existence, then validation) and builds ids from the
request's ``Host`` (KVE-02), because the SDKs re-derive the vault URL from the ids they receive.
"""

from __future__ import annotations

import base64
import hashlib
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
    "encrypt", "decrypt", "wrapkey", "unwrapkey", "merge", "recover",
}
RECOVERY = {"recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}


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

    def authorize(self, operation: str, object_name: str | None = None) -> None:
        """Access policies or RBAC, per the vault's ``enableRbacAuthorization`` (KVA-02..05)."""
        check(self.props, self.store.assignments(), self.req.principal, operation, object_name)

    # --- dispatch -------------------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        path = _parse(req.segments)
        self.base = f"https://{req.host}"
        self.req = req
        m = req.method
        c = path.collection
        table: dict[tuple[str, str, str | None], tuple[str, str, Any]] = {
            # (collection, method, op) -> (permission collection, permission, handler)
            ("certificates", "GET", None): ("certificates", "get", self.get_certificate),
            ("certificates", "PATCH", None): ("certificates", "update", self.update_certificate),
            ("certificates", "POST", "create"): ("certificates", "create", self.create_certificate),
            ("certificates", "GET", "pending"): ("certificates", "get", self.get_pending),
            ("certificates", "POST", "merge"): ("certificates", "create", self.merge_certificate),
            ("certificates", "GET", "policy"): ("certificates", "get", self.get_policy),
            ("certificates", "GET", "versions"): ("certificates", "list", self.list_certificate_versions),
            ("keys", "GET", None): ("keys", "get", self.get_key),
            ("keys", "POST", "create"): ("keys", "create", self.create_key),
            ("keys", "GET", "versions"): ("keys", "list", self.list_key_versions),
            ("keys", "POST", "sign"): ("keys", "sign", self.sign),
            ("keys", "POST", "verify"): ("keys", "verify", self.verify),
            ("secrets", "GET", None): ("secrets", "get", self.get_secret),
            ("secrets", "PUT", None): ("secrets", "set", self.set_secret),
            ("secrets", "GET", "versions"): ("secrets", "list", self.list_secret_versions),
        }
        if path.name is None:
            if m == "GET" and c in ("certificates", "keys", "secrets") and len(req.segments) <= 2:
                self.authorize(f"{c}.list")
                return self.list_collection(c)
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        entry = table.get((c, m, path.op))
        if entry is None:
            if c in ("certificates", "keys", "secrets"):
                raise ApiError(405, "MethodNotAllowed", f"The requested operation {m} is not supported.")
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        collection, permission, handler = entry
        self.authorize(f"{collection}.{permission}", path.name)
        name = _check_name(path.name, c)
        if path.version is not None and not _VERSION.match(path.version):
            raise not_found(c[:-1], name, path.version)
        try:
            result: Response = handler(name, path.version)
        except (TypeError, AttributeError, ValueError) as exc:
            # A body of the wrong shape (e.g. "sans": "x") is the client's error, never a 500.
            raise bad_parameter(f"The request body has an invalid value: {exc}") from exc
        return result

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
        out = {k: v for k, v in attrs.items() if v is not None}
        out.update(RECOVERY)
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
        policy = certpolicy.normalize(body.get("policy"))
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

    def list_certificate_versions(self, name: str, _version: str | None) -> Response:
        obj = self._coll("certificates").get(name.lower())
        if obj is None or not obj["order"]:
            raise not_found("certificate", name)
        items = []
        for ver_id in obj["order"]:
            ver = obj["versions"][ver_id]
            der = base64.b64decode(ver["cer"])
            items.append({
                "id": self._id("certificates", obj["name"], ver_id),
                "x5t": keys.b64url(hashlib.sha1(der).digest()),  # noqa: S324
                "attributes": self._attrs(ver["attributes"]),
                "tags": ver.get("tags") or {},
            })
        return Response(200, {"value": items, "nextLink": None})

    def list_collection(self, kind: str) -> Response:
        items = []
        for obj in self._coll(kind).values():
            if not obj.get("order"):
                continue
            latest = obj["order"][-1]
            ver = obj["versions"][latest]
            name = obj["name"]
            if kind == "certificates":
                der = base64.b64decode(ver["cer"])
                items.append({
                    "id": self._id(kind, name),
                    "x5t": keys.b64url(hashlib.sha1(der).digest()),  # noqa: S324
                    "attributes": self._attrs(ver["attributes"]),
                    "tags": ver.get("tags") or {},
                })
            elif kind == "keys":
                items.append(self._key_item(obj, None, ver))
            else:
                items.append(self._secret_item(obj, None, ver))
        return Response(200, {"value": items, "nextLink": None})

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
        key_ops = body.get("key_ops") or default_ops
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

    def list_key_versions(self, name: str, _version: str | None) -> Response:
        obj = self._coll("keys").get(name.lower())
        if obj is None or not obj["order"]:
            raise not_found("key", name)
        items = [self._key_item(obj, v, obj["versions"][v]) for v in obj["order"]]
        return Response(200, {"value": items, "nextLink": None})

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

    def list_secret_versions(self, name: str, _version: str | None) -> Response:
        obj = self._coll("secrets").get(name.lower())
        if obj is None or not obj["order"]:
            raise not_found("secret", name)
        items = [self._secret_item(obj, v, obj["versions"][v]) for v in obj["order"]]
        return Response(200, {"value": items, "nextLink": None})
