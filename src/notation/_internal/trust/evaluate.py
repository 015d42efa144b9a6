"""Trust evaluation of one signature after integrity (signature.md VER-13..19, trust.md §4..§8).

A pure function of (policy statement, signer info, trust store, time) in Go notation 1.3.2's order: authenticity
(trust store, then trusted identity, one shared result), expiry, authentic timestamp, revocation. Each check's
action comes from the statement; the first failed *enforced* check ends the evaluation (VER-19).

Timestamp-token verification and OCSP/CRL checking arrive later: they plug in through ``timestamp_verifier`` and
``revocation_checker``. Until then the evaluation fails closed whenever either would be needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from notation._internal.envelope.model import SCHEME_SIGNING_AUTHORITY, SCHEME_X509, SignerInfo
from notation._internal.log import logger as log
from notation._internal.trust.policy import VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY, TrustPolicyStatement
from notation._internal.trust.store import TrustStore, TrustStoreLoadError
from notation._internal.x509.dn import check_trusted_identities, go_name_string, go_quote
from notation.models import ValidationAction, ValidationResult, ValidationType

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "RevocationChecker",
    "TimestampVerifier",
    "evaluate_trust",
    "first_enforced_failure",
    "rfc1123z",
]

TimestampVerifier = Callable[[SignerInfo, TrustPolicyStatement, TrustStore, dt.datetime], "str | None"]
"""Verifies the RFC 3161 countersignature (TSV-20..29); returns the failure message or None."""

RevocationChecker = Callable[[Sequence["x509.Certificate"], "dt.datetime | None"], "str | None"]
"""Checks the code-signing chain (REV-*) given the authentic signing time (REV-08); returns the failure or None."""

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STORE_TYPE_FOR_SCHEME = {SCHEME_X509: "ca", SCHEME_SIGNING_AUTHORITY: "signingAuthority"}


def rfc1123z(value: dt.datetime) -> str:
    """Go ``time.RFC1123Z`` (``Mon, 02 Jan 2006 15:04:05 -0700``) in the value's own zone; locale independent."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    offset = value.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (
        f"{_DAYS[value.weekday()]}, {value.day:02d} {_MONTHS[value.month - 1]} {value.year:04d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    )


def log_result(vtype: ValidationType, action: ValidationAction, error: str | None) -> None:
    """notation-go's logVerificationResult: a logged failure is a warning, an enforced one an error (``-v``)."""
    if error is None:
        return
    if action is ValidationAction.LOG:
        log.warning('%s validation failed with validation action set to "logged". Failure reason: %s', vtype, error)
    elif action is ValidationAction.ENFORCE:
        log.error("%s validation failed. Failure reason: %s", vtype, error)


def first_enforced_failure(results: Sequence[ValidationResult]) -> ValidationResult | None:
    """The result that rejects the signature (VER-19), if any."""
    for result in results:
        if result.error is not None and result.action is ValidationAction.ENFORCE:
            return result
    return None


def _subject(cert: x509.Certificate) -> str:
    return go_quote(go_name_string(cert.subject))


def _load_anchors(statement: TrustPolicyStatement, scheme: str, trust_store: TrustStore) -> list[x509.Certificate]:
    """AUTH-01/02, TS-10: the certificates of every listed store of the scheme's type, each store once."""
    store_type = _STORE_TYPE_FOR_SCHEME.get(scheme)
    if store_type is None:
        raise TrustStoreLoadError(
            f"error while loading the trust store, unrecognized signing scheme {go_quote(scheme)}"
        )
    anchors: list[x509.Certificate] = []
    for kind, name in statement.trust_stores:
        if kind == store_type:
            anchors.extend(trust_store.certificates(kind, name))
    return anchors


def _authenticity(
    statement: TrustPolicyStatement, info: SignerInfo, trust_store: TrustStore, action: ValidationAction
) -> str | None:
    """VER-13 / AUTH-*: None when some chain certificate is byte-identical to a trust anchor."""
    from notation._internal.x509.keys import der_of

    try:
        anchors = _load_anchors(statement, info.signed.signing_scheme, trust_store)
    except TrustStoreLoadError as exc:
        if action is ValidationAction.ENFORCE:
            raise  # AUTH-05: the CLI prints this error as is
        return exc.detail
    if not anchors:
        return "no trusted certificates are found to verify authenticity"
    trusted = {der_of(cert) for cert in anchors}  # memoised per certificate object: public_bytes re-encodes
    if any(der_of(cert) in trusted for cert in info.certificate_chain):
        return None
    return "the signature's certificate chain does not contain any trusted certificate"


