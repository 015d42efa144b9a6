"""The OCI trust policy document (trust.md §2, §3): loading, validation with Go's messages, statement selection.

Validation runs in Go notation 1.3.2's order and stops at the first failure, so `policy import` and `verify` refuse
exactly the documents Go refuses, with the same words.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from notation._internal.records import dataclass, field, replace
from notation._internal.x509.dn import (
    WILDCARD,
    X509_SUBJECT_PREFIX,
    InvalidDistinguishedNameError,
    go_quote,
    is_subset_dn,
    parse_distinguished_name,
)
from notation.errors import TrustPolicyError, VerificationError
from notation.models import ValidationAction, ValidationType

__all__ = [
    "LEVELS",
    "POLICY_FILE",
    "POLICY_FILE_OCI",
    "STORE_TYPES",
    "TrustPolicyDocument",
    "TrustPolicyParseError",
    "TrustPolicyStatement",
    "is_valid_store_name",
]

POLICY_FILE = "trustpolicy.json"
POLICY_FILE_OCI = "trustpolicy.oci.json"
TRUST_POLICY_LINK = "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"
MAX_POLICY_BYTES = 4 * 1024 * 1024
"""A trust policy is a few KiB; refuse to slurp anything absurd."""

STORE_TYPES = ("ca", "signingAuthority", "tsa")
VERIFY_TIMESTAMP_ALWAYS = "always"
VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY = "afterCertExpiry"

_E, _L, _S = ValidationAction.ENFORCE, ValidationAction.LOG, ValidationAction.SKIP
_T = ValidationType
LEVELS: Mapping[str, Mapping[ValidationType, ValidationAction]] = {
    "strict": {_T.INTEGRITY: _E, _T.AUTHENTICITY: _E, _T.AUTHENTIC_TIMESTAMP: _E, _T.EXPIRY: _E, _T.REVOCATION: _E},
    "permissive": {_T.INTEGRITY: _E, _T.AUTHENTICITY: _E, _T.AUTHENTIC_TIMESTAMP: _L, _T.EXPIRY: _L, _T.REVOCATION: _L},
    "audit": {_T.INTEGRITY: _E, _T.AUTHENTICITY: _L, _T.AUTHENTIC_TIMESTAMP: _L, _T.EXPIRY: _L, _T.REVOCATION: _L},
    "skip": {_T.INTEGRITY: _S, _T.AUTHENTICITY: _S, _T.AUTHENTIC_TIMESTAMP: _S, _T.EXPIRY: _S, _T.REVOCATION: _S},
}
"""LVL-01: the enforcement table of the four levels."""

_TYPE_NAMES = '["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]'
_ACTION_NAMES = '["enforce" "log" "skip"]'

_STORE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
# TP-14, rewritten without nested quantifiers (same language as Go's regexes, linear time in Python's engine).
_LABEL = r"[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_SCOPE_HINT = (
    "make sure it is a fully qualified repository without the scheme, protocol or tag. For example "
    "domain.com/my/repository or a local scope like local/myOCILayout"
)


class TrustPolicyParseError(TrustPolicyError):
    """The document is not JSON of the expected shape (`policy import` says `failed to parse ...: <this>`)."""


def is_valid_store_name(name: str) -> bool:
    """TS-02: a named store (and a certificate store directory) name."""
    return _STORE_NAME.fullmatch(name) is not None


def validate_scope_format(scope: str) -> None:
    """TP-14; raises TrustPolicyError with Go's message."""
    if len(scope) > 1 and "*" in scope:
        raise TrustPolicyError(f"registry scope {go_quote(scope)} with wild card(s) is not valid, {_SCOPE_HINT}")
    domain, sep, repository = scope.partition("/")
    if (
        not sep
        or not domain
        or not repository
        or not _DOMAIN.fullmatch(domain)
        or not _REPOSITORY.fullmatch(repository)
    ):
        raise TrustPolicyError(f"registry scope {go_quote(scope)} is not valid, {_SCOPE_HINT}")


