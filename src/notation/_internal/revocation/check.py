"""Revocation of a whole chain (trust.md REV-01..05): validate the chain, then OCSP first with CRL as fallback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from notation._internal.log import DEBUG, ERROR, WARNING, get_logger
from notation._internal.revocation import crl, ocsp
from notation._internal.revocation.cache import CRLCache, stderr_warn
from notation._internal.revocation.model import CertRevocationResult, Method, Status, revocation_error
from notation.errors import CertificateError, RevocationError

if TYPE_CHECKING:
    from cryptography import x509

log = get_logger("revocation")

DEFAULT_OCSP_TIMEOUT = 2.0
DEFAULT_CRL_TIMEOUT = 5.0


def check_chain(
    chain: Sequence[x509.Certificate],
    *,
    signing_time: dt.datetime | None = None,
    purpose: Literal["codesigning", "timestamping"] = "codesigning",
    cache_dir: Path | None = None,
    use_cache: bool = True,
    timeout: float = DEFAULT_OCSP_TIMEOUT,
    crl_timeout: float = DEFAULT_CRL_TIMEOUT,
    session: Any = None,
    now: dt.datetime | None = None,
    warn: Callable[[str], None] = stderr_warn,
) -> list[CertRevocationResult]:
    """One result per chain certificate, leaf first; the root is always NonRevokable (REV-03).

    ``signing_time`` is the authentic signing time for ``notary.x509.signingAuthority`` signatures and None
    otherwise (REV-08). ``cache_dir`` is notation's cache root (``{CACHE}``, default from ``NOTATION_CACHE``); CRLs
    are cached under its ``crl/``. Raises :class:`RevocationError` (``invalid chain: …``) when the chain breaks
    the certificate rules (REV-02); callers prefix ``unable to check revocation status, err: ``.
    """
    from notation._internal.x509.chain import validate_signing_chain, validate_timestamping_chain

    if not chain:
        raise RevocationError("invalid chain: expected chain to be correct and complete: chain is empty")
    try:
        if purpose == "timestamping":
            validate_timestamping_chain(chain)
        else:
            validate_signing_chain(chain)
    except CertificateError as exc:
        raise RevocationError(f"invalid chain: expected chain to be correct and complete: {exc}") from exc
    when = now or dt.datetime.now(dt.UTC)
    cache: CRLCache | None = None
    if use_cache and any(crl.distribution_points(c) for c in chain[:-1]):
        if cache_dir is None:
            from notation._internal.config.dirs import cache_dir as default_cache_dir

            cache_dir = default_cache_dir()
        cache = CRLCache.open(cache_dir, warn=warn)
    results = [
        _check_one(
            chain[i],
            chain[i + 1],
            index=i,
            signing_time=signing_time,
            now=when,
            timeout=timeout,
            crl_timeout=crl_timeout,
            cache=cache,
            session=session,
        )
        for i in range(len(chain) - 1)
    ]
    results.append(CertRevocationResult(chain[-1], Status.NON_REVOKABLE))
    return results


def _check_one(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    index: int,
    signing_time: dt.datetime | None,
    now: dt.datetime,
    timeout: float,
    crl_timeout: float,
    cache: CRLCache | None,
    session: Any,
) -> CertRevocationResult:
    """REV-04: OCSP when the certificate names responders; CRL when OCSP is Unknown or absent; else NonRevokable."""
    has_ocsp = bool(ocsp.responder_urls(cert))
    has_crl = bool(crl.distribution_points(cert))
    if has_ocsp:
        status, servers = ocsp.check(cert, issuer, signing_time=signing_time, now=now, timeout=timeout, session=session)
        if status is not Status.UNKNOWN or not has_crl:
            return CertRevocationResult(cert, status, Method.OCSP, tuple(servers))
        crl_status, crl_servers = crl.check(
            cert, issuer, signing_time=signing_time, now=now, timeout=crl_timeout, cache=cache, session=session
        )
        return CertRevocationResult(cert, crl_status, Method.OCSP_FALLBACK_CRL, tuple(servers + crl_servers))
    if has_crl:
        status, servers = crl.check(
            cert, issuer, signing_time=signing_time, now=now, timeout=crl_timeout, cache=cache, session=session
        )
        return CertRevocationResult(cert, status, Method.CRL, tuple(servers))
    if index > 0:
        from notation._internal.x509.chain import subject_dn

        log.warning(
            'Certificate #%d in the chain with subject "%s" neither has an OCSP nor a CRL revocation method.',
            index + 1,
            subject_dn(cert),
        )
    return CertRevocationResult(cert, Status.NON_REVOKABLE)


def revocation_failure(
    chain: Sequence[x509.Certificate],
    *,
    purpose: Literal["codesigning", "timestamping"] = "codesigning",
    **options: Any,
) -> str | None:
    """The whole REV-06 / TSV-28 outcome as one message (None = pass), for callers that just need a verdict.

    Code signing: ``unable to check revocation status, err: …`` on errors; timestamping: ``failed to check
    timestamping certificate chain revocation with error: …``. ``options`` go to :func:`check_chain`.
    """
    try:
        results = check_chain(chain, purpose=purpose, **options)
    except RevocationError as exc:
        if purpose == "timestamping":
            return f"failed to check timestamping certificate chain revocation with error: {exc}"
        log.debug("Error while checking revocation status, err: %s", exc)
        return f"unable to check revocation status, err: {exc}"
    log_results(results)
    return revocation_error(results, purpose=purpose)


def log_results(results: Sequence[CertRevocationResult]) -> None:
    """notation-go's revocationFinalResult logging, root to leaf: the OCSP-to-CRL fallback as a warning, server
    errors at error level (an OCSP error that CRL then answered only at debug level)."""
    if not log.isEnabledFor(WARNING):  # the CLI without -v/-d: not even the subjects are formatted
        return
    from notation._internal.x509.chain import subject_dn

    for i in reversed(range(len(results))):
        result = results[i]
        fallback = result.method is Method.OCSP_FALLBACK_CRL
        if fallback:
            log.warning(
                "OCSP check failed with unknown error and fallback to CRL check for certificate #%d in chain with "
                'subject "%s"',
                i + 1,
                subject_dn(result.cert),
            )
        crl_urls = set(crl.distribution_points(result.cert)) if fallback else set()
        for server in result.servers:
            if not server.error:
                continue
            method = result.method
            if fallback:
                method = Method.CRL if server.server in crl_urls else Method.OCSP
            line = (
                'Certificate #%d in chain with subject "%s" encountered an error for revocation method %s at URL "%s": '
                "%s"
            )
            level = DEBUG if fallback and method is Method.OCSP else ERROR
            log.log(level, line, i + 1, subject_dn(result.cert), method, server.server, server.error)
