"""JSON the way the envelopes need it: strict reading, and writing byte-compatible with Go's encoding/json.

Go escapes ``<``, ``>``, ``&``, U+2028 and U+2029 inside strings and writes compact output; a payload or protected
header that differs in one byte from what Go would produce is still valid, but matching Go keeps our envelopes
indistinguishable from Go's (and lets tests compare bytes).
"""

from __future__ import annotations

import json
from typing import Any

_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


class DuplicateKeyError(ValueError):
    """A JSON object that names the same member twice (ambiguous, so rejected)."""


def go_dumps(obj: Any, *, sort_keys: bool) -> bytes:
    """Compact JSON as Go's json.Marshal writes it (``sort_keys`` = marshalled from a Go map)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys, allow_nan=False)
    # These characters can only occur inside JSON strings, so a plain replace is exact.
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"duplicate JSON member {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON number {name}")


def strict_loads(data: bytes | str) -> Any:
    """Parse JSON rejecting duplicate members, NaN/Infinity and invalid UTF-8 (raises ValueError)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except RecursionError as exc:  # hostile nesting must be a parse error, not a crash
        raise ValueError("JSON nested too deeply") from exc