# --------------------------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustPolicyStatement:
    """One statement of an OCI trust policy, as written (validation makes the derived views safe to use)."""

    name: str
    registry_scopes: tuple[str, ...] = ()
    level: str = ""
    override: tuple[tuple[str, str], ...] = ()
    """Override entries in document order (key, action)."""
    verify_timestamp_raw: str = ""
    trust_store_values: tuple[str, ...] = ()
    """The `trustStores` strings as written (`<type>:<name>`)."""
    trusted_identities: tuple[str, ...] = ()
    actions: Mapping[ValidationType, ValidationAction] = field(default_factory=dict, compare=False)
    """LVL-01 with LVL-10..14 overrides applied; filled in by validation."""

    @property
    def is_skip(self) -> bool:
        return self.level == "skip"

    @property
    def verify_timestamp(self) -> str:
        """`always` (also when absent or empty) or `afterCertExpiry`."""
        return self.verify_timestamp_raw or VERIFY_TIMESTAMP_ALWAYS

    @property
    def trust_stores(self) -> list[tuple[str, str]]:
        """(type, name) pairs in policy order, duplicates removed (TS-10); malformed values are skipped."""
        seen: set[str] = set()
        result: list[tuple[str, str]] = []
        for value in self.trust_store_values:
            store_type, sep, name = value.partition(":")
            if sep and value not in seen:
                seen.add(value)
                result.append((store_type, name))
        return result

    def action(self, validation: ValidationType) -> ValidationAction:
        return self.actions.get(validation, ValidationAction.ENFORCE)

    # -- validation (TP-12) ------------------------------------------------------------------------------------------

    def _compute_actions(self) -> dict[ValidationType, ValidationAction]:
        """Go ``GetVerificationLevel``: the level's table with overrides applied (raises with the bare reason)."""
        if not self.level:
            raise TrustPolicyError("signature verification level is empty or missing in the trust policy statement")
        if self.level not in LEVELS:
            raise TrustPolicyError(f"invalid signature verification level {go_quote(self.level)}")
        actions = dict(LEVELS[self.level])
        if not self.override:
            return actions
        if self.level == "skip":
            raise TrustPolicyError(
                'signature verification level "skip" can\'t be used to customize signature verification'
            )
        for key, value in self.override:
            try:
                vtype = ValidationType(key)
            except ValueError:
                raise TrustPolicyError(
                    f"verification type {go_quote(key)} in custom signature verification is not supported, supported "
                    f"values are {_TYPE_NAMES}"
                ) from None
            try:
                vaction = ValidationAction(value)
            except ValueError:
                raise TrustPolicyError(
                    f"verification action {go_quote(value)} in custom signature verification is not supported, "
                    f"supported values are {_ACTION_NAMES}"
                ) from None
            if vtype is ValidationType.INTEGRITY:
                raise TrustPolicyError(
                    f"{go_quote(key)} verification can not be overridden in custom signature verification"
                )
            if vtype is not ValidationType.REVOCATION and vaction is ValidationAction.SKIP:
                raise TrustPolicyError(
                    f"{go_quote(key)} verification can not be skipped in custom signature verification"
                )
            actions[vtype] = vaction
        return actions

    def _validate_core(self) -> dict[ValidationType, ValidationAction]:
        """TP-12 steps 2..8 (Go ``validatePolicyCore``); messages without the document-level prefix."""
        name = go_quote(self.name)
        if not self.name:
            raise TrustPolicyError("a trust policy statement is missing a name, every statement requires a name")
        try:
            actions = self._compute_actions()
        except TrustPolicyError as exc:
            raise TrustPolicyError(f"trust policy statement {name} has invalid signatureVerification: {exc}") from None
        if self.verify_timestamp_raw not in ("", VERIFY_TIMESTAMP_ALWAYS, VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY):
            raise TrustPolicyError(
                f"trust policy statement {name} has invalid signatureVerification: verifyTimestamp must be "
                f'"always" or "afterCertExpiry", but got {go_quote(self.verify_timestamp_raw)}'
            )
        if self.level == "skip":
            if self.trust_store_values or self.trusted_identities:
                raise TrustPolicyError(
                    f"trust policy statement {name} is set to skip signature verification but configured with trust "
                    "stores and/or trusted identities, remove them if signature verification needs to be skipped"
                )
            return actions
        if not self.trust_store_values or not self.trusted_identities:
            raise TrustPolicyError(
                f"trust policy statement {name} is either missing trust stores or trusted identities, both must be "
                "specified"
            )
        for value in self.trust_store_values:
            store_type, sep, store_name = value.partition(":")
            if not sep:
                raise TrustPolicyError(
                    f"trust policy statement {name} has malformed trust store value {go_quote(value)}. The required "
                    "format is <TrustStoreType>:<TrustStoreName>"
                )
            if store_type not in STORE_TYPES:
                raise TrustPolicyError(
                    f"trust policy statement {name} uses an unsupported trust store type {go_quote(store_type)} in "
                    f"trust store value {go_quote(value)}"
                )
            if not is_valid_store_name(store_name):
                raise TrustPolicyError(
                    f"trust policy statement {name} uses an unsupported trust store name {go_quote(store_name)} in "
                    f"trust store value {go_quote(value)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format"
                )
        self._validate_identities()
        return actions

    def _validate_identities(self) -> None:
        """ID-01..07."""
        name = go_quote(self.name)
        identities = self.trusted_identities
        if len(identities) > 1 and WILDCARD in identities:
            raise TrustPolicyError(
                f"trust policy statement {name} uses a wildcard trusted identity '*', a wildcard identity cannot be "
                "used in conjunction with other values"
            )
        parsed: list[tuple[str, dict[str, str]]] = []
        for identity in identities:
            if not identity:
                raise TrustPolicyError(f"trust policy statement {name} has an empty trusted identity")
            if identity == WILDCARD:
                continue
            prefix, sep, value = identity.partition(":")
            if not sep:
                raise TrustPolicyError(
                    f"trust policy statement {name} has trusted identity {go_quote(identity)} missing separator"
                )
            if prefix != X509_SUBJECT_PREFIX:
                continue  # ID-01: other prefixes are for plugins
            if not value:
                raise TrustPolicyError(
                    f"trust policy statement {name} has trusted identity {go_quote(identity)} without an identity value"
                )
            try:
                parsed.append((identity, parse_distinguished_name(value)))
            except InvalidDistinguishedNameError as exc:
                raise TrustPolicyError(
                    f"trust policy statement {name} has trusted identity {go_quote(identity)} with invalid identity "
                    f"value: {exc}"
                ) from None
        for i, (raw1, dn1) in enumerate(parsed):
            for j, (raw2, dn2) in enumerate(parsed):
                if i != j and is_subset_dn(dn1, dn2):
                    raise TrustPolicyError(
                        f"trust policy statement {name} has overlapping x509 trustedIdentities, {go_quote(raw1)} "
                        f"overlaps with {go_quote(raw2)}"
                    )


