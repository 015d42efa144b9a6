"""The inspect workflow (cli.md §9, CLI-71..74): what each signature of an artifact says, without verifying it.

For each listed signature manifest (up to the cap): fetch manifest and envelope (bounded, digest checked), parse the
envelope, and describe it. A signature that cannot be fetched or parsed is recorded as skipped with the warning the
Go CLI prints; the caller fails after printing when any was skipped. Rendering (text tree, JSON) is the CLI's job;
this module produces plain data in the order the spec asks for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from notation._internal.asn1_errors import ASN1_ERRORS
from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.store import ArtifactStore
from notation._internal.records import dataclass, field
from notation.errors import NotationError

if TYPE_CHECKING:
    from cryptography import x509

    from notation._internal.envelope.model import SignerInfo


@dataclass(frozen=True)
class CertificateSummary:
    sha256_fingerprint: str
    issued_to: str
    issued_by: str
    expiry: dt.datetime


@dataclass(frozen=True)
class TimestampSummary:
    """A parsed RFC 3161 countersignature (``lower``/``upper`` bound the time) or the error parsing it."""

    lower: dt.datetime | None = None
    upper: dt.datetime | None = None
    certificates: tuple[CertificateSummary, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class SignatureSummary:
    """One signature as ``notation inspect`` shows it."""

    media_type: str
    digest: str
    signature_algorithm: str
    signing_scheme: str
    signing_time: dt.datetime
    expiry: dt.datetime | None
    extended_attributes: tuple[tuple[str, str], ...]
    user_defined_attributes: dict[str, str]
    signing_agent: str | None
    timestamp: TimestampSummary | None
    certificates: tuple[CertificateSummary, ...]
    signed_artifact: Descriptor
    content_type: str = ""
    """The payload content type (shown by the 2.0 tree and JSON forms)."""


@dataclass
class InspectResult:
    reference: str
    """``<registry>/<repository>@<digest>`` or ``<layout path>@<digest>``."""
    media_type: str
    """The target manifest's media type."""
    signatures: list[SignatureSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Per-signature fetch/parse failures, in order (printed to stderr with ``Warning: ``)."""
    exceeded_limit: int | None = None
    """Set to the cap when more signatures exist than ``max_signatures``."""

    @property
    def skipped(self) -> bool:
        return bool(self.warnings)


def go_sprint(value: Any) -> str:
    """Go's fmt.Sprint for JSON-decoded values (extended attribute values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)  # shortest round-trip form, exponent beyond 1e16 / below 1e-4 like Go's %v
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    return str(value)


def summarize_certificates(
    certs: tuple[x509.Certificate, ...] | list[x509.Certificate],
) -> tuple[CertificateSummary, ...]:
    from notation._internal.x509.dn import go_name_string
    from notation._internal.x509.keys import thumbprint_sha256

    return tuple(
        CertificateSummary(
            sha256_fingerprint=thumbprint_sha256(c).lower(),
            issued_to=go_name_string(c.subject),
            issued_by=go_name_string(c.issuer),
            expiry=c.not_valid_after_utc,
        )
        for c in certs
    )


TimestampParser = Callable[[bytes, bytes], TimestampSummary]


def _default_timestamp_parser(token: bytes, signature: bytes) -> TimestampSummary:
    """Parse the countersignature without trusting it, as Go's inspect does: CMS/TSTInfo structure and the
    message imprint over the primitive signature; any problem becomes the displayed error."""
    from notation._internal.timestamp.token import TokenError, check_imprint, parse_token

    try:
        parsed = parse_token(token)
        check_imprint(parsed, signature)
    except TokenError as exc:
        return TimestampSummary(error=f"failed to parse timestamp countersignature: {exc}")
    except ASN1_ERRORS as exc:  # asn1crypto decoding errors on garbage input
        return TimestampSummary(error=f"failed to parse timestamp countersignature: {exc}")
    return TimestampSummary(
        lower=parsed.lower, upper=parsed.upper, certificates=summarize_certificates(list(parsed.certificates))
    )


def summarize_signature(
    manifest_digest: str,
    info: SignerInfo,
    *,
    timestamp_parser: TimestampParser = _default_timestamp_parser,
) -> SignatureSummary:
    """Describe a parsed envelope; EnvelopeError when the payload has no valid target descriptor."""
    from notation._internal.envelope.payload import parse_payload

    target = parse_payload(info.payload)
    signed = info.signed
    timestamp = None
    if info.unsigned.timestamp_signature is not None:
        timestamp = timestamp_parser(info.unsigned.timestamp_signature, info.signature)
    return SignatureSummary(
        media_type=info.media_type,
        digest=manifest_digest,
        signature_algorithm=info.signature_algorithm.plugin_name,
        signing_scheme=signed.signing_scheme,
        signing_time=info.signing_time,
        expiry=signed.expiry,
        extended_attributes=tuple((a.key, go_sprint(a.value)) for a in signed.extended),
        user_defined_attributes=dict(target.annotations),
        signing_agent=info.unsigned.signing_agent or None,
        timestamp=timestamp,
        certificates=summarize_certificates(info.certificate_chain),
        signed_artifact=Descriptor(target.media_type, target.digest, target.size),
        content_type=signed.content_type,
    )


def inspect_artifact(
    store: ArtifactStore,
    reference: str,
    *,
    max_signatures: int = mediatypes.DEFAULT_MAX_SIGNATURES,
    timestamp_parser: TimestampParser = _default_timestamp_parser,
) -> InspectResult:
    """Inspect every signature of ``reference`` (tag or digest) in ``store``, up to ``max_signatures``."""
    from notation._internal.envelope.codec import parse_envelope
    from notation._internal.oci.signature_manifest import parse_signature_manifest

    subject = store.resolve(reference)
    result = InspectResult(reference=f"{store.display_name}@{subject.digest}", media_type=subject.media_type)
    count = 0
    for manifest_desc in store.list_signatures(subject):
        if count >= max_signatures:
            result.exceeded_limit = max_signatures
            break
        count += 1
        try:
            manifest = parse_signature_manifest(store.fetch(manifest_desc, mediatypes.MAX_MANIFEST_SIZE), manifest_desc)
            envelope = store.fetch(manifest.envelope, mediatypes.MAX_ENVELOPE_SIZE)
        except NotationError as exc:
            result.warnings.append(f"unable to fetch signature {manifest_desc.digest} due to error: {exc}")
            continue
        try:
            info = parse_envelope(manifest.envelope.media_type, envelope)
            summary = summarize_signature(manifest_desc.digest, info, timestamp_parser=timestamp_parser)
        except NotationError as exc:
            result.warnings.append(f"Skipping signature {manifest_desc.digest} because of error: {exc}")
            continue
        result.signatures.append(summary)
    return result
