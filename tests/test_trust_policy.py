"""OCI trust policy: loading (TP-01/02), validation in Go's order with Go's messages (TP-10..16, LVL-*, ID-01..07),
statement selection (TP-30..33)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from notation._internal.trust.policy import LEVELS, TrustPolicyDocument, TrustPolicyParseError
from notation.errors import TrustPolicyError, VerificationError
from notation.models import ValidationAction as A
from notation.models import ValidationType as T

LINK = "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"


def statement(name: str = "wabbit", **kw: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "name": name,
        "registryScopes": [f"registry.acme-rockets.io/software/{name}"],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:wabbit-networks"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools"],
    }
    st.update(kw)
    return st


def doc(*statements: dict[str, Any], version: str = "1.0") -> bytes:
    return json.dumps({"version": version, "trustPolicies": list(statements)}).encode()


def parse_error(data: bytes) -> str:
    with pytest.raises(TrustPolicyError) as exc:
        TrustPolicyDocument.parse(data)
    return str(exc.value)


def test_spec_example_parses() -> None:
    data = doc(
        statement(
            "wabbit-networks-images",
            registryScopes=["registry.acme-rockets.io/software/net-monitor"],
            signatureVerification={
                "level": "strict",
                "override": {"expiry": "log", "revocation": "skip"},
                "verifyTimestamp": "afterCertExpiry",
            },
            trustStores=["ca:wabbit-networks", "tsa:publicly-trusted-tsa"],
        ),
        {
            "name": "unsigned-image",
            "registryScopes": ["registry.acme-rockets.io/software/unsigned/net-utils"],
            "signatureVerification": {"level": "skip"},
        },
    )
    policy = TrustPolicyDocument.parse(data)
    first, second = policy.statements
    assert first.level == "strict"
    assert first.actions[T.EXPIRY] is A.LOG
    assert first.actions[T.REVOCATION] is A.SKIP
    assert first.actions[T.AUTHENTICITY] is A.ENFORCE
    assert first.verify_timestamp == "afterCertExpiry"
    assert first.trust_stores == [("ca", "wabbit-networks"), ("tsa", "publicly-trusted-tsa")]
    assert second.is_skip and all(a is A.SKIP for a in second.actions.values())
    assert second.verify_timestamp == "always"


# ----------------------------------------------------------------------------------------------------- LVL table


@pytest.mark.parametrize(
    ("level", "override", "expected"),
    [
        ("strict", {}, dict.fromkeys(T, A.ENFORCE)),
        ("permissive", {}, LEVELS["permissive"]),
        ("audit", {}, LEVELS["audit"]),
        # LVL-14: raise or lower enforcement
        ("audit", {"authenticity": "enforce"}, {**LEVELS["audit"], T.AUTHENTICITY: A.ENFORCE}),
        ("strict", {"authenticTimestamp": "log"}, {**LEVELS["strict"], T.AUTHENTIC_TIMESTAMP: A.LOG}),
        (
            "permissive",
            {"revocation": "skip", "expiry": "enforce"},
            {**LEVELS["permissive"], T.REVOCATION: A.SKIP, T.EXPIRY: A.ENFORCE},
        ),
    ],
)
def test_lvl01_14_levels_and_overrides(level: str, override: dict[str, str], expected: dict[T, A]) -> None:
    sv: dict[str, Any] = {"level": level}
    if override:
        sv["override"] = override
    st = TrustPolicyDocument.parse(doc(statement(signatureVerification=sv))).statements[0]
    assert dict(st.actions) == dict(expected)


def test_lvl01_table() -> None:
    assert LEVELS["permissive"][T.AUTHENTICITY] is A.ENFORCE
    assert LEVELS["permissive"][T.EXPIRY] is A.LOG
    assert LEVELS["audit"][T.AUTHENTICITY] is A.LOG
    assert LEVELS["audit"][T.INTEGRITY] is A.ENFORCE
    assert set(LEVELS["skip"].values()) == {A.SKIP}


# ----------------------------------------------------------------------------------------------------- validation

P = "trust policy: "
N = 'trust policy statement "wabbit"'


def _mutate(**kw: Any) -> bytes:
    return doc(statement(**kw))


CASES: list[tuple[str, bytes, str]] = [
    (
        "TP-10 empty version",
        doc(statement(), version=""),
        "trust policy document has empty version, version must be specified",
    ),
    ("TP-10 bad version", doc(statement(), version="2.0"), 'trust policy document uses unsupported version "2.0"'),
    ("TP-11 zero statements", doc(), "trust policy document can not have zero trust policy statements"),
    (
        "TP-12.1 duplicate name",
        doc(statement(), statement(registryScopes=["a.io/x"])),
        'multiple trust policy statements use the same name "wabbit", statement names must be unique',
    ),
    (
        "TP-12.2 empty name",
        doc(statement("")),
        P + "a trust policy statement is missing a name, every statement requires a name",
    ),
    (
        "TP-12.3 level missing",
        _mutate(signatureVerification={}),
        P + N + " has invalid signatureVerification: signature verification level is empty or missing in the trust "
        "policy statement",
    ),
    (
        "TP-12.3 level unknown",
        _mutate(signatureVerification={"level": "Strict"}),
        P + N + ' has invalid signatureVerification: invalid signature verification level "Strict"',
    ),
    (
        "LVL-10 skip with override",
        _mutate(signatureVerification={"level": "skip", "override": {"revocation": "log"}}),
        P + N + ' has invalid signatureVerification: signature verification level "skip" can\'t be used to customize '
        "signature verification",
    ),
    (
        "LVL-11 unknown type",
        _mutate(signatureVerification={"level": "strict", "override": {"expire": "log"}}),
        P + N + ' has invalid signatureVerification: verification type "expire" in custom signature verification is '
        'not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]',
    ),
    (
        "LVL-11 unknown action",
        _mutate(signatureVerification={"level": "strict", "override": {"expiry": "warn"}}),
        P + N + ' has invalid signatureVerification: verification action "warn" in custom signature verification is '
        'not supported, supported values are ["enforce" "log" "skip"]',
    ),
    (
        "LVL-12 integrity",
        _mutate(signatureVerification={"level": "audit", "override": {"integrity": "log"}}),
        P + N + ' has invalid signatureVerification: "integrity" verification can not be overridden in custom '
        "signature verification",
    ),
    (
        "LVL-13 skip non-revocation (DISC-T5)",
        _mutate(signatureVerification={"level": "strict", "override": {"authenticTimestamp": "skip"}}),
        P + N + ' has invalid signatureVerification: "authenticTimestamp" verification can not be skipped in custom '
        "signature verification",
    ),
    (
        "TP-12.4 verifyTimestamp",
        _mutate(signatureVerification={"level": "strict", "verifyTimestamp": "never"}),
        P + N + ' has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got '
        '"never"',
    ),
    (
        "TP-12.5 skip with stores",
        _mutate(signatureVerification={"level": "skip"}),
        P + N + " is set to skip signature verification but configured with trust stores and/or trusted identities, "
        "remove them if signature verification needs to be skipped",
    ),
    (
        "TP-12.6 missing stores",
        _mutate(trustStores=[]),
        P + N + " is either missing trust stores or trusted identities, both must be specified",
    ),
    (
        "TP-12.6 missing identities",
        _mutate(trustedIdentities=None),
        P + N + " is either missing trust stores or trusted identities, both must be specified",
    ),
    (
        "TP-12.7 malformed store",
        _mutate(trustStores=["wabbit"]),
        P + N + ' has malformed trust store value "wabbit". The required format is <TrustStoreType>:<TrustStoreName>',
    ),
    (
        "TP-12.7 store type",
        _mutate(trustStores=["CA:wabbit"]),
        P + N + ' uses an unsupported trust store type "CA" in trust store value "CA:wabbit"',
    ),
    (
        "TP-12.7 store name",
        _mutate(trustStores=["ca:wab/bit"]),
        P + N + ' uses an unsupported trust store name "wab/bit" in trust store value "ca:wab/bit". Named store name '
        "needs to follow [a-zA-Z0-9_.-]+ format",
    ),
    (
        "ID-02 wildcard with others",
        _mutate(trustedIdentities=["*", "x509.subject: C=US, ST=WA, O=x"]),
        P + N + " uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other "
        "values",
    ),
    ("ID-03 empty", _mutate(trustedIdentities=[""]), P + N + " has an empty trusted identity"),
    (
        "ID-03 separator",
        _mutate(trustedIdentities=["x509.subject C=US"]),
        P + N + ' has trusted identity "x509.subject C=US" missing separator',
    ),
    (
        "ID-03 no value",
        _mutate(trustedIdentities=["x509.subject:"]),
        P + N + ' has trusted identity "x509.subject:" without an identity value',
    ),
    (
        "ID-04 bad DN",
        _mutate(trustedIdentities=["x509.subject:,,,"]),
        P + N + ' has trusted identity "x509.subject:,,," with invalid identity value: parsing distinguished name (DN) '
        "\",,,\" failed with err: incomplete type, value pair. A valid DN must contain 'C', 'ST' or 'S', and 'O' "
        "RDN attributes at a minimum, and follow RFC 4514 standard",
    ),
    (
        "ID-06 mandatory",
        _mutate(trustedIdentities=["x509.subject: C=US, O=x"]),
        P + N + ' has trusted identity "x509.subject: C=US, O=x" with invalid identity value: distinguished name (DN) '
        "\" C=US, O=x\" has no mandatory RDN attribute for \"ST\", it must contain 'C', 'ST' or 'S', and 'O' RDN "
        "attributes at a minimum",
    ),
    (
        "ID-07 overlap",
        _mutate(trustedIdentities=["x509.subject: C=US, ST=WA, O=x, OU=y", "x509.subject: C=US, ST=WA, O=x"]),
        P + N + ' has overlapping x509 trustedIdentities, "x509.subject: C=US, ST=WA, O=x" overlaps with '
        '"x509.subject: C=US, ST=WA, O=x, OU=y"',
    ),
    (
        "TP-13 zero scopes",
        _mutate(registryScopes=[]),
        N + " has zero registry scopes, it must specify registry scopes with at least one value",
    ),
    (
        "TP-13 wildcard with others",
        _mutate(registryScopes=["*", "a.io/x"]),
        N + " uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values",
    ),
    (
        "TP-14 wildcard in scope",
        _mutate(registryScopes=["a.io/x/*"]),
        'registry scope "a.io/x/*" with wild card(s) is not valid, make sure it is a fully qualified repository '
        "without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like "
        "local/myOCILayout",
    ),
    (
        "TP-14 upper case repository",
        _mutate(registryScopes=["a.io/Net-Monitor"]),
        'registry scope "a.io/Net-Monitor" is not valid, make sure it is a fully qualified repository without the '
        "scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout",
    ),
    (
        "TP-13 scope in two statements",
        doc(statement("a", registryScopes=["a.io/x"]), statement("b", registryScopes=["a.io/x"])),
        'registry scope "a.io/x" is present in multiple trust policy statements, one registry scope value can only be '
        "associated with one statement",
    ),
    (
        "TP-13 wildcard in two statements",
        doc(statement("a", registryScopes=["*"]), statement("b", registryScopes=["*"])),
        'registry scope "*" is present in multiple trust policy statements, one registry scope value can only be '
        "associated with one statement",
    ),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tp10_16_validation_messages(data: bytes, message: str) -> None:
    assert parse_error(data) == message


def test_tp12_order_statement_checks_before_scopes() -> None:
    """Statement-level failures of a later statement beat a scope problem of an earlier one."""
    data = doc(statement("a", registryScopes=[]), statement("b", trustStores=["x"]))
    assert parse_error(data).startswith('trust policy: trust policy statement "b" has malformed trust store value')


@pytest.mark.parametrize(
    "scope",
    [
        "localhost:5000/net-monitor",
        "registry.io/a/b/c",
        "local/myOCILayout".lower(),
        "r.io/a__b",
        "r.io/a---b.c_d",
        "127.0.0.1:443/x",
    ],
)
def test_tp14_valid_scopes(scope: str) -> None:
    TrustPolicyDocument.parse(_mutate(registryScopes=[scope]))


@pytest.mark.parametrize(
    "scope",
    [
        "registry.io",
        "https://r.io/x",
        "r.io/x:tag",
        "r.io/x@sha256:abc",
        "-r.io/x",
        "r.io/x/",
        "r.io//x",
        "r.io/_x",
        "r.io/" + "a" * 5000 + "!",
    ],
)
def test_tp14_invalid_scopes(scope: str) -> None:
    assert "is not valid, make sure it is a fully qualified repository" in parse_error(_mutate(registryScopes=[scope]))


def test_tp15_skip_with_global_scope_is_accepted_with_warning() -> None:
    policy = TrustPolicyDocument.parse(
        doc({"name": "all", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}})
    )
    assert policy.statements[0].is_skip
    assert policy.warnings and "skips signature verification" in policy.warnings[0]


def test_id01_other_prefix_identity_is_valid() -> None:
    TrustPolicyDocument.parse(_mutate(trustedIdentities=["acme.custom: anything at all"]))


# ----------------------------------------------------------------------------------------------------- JSON shape


def test_tp03_unknown_members_ignored_and_case_insensitive_names() -> None:
    st = statement()
    st["extra"] = {"x": 1}
    raw = {"Version": "1.0", "TRUSTPOLICIES": [st], "comment": "hi"}
    policy = TrustPolicyDocument.parse(json.dumps(raw).encode())
    assert policy.statements[0].name == "wabbit"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"{", "unexpected end of JSON input"),
        (b"not json", "invalid character"),
        (b'{"version": "1.0"} trailing', "invalid character"),
        (b"[]", "cannot unmarshal array into Go value of type trustpolicy.OCIDocument"),
        (b'{"version": 1}', "cannot unmarshal number into Go struct field OCIDocument.version of type string"),
        (b'{"version": "1.0", "trustPolicies": {}}', "cannot unmarshal object"),
        (b'{"version": "1.0", "trustPolicies": [{"trustStores": "ca:x"}]}', "of type []string"),
        (b'{"version":"1.0","trustPolicies":[{"signatureVerification":{"override":{"expiry":1}}}]}', "of type string"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_tp03_parse_errors(data: bytes, fragment: str) -> None:
    with pytest.raises(TrustPolicyParseError) as exc:
        TrustPolicyDocument.parse(data)
    assert fragment in str(exc.value)


def test_parse_without_validation_keeps_document() -> None:
    policy = TrustPolicyDocument.parse(doc(version="9"), validate=False)
    assert policy.version == "9"


def test_null_members_are_zero_values() -> None:
    raw = {"version": "1.0", "trustPolicies": [{**statement(), "trustStores": None}]}
    assert "missing trust stores" in parse_error(json.dumps(raw).encode())


# ----------------------------------------------------------------------------------------------------- loading


def test_tp02_missing(tmp_path: Path) -> None:
    with pytest.raises(TrustPolicyError) as exc:
        TrustPolicyDocument.load(tmp_path)
    assert str(exc.value) == f"trust policy is not present. To create a trust policy, see: {LINK}"


def test_tp01_prefers_oci_file(tmp_path: Path) -> None:
    (tmp_path / "trustpolicy.json").write_bytes(doc(statement("legacy")))
    assert TrustPolicyDocument.load(tmp_path).statements[0].name == "legacy"
    (tmp_path / "trustpolicy.oci.json").write_bytes(doc(statement("oci")))
    assert TrustPolicyDocument.load(tmp_path).statements[0].name == "oci"


@pytest.mark.parametrize("kind", ["dir", "symlink"])
def test_tp02_not_regular(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "trustpolicy.json"
    if kind == "dir":
        target.mkdir()
    else:
        real = tmp_path / "real.json"
        real.write_bytes(doc(statement()))
        target.symlink_to(real)
    with pytest.raises(TrustPolicyError) as exc:
        TrustPolicyDocument.load(tmp_path)
    assert str(exc.value) == (
        f"trust policy is not a regular file (symlinks are not supported). To create a trust policy, see: {LINK}"
    )


def test_tp02_malformed(tmp_path: Path) -> None:
    (tmp_path / "trustpolicy.json").write_text("{oops")
    with pytest.raises(TrustPolicyError) as exc:
        TrustPolicyDocument.load(tmp_path)
    assert str(exc.value) == f"malformed trust policy. To create a trust policy, see: {LINK}"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_tp02_permission(tmp_path: Path) -> None:
    path = tmp_path / "trustpolicy.json"
    path.write_bytes(doc(statement()))
    path.chmod(0)
    with pytest.raises(TrustPolicyError) as exc:
        TrustPolicyDocument.load(tmp_path)
    assert (
        str(exc.value)
        == f"unable to read trust policy due to file permissions, please verify the permissions of {path}"
    )


def test_load_validates(tmp_path: Path) -> None:
    (tmp_path / "trustpolicy.json").write_bytes(doc(statement(), version="2"))
    with pytest.raises(TrustPolicyError, match='unsupported version "2"'):
        TrustPolicyDocument.load(tmp_path)


# ----------------------------------------------------------------------------------------------------- selection


@pytest.fixture
def selection_policy() -> TrustPolicyDocument:
    return TrustPolicyDocument.parse(
        doc(
            statement("exact", registryScopes=["registry.io/app", "localhost:5000/app"]),
            statement("global", registryScopes=["*"], signatureVerification={"level": "audit"}),
            {"name": "skipped", "registryScopes": ["local/layout"], "signatureVerification": {"level": "skip"}},
        )
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("registry.io/app@sha256:" + "a" * 64, "exact"),
        ("localhost:5000/app@sha256:" + "a" * 64, "exact"),
        ("registry.io/app/sub@sha256:" + "a" * 64, "global"),
        ("registry.io:443/app@sha256:" + "a" * 64, "global"),  # no port normalisation (TP-31)
        ("local/layout@sha256:" + "b" * 64, "skipped"),  # TP-32
    ],
)
def test_tp30_33_selection(selection_policy: TrustPolicyDocument, reference: str, expected: str) -> None:
    assert selection_policy.statement_for(reference).name == expected


def test_tp31_no_applicable_statement() -> None:
    policy = TrustPolicyDocument.parse(doc(statement()))
    ref = "registry.io/other@sha256:" + "a" * 64
    with pytest.raises(VerificationError) as exc:
        policy.statement_for(ref)
    assert str(exc.value) == (
        f'artifact "{ref}" has no applicable trust policy statement. Trust policy applicability for a given artifact '
        f"is determined by registryScopes. To create a trust policy, see: {LINK}"
    )


def test_tp30_unparsable_reference(selection_policy: TrustPolicyDocument) -> None:
    with pytest.raises(VerificationError) as exc:
        selection_policy.statement_for("registry.io/app:latest")
    assert str(exc.value) == (
        'artifact URI "registry.io/app:latest" could not be parsed, make sure it is the fully qualified oci artifact '
        "URI without the scheme/protocol. e.g domain.com:80/my/repository@sha256:digest"
    )
    with pytest.raises(VerificationError, match=r'registry scope "Registry\.io/APP" is not valid'):
        selection_policy.statement_for("Registry.io/APP@sha256:" + "a" * 64)


def test_statement_trust_store_dedup() -> None:
    st = TrustPolicyDocument.parse(_mutate(trustStores=["ca:a", "tsa:t", "ca:a", "ca:b"])).statements[0]
    assert st.trust_stores == [("ca", "a"), ("tsa", "t"), ("ca", "b")]


def test_statements_are_independent_copies() -> None:
    raw = statement()
    data = doc(copy.deepcopy(raw))
    assert TrustPolicyDocument.parse(data) == TrustPolicyDocument.parse(data)