def _authentic_timestamp(
    statement: TrustPolicyStatement,
    info: SignerInfo,
    trust_store: TrustStore,
    now: dt.datetime,
    timestamp_verifier: TimestampVerifier | None,
) -> str | None:
    """VER-16 / TSV-01, TSV-10..11; the token itself is the verifier hook's job (TSV-20..29)."""
    chain = info.certificate_chain
    if info.signed.signing_scheme != SCHEME_X509:
        signing_time = info.signed.authentic_signing_time
        if signing_time is None:
            return "authentic signing time is missing from the signature envelope"
        for cert in chain:
            if signing_time < cert.not_valid_before_utc or signing_time > cert.not_valid_after_utc:
                return (
                    f"certificate {_subject(cert)} was not valid when the digital signature was produced at "
                    f"{go_quote(rfc1123z(signing_time))}"
                )
        return None
    perform = any(kind == "tsa" for kind, _ in statement.trust_stores)
    if not perform:
        log.info("Timestamp verification disabled: no tsa trust store is configured in trust policy")
    if perform and statement.verify_timestamp == VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY:
        perform = any(now > cert.not_valid_after_utc for cert in chain)
        if not perform:
            log.info(
                'Timestamp verification disabled: verifyTimestamp is set to "%s" and signing cert chain unexpired',
                VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY,
            )
    if not perform:
        for cert in chain:
            if now < cert.not_valid_before_utc:
                return (
                    f"verification time is before certificate {_subject(cert)} validity period, it will be valid "
                    f"from {go_quote(rfc1123z(cert.not_valid_before_utc))}"
                )
            if now > cert.not_valid_after_utc:
                return (
                    f"verification time is after certificate {_subject(cert)} validity period, it was expired at "
                    f"{go_quote(rfc1123z(cert.not_valid_after_utc))}"
                )
        return None
    log.debug("Performing timestamp verification...")
    log.debug("Checking timestamp countersignature existence...")
    if not info.unsigned.timestamp_signature:
        return "no timestamp countersignature was found in the signature envelope"
    log.debug("Verifying the timestamp countersignature...")
    if timestamp_verifier is None:
        return "failed to verify the timestamp countersignature with error: timestamp verification is not supported yet"
    failure = timestamp_verifier(info, statement, trust_store, now)
    if failure is None:
        log.debug("Timestamp verification: Success")
    return failure


def _revocation_endpoint_holder(chain: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """The first non-root chain certificate naming an OCSP responder or CRL distribution point (REV-03/04)."""
    from cryptography import x509 as cx509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    for cert in chain[:-1]:  # the root is never checked (REV-03)
        try:
            aia = cert.extensions.get_extension_for_class(cx509.AuthorityInformationAccess).value
            if any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia):
                return cert
        except cx509.ExtensionNotFound:
            pass
        try:
            cdp = cert.extensions.get_extension_for_class(cx509.CRLDistributionPoints).value
            if any(point.full_name for point in cdp):
                return cert
        except cx509.ExtensionNotFound:
            pass
    return None


def _revocation(info: SignerInfo, revocation_checker: RevocationChecker | None) -> str | None:
    """VER-17: delegate to the checker; without one, pass only when nothing could be checked (all NonRevokable)."""
    signing_time = (
        info.signed.authentic_signing_time if info.signed.signing_scheme == SCHEME_SIGNING_AUTHORITY else None
    )
    if revocation_checker is not None:
        return revocation_checker(info.certificate_chain, signing_time)
    holder = _revocation_endpoint_holder(info.certificate_chain)
    if holder is None:
        return None
    return (
        "unable to check revocation status, err: OCSP/CRL revocation checking is not supported yet (certificate "
        f"with subject {_subject(holder)} names a revocation endpoint)"
    )


def evaluate_trust(
    statement: TrustPolicyStatement,
    info: SignerInfo,
    trust_store: TrustStore,
    *,
    now: dt.datetime,
    skip_identity: bool = False,
    skip_revocation: bool = False,
    timestamp_verifier: TimestampVerifier | None = None,
    revocation_checker: RevocationChecker | None = None,
) -> list[ValidationResult]:
    """Run VER-13..17 for one integrity-checked signature; results in check order, integrity not included.

    ``skip_identity`` / ``skip_revocation``: a verification plugin handles that capability (ID-12, REV-01).
    Raises TrustStoreLoadError (a TrustStoreError) when the trust store cannot be loaded and authenticity is
    enforced (AUTH-05); under `log` the load failure is an ordinary logged authenticity failure.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    results: list[ValidationResult] = []

    def record(vtype: ValidationType, error: str | None, *, logged: bool = True) -> bool:
        """Append a result (and log it as Go does); True when it ends the evaluation (failed and enforced)."""
        action = statement.action(vtype)
        results.append(ValidationResult(type=vtype, action=action, error=error))
        if logged:
            log_result(vtype, action, error)
        return error is not None and action is ValidationAction.ENFORCE

    log.debug("Validating cert chain")
    auth_action = statement.action(ValidationType.AUTHENTICITY)
    try:
        auth_error = _authenticity(statement, info, trust_store, auth_action)
    except TrustStoreLoadError as exc:
        log_result(ValidationType.AUTHENTICITY, auth_action, str(exc))
        raise
    log_result(ValidationType.AUTHENTICITY, auth_action, auth_error)
    if auth_error is not None and auth_action is ValidationAction.ENFORCE:
        record(ValidationType.AUTHENTICITY, auth_error, logged=False)
        return results
    identity_failed = False
    if not skip_identity:  # VER-14: a failure replaces the authenticity result's error (Go shares one result)
        log.debug("Validating trust identity")
        if not info.certificate_chain:
            identity_error: str | None = "certificate chain is empty"
        else:
            identity_error = check_trusted_identities(
                statement.name, statement.trusted_identities, info.certificate_chain[0]
            )
        if identity_error is not None:
            auth_error = identity_error
            identity_failed = True
    if record(ValidationType.AUTHENTICITY, auth_error, logged=identity_failed):
        return results

    log.debug("Validating expiry")

    expiry = info.signed.expiry
    expiry_error = None
    if expiry is not None and now >= expiry:
        expiry_error = f"digital signature has expired on {go_quote(rfc1123z(expiry))}"
    if record(ValidationType.EXPIRY, expiry_error):
        return results

    log.debug("Validating authentic timestamp")
    timestamp_error = _authentic_timestamp(statement, info, trust_store, now, timestamp_verifier)
    if record(ValidationType.AUTHENTIC_TIMESTAMP, timestamp_error):
        return results

    if statement.action(ValidationType.REVOCATION) is not ValidationAction.SKIP and not skip_revocation:
        log.debug("Validating revocation")
        record(ValidationType.REVOCATION, _revocation(info, revocation_checker))
    return results