@dataclass(frozen=True)
class TrustPolicyDocument:
    """An OCI trust policy document (version 1.0). Instances from :meth:`parse`/:meth:`load` are validated."""

    version: str
    statements: tuple[TrustPolicyStatement, ...]

    # -- construction ------------------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, data: bytes, *, validate: bool = True) -> TrustPolicyDocument:
        """Decode a JSON document (TrustPolicyParseError) and, by default, validate it (TrustPolicyError)."""
        doc = _decode(data)
        return doc.validated() if validate else doc

    @classmethod
    def load(cls, config_dir: Path) -> TrustPolicyDocument:
        """TP-01/TP-02: read `trustpolicy.oci.json` if present, else `trustpolicy.json`; parse and validate."""
        return cls.load_with_bytes(config_dir)[0]

    @classmethod
    def load_with_bytes(cls, config_dir: Path) -> tuple[TrustPolicyDocument, bytes]:
        """As :meth:`load`, also returning the document's bytes (a long-lived verifier fingerprints them)."""
        data, doc = read_policy_document(config_dir, (POLICY_FILE_OCI, POLICY_FILE), _decode)
        return doc.validated(), data

    # -- validation (§2.4) -------------------------------------------------------------------------------------------

    def validated(self) -> TrustPolicyDocument:
        """Return a copy whose statements carry their effective actions; raise TrustPolicyError on the first problem."""
        checked = validate_statements(self.version, self.statements, "trust policy")
        self._validate_scopes()
        return TrustPolicyDocument(version=self.version, statements=tuple(checked))

    def _validate_scopes(self) -> None:
        """TP-13/TP-14."""
        counts: dict[str, int] = {}
        for statement in self.statements:
            name = go_quote(statement.name)
            scopes = statement.registry_scopes
            if not scopes:
                raise TrustPolicyError(
                    f"trust policy statement {name} has zero registry scopes, it must specify registry scopes with at "
                    "least one value"
                )
            if len(scopes) > 1 and WILDCARD in scopes:
                raise TrustPolicyError(
                    f"trust policy statement {name} uses wildcard registry scope '*', a wildcard scope cannot be used "
                    "in conjunction with other scope values"
                )
            for scope in scopes:
                if scope != WILDCARD:
                    validate_scope_format(scope)
                counts[scope] = counts.get(scope, 0) + 1
        for scope, count in counts.items():
            if count > 1:
                raise TrustPolicyError(
                    f"registry scope {go_quote(scope)} is present in multiple trust policy statements, one registry "
                    "scope value can only be associated with one statement"
                )

    # -- selection (TP-30..33) ---------------------------------------------------------------------------------------

    def statement_for(self, artifact_reference: str) -> TrustPolicyStatement:
        """The statement for `<registry>/<repository>@<digest>` (or `<scope>@<digest>`); VerificationError if none."""
        at = artifact_reference.rfind("@")
        if at < 0:
            raise VerificationError(
                f"artifact URI {go_quote(artifact_reference)} could not be parsed, make sure it is the fully qualified "
                "oci artifact URI without the scheme/protocol. e.g domain.com:80/my/repository@sha256:digest"
            )
        path = artifact_reference[:at]
        try:
            validate_scope_format(path)
        except TrustPolicyError as exc:
            raise VerificationError(str(exc)) from None
        wildcard: TrustPolicyStatement | None = None
        exact: TrustPolicyStatement | None = None
        for statement in self.statements:
            if WILDCARD in statement.registry_scopes:
                wildcard = statement
            elif path in statement.registry_scopes:
                exact = statement
        chosen = exact or wildcard
        if chosen is None:
            raise VerificationError(
                f"artifact {go_quote(artifact_reference)} has no applicable trust policy statement. Trust policy "
                "applicability for a given artifact is determined by registryScopes. To create a trust policy, see: "
                f"{TRUST_POLICY_LINK}"
            )
        return chosen

    @property
    def warnings(self) -> list[str]:
        """DISC-T3: Go accepts `skip` on the global scope `*`; we accept it too but say so."""
        return [
            f"trust policy statement {go_quote(s.name)} skips signature verification for every artifact "
            '(registry scope "*")'
            for s in self.statements
            if s.is_skip and WILDCARD in s.registry_scopes
        ]


