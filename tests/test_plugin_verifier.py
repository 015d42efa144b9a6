"""Verification plugins (plugins.md §7, PLG-60..70; signature.md VER-12, VER-18) with real envelopes and real
verification plugin processes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from notation._internal.envelope.codec import sign_envelope, verify_integrity
from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.envelope.model import (
    HEADER_VERIFICATION_PLUGIN,
    HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
    ExtendedAttribute,
    SignerInfo,
    SignRequest,
)
from notation._internal.oci import mediatypes
from notation._internal.plugin import (
    PluginManager,
    make_plugin_hooks,
    resolve_verification_plugin,
    run_plugin_verification,
)
from notation.errors import NotationError, VerificationError
from notation.models import ValidationAction, ValidationResult, ValidationType
from plugin_support import CAP_RAW, CAP_REVOCATION, CAP_TRUSTED_IDENTITY, install_plugin, read_log
from support import pki

ENFORCE, LOG, SKIP = ValidationAction.ENFORCE, ValidationAction.LOG, ValidationAction.SKIP


@pytest.fixture(scope="module")
def leaf() -> pki.Issued:
    return pki.chain3("ec256", "ec256")[2]


def _info(leaf: pki.Issued, *attrs: ExtendedAttribute, media_type: str = mediatypes.JWS_ENVELOPE) -> SignerInfo:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    request = SignRequest(
        payload=b'{"targetArtifact":{"mediaType":"a/b","digest":"sha256:' + b"0" * 64 + b'","size":1}}',
        payload_content_type=mediatypes.NOTARY_PAYLOAD,
        signing_time=now,
        extended=attrs,
    )
    envelope = sign_envelope(media_type, request, LocalSigner(leaf.key, leaf.chain))
    return verify_integrity(media_type, envelope)


def _attr(key: str, value: object, critical: bool = True) -> ExtendedAttribute:
    return ExtendedAttribute(key, value, critical)


PLUGIN = _attr(HEADER_VERIFICATION_PLUGIN, "verifier")


def _install(tmp_path: Path, caps: list[str], version: str = "1.0.0", **config: Any) -> tuple[PluginManager, Path]:
    libexec = tmp_path / "libexec"
    log = tmp_path / "log.jsonl"
    install_plugin(libexec, "verifier", {"log": str(log), **config}, version=version, capabilities=caps)
    return PluginManager(libexec), log


def test_ver12_no_plugin_attribute(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, log = _install(tmp_path, [CAP_TRUSTED_IDENTITY])
    assert resolve_verification_plugin(_info(leaf), manager) is None
    assert read_log(log) == []


def test_plg60_nil_manager(leaf: pki.Issued) -> None:
    with pytest.raises(VerificationError, match=r"^plugin unsupported due to nil verifier.pluginManager$"):
        resolve_verification_plugin(_info(leaf, PLUGIN), None)


def test_plg60_plugin_not_installed(tmp_path: Path, leaf: pki.Issued) -> None:
    with pytest.raises(VerificationError) as err:
        resolve_verification_plugin(_info(leaf, PLUGIN), PluginManager(tmp_path))
    assert str(err.value).startswith(
        'error while locating the verification plugin "verifier", make sure the plugin is installed successfully '
        "before verifying the signature. error: plugin executable file is either not found or inaccessible: "
    )


def test_plg61_plg62_versions(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, log = _install(tmp_path, [CAP_TRUSTED_IDENTITY], version="1.2.0")
    info = _info(leaf, PLUGIN, _attr(HEADER_VERIFICATION_PLUGIN_MIN_VERSION, "1.10.0"))
    with pytest.raises(VerificationError) as err:
        resolve_verification_plugin(info, manager, {"cfg": "1"})
    assert str(err.value) == (
        "found plugin verifier with version 1.2.0 but signature verification needs plugin version greater than or "
        "equal to 1.10.0"
    )
    assert read_log(log)[0]["request"] == {"pluginConfig": {"cfg": "1"}}
    ok = _info(leaf, PLUGIN, _attr(HEADER_VERIFICATION_PLUGIN_MIN_VERSION, "1.2.0-rc.1"))
    assert resolve_verification_plugin(ok, manager) is not None


def test_plg62_plugin_version_must_be_semver(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, _ = _install(tmp_path, [CAP_TRUSTED_IDENTITY], version="v1")
    with pytest.raises(VerificationError, match=r"^plugin verifier has pluginVersion v1 which is not in valid semver"):
        resolve_verification_plugin(_info(leaf, PLUGIN), manager)


def test_plg63_needs_a_verifier_capability(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, _ = _install(tmp_path, [CAP_RAW])
    with pytest.raises(VerificationError) as err:
        resolve_verification_plugin(_info(leaf, PLUGIN), manager)
    assert str(err.value) == (
        'digital signature requires plugin "verifier" with signature verification capabilities '
        '("SIGNATURE_VERIFIER.TRUSTED_IDENTITY" and/or "SIGNATURE_VERIFIER.REVOCATION_CHECK") installed'
    )


@pytest.mark.parametrize("media_type", [mediatypes.JWS_ENVELOPE, mediatypes.COSE_ENVELOPE])
def test_plg66_plg67_request_and_success(tmp_path: Path, leaf: pki.Issued, media_type: str) -> None:
    manager, log = _install(tmp_path, [CAP_RAW, CAP_TRUSTED_IDENTITY, CAP_REVOCATION])
    info = _info(leaf, PLUGIN, _attr("com.example.crit", "v1"), media_type=media_type)
    resolved = resolve_verification_plugin(info, manager)
    assert resolved is not None and resolved.handles_trusted_identity and resolved.handles_revocation
    outcome = run_plugin_verification(
        resolved,
        info,
        trusted_identities=["x509.subject: CN=leaf"],
        authenticity_action=ENFORCE,
        revocation_action=LOG,
        plugin_config={"k": "v"},
    )
    assert outcome.called and outcome.processed_attributes == ("com.example.crit",)
    assert outcome.results == (
        ValidationResult(ValidationType.AUTHENTICITY, ENFORCE),
        ValidationResult(ValidationType.REVOCATION, LOG),
    )
    request = read_log(log)[-1]["request"]
    assert request["contractVersion"] == "1.0"
    assert request["pluginConfig"] == {"k": "v"}
    assert request["trustPolicy"] == {
        "trustedIdentities": ["x509.subject: CN=leaf"],
        "signatureVerification": [CAP_TRUSTED_IDENTITY, CAP_REVOCATION],
    }
    sig = request["signature"]
    assert sig["criticalAttributes"] == {
        "contentType": mediatypes.NOTARY_PAYLOAD,
        "signingScheme": "notary.x509",
        "expiry": "0001-01-01T00:00:00Z",
        "extendedAttributes": {"com.example.crit": "v1"},
    }
    assert sig["unprocessedAttributes"] == ["com.example.crit"]
    assert len(sig["certificateChain"]) == 3


def test_plg66_revocation_skip_is_not_requested(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, log = _install(tmp_path, [CAP_REVOCATION])
    info = _info(leaf, PLUGIN)
    resolved = resolve_verification_plugin(info, manager)
    assert resolved is not None
    outcome = run_plugin_verification(
        resolved, info, trusted_identities=["*"], authenticity_action=ENFORCE, revocation_action=SKIP
    )
    assert not outcome.called and outcome.results == ()
    assert [c["cmd"] for c in read_log(log)] == ["get-plugin-metadata"]


def test_discp11_unprocessed_critical_attribute_when_plugin_not_called(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, _ = _install(tmp_path, [CAP_REVOCATION])
    info = _info(leaf, PLUGIN, _attr("com.example.crit", "v"))
    resolved = resolve_verification_plugin(info, manager)
    assert resolved is not None
    with pytest.raises(VerificationError, match=r'extended critical attribute "com.example.crit" was not processed'):
        run_plugin_verification(
            resolved, info, trusted_identities=[], authenticity_action=ENFORCE, revocation_action=SKIP
        )


@pytest.mark.parametrize(
    ("verify_cfg", "expected"),
    [
        (
            {"results": {CAP_TRUSTED_IDENTITY: {"success": False, "reason": "not allowed"}}},
            ValidationResult(
                ValidationType.AUTHENTICITY,
                LOG,
                'trusted identify verification by plugin "verifier" failed with reason "not allowed"',
            ),
        ),
    ],
)
def test_plg69_failure_mapping(tmp_path: Path, leaf: pki.Issued, verify_cfg: dict[str, Any], expected: Any) -> None:
    manager, _ = _install(tmp_path, [CAP_TRUSTED_IDENTITY], verify=verify_cfg)
    info = _info(leaf, PLUGIN)
    resolved = resolve_verification_plugin(info, manager)
    assert resolved is not None
    outcome = run_plugin_verification(
        resolved, info, trusted_identities=[], authenticity_action=LOG, revocation_action=ENFORCE
    )
    assert outcome.results == (expected,)


def test_plg69_revocation_failure(tmp_path: Path, leaf: pki.Issued) -> None:
    verify_cfg = {"results": {CAP_REVOCATION: {"success": False, "reason": "certificate revoked"}}}
    manager, _ = _install(tmp_path, [CAP_REVOCATION], verify=verify_cfg)
    info = _info(leaf, PLUGIN)
    resolved = resolve_verification_plugin(info, manager)
    assert resolved is not None
    outcome = run_plugin_verification(
        resolved, info, trusted_identities=[], authenticity_action=LOG, revocation_action=ENFORCE
    )
    assert outcome.results == (
        ValidationResult(
            ValidationType.REVOCATION,
            ENFORCE,
            'revocation check by verification plugin "verifier" failed with reason "certificate revoked"',
        ),
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"verify": {"processed": []}},
            'extended critical attribute "com.example.crit" was not processed by the verification plugin "verifier" '
            "(all extended critical attributes must be processed by the verification plugin)",
        ),
        (
            {"verify": {"results": {}}},
            'verification plugin "verifier" failed to verify "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"',
        ),
        (
            {"behaviour": {"verify-signature": {"kind": "error", "message": "backend unreachable"}}},
            "failed to verify with plugin verifier: backend unreachable",
        ),
        (
            {"behaviour": {"verify-signature": {"kind": "raw", "stdout": "{"}}},
            "failed to verify with plugin verifier: failed to unmarshal the response of verify-signature",
        ),
    ],
)
def test_plg68_plg70_contract_violations(
    tmp_path: Path, leaf: pki.Issued, config: dict[str, Any], message: str
) -> None:
    manager, _ = _install(tmp_path, [CAP_TRUSTED_IDENTITY], **config)
    info = _info(leaf, PLUGIN, _attr("com.example.crit", "v"))
    resolved = resolve_verification_plugin(info, manager)
    assert resolved is not None
    with pytest.raises(VerificationError) as err:
        run_plugin_verification(
            resolved, info, trusted_identities=[], authenticity_action=ENFORCE, revocation_action=ENFORCE
        )
    assert message in str(err.value)


@dataclass
class _Statement:
    trusted_identities: list[str] = field(default_factory=lambda: ["*"])
    actions: dict[ValidationType, ValidationAction] = field(
        default_factory=lambda: {ValidationType.AUTHENTICITY: ENFORCE, ValidationType.REVOCATION: SKIP}
    )


def test_make_plugin_hooks(tmp_path: Path, leaf: pki.Issued) -> None:
    manager, log = _install(tmp_path, [CAP_TRUSTED_IDENTITY, CAP_REVOCATION])
    hooks = make_plugin_hooks(manager, {"a": "b"})
    info = _info(leaf, PLUGIN)
    resolved = hooks.resolve(info)
    caps = hooks.capabilities(resolved)
    assert caps == [CAP_TRUSTED_IDENTITY, CAP_REVOCATION]
    results = hooks.verify(resolved, info, _Statement(), caps)
    assert results == [ValidationResult(ValidationType.AUTHENTICITY, ENFORCE)]
    assert read_log(log)[-1]["request"]["trustPolicy"]["signatureVerification"] == [CAP_TRUSTED_IDENTITY]
    with pytest.raises(NotationError):
        make_plugin_hooks(None).resolve(info)
