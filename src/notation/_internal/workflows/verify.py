"""The verify workflow (signature.md §14), in the Go notation 1.3.2 order (DISC-13).

resolve -> policy statement for the scope -> list signatures (capped) -> per signature: fetch (bounded, digest
checked) -> integrity -> verification plugin lookup -> trust (store, identity, expiry, timestamp, revocation) ->
plugin verification -> payload descriptor -> user metadata. The first signature that passes wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from notation._internal.log import logger as log
from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.store import ArtifactStore
from notation._internal.records import dataclass, field
from notation.errors import NotationError, TimestampError, TrustStoreError, VerificationError
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
        self.info: SignerInfo | None = None
        """The signer info, when integrity passed (for reports)."""


@dataclass
class VerifyTrace:
    """What a verification looked at, filled in as it goes, so a report can be written even when it fails.

    The caller passes an empty trace and reads it after ``verify_artifact`` returns or raises.
    """

    subject: Descriptor | None = None
    policy_name: str | None = None
    level: str | None = None
    actions: dict[ValidationType, ValidationAction] = field(default_factory=dict)
    """The applied statement's action for each validation type."""
    signatures: list[SignatureVerification] = field(default_factory=list)


class VerificationCache(Protocol):
    """A store of passed signature verdicts (see ``notation._internal.verifycache``)."""

    def get(
        self, subject: Descriptor, manifest: Descriptor, scope: str, now: dt.datetime
    ) -> SignatureVerification | None: ...

    def put(
        self, subject: Descriptor, scope: str, verdict: SignatureVerification, info: SignerInfo, now: dt.datetime
    ) -> None: ...


def verify_artifact(
    store: ArtifactStore,
    reference: str | Descriptor,
    *,
    policy: Any,
    trust_store: Any,
    scope: str,
    user_metadata: Mapping[str, str] | None = None,
    max_signatures: int = mediatypes.DEFAULT_MAX_SIGNATURES,
    plugin_hooks: PluginHooks | None = None,
    now: dt.datetime | None = None,
    trace: VerifyTrace | None = None,
    cache: VerificationCache | None = None,
) -> VerificationOutcome:
    """Verify the artifact ``reference`` names in ``store``; ``scope`` is ``registry/repo`` or the ``--scope``.

    ``reference`` may be a Descriptor the caller already resolved (no second round trip). ``trace`` (optional)
    records the subject, the applied policy and every signature's verdict, also when verification fails.
    ``cache`` (optional) answers for signatures that passed before, so their manifest and envelope are not fetched.
    Raises VerificationError (message exactly as the Go CLI prints it after ``Error: ``) when it fails.
    """
    if max_signatures <= 0:
        raise VerificationError(f"max-signatures value {max_signatures} must be a positive number")
    subject = reference if isinstance(reference, Descriptor) else store.resolve(reference)  # VER-02
    trace = trace if trace is not None else VerifyTrace()
    trace.subject = subject
    display = f"{store.display_name}@{subject.digest}"
    log.debug("Check verification level against artifact %s", display)
    try:
        statement = policy.statement_for(f"{scope}@{subject.digest}")  # VER-03
    except VerificationError as exc:
        raise VerificationError(f"signature verification failed: {exc}") from exc
    level = statement.level
    trace.policy_name, trace.level = statement.name, level
    trace.actions = {vt: statement.action(vt) for vt in ValidationType}
    if level == "skip":  # VER-04
        log.debug("Skipping signature verification")
        return VerificationOutcome(display, subject, level, statement.name, None)

    moment = now or dt.datetime.now(dt.UTC)
    wanted = dict(user_metadata or {})
    seen = trace.signatures
    last_trust_store_error: str | None = None
    count = 0
    for manifest_desc in _listed(store.list_signatures(subject)):
        if count >= max_signatures:  # VER-05: the limit is exceeded without a success
            raise VerificationError(f"signature verification failed for all the signatures associated with {display}")
        count += 1
        cached = cache.get(subject, manifest_desc, scope, moment) if cache is not None else None
        if cached is not None and _has_metadata(cached.user_metadata, wanted):
            seen.append(cached)
            return VerificationOutcome(display, subject, level, statement.name, cached, tuple(seen))
        log.info(
            "Processing signature with manifest mediaType: %s and digest: %s",
            manifest_desc.media_type,
            manifest_desc.digest,
        )
        envelope_media_type, envelope = _fetch_signature(store, manifest_desc, display)
        log.debug(
            "Verify signature against artifact %s referenced as %s in signature media type %s",
            subject.digest,
            display,
            envelope_media_type,
        )
        try:
            info, results = _verify_signature(
                envelope_media_type, envelope, subject, statement, trust_store, wanted, plugin_hooks, moment
            )
        except _SignatureRejected as rejected:
            log.warning("Signature %s failed verification with error: %s", manifest_desc.digest, rejected)
            if rejected.trust_store_error:
                last_trust_store_error = str(rejected)
            seen.append(
                SignatureVerification(
                    manifest_desc,
                    envelope_media_type,
                    tuple(rejected.results),
                    str(rejected),
                    signer_subject=_signer_subject(rejected.info),
                    signing_time=rejected.info.signing_time.isoformat() if rejected.info is not None else None,
                )
            )
            continue
        verified = SignatureVerification(
            manifest=manifest_desc,
            envelope_media_type=envelope_media_type,
            results=tuple(results),
            error=None,
            user_metadata=_payload_annotations(info),
            signer_subject=_signer_subject(info),
            signing_time=info.signing_time.isoformat(),
        )
        verified = _with_valid_until(verified, info, moment)
        seen.append(verified)
        log.debug(
            "Signature verification succeeded for artifact %s with signature digest %s",
            subject.digest,
            manifest_desc.digest,
        )
        if cache is not None and plugin_hooks_unused(info):
            cache.put(subject, scope, verified, info, moment)
        return VerificationOutcome(display, subject, level, statement.name, verified, tuple(seen))

    if count == 0:  # VER-05
        raise VerificationError(
            f'signature verification failed: no signature is associated with "{display}", '
            "make sure the artifact was signed successfully"
        )
    log.debug("Signature verification failed for all the signatures associated with artifact %s", subject.digest)
    if last_trust_store_error is not None:  # AUTH-05: surfaced with its own message
        raise VerificationError(last_trust_store_error)
    raise VerificationError(f"signature verification failed for all the signatures associated with {display}")