_St = TypeVar("_St", bound=TrustPolicyStatement)
_D = TypeVar("_D")


def validate_statements(
    version: str,
    statements: Sequence[_St],
    kind: str,
    check: Callable[[_St], None] | None = None,
) -> list[_St]:
    """The document checks the OCI and the blob policy share (Go ``validateDocument``/``BlobDocument.Validate``):
    version, at least one statement, unique names and each statement's core checks, in Go's order. ``kind`` is
    ``trust policy`` or ``blob trust policy`` (the words of every message); ``check`` runs after a statement's core
    checks (the blob policy's global-statement rules). Returns copies carrying the effective actions."""
    if not version:
        raise TrustPolicyError(f"{kind} document has empty version, version must be specified")
    if version != "1.0":
        raise TrustPolicyError(f"{kind} document uses unsupported version {go_quote(version)}")
    if not statements:
        raise TrustPolicyError(f"{kind} document can not have zero trust policy statements")
    names: set[str] = set()
    checked: list[_St] = []
    for statement in statements:
        if statement.name in names:
            raise TrustPolicyError(
                f"multiple {kind} statements use the same name {go_quote(statement.name)}, statement names "
                "must be unique"
            )
        try:
            actions = statement._validate_core()
        except TrustPolicyError as exc:
            raise TrustPolicyError(f"{kind}: {exc}") from None
        if check is not None:
            check(statement)
        names.add(statement.name)
        checked.append(replace(statement, actions=actions))
    return checked


def read_policy_document(config_dir: Path, names: Sequence[str], decode: Callable[[bytes], _D]) -> tuple[bytes, _D]:
    """The first of ``names`` present in ``config_dir``, decoded, with notation-go's getDocument messages (shared by
    the OCI and the blob trust policy)."""
    for name in names:
        try:
            data = _read_policy_file(config_dir / name)
            break
        except FileNotFoundError:
            continue
    else:
        raise TrustPolicyError(f"trust policy is not present. To create a trust policy, see: {TRUST_POLICY_LINK}")
    try:
        return data, decode(data)
    except TrustPolicyParseError:
        raise TrustPolicyError(f"malformed trust policy. To create a trust policy, see: {TRUST_POLICY_LINK}") from None


# --------------------------------------------------------------------------------------------------------------------
# File access and JSON decoding
# --------------------------------------------------------------------------------------------------------------------


