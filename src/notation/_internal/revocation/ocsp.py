"""OCSP (RFC 6960) status of one certificate, as notation-core-go does it (trust.md REV-10..16).

The request is built with cryptography's OCSPRequestBuilder; the response is parsed with asn1crypto because the
invalidityDate we need lives in the matching SingleResponse's extensions, which cryptography only exposes for the
first response. Signatures are verified with cryptography (``_crypto``).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from notation._internal.asn1_errors import ASN1_ERRORS
from notation._internal.revocation import http
from notation._internal.revocation.model import ServerResult, Status

if TYPE_CHECKING:
    from cryptography import x509

MAX_RESPONSE_BYTES = 20480
_OID_AIA_OCSP = "1.3.6.1.5.5.7.48.1"
_EKU_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"


class _OCSPFailure(Exception):
    """This responder gave no usable answer (try the next one)."""


def responder_urls(cert: x509.Certificate) -> list[str]:
    """The AIA id-ad-ocsp URIs, in order."""
    from cryptography import x509 as cx509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    try:
        aia = cert.extensions.get_extension_for_class(cx509.AuthorityInformationAccess).value
    except (cx509.ExtensionNotFound, ValueError):
        return []
    return [
        d.access_location.value
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, cx509.UniformResourceIdentifier)
    ]


def check(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    signing_time: dt.datetime | None,
    now: dt.datetime,
    timeout: float,
    session: Any = None,
) -> tuple[Status, list[ServerResult]]:
    """REV-15: ask each responder in turn; stop at OK, Revoked or an explicit unknown; else Unknown."""
    servers: list[ServerResult] = []
    request = _build_request(cert, issuer)
    for url in responder_urls(cert):
        try:
            status = _ask(
                url, request, cert, issuer, signing_time=signing_time, now=now, timeout=timeout, session=session
            )
        except _OCSPFailure as exc:
            servers.append(ServerResult(url, Status.UNKNOWN, str(exc)))
            continue
        error = "certificate has unknown status via OCSP" if status is Status.UNKNOWN else None
        servers.append(ServerResult(url, status, error))
        return status, servers
    return Status.UNKNOWN, servers


def _build_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303 - RFC 6960 CertID
    return builder.build().public_bytes(serialization.Encoding.DER)


def _ask(
    url: str,
    request: bytes,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    signing_time: dt.datetime | None,
    now: dt.datetime,
    timeout: float,
    session: Any,
) -> Status:
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:  # e.g. "http://[x" (Invalid IPv6 URL) in the certificate's AIA
        raise _OCSPFailure(f"invalid OCSPServer URL: {exc}") from exc
    if scheme != "http":
        raise _OCSPFailure(f"OCSPServer protocol {scheme} is not supported")
    encoded = base64.b64encode(request).decode()
    escaped = quote(encoded, safe="")
    try:
        if len(encoded) < 255 and len(escaped) < 255:
            resp = http.request(
                "GET", url.rstrip("/") + "/" + escaped, timeout=timeout, cap=MAX_RESPONSE_BYTES, session=session
            )
        else:
            resp = http.request(
                "POST",
                url,
                data=request,
                headers={"Content-Type": "application/ocsp-request"},
                timeout=timeout,
                cap=MAX_RESPONSE_BYTES,
                session=session,
            )
    except http.HTTPTimeout as exc:
        raise _OCSPFailure(f"exceeded timeout threshold of {timeout:.2f} seconds for OCSP check") from exc
    except http.HTTPTooLarge as exc:
        raise _OCSPFailure(f"failed to retrieve OCSP: {exc}") from exc
    except http.HTTPFailure as exc:
        raise _OCSPFailure(f"failed to retrieve OCSP: {exc}") from exc
    if resp.status != 200:
        raise _OCSPFailure(f"failed to retrieve OCSP: response had status code {resp.status}")
    return _evaluate(resp.body, cert, issuer, signing_time=signing_time, now=now)


def _evaluate(
    body: bytes, cert: x509.Certificate, issuer: x509.Certificate, *, signing_time: dt.datetime | None, now: dt.datetime
) -> Status:
    """Parse, authenticate and interpret one response (REV-12..14)."""
    from asn1crypto import ocsp as aocsp

    try:
        parsed = aocsp.OCSPResponse.load(body, strict=True)
        status = parsed["response_status"].native
        if status != "successful":
            raise _OCSPFailure(f"ocsp: error from server: {status}")
        response_bytes = parsed["response_bytes"]
        if response_bytes.native is None or response_bytes["response_type"].native != "basic_ocsp_response":
            raise _OCSPFailure("ocsp: response is not a basic OCSP response")
        basic = response_bytes["response"].parsed
        tbs = basic["tbs_response_data"]
        single = _matching_single(tbs["responses"], cert, issuer)
        _check_signature(basic, issuer, now)
        next_update = single["next_update"].native
        cert_status = single["cert_status"]
        status_name = cert_status.name
        invalidity = single.invalidity_date_value.native if single.invalidity_date_value is not None else None
    except _OCSPFailure:
        raise
    except ASN1_ERRORS as exc:
        raise _OCSPFailure(f"ocsp: malformed response: {exc}") from exc
    if next_update is None or now > next_update:
        raise _OCSPFailure("expired OCSP response")
    if status_name == "good":
        return Status.OK
    if status_name == "revoked":
        if signing_time is not None and invalidity is not None and signing_time < invalidity:
            return Status.OK
        return Status.REVOKED
    return Status.UNKNOWN


def _matching_single(responses: Any, cert: x509.Certificate, issuer: x509.Certificate) -> Any:
    """The SingleResponse whose CertID names this certificate under this issuer (serial, name and key hashes)."""
    from asn1crypto import x509 as ax509

    from notation._internal.revocation._crypto import BadSignature

    issuer_a = ax509.Certificate.load(_der(issuer))
    for single in responses:
        cid = single["cert_id"]
        if cid["serial_number"].native != cert.serial_number:
            continue
        algo = cid["hash_algorithm"]["algorithm"].native
        try:
            name_hash = _hash(algo, issuer_a.subject.dump())
            key_hash = _hash(algo, issuer_a.public_key["public_key"].contents[1:])
        except BadSignature:
            continue
        if cid["issuer_name_hash"].native == name_hash and cid["issuer_key_hash"].native == key_hash:
            return single
    raise _OCSPFailure("ocsp: no response matching the supplied certificate")


def _hash(algo: str, data: bytes) -> bytes:
    import hashlib

    from notation._internal.revocation._crypto import BadSignature

    if algo not in ("sha1", "sha256", "sha384", "sha512"):
        raise BadSignature(algo)
    return hashlib.new(algo, data).digest()


def _check_signature(basic: Any, issuer: x509.Certificate, now: dt.datetime) -> None:
    """Signed by the issuer, or by a delegated responder certificate the issuer signed for OCSP signing (REV-12)."""
    from notation._internal.revocation._crypto import BadSignature, cert_signed_by, verify
    from notation._internal.x509.keys import parse_der_certificate

    signer = issuer
    certs = basic["certs"]
    if certs.native:
        embedded = parse_der_certificate(certs[0].dump())  # malformed: ValueError, a malformed response
        if embedded != issuer:
            try:
                cert_signed_by(embedded, issuer)
            except BadSignature as exc:
                raise _OCSPFailure(
                    f"ocsp: bad OCSP signature: responder certificate not issued by the CA: {exc}"
                ) from exc
            if _eku(embedded) is None or _EKU_OCSP_SIGNING not in (_eku(embedded) or []):
                raise _OCSPFailure("ocsp: responder certificate is not authorized for OCSP signing")
            if not (embedded.not_valid_before_utc <= now <= embedded.not_valid_after_utc):
                raise _OCSPFailure("ocsp: responder certificate is not valid at the current time")
            signer = embedded
    try:
        verify(
            signer.public_key(),
            basic["signature"].native,
            basic["tbs_response_data"].dump(),
            basic["signature_algorithm"],
        )
    except BadSignature as exc:
        raise _OCSPFailure(f"ocsp: bad OCSP signature: {exc}") from exc


def _eku(cert: x509.Certificate) -> list[str] | None:
    from cryptography import x509 as cx509

    try:
        ext = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    except (cx509.ExtensionNotFound, ValueError):
        return None
    return [o.dotted_string for o in ext.value]


def _der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.DER)
