"""CRL status of one certificate, as notation-core-go does it (trust.md REV-20..25).

Parsed and signature-checked with cryptography (its Rust parser handles 32 MiB CRLs quickly and rejects BER, as
Go's DER-only parser does); the lookup rules (holds, removeFromCRL, invalidity dates, deltas) are Go's, written
out here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from notation._internal.log import logger as log
from notation._internal.revocation import http
from notation._internal.revocation.cache import Bundle, CRLCache
from notation._internal.revocation.model import ServerResult, Status

if TYPE_CHECKING:
    from cryptography import x509

MAX_CRL_BYTES = 32 * 1024 * 1024
_OID_IDP = "2.5.29.28"
_OID_DELTA_INDICATOR = "2.5.29.27"
_OID_FRESHEST = "2.5.29.46"
_OID_INVALIDITY_DATE = "2.5.29.24"
_OID_REASON = "2.5.29.21"


class _CRLFailure(Exception):
    """Download, validation or lookup failed: the certificate's CRL status is Unknown."""


class _CRLExpired(_CRLFailure):
    """The CRL's NextUpdate has passed (a cached one is then fetched again)."""

    def __init__(self, message: str, next_update: dt.datetime) -> None:
        super().__init__(message)
        self.next_update = next_update


def go_time(value: dt.datetime) -> str:
    """Go's ``time.Time.String()`` for a UTC time: ``2023-12-25 08:00:00 +0000 UTC``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def distribution_points(cert: x509.Certificate) -> list[str]:
    """URI full names of the certificate's CRL distribution points, in order."""
    return _uris(cert.extensions, "cdp")


def _uris(extensions: Any, kind: str) -> list[str]:
    from cryptography import x509 as cx509

    cls: Any = cx509.CRLDistributionPoints if kind == "cdp" else cx509.FreshestCRL
    try:
        ext = extensions.get_extension_for_class(cls).value
    except (cx509.ExtensionNotFound, ValueError):
        return []
    urls: list[str] = []
    for dp in ext:
        for gn in dp.full_name or []:
            if isinstance(gn, cx509.UniformResourceIdentifier):
                urls.append(gn.value)
    return urls


def has_freshest_crl(cert: x509.Certificate) -> bool:
    from cryptography import x509 as cx509

    try:
        cert.extensions.get_extension_for_class(cx509.FreshestCRL)
    except (cx509.ExtensionNotFound, ValueError):
        return False
    return True


def check(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    signing_time: dt.datetime | None,
    now: dt.datetime,
    timeout: float,
    cache: CRLCache | None,
    session: Any = None,
) -> tuple[Status, list[ServerResult]]:
    """REV-24: the first failing URL makes the certificate Unknown; Revoked anywhere is Revoked; else OK."""
    servers: list[ServerResult] = []
    urls = distribution_points(cert)
    if not urls:
        return Status.UNKNOWN, [ServerResult("", Status.UNKNOWN, "CRL distribution point not found")]
    for url in urls:
        try:
            base, delta = _fetch(url, issuer, now=now, timeout=timeout, cache=cache, session=session)
            if has_freshest_crl(cert) and delta is None:
                raise _CRLFailure("freshest CRL from certificate extension is not supported")
            status = _lookup(cert, base, delta, signing_time=signing_time)
        except _CRLFailure as exc:
            servers.append(ServerResult(url, Status.UNKNOWN, str(exc)))
            return Status.UNKNOWN, servers
        servers.append(ServerResult(url, status))
        if status is Status.REVOKED:
            return Status.REVOKED, servers
    return Status.OK, servers


def _fetch(
    url: str, issuer: x509.Certificate, *, now: dt.datetime, timeout: float, cache: CRLCache | None, session: Any
) -> tuple[x509.CertificateRevocationList, x509.CertificateRevocationList | None]:
    """The validated (base, delta) for ``url``: from the cache while fresh, else downloaded (and cached)."""
    if cache is not None:
        cached = cache.get(url)
        if cached is not None and _cached_unexpired(cached, cache, now=now):
            try:
                pair = _parse_bundle(cached, issuer, now=now)
            except _CRLExpired as exc:  # expired in between: a miss, as above
                log.debug("CRL bundle retrieved from file cache has expired at %s", go_time(exc.next_update))
            except _CRLFailure as exc:
                cache.discard(f"failed to parse base CRL of file retrieved from file cache: {exc}")
            else:
                return pair
    base_der = _download(url, timeout=timeout, session=session)
    base = _load(base_der)
    delta_der: bytes | None = None
    freshest = _uris(base.extensions, "freshest")
    if freshest:
        errors: list[str] = []
        for delta_url in freshest:
            try:
                delta_der = _download(delta_url, timeout=timeout, session=session)
                break
            except _CRLFailure as exc:
                errors.append(str(exc))
        if delta_der is None:
            raise _CRLFailure(f"failed to retrieve delta CRL: {'; '.join(errors)}")
    bundle = Bundle(base_der, delta_der)
    pair = _parse_bundle(bundle, issuer, now=now)
    if cache is not None:
        cache.set(url, bundle)
    return pair


