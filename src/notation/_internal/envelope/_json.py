"""JSON the way the envelopes need it: strict reading, and writing byte-compatible with Go's encoding/json.

Go escapes ``<``, ``>``, ``&``, U+2028 and U+2029 inside strings and writes compact output; a payload or protected
header that differs in one byte from what Go would produce is still valid, but matching Go keeps our envelopes
indistinguishable from Go's (and lets tests compare bytes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


_GO_CONTEXT = (
    ("Expecting value", "looking for beginning of value"),
    ("Expecting property name", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Expecting ',' delimiter", "after object key:value pair"),
    ("Extra data", "after top-level value"),
    ("Invalid control character", "in string literal"),
    ("Invalid \\escape", "in string escape code"),
)


def _go_syntax_error(text: str, exc: json.JSONDecodeError) -> str:
    """encoding/json's wording for a syntax error (``unexpected end of JSON input``, ``invalid character 'x'
    looking for beginning of value``...), so no message shows Python's decoder."""
    rest = text[exc.pos :]
    if not rest.strip() or exc.msg.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    context = next((go for py, go in _GO_CONTEXT if exc.msg.startswith(py)), "looking for beginning of value")
    ch = rest[1] if exc.msg.startswith("Invalid \\escape") and len(rest) > 1 else rest[0]
    shown = repr(ch)[1:-1] if ch.isprintable() else f"\\x{ord(ch):02x}"
    return f"invalid character '{shown}' {context}"


_STRICT = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
"""One decoder for every call: ``json.loads`` with hooks builds a new decoder and scanner each time, which cost more
than parsing a protected header. Shared like json's own default decoder (it keeps no state between calls)."""
_SCAN: Callable[[str, int], tuple[Any, int]] = _STRICT.scan_once  # type: ignore[attr-defined]  # set by __init__


def strict_loads(data: bytes | str) -> Any:
    """Parse JSON rejecting duplicate members, NaN/Infinity and invalid UTF-8 (raises ValueError, Go's words)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("invalid UTF-8 in JSON input") from None
    try:  # the common case, no surrounding whitespace: the scanner alone (decode() adds two Python-level steps)
        value, end = _SCAN(data, 0)
        if end == len(data):
            return value
    except (StopIteration, json.JSONDecodeError, RecursionError):
        pass  # the full decoder below says what is wrong, in its words
    try:
        return _STRICT.decode(data)
    except json.JSONDecodeError as exc:
        raise ValueError(_go_syntax_error(data, exc)) from None
    except RecursionError as exc:  # hostile nesting must be a parse error, not a crash
        raise ValueError("JSON nested too deeply") from exc
