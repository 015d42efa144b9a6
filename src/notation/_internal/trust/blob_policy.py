"""The blob trust policy document, ``trustpolicy.blob.json`` (trust.md §2.3, §2.6; TP-16, TP-40..42).

The same statements as the OCI policy without ``registryScopes`` and with an optional ``globalPolicy`` flag.
Validation follows notation-go main's ``BlobDocument.Validate`` (order and words; statement messages prefixed
``blob trust policy: ``), except that a global ``skip`` statement is refused (Go 2.0 never triggers that check,
DISC-T4). Statements are :class:`TrustPolicyStatement` objects, so trust evaluation is shared with images.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notation._internal.trust.policy import (
    TRUST_POLICY_LINK,
    TrustPolicyParseError,
    TrustPolicyStatement,
    _fields,
    _object,
    _read_policy_file,
    _str,
    _str_list,
    _type_error,
    load_json_root,
)
from notation._internal.x509.dn import go_quote
from notation.errors import TrustPolicyError, VerificationError

__all__ = ["BLOB_POLICY_FILE", "BlobTrustPolicyDocument", "BlobTrustPolicyStatement", "NoApplicablePolicyError"]

BLOB_POLICY_FILE = "trustpolicy.blob.json"


class NoApplicablePolicyError(VerificationError):
    """TP-40/41: no statement for the given name, or no global statement (Go: ErrorNoApplicableTrustPolicy)."""


@dataclass(frozen=True)
class BlobTrustPolicyStatement(TrustPolicyStatement):
    """A blob statement: an OCI statement without scopes, plus ``globalPolicy``."""

    global_policy: bool = False


@dataclass(frozen=True)
class BlobTrustPolicyDocument:
    """A blob trust policy document (version 1.0). Instances from :meth:`parse`/:meth:`load` are validated."""

    version: str
    statements: tuple[BlobTrustPolicyStatement, ...]

    @classmethod
    def parse(cls, data: bytes, *, validate: bool = True) -> BlobTrustPolicyDocument:
        """Decode JSON (TrustPolicyParseError with Go's json wording) and, by default, validate (TrustPolicyError)."""
        doc = _decode(data)
        return doc.validated() if validate else doc

    @classmethod
    def load(cls, config_dir: Path, *, validate: bool = True) -> BlobTrustPolicyDocument:
        """``{CONFIG}/trustpolicy.blob.json`` with notation-go's getDocument messages, then validated."""
        try:
            data = _read_policy_file(config_dir / BLOB_POLICY_FILE)
        except FileNotFoundError:
            raise TrustPolicyError(
                f"trust policy is not present. To create a trust policy, see: {TRUST_POLICY_LINK}"
            ) from None
        try:
            doc = _decode(data)
        except TrustPolicyParseError:
            raise TrustPolicyError(
                f"malformed trust policy. To create a trust policy, see: {TRUST_POLICY_LINK}"
            ) from None
        return doc.validated() if validate else doc

    def validated(self) -> BlobTrustPolicyDocument:
        """Go ``BlobDocument.Validate``: version, statements, then per statement name uniqueness, the shared core
        checks, and at most one (non-skip) global statement. Returns a copy carrying the effective actions."""
        if not self.version:
            raise TrustPolicyError("blob trust policy document has empty version, version must be specified")
        if self.version != "1.0":
            raise TrustPolicyError(f"blob trust policy document uses unsupported version {go_quote(self.version)}")
        if not self.statements:
            raise TrustPolicyError("blob trust policy document can not have zero trust policy statements")
        names: set[str] = set()
        found_global = False
        checked: list[BlobTrustPolicyStatement] = []
        for statement in self.statements:
            if statement.name in names:
                raise TrustPolicyError(
                    f"multiple blob trust policy statements use the same name {go_quote(statement.name)}, "
                    "statement names must be unique"
                )
            try:
                actions = statement._validate_core()
            except TrustPolicyError as exc:
                raise TrustPolicyError(f"blob trust policy: {exc}") from None
            if statement.global_policy:
                if found_global:
                    raise TrustPolicyError(
                        "multiple blob trust policy statements have globalPolicy set to true. Only one trust policy "
                        "statement can be marked as global policy"
                    )
                if statement.level == "skip":  # TP-16 / DISC-T4: enforced here, unlike Go 2.0
                    raise TrustPolicyError(
                        "global blob trust policy statement cannot have verification level set to skip"
                    )
                found_global = True
            names.add(statement.name)
            checked.append(dataclasses.replace(statement, actions=actions))
        return BlobTrustPolicyDocument(version=self.version, statements=tuple(checked))

    def statement_named(self, name: str) -> BlobTrustPolicyStatement:
        """TP-40."""
        if not name.strip():
            raise NoApplicablePolicyError("policy name cannot be empty")
        for statement in self.statements:
            if statement.name == name:
                return statement
        raise NoApplicablePolicyError(f"no applicable blob trust policy with name {go_quote(name)}")

    def global_statement(self) -> BlobTrustPolicyStatement:
        """TP-41."""
        for statement in self.statements:
            if statement.global_policy:
                return statement
        raise NoApplicablePolicyError("no global blob trust policy")

    def select(self, policy_name: str | None) -> BlobTrustPolicyStatement:
        """The named statement, or the global one when no name (or an empty one) is given, as Go's verifier does."""
        return self.statement_named(policy_name) if policy_name else self.global_statement()

    def to_json_document(self) -> dict[str, Any]:
        """Go's ``json.MarshalIndent(BlobDocument)`` member order (``policy init`` writes this)."""
        policies: list[dict[str, Any]] = []
        for s in self.statements:
            sv: dict[str, Any] = {"level": s.level}
            if s.override:
                sv["override"] = dict(sorted(s.override))
            if s.verify_timestamp_raw:
                sv["verifyTimestamp"] = s.verify_timestamp_raw
            entry: dict[str, Any] = {
                "name": s.name,
                "signatureVerification": sv,
                "trustStores": list(s.trust_store_values) or None,
                "trustedIdentities": list(s.trusted_identities) or None,
            }
            if s.global_policy:
                entry["globalPolicy"] = True
            policies.append(entry)
        return {"version": self.version, "trustPolicies": policies or None}


def _bool(value: object, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _type_error(value, where, "bool")
    return value


def _decode(data: bytes) -> BlobTrustPolicyDocument:
    root = load_json_root(data, "trustpolicy.BlobDocument")
    if root is None:
        return BlobTrustPolicyDocument(version="", statements=())
    top = _fields(root, ("version", "trustPolicies"))
    version = _str(top.get("version"), "BlobDocument.version")
    raw = top.get("trustPolicies")
    if raw is not None and (not isinstance(raw, list) or isinstance(raw, type(root))):
        raise _type_error(raw, "BlobDocument.trustPolicies", "[]trustpolicy.BlobTrustPolicy")
    return BlobTrustPolicyDocument(version=version, statements=tuple(_decode_statement(s) for s in raw or []))


def _decode_statement(raw: object) -> BlobTrustPolicyStatement:
    where = "BlobTrustPolicy.trustPolicies"
    members = _object(raw, where, "trustpolicy.BlobTrustPolicy")
    f = _fields(members, ("name", "signatureVerification", "trustStores", "trustedIdentities", "globalPolicy"))
    sv = _fields(
        _object(f.get("signatureVerification"), f"{where}.signatureVerification", "trustpolicy.SignatureVerification"),
        ("level", "override", "verifyTimestamp"),
    )
    override_members = _object(
        sv.get("override"),
        f"{where}.signatureVerification.override",
        "map[trustpolicy.ValidationType]trustpolicy.ValidationAction",
    )
    override: dict[str, str] = {}
    for key, value in override_members:  # a map: a repeated key keeps its last value
        override[key] = _str(value, f"{where}.signatureVerification.override")
    return BlobTrustPolicyStatement(
        name=_str(f.get("name"), f"{where}.name"),
        level=_str(sv.get("level"), f"{where}.signatureVerification.level"),
        override=tuple(override.items()),
        verify_timestamp_raw=_str(sv.get("verifyTimestamp"), f"{where}.signatureVerification.verifyTimestamp"),
        trust_store_values=_str_list(f.get("trustStores"), f"{where}.trustStores"),
        trusted_identities=_str_list(f.get("trustedIdentities"), f"{where}.trustedIdentities"),
        global_policy=_bool(f.get("globalPolicy"), f"{where}.globalPolicy"),
    )