def _cached_unexpired(bundle: Bundle, cache: CRLCache, *, now: dt.datetime) -> bool:
    """notation-go's FileCache.Get: a cached CRL that parses but whose NextUpdate has passed is a logged miss,
    judged before its signature (Go's e2e suite caches an expired CRL signed by another key and expects the expiry
    line). Signature, issuer and extensions are still checked, after this, on every CRL that is used."""
    for label, der in (("BaseCRL", bundle.base), ("DeltaCRL", bundle.delta)):
        if der is None:
            continue
        try:
            crl = _load(der)
        except _CRLFailure as exc:
            kind = "base" if label == "BaseCRL" else "delta"
            cache.discard(f"failed to parse {kind} CRL of file retrieved from file cache: {exc}")
            return False
        next_update = crl.next_update_utc
        if next_update is None:
            cache.discard(
                f"check {label} expiry failed: crl bundle retrieved from file cache does not contain valid NextUpdate"
            )
            return False
        if now > next_update:
            log.debug("CRL bundle retrieved from file cache has expired at %s", go_time(next_update))
            return False
    return True


def _download(url: str, *, timeout: float, session: Any) -> bytes:
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:  # e.g. "http://[x" (Invalid IPv6 URL) from a certificate or a base CRL's Freshest CRL
        raise _CRLFailure(f"invalid CRL URL: {exc}") from exc
    if scheme != "http":
        raise _CRLFailure(f"unsupported scheme: {scheme}. Only supports CRL URL in HTTP protocol")
    try:
        resp = http.request("GET", url, timeout=timeout, cap=MAX_CRL_BYTES, session=session)
    except http.HTTPTooLarge as exc:
        raise _CRLFailure(f"failed to download CRL from {url}: CRL size exceeds the limit: {MAX_CRL_BYTES}") from exc
    except http.HTTPTimeout as exc:
        raise _CRLFailure(
            f"failed to download CRL from {url}: exceeded timeout threshold of {timeout:.2f} seconds"
        ) from exc
    except http.HTTPFailure as exc:
        raise _CRLFailure(f"failed to download CRL from {url}: {exc}") from exc
    if resp.status != 200:
        raise _CRLFailure(f"failed to download CRL from {url}: failed to download with status code: {resp.status}")
    if not resp.body:
        raise _CRLFailure(f"failed to download CRL from {url}: empty response")
    return resp.body


def _malformed() -> tuple[type[Exception], ...]:
    """What cryptography raises on a malformed CRL: at load (InvalidVersion is no ValueError) or from the parts it
    decodes lazily (issuer name, extensions, entry extensions)."""
    from cryptography import x509 as cx509

    return (ValueError, TypeError, cx509.InvalidVersion, cx509.DuplicateExtension, cx509.UnsupportedGeneralNameType)


def _load(der: bytes) -> x509.CertificateRevocationList:
    from cryptography import x509 as cx509

    try:
        crl = cx509.load_der_x509_crl(der)
        _ = crl.issuer, crl.extensions  # decoded on first access: malformed, they fail here, not in the checks
    except _malformed() as exc:
        raise _CRLFailure(f"failed to parse CRL: {exc}") from exc
    return crl


def _parse_bundle(
    bundle: Bundle, issuer: x509.Certificate, *, now: dt.datetime
) -> tuple[x509.CertificateRevocationList, x509.CertificateRevocationList | None]:
    base = _load(bundle.base)
    _validate(base, issuer, now=now)
    delta = None
    if bundle.delta is not None:
        delta = _load(bundle.delta)
        _validate(delta, issuer, now=now)
        _validate_delta(base, delta)
    elif _uris(base.extensions, "freshest"):
        raise _CRLFailure("delta CRL missing for a base CRL with a Freshest CRL extension")
    return base, delta


