"""RFC 3161 TimeStampToken: parse (CMS SignedData with TSTInfo) and verify it against TSA roots.

Shared by signing (checking a fresh TSA response, signature.md TSA-03/04) and verification (trust.md TSV-21..26).
asn1crypto parses CMS/TSTInfo (cryptography has no CMS parser); cryptography checks every signature. Path building
is hand-written because cryptography's verifier applies Web PKI policy (server names, no timeStamping-only leaf),
not RFC 3161's; the Notary chain rules come from ``x509.chain``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from notation._internal.asn1_errors import ASN1_ERRORS
from notation._internal.records import dataclass

if TYPE_CHECKING:
    from cryptography import x509

BASELINE_POLICY = "0.4.0.2023.1.1"
IMPRINT_HASHES = ("sha256", "sha384", "sha512")
_EKU_TIMESTAMPING = "1.3.6.1.5.5.7.3.8"
_EKU_ANY = "2.5.29.37.0"
_MAX_PATH = 8


class TokenError(Exception):
    """A token problem; ``stage`` tells which Go message prefix applies (parse, tstinfo, timestamp, verify, chain)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


@dataclass(frozen=True)
class ParsedToken:
    """A syntactically valid token: its CMS pieces, TSTInfo values and certificates (not yet trusted)."""

    signed_data: Any
    tst_info: Any
    content: bytes
    """The eContent bytes (DER TSTInfo) the message-digest attribute covers."""
    certificates: tuple[x509.Certificate, ...]
    gen_time: dt.datetime
    accuracy: dt.timedelta
    hash_name: str
    imprint: bytes
    nonce: int | None

    @property
    def lower(self) -> dt.datetime:
        return self.gen_time - self.accuracy

    @property
    def upper(self) -> dt.datetime:
        return self.gen_time + self.accuracy


def parse_token(token: bytes) -> ParsedToken:
    """TSV-21..23: CMS SignedData with eContentType id-ct-TSTInfo, TSTInfo v1, imprint hash SHA-2, time range."""
    from asn1crypto import cms, tsp

    from notation._internal.x509.keys import parse_der_certificate

    if not token:
        raise TokenError("parse", "empty timestamp token")
    try:
        info = cms.ContentInfo.load(token)
        if info["content_type"].native != "signed_data":
            raise TokenError("parse", f"content type is {info['content_type'].dotted}, not signed data")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].dotted != "1.2.840.113549.1.9.16.1.4":
            raise TokenError("parse", f"encapsulated content type {encap['content_type'].dotted} is not TSTInfo")
        if encap["content"].native is None:
            raise TokenError("parse", "encapsulated content is missing")
        content = encap["content"].contents
        certificates: list[x509.Certificate] = []
        for choice in signed["certificates"] or []:
            if choice.name != "certificate":
                continue
            certificates.append(parse_der_certificate(choice.chosen.dump()))  # malformed: ValueError
        _ = signed["signer_infos"].native  # force a full parse of the signer infos now
    except TokenError:
        raise
    except ASN1_ERRORS as exc:
        raise TokenError("parse", str(exc) or type(exc).__name__) from exc
    try:
        tst = tsp.TSTInfo.load(content, strict=True)
        version = tst["version"].native
        imprint = tst["message_imprint"]
        hash_name = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        gen_time = tst["gen_time"].native
        policy = tst["policy"].dotted
        accuracy = _accuracy(tst["accuracy"])
        nonce = tst["nonce"].native
    except ASN1_ERRORS as exc:
        raise TokenError("tstinfo", str(exc) or type(exc).__name__) from exc
    if version != "v1" and version != 1:
        raise TokenError("timestamp", f"TSTInfo version {version} is not 1")
    if hash_name not in IMPRINT_HASHES:
        raise TokenError("timestamp", f"unsupported message imprint hash algorithm {hash_name}")
    if not isinstance(gen_time, dt.datetime) or gen_time.utcoffset() != dt.timedelta(0):
        raise TokenError("timestamp", "genTime must be in UTC")
    if accuracy == dt.timedelta(0) and policy == BASELINE_POLICY:
        accuracy = dt.timedelta(seconds=1)
    return ParsedToken(
        signed_data=signed,
        tst_info=tst,
        content=content,
        certificates=tuple(certificates),
        gen_time=gen_time.astimezone(dt.UTC),
        accuracy=accuracy,
        hash_name=hash_name,
        imprint=hashed,
        nonce=nonce,
    )


