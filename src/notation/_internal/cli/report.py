"""Machine-readable reports for ``verify -o json`` and ``ls -o json`` (notation-py extensions).

The shapes are documented in docs/verify-output.schema.json and docs/list-output.schema.json; field names are stable:
new fields may be added, existing ones are never renamed or removed without a new ``version``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from notation._internal.verify_report import REPORT_VERSION, verify_document

if TYPE_CHECKING:
    from notation._internal.oci.descriptor import Descriptor

__all__ = ["REPORT_VERSION", "list_document", "verify_document", "write_json"]


def write_json(stream: TextIO, doc: Any) -> None:
    stream.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def list_document(
    display: str, subject: Descriptor, signatures: Sequence[Descriptor], exceeded: bool
) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "artifact": display,
        "digest": subject.digest,
        "mediaType": subject.media_type,
        "signatures": [
            {
                "digest": d.digest,
                "mediaType": d.media_type,
                "size": d.size,
                "artifactType": d.artifact_type,
                "annotations": dict(d.annotations),
            }
            for d in signatures
        ],
        "maxSignaturesExceeded": exceeded,
    }
