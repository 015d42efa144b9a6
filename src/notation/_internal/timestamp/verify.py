"""Timestamp verification for `notary.x509` signatures (trust.md §7, TSV-10..29).

:func:`verify_timestamp` checks the token itself (TSV-21..26); :func:`verify_authentic_timestamp` is the whole
authentic-timestamp step (missing token, token, signing-chain validity at the timestamp, TSA chain revocation)
returning Go's messages, so the trust evaluation wires it in one call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from notation._internal.records import dataclass
from notation._internal.timestamp.token import TokenError, check_bounded, check_imprint, parse_token, verify_token
from notation.errors import TimestampError

if TYPE_CHECKING:
    from cryptography import x509

_PREFIX = {
    "parse": "failed to parse timestamp countersignature with error: ",
    "tstinfo": "failed to get the timestamp TSTInfo with error: ",
    "timestamp": "failed to get timestamp from timestamp countersignature with error: ",
    "verify": "failed to verify the timestamp countersignature with error: ",
    "chain": "failed to validate the timestamping certificate chain with error: ",
}


@dataclass(frozen=True)
class TimestampResult:
    """A verified timestamp: the range it vouches for, and the TSA chain it verified through (leaf first)."""

    gen_time: dt.datetime
    accuracy: dt.timedelta
    tsa_chain: tuple[x509.Certificate, ...]
    certificates: tuple[x509.Certificate, ...]
    """Every certificate carried in the token (what `inspect` lists)."""
    hash_name: str

    @property
    def lower(self) -> dt.datetime:
        return self.gen_time - self.accuracy

    @property
    def upper(self) -> dt.datetime:
        return self.gen_time + self.accuracy


def _error(exc: TokenError) -> TimestampError:
    return TimestampError(_PREFIX.get(exc.stage, "") + str(exc))


def parse_timestamp(token: bytes) -> tuple[dt.datetime, dt.datetime, list[x509.Certificate]]:
    """Unverified (lower, upper, token certificates) for `inspect` (cli.md CLI-72); the message has no prefix."""
    try:
        parsed = parse_token(token)
    except TokenError as exc:
        raise TimestampError(str(exc)) from exc
    return parsed.lower, parsed.upper, list(parsed.certificates)


TSARoots = Sequence["x509.Certificate"] | Callable[[], Sequence["x509.Certificate"]]
"""The TSA trust anchors, or a loader for them (called only once the token parsed, Go's order; it raises
TimestampError with the full message, e.g. ``failed to load tsa trust store with error: …``)."""


def verify_timestamp(
    token: bytes, signature: bytes, tsa_roots: TSARoots, *, now: dt.datetime | None = None
) -> TimestampResult:
    """TSV-21..26: parse, check the imprint over ``signature`` (the primitive signature bytes), load the TSA
    anchors, verify the CMS signature and ESS binding, build the TSA chain to one of them valid at genTime, apply
    CERT-18 — in notation-go's order, so a token with several problems reports the same one Go does.

    ``now`` is accepted for symmetry with the other checks; RFC 3161 judges the TSA chain at genTime, not now.
    """
    del now
    try:
        parsed = parse_token(token)
        check_imprint(parsed, signature)
    except TokenError as exc:
        raise _error(exc) from exc
    roots = tsa_roots() if callable(tsa_roots) else tsa_roots
    if not roots:
        raise TimestampError("no trusted TSA certificate found in trust store")
    try:
        chain = verify_token(parsed, roots)
        check_bounded(parsed, chain[0])
    except TokenError as exc:
        raise _error(exc) from exc
    return TimestampResult(parsed.gen_time, parsed.accuracy, tuple(chain), parsed.certificates, parsed.hash_name)


def is_timestamp_required(
    verify_timestamp_setting: str | None, chain: Sequence[x509.Certificate], now: dt.datetime
) -> bool:
    """TSV-10 item 4: ``always`` (or absent) → yes; ``afterCertExpiry`` → only when some chain certificate has
    ``now > notAfter``. (Items 1-3 — level, scheme, a ``tsa:`` store in the policy — are the caller's.)"""
    if verify_timestamp_setting in (None, "", "always"):
        return True
    if verify_timestamp_setting == "afterCertExpiry":
        return any(now > cert.not_valid_after_utc for cert in chain)
    raise TimestampError(f'unsupported verifyTimestamp value "{verify_timestamp_setting}"')


def _rfc1123z(value: dt.datetime) -> str:
    """Go's time.RFC1123Z in UTC: ``Mon, 02 Jan 2006 15:04:05 +0000``."""
    return value.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def verify_authentic_timestamp(
    token: bytes | None,
    signature: bytes,
    signing_chain: Sequence[x509.Certificate],
    tsa_roots: TSARoots,
    *,
    now: dt.datetime,
    check_revocation: bool = True,
    revocation_options: dict[str, Any] | None = None,
) -> TimestampResult:
    """The authentic-timestamp step when TSV-10 says it runs (TSV-20..28); raises TimestampError with Go's message.

    ``revocation_options`` go to :func:`notation._internal.revocation.check_chain` (cache_dir, timeout, session).
    """
    from notation._internal.x509.chain import subject_dn

    if not token:
        raise TimestampError("no timestamp countersignature was found in the signature envelope")
    result = verify_timestamp(token, signature, tsa_roots, now=now)
    for cert in signing_chain:
        if result.lower < cert.not_valid_before_utc:
            raise TimestampError(
                f'timestamp can be before certificate "{subject_dn(cert)}" validity period, it will be valid from '
                f'"{_rfc1123z(cert.not_valid_before_utc)}"'
            )
        if result.upper > cert.not_valid_after_utc:
            raise TimestampError(
                f'timestamp can be after certificate "{subject_dn(cert)}" validity period, it was expired at '
                f'"{_rfc1123z(cert.not_valid_after_utc)}"'
            )
    if check_revocation:
        from notation._internal.revocation import revocation_failure

        failure = revocation_failure(list(result.tsa_chain), purpose="timestamping", **(revocation_options or {}))
        if failure:
            raise TimestampError(failure)
    return result