def _with_valid_until(verdict: SignatureVerification, info: SignerInfo, moment: dt.datetime) -> SignatureVerification:
    """The verdict with ``valid_until``: how long a caller may keep it (admission caches; verifycache.verdict_bound)."""
    from notation._internal.config.dirs import cache_dir
    from notation._internal.records import replace
    from notation._internal.verifycache import verdict_bound

    return replace(verdict, valid_until=verdict_bound(verdict, info, moment, crl_cache_root=cache_dir()))


def _listed(signatures: Iterator[Descriptor]) -> Iterator[Descriptor]:
    """VER-05: the listing; a failure to list (e.g. an endless or oversized referrers listing) ends verification
    as Go's CLI reports every error that is not a verification failure: ``signature verification failed: <err>``
    (CLI-53). The error keeps its type."""
    while True:
        try:
            desc = next(signatures)
        except StopIteration:
            return
        except NotationError as exc:
            raise type(exc)(f"signature verification failed: {exc.message}") from exc
        yield desc


def _fetch_signature(store: ArtifactStore, manifest_desc: Descriptor, display: str) -> tuple[str, bytes]:
    """VER-06/VER-10: fetch manifest and envelope within the MAN-10 limits; any failure aborts verification.

    Go's ErrorSignatureRetrievalFailed is not a verification failure, so the CLI prints it after
    ``signature verification failed: `` (CLI-53)."""
    from notation._internal.oci.signature_manifest import parse_signature_manifest

    def fail(reason: object) -> VerificationError:
        return VerificationError(
            "signature verification failed: "
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

    enforce = ValidationAction.ENFORCE
    # VER-11 integrity: always enforced.
    try:
        info = verify_integrity(envelope_media_type, envelope)
    except NotationError as exc:
        from notation._internal.trust.evaluate import log_result

        log_result(ValidationType.INTEGRITY, enforce, str(exc))
        raise _SignatureRejected(str(exc), [ValidationResult(ValidationType.INTEGRITY, enforce, str(exc))]) from exc
    results = [ValidationResult(ValidationType.INTEGRITY, enforce)]
    try:
        return info, _verify_trusted(info, results, subject, statement, trust_store, wanted, plugin_hooks, now)
    except _SignatureRejected as rejected:
        rejected.info = info
        raise


def _verify_trusted(
    info: SignerInfo,
    results: list[ValidationResult],
    subject: Descriptor,
    statement: Any,
    trust_store: Any,
    wanted: Mapping[str, str],
    plugin_hooks: PluginHooks | None,
    now: dt.datetime,
) -> list[ValidationResult]:
    """VER-12..33 for an integrity-checked signature; raises _SignatureRejected."""
    from notation._internal.envelope.model import HEADER_VERIFICATION_PLUGIN
    from notation._internal.envelope.payload import parse_payload
    from notation._internal.trust.evaluate import evaluate_trust

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
    return results


def _has_metadata(annotations: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(annotations.get(k) == v for k, v in wanted.items())


def _signer_subject(info: SignerInfo | None) -> str | None:
    if info is None or not info.certificate_chain:
        return None
    return str(info.certificate_chain[0].subject.rfc4514_string())


def plugin_hooks_unused(info: SignerInfo) -> bool:
    """Only signatures verified without a plugin are cached: a plugin's verdict may depend on more than we hash."""
    from notation._internal.envelope.model import HEADER_VERIFICATION_PLUGIN

    return info.signed.extended_value(HEADER_VERIFICATION_PLUGIN) is None


def _verify_timestamp(info: SignerInfo, statement: Any, trust_store: Any, now: dt.datetime) -> str | None:
    """TSV-20..28: the RFC 3161 countersignature against the policy's `tsa` stores."""
    from notation._internal.timestamp import verify_authentic_timestamp

    def tsa_roots() -> list[Any]:
        """TSV-24, loaded after the token parsed (Go's order); Go wraps the store's own text (not the CLI hint)."""
        try:
            return [
                cert
                for kind, name in statement.trust_stores
                if kind == "tsa"
                for cert in trust_store.certificates("tsa", name)
            ]
        except NotationError as exc:
            detail = getattr(exc, "detail", None) or str(exc)
            raise TimestampError(f"failed to load tsa trust store with error: {detail}") from exc

    try:
        verify_authentic_timestamp(
            info.unsigned.timestamp_signature, info.signature, list(info.certificate_chain), tsa_roots, now=now
        )
    except NotationError as exc:
        return str(exc)
    return None


def _check_revocation(chain: Any, signing_time: dt.datetime | None) -> str | None:
    """REV-*: OCSP first, CRL as fallback (cached in {CACHE}/crl)."""
    chain = list(chain)
    if _revocation_outcome_is_trivially_pass(chain):
        return None
    from notation._internal.revocation import revocation_failure

    try:
        return revocation_failure(list(chain), purpose="codesigning", signing_time=signing_time)
    except NotationError as exc:
        return str(exc)


def _revocation_outcome_is_trivially_pass(chain: list[Any]) -> bool:
    """Start-up fast path: True only when the full check could not say anything but "pass", and quietly.

    That is: no certificate the check looks at (all but the root, REV-03) carries an Authority Information Access
    or CRL Distribution Points extension at all (so none names an OCSP responder or a CRL: every result is
    NonRevokable, REV-04), the chain passes the same rules the check applies first (REV-02), and the revocation
    logger is quiet (the full path would log a line per such intermediate under -v/-d). Anything else -- an
    extension present, unreadable extensions, a chain error, verbose logging -- takes the full path, so its
    results and wording are unchanged; this only avoids importing the OCSP/CRL machinery when it has no work.
    """
    from cryptography import x509 as cx509

    from notation._internal.log import WARNING, get_logger
    from notation._internal.x509.chain import validate_signing_chain

    if not chain or get_logger("revocation").isEnabledFor(WARNING):
        return False
    for cert in chain[:-1]:
        try:
            extensions = cert.extensions
        except ValueError:
            return False
        for ext in extensions:
            if isinstance(ext.value, (cx509.AuthorityInformationAccess, cx509.CRLDistributionPoints)):
                return False
    try:
        validate_signing_chain(chain)
    except NotationError:
        return False
    return True


def _raise_on_enforced_failure(results: list[ValidationResult]) -> None:
    for result in results:
        if result.error is not None and result.action is ValidationAction.ENFORCE:
            raise _SignatureRejected(result.error, results)


def _payload_annotations(info: SignerInfo) -> dict[str, str]:
    from notation._internal.envelope.payload import parse_payload

    return dict(parse_payload(info.payload).annotations)
