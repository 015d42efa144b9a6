"""Blob (detached) signing and verification (signature.md §15, BLOB-01..06; trust.md TP-40..42).

The blob is read once, in chunks, through the hash the signing key (or the envelope's algorithm) decides, so a
multi-GB file never sits in memory. Signing builds the same envelope as image signing (the payload describes the
blob instead of a manifest); verification runs the image verification steps (integrity, plugin lookup, trust
store, identity, expiry, authentic timestamp, revocation, plugin) on the one signature against the blob trust
policy's statement, then compares the blob's digest, size and (if given) media type with the signed descriptor,
then the user metadata: notation-go main's ``VerifyBlob`` order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

from notation._internal.log import logger as log
from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.x509.dn import go_quote
from notation.errors import BlobIntegrityError, NotationError, SigningError, VerificationError
from notation.models import BlobSignResult, SignatureVerification, VerificationOutcome

if TYPE_CHECKING:
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument
    from notation._internal.workflows.verify import PluginHooks

DEFAULT_BLOB_MEDIA_TYPE = "application/octet-stream"
CHUNK_SIZE = 1024 * 1024
SIGNATURE_FORMATS = {"jws": mediatypes.JWS_ENVELOPE, "cose": mediatypes.COSE_ENVELOPE}
MAX_SIGNATURE_FILE_SIZE = mediatypes.MAX_ENVELOPE_SIZE
"""A detached signature is a few KiB; the image limit (MAN-10) bounds what we read."""


# --------------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------------

_TSPECIALS = set('()<>@,;:\\"/[]?=')


def _is_token_char(ch: str) -> bool:
    return 0x20 < ord(ch) < 0x7F and ch not in _TSPECIALS


def _consume_token(text: str) -> tuple[str, str]:
    i = 0
    while i < len(text) and _is_token_char(text[i]):
        i += 1
    return text[:i], text[i:]


def _consume_value(text: str) -> tuple[str, str]:
    if not text.startswith('"'):
        return _consume_token(text)
    out: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), text[i + 1 :]
        if ch == "\\" and i + 1 < len(text):
            i += 1
            ch = text[i]
        elif ch in "\r\n":
            return "", text
        out.append(ch)
        i += 1
    return "", text


def check_content_media_type(media_type: str) -> None:
    """Go's ``mime.ParseMediaType`` acceptance (notation-go ``validateContentMediaType``), with its messages."""
    if not media_type:
        return
    base, _, _ = media_type.partition(";")
    mtype = base.strip().lower()

    def fail(reason: str) -> SigningError:
        return SigningError(f"invalid content media-type {go_quote(media_type)}: mime: {reason}")

    first, rest = _consume_token(mtype)
    if not first:
        raise fail("no media type")
    if rest:
        if not rest.startswith("/"):
            raise fail("expected slash after first token")
        sub, rest = _consume_token(rest[1:])
        if not sub:
            raise fail("expected token after slash")
        if rest:
            raise fail("unexpected content after media subtype")
    params = media_type[len(base) :]
    seen: set[str] = set()
    while True:
        params = params.lstrip()
        if not params:
            return
        if not params.startswith(";"):
            raise fail("invalid media parameter")
        body = params[1:].lstrip()
        key, after = _consume_token(body)
        after = after.lstrip()
        if not key or not after.startswith("="):
            if params.strip() == ";":  # a trailing semicolon is ignored
                return
            raise fail("invalid media parameter")
        value_text = after[1:].lstrip()
        value, remaining = _consume_value(value_text)
        if not value and remaining == value_text:
            raise fail("invalid media parameter")
        if key.lower() in seen:
            raise fail("duplicate parameter name")
        seen.add(key.lower())
        params = remaining


def signature_media_type_for_path(path: str) -> str:
    """BLOB-03: the envelope format from the signature file's name (``<name>.<jws|cose>.sig``)."""
    import os

    name = os.path.basename(path)
    ext = os.path.splitext(name)[1]
    if ext.lower() != ".sig":
        raise VerificationError(f"invalid signature filename {name}. The file extension must be .sig")
    parts = name.split(".")
    if len(parts) < 3:
        raise VerificationError(
            f"invalid signature filename {name}. A valid signature file name must contain signature format and .sig "
            "file extension"
        )
    return envelope_media_type(parts[-2])


def envelope_media_type(signature_format: str) -> str:
    media_type = SIGNATURE_FORMATS.get(signature_format.lower())
    if media_type is None:
        raise SigningError(
            f'signature format "{signature_format}" not supported\n'
            'Supported signature envelope formats are "jws" and "cose"'
        )
    return media_type