def _read_policy_file(path: Path) -> bytes:
    """TP-02 file rules; FileNotFoundError when absent (the caller decides on fallback / message)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise TrustPolicyError(f"unable to read trust policy {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise TrustPolicyError(
            "trust policy is not a regular file (symlinks are not supported). To create a trust policy, see: "
            f"{TRUST_POLICY_LINK}"
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
    except PermissionError:
        raise TrustPolicyError(
            f"unable to read trust policy due to file permissions, please verify the permissions of {path}"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileNotFoundError(str(path)) from None
        raise TrustPolicyError(f"unable to read trust policy {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise TrustPolicyError(f"trust policy {path} is larger than {MAX_POLICY_BYTES} bytes")
    return data


_JSON_KIND = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}


def _json_kind(value: object) -> str:
    if isinstance(value, _PairList):
        return "object"
    return _JSON_KIND.get(type(value), "value")


def _type_error(value: object, where: str, go_type: str) -> TrustPolicyParseError:
    return TrustPolicyParseError(
        f"json: cannot unmarshal {_json_kind(value)} into Go struct field {where} of type {go_type}"
    )


def _fields(obj: list[tuple[str, Any]], names: tuple[str, ...]) -> dict[str, Any]:
    """Go encoding/json member matching: exact or case-insensitive name, later members win, unknown ones ignored."""
    lowered = {n.lower(): n for n in names}
    result: dict[str, Any] = {}
    for key, value in obj:
        target = key if key in names else lowered.get(key.lower())
        if target is not None:
            result[target] = value
    return result


def _str(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _type_error(value, where, "string")
    return value


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or isinstance(value, _PairList):
        raise _type_error(value, where, "[]string")
    return tuple(_str(v, where) for v in value)


def _object(value: object, where: str, go_type: str) -> list[tuple[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, _PairList):
        raise _type_error(value, where, go_type)
    return list(value)


class _PairList(list[tuple[str, Any]]):
    """A JSON object kept as its member list (order and duplicates preserved)."""


def load_json_root(data: bytes, go_type: str) -> _PairList | None:
    """Decode a policy file's JSON as Go's encoding/json would see it: the top-level object (None for ``null``),
    with Go's error wording for everything else (shared by the OCI and the blob trust policy)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TrustPolicyParseError("invalid character in JSON input (not UTF-8)") from None
    try:
        root = json.loads(text, object_pairs_hook=_PairList, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if not text[exc.pos :].strip():
            raise TrustPolicyParseError("unexpected end of JSON input") from None
        raise TrustPolicyParseError(f"invalid character {text[exc.pos]!r} ({exc.msg.lower()})") from None
    except ValueError as exc:
        raise TrustPolicyParseError(str(exc)) from None
    except RecursionError:  # hostile nesting is a parse error (Go: "exceeded max depth"), never a crash
        raise TrustPolicyParseError("exceeded max depth") from None
    if root is None:
        return None
    if not isinstance(root, _PairList):
        raise TrustPolicyParseError(f"json: cannot unmarshal {_json_kind(root)} into Go value of type {go_type}")
    return root


def _decode(data: bytes) -> TrustPolicyDocument:
    root = load_json_root(data, "trustpolicy.OCIDocument")
    if root is None:
        return TrustPolicyDocument(version="", statements=())
    top = _fields(root, ("version", "trustPolicies"))
    version = _str(top.get("version"), "OCIDocument.version")
    raw_statements = top.get("trustPolicies")
    if raw_statements is not None and (not isinstance(raw_statements, list) or isinstance(raw_statements, _PairList)):
        raise _type_error(raw_statements, "OCIDocument.trustPolicies", "[]trustpolicy.OCITrustPolicy")
    statements = tuple(_decode_statement(s) for s in raw_statements or [])
    return TrustPolicyDocument(version=version, statements=statements)


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def _decode_statement(raw: object) -> TrustPolicyStatement:
    where = "OCITrustPolicy.trustPolicies"
    members = _object(raw, where, "trustpolicy.OCITrustPolicy")
    f = _fields(members, ("name", "signatureVerification", "trustStores", "trustedIdentities", "registryScopes"))
    sv, override = decode_signature_verification(f, where)
    return TrustPolicyStatement(
        name=_str(f.get("name"), f"{where}.name"),
        registry_scopes=_str_list(f.get("registryScopes"), f"{where}.registryScopes"),
        level=_str(sv.get("level"), f"{where}.signatureVerification.level"),
        override=override,
        verify_timestamp_raw=_str(sv.get("verifyTimestamp"), f"{where}.signatureVerification.verifyTimestamp"),
        trust_store_values=_str_list(f.get("trustStores"), f"{where}.trustStores"),
        trusted_identities=_str_list(f.get("trustedIdentities"), f"{where}.trustedIdentities"),
    )


def decode_signature_verification(f: dict[str, Any], where: str) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """A statement's ``signatureVerification`` members and its decoded ``override`` (shared by the OCI and the blob
    trust policy). Go decodes ``override`` into a map: a repeated key keeps its last value, in the position of its
    first."""
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
    for key, value in override_members:
        override[key] = _str(value, f"{where}.signatureVerification.override")
    return sv, tuple(override.items())
