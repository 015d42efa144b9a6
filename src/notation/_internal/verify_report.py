"""The JSON report of a verification of many references (``notation verify -o json``, the admission service's
``/verify``): shared by the CLI and the library so both print the same document (docs/verify-output.schema.json).

Field names are stable: new fields may be added, existing ones are never renamed or removed without a new
``version``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from notation.models import SignatureVerification, ValidationAction, ValidationType

if TYPE_CHECKING:
    from notation._internal.verifier import VerifyReport

REPORT_VERSION = "1.0"


def verify_document(reports: Sequence[VerifyReport], cache: Any = None) -> dict[str, Any]:
    counts = {status: sum(r.status == status for r in reports) for status in ("verified", "skipped", "failed")}
    return {
        "version": REPORT_VERSION,
        "references": [_reference(r, cache) for r in reports],
        "summary": {"total": len(reports), **counts},
    }


def _reference(report: VerifyReport, cache: Any) -> dict[str, Any]:
    trace = report.trace
    subject = report.subject
    hits: set[tuple[str, str]] = getattr(cache, "hits", set())
    policy = None
    if trace.level is not None:
        policy = {"name": trace.policy_name, "level": trace.level}
    return {
        "reference": report.reference,
        "artifact": report.display,
        "digest": subject.digest if subject is not None else None,
        "mediaType": subject.media_type if subject is not None else None,
        "platform": report.platform,
        "result": report.status,
        "error": report.error,
        "warnings": list(report.warnings),
        "policy": policy,
        "signatures": [
            _signature(s, trace.actions, subject is not None and (subject.digest, s.manifest.digest) in hits)
            for s in trace.signatures
        ],
        "platforms": [_reference(child, cache) for child in report.platforms],
    }


def _signature(
    sig: SignatureVerification, actions: dict[ValidationType, ValidationAction], cached: bool
) -> dict[str, Any]:
    by_type = {r.type: r for r in sig.results}
    validations = []
    for vtype in ValidationType:
        result = by_type.get(vtype)
        action = actions.get(vtype)
        if result is not None:
            outcome = "passed" if result.error is None else "failed"
            validations.append(
                {"type": vtype.value, "action": result.action.value, "result": outcome, "error": result.error}
            )
        else:
            outcome = "skipped" if action is ValidationAction.SKIP else "notEvaluated"
            validations.append(
                {"type": vtype.value, "action": action.value if action else None, "result": outcome, "error": None}
            )
    return {
        "digest": sig.manifest.digest,
        "envelopeMediaType": sig.envelope_media_type,
        "result": "passed" if sig.passed else "failed",
        "error": sig.error,
        "signer": sig.signer_subject,
        "signingTime": sig.signing_time,
        "userMetadata": dict(sig.user_metadata),
        "cached": cached,
        "validations": validations,
    }