def digest_stream(reader: BinaryIO, algorithm: str, *, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """``<alg>:<hex>`` and the byte count of everything ``reader`` yields, ``chunk_size`` bytes at a time.

    readinto one reused buffer: the memory used does not grow with the blob (a 2 GiB file costs one chunk)."""
    hasher = hashlib.new(algorithm)
    size = 0
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    readinto = getattr(reader, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                break
            hasher.update(view[:n])
        else:
            chunk = reader.read(chunk_size)
            if not chunk:
                break
            n = len(chunk)
            hasher.update(chunk)
        size += n
    return f"{algorithm}:{hasher.hexdigest()}", size


def _is_envelope_generator(signer: object) -> bool:
    return callable(getattr(signer, "generate_envelope", None))


# --------------------------------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------------------------------


def sign_blob_stream(
    reader: BinaryIO,
    signer: Any,
    *,
    envelope_media_type: str = mediatypes.JWS_ENVELOPE,
    content_media_type: str = DEFAULT_BLOB_MEDIA_TYPE,
    expiry: dt.timedelta | None = None,
    user_metadata: Mapping[str, str] | None = None,
    timestamper: Callable[[bytes, Any], bytes] | None = None,
    now: dt.datetime | None = None,
) -> BlobSignResult:
    """Sign the bytes ``reader`` yields (BLOB-01/04; notation-go ``SignBlob``): checks, key spec, digest, envelope.

    ``signer`` is a PrimitiveSigner (local key, RAW plugin); a plugin that only generates envelopes cannot sign
    blobs (BLOB-06). The digest algorithm is the key's hash (ALG-03), decided before the blob is read.
    """
    from notation._internal.envelope.codec import sign_envelope
    from notation._internal.envelope.model import SignRequest
    from notation._internal.envelope.payload import add_user_metadata, build_payload
    from notation._internal.workflows.sign import check_expiry, signing_agent_for

    duration = check_expiry(expiry)
    if not envelope_media_type:
        raise SigningError("signature media-type cannot be empty")
    if envelope_media_type not in mediatypes.ENVELOPE_MEDIA_TYPES:
        raise SigningError(f"invalid signature media-type {go_quote(envelope_media_type)}")
    if not content_media_type:
        raise SigningError("content media-type cannot be empty")
    check_content_media_type(content_media_type)
    if _is_envelope_generator(signer):
        name = getattr(signer, "plugin_name", "")
        raise SigningError(f'the plugin "{name}" lacks the signature generator capability required for blob signing')

    log.debug("Generic blob signing for signature media type %s", envelope_media_type)
    algorithm = signer.key_spec().algorithm
    digest, size = digest_stream(reader, algorithm.hash_name)
    target = add_user_metadata(Descriptor(content_media_type, digest, size), user_metadata or {})
    payload = build_payload(target, envelope_media_type)
    signing_time = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    request = SignRequest(
        payload=payload,
        payload_content_type=mediatypes.NOTARY_PAYLOAD,
        signing_time=signing_time,
        expiry=signing_time + duration if duration else None,
        signing_agent=signing_agent_for(signer),
    )
    try:
        envelope = sign_envelope(envelope_media_type, request, signer, timestamper=timestamper)
    except NotationError as exc:
        plugin_name = getattr(signer, "plugin_name", None)
        if plugin_name and not str(exc).startswith("failed to sign with the plugin"):
            raise SigningError(f"failed to sign with the plugin {plugin_name}: {exc}") from exc
        raise
    return BlobSignResult(envelope=envelope, envelope_media_type=envelope_media_type, target=target)


# --------------------------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------------------------


def verify_blob_stream(
    reader: BinaryIO,
    signature: bytes,
    *,
    signature_media_type: str,
    policy: BlobTrustPolicyDocument,
    trust_store: Any,
    policy_name: str | None = None,
    content_media_type: str | None = None,
    user_metadata: Mapping[str, str] | None = None,
    plugin_hooks: PluginHooks | None = None,
    display_name: str = "blob",
    now: dt.datetime | None = None,
) -> VerificationOutcome:
    """Verify ``signature`` (envelope bytes) over the bytes ``reader`` yields (BLOB-05, TP-40..42).

    Raises VerificationError with the message the Go CLI prints after ``Error: `` (``signature verification
    failed: <reason>``, trust store errors with their own text, policy selection errors as they are). The blob is
    read only after the signature's trust checks passed, once, in chunks.
    """
    from notation._internal.envelope.codec import parse_envelope
    from notation._internal.envelope.payload import parse_payload
    from notation._internal.workflows import verify as oci

    if not signature:
        raise VerificationError("signature verification failed: signature cannot be nil or empty")
    if content_media_type:
        try:
            check_content_media_type(content_media_type)
        except SigningError as exc:
            raise VerificationError(f"signature verification failed: {exc}") from None
    if signature_media_type not in mediatypes.ENVELOPE_MEDIA_TYPES:
        raise VerificationError(
            f"signature verification failed: invalid signature media-type {go_quote(signature_media_type)}"
        )
    log.debug("Verify signature of media type %s", signature_media_type)
    try:
        statement = policy.select(policy_name)  # TP-40/41
    except VerificationError as exc:
        raise type(exc)(f"signature verification failed: {exc}") from None
    log.info("Trust policy configuration: %s", _go_statement(statement))
    envelope_desc = Descriptor.for_content(signature_media_type, signature)
    if statement.level == "skip":  # TP-42
        log.debug("Skipping signature verification")
        return VerificationOutcome(display_name, envelope_desc, "skip", statement.name, None)

    # The trust steps are the image workflow's, given the signed descriptor as the subject (it describes itself);
    # the blob is compared with it afterwards, as notation-go does.
    try:
        claimed = parse_payload(parse_envelope(signature_media_type, signature).payload)
    except NotationError:
        claimed = envelope_desc  # integrity (or the payload check) fails below with the workflow's message
    moment = now or dt.datetime.now(dt.UTC)
    try:
        info, results = oci._verify_signature(
            signature_media_type, signature, claimed, statement, trust_store, {}, plugin_hooks, moment
        )
    except oci._SignatureRejected as rejected:
        if rejected.trust_store_error:
            raise VerificationError(str(rejected)) from None
        raise VerificationError(f"signature verification failed: {rejected}") from None

    target = parse_payload(info.payload)
    algorithm = info.signature_algorithm.hash_name  # BLOB-05: the digest algorithm of the signature
    try:
        digest, size = digest_stream(reader, algorithm)
    except OSError as exc:
        raise VerificationError(
            "signature verification failed: failed to generate descriptor for given artifact. Error: "
            f"{_os_error_text(exc)}"
        ) from None
    error: VerificationError | None = None
    if (
        digest != target.digest
        or size != target.size
        or (content_media_type and content_media_type != target.media_type)
    ):
        log.info("payload present in the signature: %s", _go_descriptor(target.to_dict()))
        log.info(
            "payload derived from the blob: %s",
            _go_descriptor({"mediaType": content_media_type or "", "digest": digest, "size": size}),
        )
        error = BlobIntegrityError(
            "signature verification failed: integrity check failed. signature does not match the given blob"
        )
    for key, value in (user_metadata or {}).items():  # VER-33; notation-go lets this error replace the one above
        if target.annotations.get(key) != value:
            error = VerificationError(
                "signature verification failed: unable to find specified metadata in the signature"
            )
            break
    if error is not None:
        raise error
    verified = SignatureVerification(
        manifest=envelope_desc,
        envelope_media_type=signature_media_type,
        results=tuple(results),
        error=None,
        user_metadata=dict(target.annotations),
        signer_subject=oci._signer_subject(info),
        signing_time=info.signing_time.isoformat(),
    )
    subject = Descriptor(target.media_type, digest, size)
    return VerificationOutcome(display_name, subject, statement.level, statement.name, verified, (verified,))


def _go_descriptor(d: Mapping[str, Any]) -> str:
    from notation._internal.plugin.signer import _go_descriptor as render

    return render(d)


def _go_statement(s: Any) -> str:
    """Go's ``%+v`` of the selected ``*BlobTrustPolicy`` (notation-go logs it at info level)."""
    override = " ".join(f"{k}:{v}" for k, v in sorted(s.override))
    return (
        f"&{{Name:{s.name} SignatureVerification:{{VerificationLevel:{s.level} Override:map[{override}] "
        f"VerifyTimestamp:{s.verify_timestamp_raw}}} TrustStores:[{' '.join(s.trust_store_values)}] "
        f"TrustedIdentities:[{' '.join(s.trusted_identities)}] GlobalPolicy:{str(s.global_policy).lower()}}}"
    )


def _os_error_text(exc: OSError) -> str:
    if exc.filename is not None:
        return f"read {exc.filename}: {(exc.strerror or str(exc)).lower()}"
    return (exc.strerror or str(exc)).lower()


__all__ = [
    "DEFAULT_BLOB_MEDIA_TYPE",
    "BlobIntegrityError",
    "BlobSignResult",
    "check_content_media_type",
    "digest_stream",
    "envelope_media_type",
    "sign_blob_stream",
    "signature_media_type_for_path",
    "verify_blob_stream",
]
