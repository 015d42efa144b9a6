"""The blob trust policy document, ``trustpolicy.blob.json`` (trust.md §2.3, §2.6; TP-16, TP-40..42).

The same statements as the OCI policy without ``registryScopes`` and with an optional ``globalPolicy`` flag.
Validation follows notation-go main's ``BlobDocument.Validate`` (order and words; statement messages prefixed
``blob trust policy: ``), except that a global ``skip`` statement is refused (Go 2.0 never triggers that check,
DISC-T4). Statements are :class:`TrustPolicyStatement` objects, so trust evaluation is shared with images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notation._internal.records import dataclass
from notation._internal.trust.policy import (
    TrustPolicyStatement,
    _fields,
    _object,
    _str,
    _str_list,
    _type_error,
    decode_signature_verification,
    load_json_root,
    read_policy_document,
    validate_statements,
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
        _, doc = read_policy_document(config_dir, (BLOB_POLICY_FILE,), _decode)
        return doc.validated() if validate else doc

    def validated(self) -> BlobTrustPolicyDocument:
        """Go ``BlobDocument.Validate``: version, statements, then per statement name uniqueness, the shared core
        checks, and at most one (non-skip) global statement. Returns a copy carrying the effective actions."""
        found_global = False

        def check_global(statement: BlobTrustPolicyStatement) -> None:
            nonlocal found_global
            if not statement.global_policy:
                return
            if found_global:
                raise TrustPolicyError(
                    "multiple blob trust policy statements have globalPolicy set to true. Only one trust policy "
                    "statement can be marked as global policy"
                )
            if statement.level == "skip":  # TP-16 / DISC-T4: enforced here, unlike Go 2.0
                raise TrustPolicyError("global blob trust policy statement cannot have verification level set to skip")
            found_global = True

        checked = validate_statements(self.version, self.statements, "blob trust policy", check_global)
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
    sv, override = decode_signature_verification(f, where)
    return BlobTrustPolicyStatement(
        name=_str(f.get("name"), f"{where}.name"),
        level=_str(sv.get("level"), f"{where}.signatureVerification.level"),
        override=override,
        verify_timestamp_raw=_str(sv.get("verifyTimestamp"), f"{where}.signatureVerification.verifyTimestamp"),
        trust_store_values=_str_list(f.get("trustStores"), f"{where}.trustStores"),
        trusted_identities=_str_list(f.get("trustedIdentities"), f"{where}.trustedIdentities"),
        global_policy=_bool(f.get("globalPolicy"), f"{where}.globalPolicy"),
    )
