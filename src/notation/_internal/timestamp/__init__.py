"""RFC 3161 timestamps: get one at signing time, verify one at verification time (signature.md §10, trust.md §7).

Signing: :func:`load_tsa_root` (CLI-42 checks on ``--timestamp-root-cert``), :func:`check_tsa_url`, then
:func:`request_timestamp` over the primitive signature bytes. Verification: :func:`is_timestamp_required` (TSV-10)
and :func:`verify_authentic_timestamp` (TSV-20..28), or :func:`verify_timestamp` for the token alone;
:func:`parse_timestamp` for ``inspect``.
"""

from __future__ import annotations

from notation._internal.timestamp.client import check_tsa_url, load_tsa_root, request_timestamp
from notation._internal.timestamp.verify import (
    TimestampResult,
    is_timestamp_required,
    parse_timestamp,
    verify_authentic_timestamp,
    verify_timestamp,
)

__all__ = [
    "TimestampResult",
    "check_tsa_url",
    "is_timestamp_required",
    "load_tsa_root",
    "parse_timestamp",
    "request_timestamp",
    "verify_authentic_timestamp",
    "verify_timestamp",
]
