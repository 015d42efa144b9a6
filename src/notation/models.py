"""Public result types of notation-py: what :func:`notation.sign` and :func:`notation.verify` return."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping

from notation._internal.oci.descriptor import Descriptor
from notation._internal.records import dataclass, field

__all__ = [
    "BlobSignResult",
    "Descriptor",
    "SignResult",
    "SignatureVerification",
    "ValidationAction",
    "ValidationResult",
    "ValidationType",
    "VerificationOutcome",
]


class ValidationType(enum.StrEnum):
    """The validation types of a trust policy's verification level (trust.md §3)."""

    INTEGRITY = "integrity"
    AUTHENTICITY = "authenticity"
    AUTHENTIC_TIMESTAMP = "authenticTimestamp"
    EXPIRY = "expiry"
    REVOCATION = "revocation"


class ValidationAction(enum.StrEnum):
    """What a failed validation does: reject the signature, log a warning, or not run at all."""

    ENFORCE = "enforce"
    LOG = "log"
    SKIP = "skip"


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of one validation type for one signature; ``error`` is None when it passed."""

    type: ValidationType
    action: ValidationAction
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SignatureVerification:
    """The verdict on one signature manifest of an artifact."""

    manifest: Descriptor
    envelope_media_type: str | None
    results: tuple[ValidationResult, ...]
    error: str | None
    user_metadata: Mapping[str, str] = field(default_factory=dict)
    signer_subject: str | None = None
    signing_time: str | None = None
    valid_until: dt.datetime | None = field(default=None, compare=False)
    """For a passed verdict: the earliest moment it may stop holding (the signature's expiry, a chain certificate's
    notAfter and, when revocation was checked, a short revocation TTL and the cached CRLs' nextUpdate). A caller that
    caches the verdict (the admission service) must not keep it past this; None when not computed."""

    @property
    def passed(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class VerificationOutcome:
    """The verdict on an artifact: which signature verified (first that passed) and every one looked at."""

    reference: str
    subject: Descriptor
    level: str
    policy_name: str | None
    verified: SignatureVerification | None
    signatures: tuple[SignatureVerification, ...] = ()

    @property
    def skipped(self) -> bool:
        return self.level == "skip"

    @property
    def valid_until(self) -> dt.datetime | None:
        """The verified signature's :attr:`SignatureVerification.valid_until` (None when skipped or unknown)."""
        return self.verified.valid_until if self.verified is not None else None

    @property
    def warnings(self) -> list[str]:
        """The logged failures of the verified signature, as the Go CLI prints them."""
        if self.verified is None:
            return []
        return [
            f'{r.type.value} was set to "{r.action.value}" and failed with error: {r.error}'
            for r in self.verified.results
            if r.error is not None and r.action is ValidationAction.LOG
        ]


@dataclass(frozen=True)
class SignResult:
    """What signing produced: the signed subject and the pushed signature manifest."""

    reference: str
    subject: Descriptor
    signature_manifest: Descriptor
    envelope_media_type: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlobSignResult:
    """What blob signing produced: the detached envelope, its media type, the signed descriptor of the blob, and
    (when written) the signature file."""

    envelope: bytes
    envelope_media_type: str
    target: Descriptor
    signature_path: str | None = None
