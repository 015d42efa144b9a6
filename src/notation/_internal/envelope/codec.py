"""Envelope entry points: parse, verify integrity (VER-11) and sign (SIGN-04/05) for both formats.

Everything outside ``envelope/`` goes through here; the JWS and COSE modules only encode and decode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from notation._internal.envelope import _crypto
from notation._internal.envelope._common import DecodedEnvelope, is_semver
from notation._internal.envelope.algorithms import KeySpec, SignatureAlgorithm
from notation._internal.envelope.model import (
    HEADER_VERIFICATION_PLUGIN,
    HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
    SCHEME_X509,
    PrimitiveSigner,
    SignerInfo,
    SignRequest,
)
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD
from notation._internal.x509.chain import validate_signing_chain  # module level: a call-time import is ~0.9 us
from notation._internal.x509.keys import der_of
from notation.errors import (
    CertificateError,
    NotationError,
    SignatureIntegrityError,
    SigningError,
    UnsupportedSignatureFormatError,
)

if TYPE_CHECKING:
    import datetime as dt

    from cryptography import x509

ENVELOPE_TYPES = {"jws": JWS_ENVELOPE, "cose": COSE_ENVELOPE}
"""``--signature-format`` value -> envelope media type (SIGN-07)."""

PLUGIN_ATTRIBUTES = (HEADER_VERIFICATION_PLUGIN, HEADER_VERIFICATION_PLUGIN_MIN_VERSION)

Timestamper = Callable[[bytes, SignatureAlgorithm], bytes]
"""Given the primitive signature and the algorithm, return a DER TimeStampToken (TSA-01..05)."""


def _unsupported(media_type: str) -> UnsupportedSignatureFormatError:
    return UnsupportedSignatureFormatError(f'signature envelope format with media type "{media_type}" is not supported')


_DECODERS: dict[str, Callable[[bytes], DecodedEnvelope]] = {}
"""media type -> its codec's decode, filled on first use (each codec is imported only when an envelope needs it)."""


def _decode(media_type: str, data: bytes) -> DecodedEnvelope:
    decode = _DECODERS.get(media_type)
    if decode is None:
        if media_type == JWS_ENVELOPE:
            from notation._internal.envelope import jws

            decode = jws.decode
        elif media_type == COSE_ENVELOPE:
            from notation._internal.envelope import cose

            decode = cose.decode
        else:
            raise _unsupported(media_type)
        _DECODERS[media_type] = decode
    return decode(data)


def parse_envelope(media_type: str, data: bytes) -> SignerInfo:
    """Decode an envelope (structure and signed-attribute rules only, no crypto): for inspect and listing."""
    return _decode(media_type, data).info


_LEAF_ALGORITHMS: dict[bytes, SignatureAlgorithm] = {}
"""Leaf certificate DER -> the algorithm its key implies (a pure function of the bytes; successes only, bounded)."""


def _leaf_algorithm(leaf: x509.Certificate) -> SignatureAlgorithm:
    der = der_of(leaf)
    found = _LEAF_ALGORITHMS.get(der)
    if found is not None:
        return found
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        found = KeySpec.from_public_key(leaf.public_key()).algorithm
    except CertificateError as exc:
        raise SignatureIntegrityError(str(exc)) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureIntegrityError(f"invalid public key in signing certificate: {exc}") from exc
    if len(_LEAF_ALGORITHMS) >= 4096:
        _LEAF_ALGORITHMS.clear()
    _LEAF_ALGORITHMS[der] = found
    return found


def clear_memos() -> None:
    """Forget every memo of the verification path (x5c, parsed certificates, chain verdicts, leaf algorithms):
    benchmarks measure the first envelope of a signer with it, tests prove that no verdict depends on a memo."""
    import sys

    from notation._internal.x509.chain import clear_memos as clear_chain_memos

    _LEAF_ALGORITHMS.clear()
    jws = sys.modules.get("notation._internal.envelope.jws")
    if jws is not None:
        jws._X5C.clear()
    clear_chain_memos()


def _check_algorithm(info: SignerInfo) -> None:
    """ALG-02 for the leaf key and ALG-04: the declared algorithm must be the one the leaf key implies."""
    derived = _leaf_algorithm(info.certificate_chain[0])
    declared = info.signature_algorithm
    if derived is not declared:
        raise SignatureIntegrityError(
            "mismatch between signature algorithm derived from signing certificate "
            f"({derived.plugin_name}) and signing algorithm specified ({declared.plugin_name})"
        )


def _check_signature(decoded: DecodedEnvelope) -> None:
    """The primitive signature over the exact received bytes (JWS-11, COSE-10/13, ALG-05/06)."""
    info = decoded.info
    jws = info.media_type == JWS_ENVELOPE
    reason = _crypto.verify(
        info.signature_algorithm,
        info.certificate_chain[0].public_key(),
        decoded.signed_bytes,
        info.signature,
        pss_auto_salt=jws,
    )
    if reason is not None:
        # golang-jwt v4 (notation 1.3.2) reports the crypto error itself; go-cose says "verification error".
        detail = reason if jws else "verification error"
        raise SignatureIntegrityError(f"signature is invalid. Error: {detail}")


