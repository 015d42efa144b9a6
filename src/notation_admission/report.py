"""``POST /verify``: the document ``notation verify -o json`` prints (docs/verify-output.schema.json, version 1.0).

Built from the service's verdicts; a verdict answered from a cache carries no per-signature detail (``signatures``
is empty then: the cache holds the decision, not the envelopes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notation.models import SignatureVerification, ValidationAction, ValidationType
from notation_admission.core import Verdict

REPORT_VERSION = "1.0"


def verify_document(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    refs = [_reference(v) for v in verdicts]
    counts = {status: sum(r["result"] == status for r in refs) for status in ("verified", "skipped", "failed")}
    return {"version": REPORT_VERSION, "references": refs, "summary": {"total": len(refs), **counts}}


def _reference(v: Verdict) -> dict[str, Any]:
    outcome = v.outcome
    if not v.allowed:
        result = "failed"
    elif v.level == "skip":
        result = "skipped"
    else:
        result = "verified"
    signatures: list[dict[str, Any]] = []
    media_type = None
    if outcome is not None:
        media_type = outcome.subject.media_type
        signatures = [_signature(s) for s in outcome.signatures]
    return {
        "reference": v.image,
        "artifact": v.reference,
        "digest": v.digest,
        "mediaType": media_type,
        "platform": None,
        "result": result,
        "error": v.reason,
        "warnings": list(v.warnings),
        "policy": {"name": v.policy, "level": v.level} if v.level else None,
        "signatures": signatures,
        "platforms": [],
    }


def _signature(sig: SignatureVerification) -> dict[str, Any]:
    by_type = {r.type: r for r in sig.results}
    validations = []
    for vtype in ValidationType:
        r = by_type.get(vtype)
        if r is None:
            validations.append({"type": vtype.value, "action": None, "result": "notEvaluated", "error": None})
        elif r.action is ValidationAction.SKIP:
            validations.append({"type": vtype.value, "action": r.action.value, "result": "skipped", "error": None})
        else:
            validations.append(
                {
                    "type": vtype.value,
                    "action": r.action.value,
                    "result": "passed" if r.error is None else "failed",
                    "error": r.error,
                }
            )
    return {
        "digest": sig.manifest.digest,
        "envelopeMediaType": sig.envelope_media_type,
        "result": "passed" if sig.passed else "failed",
        "error": sig.error,
        "signer": sig.signer_subject,
        "signingTime": sig.signing_time,
        "userMetadata": dict(sig.user_metadata),
        "cached": False,
        "validations": validations,
    }
