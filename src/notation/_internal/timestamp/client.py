"""Getting a timestamp at signing time (signature.md §10, TSA-01..05; cli.md CLI-42 TSA setup).

The request is built and the response parsed with asn1crypto; every check a verifier will later make is made here
first, so notation never stores a timestamp that would not verify against the root the user named.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from notation._internal.asn1_errors import ASN1_ERRORS
from notation._internal.timestamp.token import TokenError, check_bounded, parse_token, raw_names, verify_token
from notation.errors import TimestampError

if TYPE_CHECKING:
    from cryptography import x509

MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 15.0
_HASH_ALIASES = {
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha384": "sha384",
    "sha-384": "sha384",
    "sha512": "sha512",
    "sha-512": "sha512",
}
_ROOT_HINT = "Expecting single x509 root certificate in PEM or DER format from the file"


def check_tsa_url(url: str) -> None:
    """TSA-02 / CLI-42: an http or https URL with a host (messages as tspclient-go words them)."""
    if not url:
        raise TimestampError("timestamping: tsa url cannot be empty")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise TimestampError(f'endpoint "{url}": {exc}') from exc
    if not parts.scheme:
        raise TimestampError(f'endpoint "{url}": scheme cannot be empty')
    if parts.scheme not in ("http", "https"):
        raise TimestampError(f'endpoint "{url}": scheme must be http or https, but got "{parts.scheme}"')
    if not parts.hostname:
        raise TimestampError(f'endpoint "{url}": host cannot be empty')


def load_tsa_root(path: str | Path) -> x509.Certificate:
    """CLI-42, as notation's ``NewRootCertPool``: the ``--timestamp-root-cert`` file holds exactly one certificate,
    and it is a root (Go's ``IsRootCertificate``: ``CheckSignatureFrom`` itself, then raw issuer == raw subject)."""
    from notation._internal.x509.keys import MAX_FILE_SIZE, load_certificates
    from notation.errors import CertificateError

    if str(path) == "":
        raise TimestampError("timestamping: tsa root certificate path cannot be empty")
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        raise TimestampError(f"failed to read tsa root certificate file {p}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_SIZE:
        raise TimestampError(f"failed to read tsa root certificate file {p}: file too large")
    try:
        certs = load_certificates(data) if data.strip() else []
    except CertificateError as exc:
        raise TimestampError("x509: malformed certificate") from exc  # Go's x509.ParseCertificate(s) error
    if not certs:
        raise TimestampError(f'cannot find any certificate from "{path}". {_ROOT_HINT}')
    if len(certs) > 1:
        raise TimestampError(f'found more than one certificates from "{path}". {_ROOT_HINT}')
    problem = _check_signature_from_itself(certs[0])
    if problem is not None:
        raise TimestampError(f"failed to check root certificate with error: {problem}")
    issuer, subject = raw_names(certs[0])
    if issuer != subject:
        raise TimestampError(f'certificate from "{path}" is not a root certificate. {_ROOT_HINT}')
    return certs[0]


def _check_signature_from_itself(cert: x509.Certificate) -> str | None:
    """Go's ``cert.CheckSignatureFrom(cert)``: the certificate may sign certificates and its signature verifies with
    its own key; None when it does, else Go's error text (``x509: invalid signature: parent certificate cannot sign
    this kind of certificate``, ``crypto/rsa: verification error``, ``x509: ECDSA verification failure``, ...)."""
    from cryptography import x509 as cx509

    from notation._internal.trust.store import _verify_own_signature

    constraint = "x509: invalid signature: parent certificate cannot sign this kind of certificate"
    try:
        bc: cx509.BasicConstraints | None = cert.extensions.get_extension_for_class(cx509.BasicConstraints).value
    except cx509.ExtensionNotFound:
        bc = None
    except ValueError:
        return "x509: malformed certificate"
    if (cert.version is cx509.Version.v3 and bc is None) or (bc is not None and not bc.ca):
        return constraint
    try:
        if not cert.extensions.get_extension_for_class(cx509.KeyUsage).value.key_cert_sign:
            return constraint
    except cx509.ExtensionNotFound:
        pass
    return _verify_own_signature(cert)


def request_timestamp(
    url: str,
    signature: bytes,
    hash_name: str,
    root: x509.Certificate,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    session: Any = None,
    check_revocation: bool = True,
    revocation_options: dict[str, Any] | None = None,
) -> bytes:
    """Timestamp ``signature`` (the primitive signature bytes) at ``url``; return the DER TimeStampToken to store.

    ``hash_name`` is the signature algorithm's hash (ALG-03: sha256/sha384/sha512). Every failure raises
    :class:`TimestampError` whose message starts with ``timestamp: `` (TSA-04).
    """
    try:
        return _request(url, signature, hash_name, root, timeout, session, check_revocation, revocation_options)
    except TimestampError as exc:
        raise TimestampError(f"timestamp: {exc}") from exc


def _request(
    url: str,
    signature: bytes,
    hash_name: str,
    root: x509.Certificate,
    timeout: float,
    session: Any,
    check_revocation: bool,
    revocation_options: dict[str, Any] | None,
) -> bytes:
    import hashlib

    from asn1crypto import algos, core, tsp

    from notation._internal.revocation import http

    check_tsa_url(url)
    algo = _HASH_ALIASES.get(hash_name.lower())
    if algo is None:
        raise TimestampError(f"unsupported hash algorithm {hash_name}")
    imprint = hashlib.new(algo, signature).digest()
    nonce = secrets.randbits(159) or 1
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": algo, "parameters": core.Null()}),
                "hashed_message": imprint,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    try:
        resp = http.request(
            "POST",
            url,
            data=req,
            headers={"Content-Type": "application/timestamp-query"},
            timeout=timeout,
            cap=MAX_RESPONSE_BYTES,
            session=session,
        )
    except http.HTTPTimeout as exc:
        raise TimestampError(f'Post "{url}": context deadline exceeded (timeout {timeout:g}s)') from exc
    except http.HTTPTooLarge as exc:
        raise TimestampError(f'Post "{url}": {exc}') from exc
    except http.HTTPFailure as exc:
        raise TimestampError(str(exc)) from exc
    if resp.status != 200:
        raise TimestampError(f'POST "{url}": https response bad status: {resp.status_line}')
    content_type = resp.content_type.split(";")[0].strip().lower()
    if content_type != "application/timestamp-reply":
        raise TimestampError(f'POST "{url}": unexpected response content type: "{resp.content_type}"')

    token = parse_timestamp_response(resp.body)
    chain = check_response_token(token, algo, imprint, nonce, root)
    if check_revocation:
        from notation._internal.revocation import revocation_failure

        failure = revocation_failure(chain, purpose="timestamping", **(revocation_options or {}))
        if failure:
            raise TimestampError(failure)
    return token


@functools.cache
def _timestamp_resp_type() -> Any:
    from asn1crypto import cms, core, tsp

    class _TimeStampResp(core.Sequence):  # type: ignore[misc]
        """asn1crypto's TimeStampResp makes the token mandatory; RFC 3161 omits it on rejection."""

        _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]

    return _TimeStampResp


def parse_timestamp_response(body: bytes) -> bytes:
    """The DER TimeStampToken of a granted TimeStampResp (RFC 3161 §2.4.2); TimestampError otherwise.

    Pure: the TSA's answer is untrusted input, and this is the part of :func:`request_timestamp` that reads it.
    """
    from asn1crypto import core

    try:
        parsed_resp = _timestamp_resp_type().load(body, strict=True)
        status = parsed_resp["status"]
        status_name = status["status"].native
        if status_name not in ("granted", "granted_with_mods"):
            detail = status["status_string"].native
            fail = status["fail_info"].native
        token_info = parsed_resp["time_stamp_token"]
        # The token is parsed (and its errors reported) by parse_token; here only whether there is one.
        token: bytes | None = None if isinstance(token_info, core.Void) else token_info.dump()
    except ASN1_ERRORS as exc:
        raise TimestampError(f"invalid timestamp response: {exc}") from exc
    if status_name not in ("granted", "granted_with_mods"):
        reasons = ", ".join(sorted(str(f) for f in fail)) if fail else ""  # unnamed bits come as ints
        extra = "".join([f": {'; '.join(detail)}" if detail else "", f" (failure info: {reasons})" if reasons else ""])
        raise TimestampError(f"invalid timestamp response status: {status_name}{extra}")
    if token is None:
        raise TimestampError("invalid timestamp response: granted without a timestamp token")
    return token


def check_response_token(
    token: bytes, hash_name: str, imprint: bytes, nonce: int, root: x509.Certificate
) -> list[x509.Certificate]:
    """TSA-03: the token answers our request (imprint, nonce), verifies and chains to ``root``, and its time range
    lies inside the TSA certificate's validity; returns the TSA chain (leaf first). Raises TimestampError."""
    try:
        parsed = parse_token(token)
        if parsed.hash_name != hash_name or not hmac.compare_digest(parsed.imprint, imprint):
            raise TokenError("timestamp", "mismatched message imprint")
        if parsed.nonce != nonce:
            raise TokenError("timestamp", "mismatched nonce")
        chain = verify_token(parsed, [root])
        check_bounded(parsed, chain[0])
    except TokenError as exc:
        raise TimestampError(f"invalid timestamp response: {exc}") from exc
    return chain