def critical_extended_attribute_keys(info: SignerInfo) -> list[str]:
    """Critical extended attributes other than the verification plugin ones: a verification plugin must report
    every one of these as processed (SIG-16)."""
    return [a.key for a in info.signed.extended if a.critical and a.key not in PLUGIN_ATTRIBUTES]


def _check_extended_attributes(info: SignerInfo) -> None:
    """SIG-16 (fail closed on unknown critical attributes without a plugin) and SIG-17."""
    if not info.signed.extended:
        return  # nothing to check (the common case)
    for key in PLUGIN_ATTRIBUTES:
        attr = info.signed.extended_value(key)
        if attr is None:
            continue
        if not attr.critical:
            raise SignatureIntegrityError(f"{key} is not a critical Extended attribute")
        if not isinstance(attr.value, str):
            raise SignatureIntegrityError(f"{key} from extended attribute is not a string")
        if not attr.value.strip():
            raise SignatureIntegrityError(f"{key} from extended attribute is an empty string")
        if key == HEADER_VERIFICATION_PLUGIN_MIN_VERSION and not is_semver(attr.value):
            raise SignatureIntegrityError(f"{key} from extended attribute is not a valid SemVer")
    if info.signed.extended_value(HEADER_VERIFICATION_PLUGIN) is None:
        unknown = critical_extended_attribute_keys(info)
        if unknown:
            raise SignatureIntegrityError(
                f'signature has unknown critical extended attribute "{unknown[0]}" and names no verification plugin '
                "to process it"
            )


def _check_times(info: SignerInfo) -> None:
    """SIG-13: expiry strictly after the signing time."""
    expiry = info.signed.expiry
    if expiry is not None and expiry <= info.signing_time:
        raise SignatureIntegrityError("expiry cannot be equal or before the signing time")


def _check_chain(info: SignerInfo, at: dt.datetime | None) -> None:
    try:
        validate_signing_chain(info.certificate_chain, at=at)
    except CertificateError as exc:
        raise SignatureIntegrityError(f"certificate-chain is invalid, {exc}") from exc


def _check_content_type(info: SignerInfo) -> None:
    """PAY-08."""
    if info.signed.content_type != NOTARY_PAYLOAD:
        raise SignatureIntegrityError(f'payload content type "{info.signed.content_type}" not supported')


def verify_integrity(media_type: str, data: bytes) -> SignerInfo:
    """VER-11: parse, check the algorithm against the leaf key, verify the primitive signature, then the signed
    attribute rules, the certificate chain rules (without CERT-06) and the payload content type."""
    decoded = _decode(media_type, data)
    info = decoded.info
    _check_algorithm(info)
    _check_signature(decoded)
    _check_times(info)
    _check_extended_attributes(info)
    _check_chain(info, None)
    _check_content_type(info)
    return info


def sign_envelope(
    envelope_media_type: str,
    request: SignRequest,
    signer: PrimitiveSigner,
    *,
    timestamper: Timestamper | None = None,
) -> bytes:
    """Build, sign and self-verify an envelope (SIGN-04, SIGN-05). Failures raise SigningError."""
    return sign_envelope_with_info(envelope_media_type, request, signer, timestamper=timestamper)[0]


def sign_envelope_with_info(
    envelope_media_type: str,
    request: SignRequest,
    signer: PrimitiveSigner,
    *,
    timestamper: Timestamper | None = None,
) -> tuple[bytes, SignerInfo]:
    """``sign_envelope`` plus the SignerInfo its SIGN-05 self-verification parsed (so a caller that needs the
    signing time or chain does not parse and verify the same bytes a second time)."""
    if envelope_media_type not in (JWS_ENVELOPE, COSE_ENVELOPE):
        raise _unsupported(envelope_media_type)
    if request.signing_time.tzinfo is None:
        raise SigningError("signing time must be timezone-aware")
    if request.expiry is not None and request.expiry <= request.signing_time:
        raise SigningError("expiry cannot be equal or before the signing time")
    algorithm = signer.key_spec().algorithm
    if envelope_media_type == JWS_ENVELOPE:
        from notation._internal.envelope import jws

        jws_tbs = jws.prepare(request, algorithm)
        signature, chain = signer.sign(jws_tbs.signing_input)
    else:
        from notation._internal.envelope import cose

        cose_tbs = cose.prepare(request, algorithm)
        signature, chain = signer.sign(cose_tbs.to_be_signed)
    if not chain:
        raise SigningError("certificate-chain not present or is empty")
    timestamp = None
    if timestamper is not None and request.signing_scheme == SCHEME_X509:
        timestamp = timestamper(signature, algorithm)
    if envelope_media_type == JWS_ENVELOPE:
        envelope = jws.assemble(jws_tbs, signature, chain, signing_agent=request.signing_agent, timestamp=timestamp)
    else:
        envelope = cose.assemble(cose_tbs, signature, chain, signing_agent=request.signing_agent, timestamp=timestamp)

    # SIGN-05: what we push must verify, with the chain valid at the signing time (CERT-06).
    try:
        info = verify_integrity(envelope_media_type, envelope)
        _check_chain(info, request.signing_time)
    except NotationError as exc:
        raise SigningError(f"generated signature failed verification: {exc}") from exc
    return envelope, info