def _validate(crl: x509.CertificateRevocationList, issuer: x509.Certificate, *, now: dt.datetime) -> None:
    """REV-22: signed by the issuer (which may sign CRLs), fresh, no unknown critical extensions."""
    from cryptography import x509 as cx509

    from notation._internal.x509.chain import subject_dn

    dn = subject_dn(issuer)
    try:
        bc = issuer.extensions.get_extension_for_class(cx509.BasicConstraints).value
        is_ca = bc.ca
    except cx509.ExtensionNotFound:
        is_ca = False
    except ValueError as exc:
        raise _CRLFailure(f"CRL is not signed by CA {dn}: {exc}") from exc
    try:
        ku = issuer.extensions.get_extension_for_class(cx509.KeyUsage).value
        crl_sign = ku.crl_sign
    except cx509.ExtensionNotFound:
        crl_sign = True
    if not is_ca or not crl_sign:
        raise _CRLFailure(
            f"CRL is not signed by CA {dn}: x509: invalid signature: parent certificate cannot sign this kind of "
            "certificate"
        )
    if crl.issuer.public_bytes() != issuer.subject.public_bytes():
        raise _CRLFailure(f"CRL is not signed by CA {dn}: CRL issuer does not match the CA subject")
    try:
        valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise _CRLFailure(f"CRL is not signed by CA {dn}: {exc}") from exc
    if not valid:
        raise _CRLFailure(f"CRL is not signed by CA {dn}: crypto: signature verification error")
    next_update = crl.next_update_utc
    if next_update is None:
        raise _CRLFailure("CRL NextUpdate is not set")
    if now > next_update:
        raise _CRLExpired(
            f"expired CRL. Current time {now.isoformat()} is after CRL NextUpdate {next_update.isoformat()}",
            next_update,
        )
    for ext in crl.extensions:
        if ext.critical and ext.oid.dotted_string not in (_OID_IDP, _OID_DELTA_INDICATOR):
            raise _CRLFailure(f"unsupported critical extension found in CRL: {ext.oid.dotted_string}")


def _crl_number(crl: x509.CertificateRevocationList) -> int | None:
    from cryptography import x509 as cx509

    try:
        return crl.extensions.get_extension_for_class(cx509.CRLNumber).value.crl_number
    except cx509.ExtensionNotFound:
        return None


def _validate_delta(base: x509.CertificateRevocationList, delta: x509.CertificateRevocationList) -> None:
    from cryptography import x509 as cx509

    base_number, delta_number = _crl_number(base), _crl_number(delta)
    if base_number is None or delta_number is None or delta_number <= base_number:
        raise _CRLFailure("delta CRL number must be greater than the base CRL number")
    try:
        indicator = delta.extensions.get_extension_for_class(cx509.DeltaCRLIndicator).value.crl_number
    except cx509.ExtensionNotFound as exc:
        raise _CRLFailure("delta CRL indicator extension is not found") from exc
    if indicator > base_number:
        raise _CRLFailure("delta CRL indicator must not be greater than the base CRL number")


def _lookup(
    cert: x509.Certificate,
    base: x509.CertificateRevocationList,
    delta: x509.CertificateRevocationList | None,
    *,
    signing_time: dt.datetime | None,
) -> Status:
    """REV-23: permanent reasons revoke; holds and removals are weighed by their latest revocation time."""
    from cryptography import x509 as cx509

    latest_temp: tuple[dt.datetime, cx509.ReasonFlags | None] | None = None
    for crl in (base, delta):
        if crl is None:
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is None:
            continue
        reason: cx509.ReasonFlags | None = None
        invalidity: dt.datetime | None = None
        try:
            entry_extensions = entry.extensions  # parsed lazily, unlike the rest of the entry (Go fails at parse)
        except _malformed() as exc:
            raise _CRLFailure(f"failed to parse CRL: {exc}") from exc
        for ext in entry_extensions:
            oid = ext.oid.dotted_string
            if oid == _OID_REASON:
                reason = ext.value.reason
            elif oid == _OID_INVALIDITY_DATE:
                invalidity = ext.value.invalidity_date_utc
            elif ext.critical:
                raise _CRLFailure(f"unsupported critical extension found in CRL entry: {oid}")
        if signing_time is not None and invalidity is not None and signing_time < invalidity:
            break
        if reason in (cx509.ReasonFlags.certificate_hold, cx509.ReasonFlags.remove_from_crl):
            when = entry.revocation_date_utc
            if latest_temp is None or latest_temp[0] < when:
                latest_temp = (when, reason)
            continue
        return Status.REVOKED
    if latest_temp is not None and latest_temp[1] == cx509.ReasonFlags.certificate_hold:
        return Status.REVOKED
    return Status.OK
