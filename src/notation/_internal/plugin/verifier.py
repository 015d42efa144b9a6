"""Verification plugins (plugins.md §7, PLG-60..70; signature.md VER-12, VER-18).

Two steps, called by the verify workflow for each signature that carries ``io.cncf.notary.verificationPlugin``:
:func:`resolve_verification_plugin` (before the trust checks: locate, version, capabilities) and
:func:`run_plugin_verification` (after them: ``verify-signature`` and the mapping of its verdicts to
ValidationResults). :func:`make_plugin_hooks` packages both as the workflow's ``PluginHooks``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from notation._internal.envelope.model import (
    HEADER_VERIFICATION_PLUGIN,
    HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
    SCHEME_SIGNING_AUTHORITY,
)
from notation._internal.plugin.process import Plugin
from notation._internal.plugin.protocol import (
    CAP_REVOCATION_CHECK,
    CAP_TRUSTED_IDENTITY,
    CMD_VERIFY_SIGNATURE,
    CONTRACT_VERSION,
    PluginMalformedError,
    PluginMetadata,
    compare_semver,
    is_semver,
)
from notation._internal.records import dataclass
from notation.errors import PluginError, VerificationError
from notation.models import ValidationAction, ValidationResult, ValidationType

if TYPE_CHECKING:
    from notation._internal.envelope.model import SignerInfo
    from notation._internal.plugin.manager import PluginManager

_PLUGIN_HEADERS = (HEADER_VERIFICATION_PLUGIN, HEADER_VERIFICATION_PLUGIN_MIN_VERSION)
_ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class ResolvedVerificationPlugin:
    """A verification plugin that passed VER-12: its metadata says what it takes over (PLG-65)."""

    plugin: Plugin
    metadata: PluginMetadata

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def capabilities(self) -> tuple[str, ...]:
        """The SIGNATURE_VERIFIER.* capabilities, never empty (PLG-63)."""
        return self.metadata.verifier_capabilities

    @property
    def handles_trusted_identity(self) -> bool:
        return CAP_TRUSTED_IDENTITY in self.capabilities

    @property
    def handles_revocation(self) -> bool:
        return CAP_REVOCATION_CHECK in self.capabilities


@dataclass(frozen=True)
class PluginVerificationOutcome:
    """What ``verify-signature`` decided: verdicts mapped to ValidationResults (PLG-69) and what it processed."""

    results: tuple[ValidationResult, ...]
    processed_attributes: tuple[str, ...]
    called: bool


def _attr_string(info: SignerInfo, key: str) -> str | None:
    """SIG-17 for the two plugin attributes (codecs check it too; this keeps the module safe on its own)."""
    attr = info.signed.extended_value(key)
    if attr is None:
        return None
    if not attr.critical:
        raise VerificationError(f"{key} is not a critical Extended attribute")
    if not isinstance(attr.value, str):
        raise VerificationError(f"{key} from extended attribute is not a string")
    if not attr.value.strip():
        raise VerificationError(f"{key} from extended attribute is an empty string")
    return attr.value


def resolve_verification_plugin(
    info: SignerInfo, manager: PluginManager | None, plugin_config: Mapping[str, str] | None = None
) -> ResolvedVerificationPlugin | None:
    """VER-12 / PLG-60..63. None when the signature names no plugin; raises (signature rejected) otherwise."""
    name = _attr_string(info, HEADER_VERIFICATION_PLUGIN)
    if name is None:
        return None
    min_version = _attr_string(info, HEADER_VERIFICATION_PLUGIN_MIN_VERSION)
    if min_version is not None and not is_semver(min_version):
        key = HEADER_VERIFICATION_PLUGIN_MIN_VERSION
        raise VerificationError(f"{key} from extended attribute is not a valid SemVer")
    if manager is None:
        raise VerificationError("plugin unsupported due to nil verifier.pluginManager")
    try:
        plugin = manager.get(name)
    except PluginError as exc:
        raise VerificationError(
            f'error while locating the verification plugin "{name}", make sure the plugin is installed successfully '
            f"before verifying the signature. error: {exc}"
        ) from exc
    metadata = plugin.metadata(plugin_config)  # PLG-61
    if not is_semver(metadata.version):
        raise VerificationError(
            f"plugin {name} has pluginVersion {metadata.version} which is not in valid semver format"
        )
    if min_version is not None and compare_semver(metadata.version, min_version) < 0:
        raise VerificationError(
            f"found plugin {name} with version {metadata.version} but signature verification needs plugin version "
            f"greater than or equal to {min_version}"
        )
    if not metadata.verifier_capabilities:
        raise VerificationError(
            f'digital signature requires plugin "{name}" with signature verification capabilities '
            f'("{CAP_TRUSTED_IDENTITY}" and/or "{CAP_REVOCATION_CHECK}") installed'
        )
    return ResolvedVerificationPlugin(plugin, metadata)


def _rfc3339(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return _rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def build_verify_request(
    info: SignerInfo,
    capabilities: Sequence[str],
    trusted_identities: Sequence[str],
    plugin_config: Mapping[str, str] | None,
) -> dict[str, Any]:
    """PLG-67: exactly what Go sends."""
    from cryptography.hazmat.primitives.serialization import Encoding

    signed = info.signed
    extended = {a.key: _jsonable(a.value) for a in signed.extended if a.key not in _PLUGIN_HEADERS}
    critical: dict[str, Any] = {
        "contentType": signed.content_type,
        "signingScheme": signed.signing_scheme,
        "expiry": _rfc3339(signed.expiry) if signed.expiry else _ZERO_TIME,
    }
    if signed.signing_scheme == SCHEME_SIGNING_AUTHORITY and signed.authentic_signing_time is not None:
        critical["authenticSigningTime"] = _rfc3339(signed.authentic_signing_time)
    if extended:
        critical["extendedAttributes"] = extended
    request: dict[str, Any] = {
        "contractVersion": CONTRACT_VERSION,
        "signature": {
            "criticalAttributes": critical,
            "unprocessedAttributes": list(extended) or None,
            "certificateChain": [
                base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in info.certificate_chain
            ],
        },
        "trustPolicy": {
            "trustedIdentities": list(trusted_identities),
            "signatureVerification": list(capabilities),
        },
    }
    if plugin_config:
        request["pluginConfig"] = dict(plugin_config)
    return request


def run_plugin_verification(
    resolved: ResolvedVerificationPlugin,
    info: SignerInfo,
    *,
    trusted_identities: Sequence[str],
    authenticity_action: ValidationAction,
    revocation_action: ValidationAction,
    plugin_config: Mapping[str, str] | None = None,
) -> PluginVerificationOutcome:
    """VER-18 / PLG-65..70: call ``verify-signature`` and map its verdicts.

    A TRUSTED_IDENTITY verdict becomes an AUTHENTICITY result with ``authenticity_action``; a REVOCATION_CHECK
    verdict a REVOCATION result with ``revocation_action``. Contract violations and command errors raise
    VerificationError (the signature is rejected whatever the level).
    """
    name = resolved.name
    skip_revocation = revocation_action is ValidationAction.SKIP
    capabilities = [c for c in resolved.capabilities if not (c == CAP_REVOCATION_CHECK and skip_revocation)]
    extended_names = [a.key for a in info.signed.extended if a.key not in _PLUGIN_HEADERS]
    if not capabilities:
        # PLG-66: nothing to ask. DISC-P11: critical attributes nobody processed still fail the signature.
        for attr in info.signed.extended:
            if attr.critical and attr.key not in _PLUGIN_HEADERS:
                raise VerificationError(_unprocessed_message(attr.key, name))
        return PluginVerificationOutcome((), (), called=False)
    request = build_verify_request(info, capabilities, trusted_identities, plugin_config)
    try:
        response = resolved.plugin.run(CMD_VERIFY_SIGNATURE, request)
        results_obj = response.get("verificationResults") or {}
        processed = response.get("processedAttributes") or []
        if not isinstance(results_obj, dict) or not isinstance(processed, list):
            raise PluginMalformedError(
                f"failed to unmarshal the response of {CMD_VERIFY_SIGNATURE} command for plugin {name}"
            )
    except PluginError as exc:
        raise VerificationError(f"failed to verify with plugin {name}: {exc}") from exc
    processed_names = tuple(str(p) for p in processed)
    for key in extended_names:  # PLG-68 (1)
        if key not in processed_names:
            raise VerificationError(_unprocessed_message(key, name))
    results: list[ValidationResult] = []
    for capability in capabilities:  # PLG-68 (2), PLG-69
        verdict = results_obj.get(capability)
        if not isinstance(verdict, dict) or not isinstance(verdict.get("success"), bool):
            raise VerificationError(f'verification plugin "{name}" failed to verify "{capability}"')
        reason = verdict.get("reason") or ""
        if not isinstance(reason, str):
            reason = str(reason)
        if capability == CAP_TRUSTED_IDENTITY:
            error = (
                None
                if verdict["success"]
                else (f'trusted identify verification by plugin "{name}" failed with reason "{reason}"')
            )
            results.append(ValidationResult(ValidationType.AUTHENTICITY, authenticity_action, error))
        else:
            error = (
                None
                if verdict["success"]
                else (f'revocation check by verification plugin "{name}" failed with reason "{reason}"')
            )
            results.append(ValidationResult(ValidationType.REVOCATION, revocation_action, error))
    return PluginVerificationOutcome(tuple(results), processed_names, called=True)


def _unprocessed_message(key: str, name: str) -> str:
    return (
        f'extended critical attribute "{key}" was not processed by the verification plugin "{name}" '
        "(all extended critical attributes must be processed by the verification plugin)"
    )


def make_plugin_hooks(manager: PluginManager | None, plugin_config: Mapping[str, str] | None = None) -> Any:
    """The verify workflow's ``PluginHooks`` over this module.

    The policy statement is read duck-typed: ``trusted_identities`` (list of strings) and ``actions`` (mapping
    ValidationType -> ValidationAction).
    """
    from notation._internal.workflows.verify import PluginHooks

    config = dict(plugin_config or {})

    def resolve(info: SignerInfo) -> ResolvedVerificationPlugin | None:
        return resolve_verification_plugin(info, manager, config)

    def capabilities(resolved: ResolvedVerificationPlugin | None) -> list[str]:
        return list(resolved.capabilities) if resolved is not None else []

    def verify(
        resolved: ResolvedVerificationPlugin | None, info: SignerInfo, statement: Any, caps: list[str]
    ) -> list[ValidationResult]:
        if resolved is None:
            return []
        actions = getattr(statement, "actions", {}) or {}
        outcome = run_plugin_verification(
            resolved,
            info,
            trusted_identities=list(getattr(statement, "trusted_identities", []) or []),
            authenticity_action=actions.get(ValidationType.AUTHENTICITY, ValidationAction.ENFORCE),
            revocation_action=actions.get(ValidationType.REVOCATION, ValidationAction.ENFORCE),
            plugin_config=config,
        )
        return list(outcome.results)

    return PluginHooks(resolve=resolve, capabilities=capabilities, verify=verify)