def _accuracy(acc: Any) -> dt.timedelta:
    if acc.native is None:
        return dt.timedelta(0)
    seconds = acc["seconds"].native or 0
    millis = acc["millis"].native or 0
    micros = acc["micros"].native or 0
    if seconds < 0 or not (0 <= millis <= 999) or not (0 <= micros <= 999):
        raise ValueError("invalid accuracy")
    return dt.timedelta(seconds=seconds, milliseconds=millis, microseconds=micros)


def check_imprint(parsed: ParsedToken, signature: bytes) -> None:
    """TSV-22: the imprint is the hash (by the token's own algorithm) of the primitive signature bytes."""
    import hashlib
    import hmac

    if not hmac.compare_digest(hashlib.new(parsed.hash_name, signature).digest(), parsed.imprint):
        raise TokenError("timestamp", "mismatched message imprint")


def verify_token(parsed: ParsedToken, roots: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """TSV-25/26: some SignerInfo verifies and chains to a root; returns that TSA chain (leaf first, root last)."""
    infos = list(parsed.signed_data["signer_infos"])
    if not infos:
        raise TokenError("verify", "signerInfo not found")
    errors: list[TokenError] = []
    for info in infos:
        try:
            return _verify_signer(parsed, info, roots)
        except TokenError as exc:
            errors.append(exc)
    # The first failure carries the most useful reason when there is one signer (the usual case).
    raise errors[0]


def _verify_signer(parsed: ParsedToken, info: Any, roots: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    import hmac

    from cryptography.exceptions import UnsupportedAlgorithm

    from notation._internal.revocation._crypto import BadSignature, digest, verify

    if info["version"].native != "v1":
        raise TokenError("verify", "SignerInfo version must be 1 (issuerAndSerialNumber)")
    sid = info["sid"]
    if sid.name != "issuer_and_serial_number":
        raise TokenError("verify", "SignerInfo must identify its certificate by issuer and serial number")
    attrs = info["signed_attrs"]
    if not attrs.native:
        raise TokenError("verify", "signed attributes are missing")
    values = _attributes(attrs)
    content_type = values.get("content_type")
    if content_type is None or content_type.dotted != "1.2.840.113549.1.9.16.1.4":
        raise TokenError("verify", "content-type attribute is missing or is not id-ct-TSTInfo")
    digest_name = info["digest_algorithm"]["algorithm"].native
    message_digest = values.get("message_digest")
    if message_digest is None:
        raise TokenError("verify", "message-digest attribute is missing")
    try:
        expected = digest(digest_name, parsed.content)
    except BadSignature as exc:
        raise TokenError("verify", str(exc)) from exc
    if not hmac.compare_digest(message_digest.native, expected):
        raise TokenError("verify", "invalid message digest")
    signer = _signing_certificate(parsed, sid, values.get("signing_certificate_v2"))
    signed_bytes = b"\x31" + attrs.dump()[1:]  # the attributes are signed as a DER SET OF, not as [0] IMPLICIT
    try:
        public_key = signer.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise TokenError("verify", f"x509: cannot parse public key: {exc}") from exc
    try:
        verify(public_key, info["signature"].native, signed_bytes, info["signature_algorithm"], digest_name)
    except BadSignature as exc:
        raise TokenError("verify", f"failed to verify signature: {exc}") from exc
    chain = _build_chain(signer, parsed.certificates, roots, parsed.gen_time)
    signing_time = values.get("signing_time")
    if signing_time is not None:
        when = signing_time.native
        for cert in chain:
            if not (cert.not_valid_before_utc <= when <= cert.not_valid_after_utc):
                raise TokenError(
                    "verify", "signing time attribute is outside the timestamping certificate chain validity"
                )
    return chain


def _attributes(attrs: Any) -> dict[str, Any]:
    """Signed attributes by name; each must carry exactly one value and appear once."""
    out: dict[str, Any] = {}
    for attr in attrs:
        name = attr["type"].native
        if name in out:
            raise TokenError("verify", f"duplicate signed attribute {name}")
        if len(attr["values"]) != 1:
            raise TokenError("verify", f"signed attribute {name} must have exactly one value")
        out[name] = attr["values"][0]
    return out


def _signing_certificate(parsed: ParsedToken, sid: Any, ess: Any) -> x509.Certificate:
    """ESS signing-certificate-v2 (RFC 5035): locate the signer certificate and bind it by hash."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    if ess is None:
        raise TokenError("verify", "signing certificate v2 attribute is missing")
    try:
        first = ess["certs"][0]
        hash_name = first["hash_algorithm"]["algorithm"].native if first["hash_algorithm"].native else "sha256"
        cert_hash = first["cert_hash"].native
        issuer_serial = first["issuer_serial"]
    except (IndexError, KeyError, ValueError) as exc:
        raise TokenError("verify", f"malformed signing certificate v2 attribute: {exc}") from exc
    if hash_name not in ("sha256", "sha384", "sha512"):
        raise TokenError("verify", f"unsupported signing certificate hash algorithm {hash_name}")
    sid_issuer = sid.chosen["issuer"].dump()
    sid_serial = sid.chosen["serial_number"].native
    candidates = [c for c in parsed.certificates if _names_cert(c, sid_issuer, sid_serial)]
    if issuer_serial.native is not None:
        names = [gn for gn in issuer_serial["issuer"] if gn.name == "directory_name"]
        serial = issuer_serial["serial_number"].native
        if not names:
            raise TokenError("verify", "signing certificate v2 issuerSerial has no directory name")
        candidates = [c for c in candidates if _names_cert(c, names[0].chosen.untag().dump(), serial)]
    if not candidates:
        raise TokenError("verify", "signing certificate not found in the timestamp token")
    for cert in candidates:
        der = cert.public_bytes(serialization.Encoding.DER)
        if hmac.compare_digest(hashlib.new(hash_name, der).digest(), cert_hash):
            return cert
    raise TokenError("verify", "signing certificate hash does not match the signing certificate v2 attribute")


def _names_cert(cert: x509.Certificate, issuer_der: bytes, serial: int) -> bool:
    return cert.serial_number == serial and raw_names(cert)[0] == issuer_der


def raw_names(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """(issuer, subject) exactly as encoded in the certificate (name matching is on raw bytes, as in Go)."""
    from asn1crypto import x509 as ax509
    from cryptography.hazmat.primitives import serialization

    tbs = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))["tbs_certificate"]
    return tbs["issuer"].dump(), tbs["subject"].dump()


def _build_chain(
    leaf: x509.Certificate, pool: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], at: dt.datetime
) -> list[x509.Certificate]:
    """Leaf → token certificates → one of ``roots``, each link signature-checked, every certificate valid at ``at``,
    every EKU along the path allowing timeStamping; then the Notary TSA chain rules (CERT-18)."""
    from notation._internal.revocation._crypto import BadSignature, cert_signed_by
    from notation._internal.x509.chain import validate_timestamping_chain
    from notation.errors import CertificateError

    def issued(child: x509.Certificate, parent: x509.Certificate) -> bool:
        if raw_names(child)[0] != raw_names(parent)[1]:
            return False
        try:
            cert_signed_by(child, parent)
        except BadSignature:
            return False
        return True

    chain = [leaf]
    current = leaf
    while True:
        if any(current == r for r in roots):
            break
        root = next((r for r in roots if issued(current, r)), None)
        if root is not None:
            chain.append(root)
            break
        parent = next((c for c in pool if c not in chain and issued(current, c)), None)
        if parent is None or len(chain) >= _MAX_PATH:
            raise TokenError("verify", "x509: certificate signed by unknown authority")
        chain.append(parent)
        current = parent
    for cert in chain:
        nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
        if at < nb or at > na:
            from notation._internal.x509.chain import go_time

            raise TokenError(
                "verify",
                f"x509: certificate has expired or is not yet valid: timestamp time {go_time(at)} is outside "
                f'[{go_time(nb)}, {go_time(na)}] of certificate "{_dn(cert)}"',
            )
        ekus = _eku(cert)
        if ekus is not None and _EKU_TIMESTAMPING not in ekus and _EKU_ANY not in ekus:
            raise TokenError("verify", "x509: certificate specifies an incompatible key usage")
    try:
        validate_timestamping_chain(chain)
    except CertificateError as exc:
        raise TokenError("chain", str(exc)) from exc
    return chain


def check_bounded(parsed: ParsedToken, tsa_leaf: x509.Certificate) -> None:
    """The whole range [genTime - accuracy, genTime + accuracy] lies inside the TSA certificate's validity."""
    from notation._internal.x509.chain import go_time

    nb, na = tsa_leaf.not_valid_before_utc, tsa_leaf.not_valid_after_utc
    if parsed.lower < nb or parsed.upper > na:
        raise TokenError(
            "verify",
            f"timestamp [{go_time(parsed.lower)}, {go_time(parsed.upper)}] is not bounded by the timestamping "
            f"certificate's validity period [{go_time(nb)}, {go_time(na)}]",
        )


def _eku(cert: x509.Certificate) -> list[str] | None:
    from cryptography import x509 as cx509

    try:
        ext = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    except (cx509.ExtensionNotFound, ValueError):
        return None
    return [o.dotted_string for o in ext.value]


def _dn(cert: x509.Certificate) -> str:
    from notation._internal.x509.chain import subject_dn

    return subject_dn(cert)
