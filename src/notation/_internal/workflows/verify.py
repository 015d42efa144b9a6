"""The verify workflow (signature.md §14), in the Go notation 1.3.2 order (DISC-13).

resolve -> policy statement for the scope -> list signatures (capped) -> per signature: fetch (bounded, digest
checked) -> integrity -> verification plugin lookup -> trust (store, identity, expiry, timestamp, revocation) ->
plugin verification -> payload descriptor -> user metadata. The first signature that passes wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.store import ArtifactStore
from notation.errors import NotationError, TrustStoreError, VerificationError
from notation.models import (
    SignatureVerification,
    ValidationAction,
    ValidationResult,
    ValidationType,
    VerificationOutcome,
)

if TYPE_CHECKING:
    from notation._internal.envelope.model import SignerInfo

PluginVerifier = Callable[..., Any]
"""Hook for verification plugins (plugins.md §7); see :class:`PluginHooks`."""


@dataclass(frozen=True)
class PluginHooks:
    """What the workflow needs from the plugin host for signatures that name a verification plugin.

    ``resolve(info) -> plugin | None`` performs VER-12 (raises on failure); ``capabilities(plugin)`` lists the
    SIGNATURE_VERIFIER capabilities; ``verify(plugin, info, statement, capabilities) -> list[ValidationResult]``
    performs VER-18.
    """

    resolve: Callable[[SignerInfo], Any]
    capabilities: Callable[[Any], list[str]]
    verify: Callable[[Any, SignerInfo, Any, list[str]], list[ValidationResult]]


class _SignatureRejected(Exception):
    """One signature failed; the reason is recorded and the next signature is tried."""

    def __init__(self, message: str, results: list[ValidationResult], *, trust_store_error: bool = False):
        super().__init__(message)
        self.results = results
        self.trust_store_error = trust_store_error


def verify_artifact(
    store: ArtifactStore,
    reference: str,
    *,
    policy: Any,
    trust_store: Any,
    scope: str,
    user_metadata: Mapping[str, str] | None = None,
    max_signatures: int = mediatypes.DEFAULT_MAX_SIGNATURES,
    plugin_hooks: PluginHooks | None = None,
    now: dt.datetime | None = None,
) -> VerificationOutcome:
    """Verify the artifact ``reference`` names in ``store``; ``scope`` is ``registry/repo`` or the ``--scope``.

    Raises VerificationError (message exactly as the Go CLI prints it after ``Error: ``) when it fails.
    """
    if max_signatures <= 0:
        raise VerificationError(f"max-signatures value {max_signatures} must be a positive number")
    subject = store.resolve(reference)  # VER-02
    display = f"{store.display_name}@{subject.digest}"
    try:
        statement = policy.statement_for(f"{scope}@{subject.digest}")  # VER-03
    except VerificationError as exc:
        raise VerificationError(f"signature verification failed: {exc}") from exc
    level = statement.level
    if level == "skip":  # VER-04
        return VerificationOutcome(display, subject, level, statement.name, None)

    moment = now or dt.datetime.now(dt.UTC)
    wanted = dict(user_metadata or {})
    seen: list[SignatureVerification] = []
    last_trust_store_error: str | None = None
    count = 0
    for manifest_desc in store.list_signatures(subject):
        if count >= max_signatures:  # VER-05: the limit is exceeded without a success
            raise VerificationError(f"signature verification failed for all the signatures associated with {display}")
        count += 1
        envelope_media_type, envelope = _fetch_signature(store, manifest_desc, display)
        try:
            info, results = _verify_signature(
                envelope_media_type, envelope, subject, statement, trust_store, wanted, plugin_hooks, moment
            )
        except _SignatureRejected as rejected:
            if rejected.trust_store_error:
                last_trust_store_error = str(rejected)
            seen.append(
                SignatureVerification(manifest_desc, envelope_media_type, tuple(rejected.results), str(rejected))
            )
            continue
        verified = SignatureVerification(
            manifest=manifest_desc,
            envelope_media_type=envelope_media_type,
            results=tuple(results),
            error=None,
            user_metadata=_payload_annotations(info),
            signer_subject=info.certificate_chain[0].subject.rfc4514_string() if info.certificate_chain else None,
            signing_time=info.signing_time.isoformat(),
        )
        seen.append(verified)
        return VerificationOutcome(display, subject, level, statement.name, verified, tuple(seen))

    if count == 0:  # VER-05
        raise VerificationError(
            f'signature verification failed: no signature is associated with "{display}", '
            "make sure the artifact was signed successfully"
        )
    if last_trust_store_error is not None:  # AUTH-05: surfaced with its own message
        raise VerificationError(last_trust_store_error)
    raise VerificationError(f"signature verification failed for all the signatures associated with {display}")


def _fetch_signature(store: ArtifactStore, manifest_desc: Descriptor, display: str) -> tuple[str, bytes]:
    """VER-06/VER-10: fetch manifest and envelope within the MAN-10 limits; any failure aborts verification."""
    from notation._internal.oci.signature_manifest import parse_signature_manifest

    def fail(reason: object) -> VerificationError:
        return VerificationError(
            f'unable to retrieve digital signature with digest "{manifest_desc.digest}" associated with '
            f'"{display}" from the Repository, error : {reason}'
        )

    try:
        if manifest_desc.size > mediatypes.MAX_MANIFEST_SIZE:
            raise fail(f"signature manifest too large: {manifest_desc.size} bytes")
        manifest_bytes = store.fetch(manifest_desc, mediatypes.MAX_MANIFEST_SIZE)
        manifest = parse_signature_manifest(manifest_bytes, manifest_desc)
        envelope_desc: Descriptor = manifest.envelope
        if envelope_desc.size > mediatypes.MAX_ENVELOPE_SIZE:
            raise fail(f"signature blob too large: {envelope_desc.size} bytes")
        envelope = store.fetch(envelope_desc, mediatypes.MAX_ENVELOPE_SIZE)
    except VerificationError:
        raise
    except NotationError as exc:
        raise fail(exc) from exc
    return envelope_desc.media_type, envelope


def _verify_signature(
    envelope_media_type: str,
    envelope: bytes,
    subject: Descriptor,
    statement: Any,
    trust_store: Any,
    wanted: Mapping[str, str],
    plugin_hooks: PluginHooks | None,
    now: dt.datetime,
) -> tuple[SignerInfo, list[ValidationResult]]:
    from notation._internal.envelope.codec import verify_integrity
    from notation._internal.envelope.model import HEADER_VERIFICATION_PLUGIN
    from notation._internal.envelope.payload import parse_payload
    from notation._internal.trust.evaluate import evaluate_trust

    enforce = ValidationAction.ENFORCE
    # VER-11 integrity: always enforced.
    try:
        info = verify_integrity(envelope_media_type, envelope)
    except NotationError as exc:
        raise _SignatureRejected(str(exc), [ValidationResult(ValidationType.INTEGRITY, enforce, str(exc))]) from exc
    results = [ValidationResult(ValidationType.INTEGRITY, enforce)]

    # VER-12: a signature that names a verification plugin needs it; failures abort this signature (PLG-64).
    plugin = None
    capabilities: list[str] = []
    if info.signed.extended_value(HEADER_VERIFICATION_PLUGIN) is not None:
        if plugin_hooks is None:
            message = "plugin unsupported due to nil verifier.pluginManager"
            raise _SignatureRejected(message, results)
        try:
            plugin = plugin_hooks.resolve(info)
            capabilities = plugin_hooks.capabilities(plugin)
        except NotationError as exc:
            raise _SignatureRejected(str(exc), results) from exc

    # VER-13..17: trust store, identity, expiry, authentic timestamp, revocation.
    try:
        trust_results = evaluate_trust(
            statement,
            info,
            trust_store,
            now=now,
            skip_identity="SIGNATURE_VERIFIER.TRUSTED_IDENTITY" in capabilities,
            skip_revocation="SIGNATURE_VERIFIER.REVOCATION_CHECK" in capabilities,
            timestamp_verifier=_verify_timestamp,
            revocation_checker=_check_revocation,
        )
    except TrustStoreError as exc:  # AUTH-05: raised only when authenticity is enforced; str() is the CLI form
        failed = ValidationResult(ValidationType.AUTHENTICITY, ValidationAction.ENFORCE, str(exc))
        raise _SignatureRejected(str(exc), [*results, failed], trust_store_error=True) from exc
    results.extend(trust_results)
    _raise_on_enforced_failure(results)

    # VER-18: plugin verification.
    if plugin is not None and plugin_hooks is not None:
        try:
            results.extend(plugin_hooks.verify(plugin, info, statement, capabilities))
        except NotationError as exc:
            raise _SignatureRejected(str(exc), results) from exc
        _raise_on_enforced_failure(results)

    # VER-30/32: the payload must describe the resolved subject, whatever the level.
    try:
        target = parse_payload(info.payload)
    except NotationError as exc:
        raise _SignatureRejected(str(exc), results) from exc
    if not target.same_content(subject):
        raise _SignatureRejected("content descriptor mismatch", results)
    # VER-33: every requested user metadata pair must be in the signed payload.
    for key, value in wanted.items():
        if target.annotations.get(key) != value:
            raise _SignatureRejected("unable to find specified metadata in the signature", results)
    return info, results


def _verify_timestamp(info: SignerInfo, statement: Any, trust_store: Any, now: dt.datetime) -> str | None:
    """TSV-20..28: the RFC 3161 countersignature against the policy's `tsa` stores."""
    from notation._internal.timestamp import verify_authentic_timestamp

    try:
        roots = [
            cert
            for kind, name in statement.trust_stores
            if kind == "tsa"
            for cert in trust_store.certificates("tsa", name)
        ]
        verify_authentic_timestamp(
            info.unsigned.timestamp_signature, info.signature, list(info.certificate_chain), roots, now=now
        )
    except NotationError as exc:
        return str(exc)
    return None


def _check_revocation(chain: Any, signing_time: dt.datetime | None) -> str | None:
    """REV-*: OCSP first, CRL as fallback (cached in {CACHE}/crl)."""
    from notation._internal.revocation import revocation_failure

    try:
        return revocation_failure(list(chain), purpose="codesigning", signing_time=signing_time)
    except NotationError as exc:
        return str(exc)


def _raise_on_enforced_failure(results: list[ValidationResult]) -> None:
    for result in results:
        if result.error is not None and result.action is ValidationAction.ENFORCE:
            raise _SignatureRejected(result.error, results)


def _payload_annotations(info: SignerInfo) -> dict[str, str]:
    from notation._internal.envelope.payload import parse_payload

    return dict(parse_payload(info.payload).annotations)
