"""Certificate policies: validate the wire form the SDKs send (spec §2.6 C1), fill the service's defaults, and
convert the ``az`` camelCase policy file (§2.10) to the wire form.

The wire form is what we store and return, so a policy read back is exactly what was accepted plus defaults.
"""

from __future__ import annotations

import copy
from typing import Any

from notation_devstack.vault.errors import bad_parameter
from notation_devstack.vault.keys import CURVES, RSA_SIZES

CONTENT_TYPES = ("application/x-pkcs12", "application/x-pem-file")
_KTYS = ("RSA", "RSA-HSM", "EC", "EC-HSM")


def normalize(policy: Any, known_issuers: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Validated wire policy with defaults; any bad field is a 400 ``BadParameter``."""
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise bad_parameter("Property policy has invalid value.")
    out = copy.deepcopy(policy)
    out.pop("id", None)
    key_props = out.get("key_props") or {}
    if not isinstance(key_props, dict):
        raise bad_parameter("Property key_props has invalid value.")
    kty = key_props.get("kty") or ("EC" if key_props.get("crv") else "RSA")
    if kty not in _KTYS:
        raise bad_parameter(f"Invalid key type: {kty}. Supported key types are {', '.join(_KTYS)}.")
    if kty.startswith("EC"):
        crv = key_props.get("crv") or {256: "P-256", 384: "P-384", 521: "P-521"}.get(key_props.get("key_size") or 256)
        if crv not in CURVES:
            raise bad_parameter(f"Invalid curve name: {crv}. Supported curves are {', '.join(CURVES)}.")
        size = key_props.get("key_size") or CURVES[crv]
        if size != CURVES[crv]:
            raise bad_parameter(f"Key size {size} does not match curve {crv}.")
        key_props["crv"] = crv
    else:
        size = key_props.get("key_size") or 2048
        if size not in RSA_SIZES:
            raise bad_parameter(f"Unsupported key size ({size}). Supported sizes are [2048, 3072, 4096]")
        key_props.pop("crv", None)
    key_props["kty"] = kty
    key_props["key_size"] = size
    key_props["exportable"] = bool(key_props.get("exportable", True))
    key_props["reuse_key"] = bool(key_props.get("reuse_key", False))
    out["key_props"] = key_props
    secret_props = out.get("secret_props") or {}
    content_type = secret_props.get("contentType") or "application/x-pkcs12"
    if content_type not in CONTENT_TYPES:
        raise bad_parameter(f"Invalid content type: {content_type}.")
    out["secret_props"] = {"contentType": content_type}
    x509_props = out.get("x509_props") or {}
    if not isinstance(x509_props, dict):
        raise bad_parameter("Property x509_props has invalid value.")
    sans = {k: v for k, v in (x509_props.get("sans") or {}).items() if v}
    if not x509_props.get("subject") and not sans:
        raise bad_parameter("Policy must contain a subject or subject alternative names.")
    months = x509_props.get("validity_months") or 12
    if not isinstance(months, int) or not 1 <= months <= 1200:
        raise bad_parameter(f"Invalid validity_months: {months}.")
    x509_props["validity_months"] = months
    x509_props.setdefault("key_usage", ["digitalSignature", "keyEncipherment"])
    x509_props.setdefault("ekus", ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"])
    x509_props["sans"] = sans
    out["x509_props"] = x509_props
    issuer = out.get("issuer") or {}
    if not isinstance(issuer, dict):
        raise bad_parameter("Property issuer has invalid value.")
    issuer.setdefault("name", "Unknown")
    if issuer["name"] not in ("Self", "Unknown") and str(issuer["name"]).lower() not in known_issuers:
        raise bad_parameter(f"Issuer '{issuer['name']}' is not configured in this vault (use Self, Unknown or an "
                            "issuer set with set_issuer).")
    out["issuer"] = issuer
    out.setdefault(
        "lifetime_actions", [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}]
    )
    return out


# --- az's policy file (camelCase) -> wire form ------------------------------------------------------------------


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _get(d: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in d:
            return d[name]
    return None


def from_az(doc: Any) -> dict[str, Any]:
    """Accept what ``az keyvault certificate create -p`` accepts: camelCase or snake_case, nulls = absent."""
    if not isinstance(doc, dict):
        raise ValueError("the policy must be a JSON object")
    doc = _drop_nulls(doc)
    out: dict[str, Any] = {}
    issuer = _get(doc, "issuerParameters", "issuer_parameters")
    if issuer:
        out["issuer"] = {
            k2: v
            for k1, k2 in (("name", "name"), ("certificateType", "cty"), ("certificate_type", "cty"),
                           ("certificateTransparency", "cert_transparency"),
                           ("certificate_transparency", "cert_transparency"))
            if (v := issuer.get(k1)) is not None
        }
    kp = _get(doc, "keyProperties", "key_properties")
    if kp:
        out["key_props"] = {
            k2: v
            for k1, k2 in (("exportable", "exportable"), ("keyType", "kty"), ("key_type", "kty"),
                           ("keySize", "key_size"), ("key_size", "key_size"), ("reuseKey", "reuse_key"),
                           ("reuse_key", "reuse_key"), ("curve", "crv"))
            if (v := kp.get(k1)) is not None
        }
    sp = _get(doc, "secretProperties", "secret_properties")
    if sp:
        ct = _get(sp, "contentType", "content_type")
        if ct:
            out["secret_props"] = {"contentType": ct}
    xp = _get(doc, "x509CertificateProperties", "x509_certificate_properties")
    if xp:
        x: dict[str, Any] = {}
        for k1, k2 in (("subject", "subject"), ("ekus", "ekus"), ("keyUsage", "key_usage"),
                       ("key_usage", "key_usage"), ("validityInMonths", "validity_months"),
                       ("validity_in_months", "validity_months")):
            if xp.get(k1) is not None:
                x[k2] = xp[k1]
        sans = _get(xp, "subjectAlternativeNames", "subject_alternative_names")
        if sans:
            x["sans"] = {
                k2: v
                for k1, k2 in (("emails", "emails"), ("dnsNames", "dns_names"), ("dns_names", "dns_names"),
                               ("upns", "upns"))
                if (v := sans.get(k1))
            }
        out["x509_props"] = x
    actions = _get(doc, "lifetimeActions", "lifetime_actions")
    if actions:
        wire_actions = []
        for item in actions:
            trig = item.get("trigger") or {}
            act = item.get("action") or {}
            trigger = {}
            if _get(trig, "lifetimePercentage", "lifetime_percentage") is not None:
                trigger["lifetime_percentage"] = _get(trig, "lifetimePercentage", "lifetime_percentage")
            if _get(trig, "daysBeforeExpiry", "days_before_expiry") is not None:
                trigger["days_before_expiry"] = _get(trig, "daysBeforeExpiry", "days_before_expiry")
            wire_actions.append({"trigger": trigger, "action": {"action_type": _get(act, "actionType", "action_type")}})
        out["lifetime_actions"] = wire_actions
    attrs = doc.get("attributes")
    if attrs:
        out["attributes"] = {k: v for k, v in attrs.items() if k == "enabled"}
    return out


def to_az(policy: dict[str, Any], iso: Any) -> dict[str, Any]:
    """The camelCase policy ``az keyvault certificate show`` prints (re-usable as a ``-p`` file)."""
    kp = policy.get("key_props", {})
    xp = policy.get("x509_props", {})
    sans = xp.get("sans") or {}
    attrs = policy.get("attributes", {})
    return {
        "attributes": {
            "created": iso(attrs.get("created")),
            "enabled": attrs.get("enabled", True),
            "expires": None,
            "notBefore": None,
            "updated": iso(attrs.get("updated")),
        },
        "id": policy.get("id"),
        "issuerParameters": {
            "certificateTransparency": policy.get("issuer", {}).get("cert_transparency"),
            "certificateType": policy.get("issuer", {}).get("cty"),
            "name": policy.get("issuer", {}).get("name"),
        },
        "keyProperties": {
            "curve": kp.get("crv"),
            "exportable": kp.get("exportable"),
            "keySize": kp.get("key_size"),
            "keyType": kp.get("kty"),
            "reuseKey": kp.get("reuse_key"),
        },
        "lifetimeActions": [
            {
                "action": {"actionType": a.get("action", {}).get("action_type")},
                "trigger": {
                    "daysBeforeExpiry": a.get("trigger", {}).get("days_before_expiry"),
                    "lifetimePercentage": a.get("trigger", {}).get("lifetime_percentage"),
                },
            }
            for a in policy.get("lifetime_actions", [])
        ],
        "secretProperties": {"contentType": policy.get("secret_props", {}).get("contentType")},
        "x509CertificateProperties": {
            "ekus": xp.get("ekus"),
            "keyUsage": xp.get("key_usage"),
            "subject": xp.get("subject"),
            "subjectAlternativeNames": {
                "dnsNames": sans.get("dns_names"),
                "emails": sans.get("emails"),
                "upns": sans.get("upns"),
            }
            if sans
            else None,
            "validityInMonths": xp.get("validity_months"),
        },
    }
