"""A small strict CBOR reader and deterministic writer for COSE_Sign1 (RFC 8949).

Written by hand instead of using cbor2 because COSE-02 needs what cbor2 does not enforce: duplicate map keys
and indefinite lengths rejected, trailing bytes rejected, tags kept visible (COSE-05 needs to see tag 1), and a
depth limit so hostile input cannot exhaust the stack. The writer emits core deterministic encoding (shortest
heads, map keys sorted bytewise by their encoding), which is what go-cose writes.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

MAX_DEPTH = 16


class CBORError(ValueError):
    """Malformed or non-canonical-enough CBOR (message says what)."""


class Tag(NamedTuple):
    """A tagged item (kept visible: COSE-05 needs tag 1). A NamedTuple, built in C: one is made per envelope
    verified, at a quarter of a frozen record's cost; no decoded value is a tuple, so none compares equal to it."""

    number: int
    value: Any


class Undefined:
    """CBOR ``undefined`` (simple value 23)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = Undefined()


_END = "unexpected end of CBOR data"
_FLOAT_FORMATS = {25: ">e", 26: ">f", 27: ">d"}
_SIMPLE = {20: False, 21: True, 22: None, 23: UNDEFINED}


def _item(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    """Decode the item at ``pos``; return it and the position after it.

    Plain recursive functions with the position passed along (not a reader object with methods): an envelope is a
    few dozen items, and method calls per byte taken were most of the COSE decoding time. The branches are in
    order of frequency in an envelope (strings, then small integers, maps and arrays), and the end of the data is
    found by the IndexError of ``data[pos]`` rather than a compare per item.
    """
    try:
        first = data[pos]
    except IndexError:
        raise CBORError(_END) from None
    pos += 1
    major = first >> 5
    info = first & 0x1F
    if info < 24:
        arg = info
    elif info < 28:
        end = pos + (1 << (info - 24))
        if end > len(data):
            raise CBORError(_END)
        arg = int.from_bytes(data[pos:end], "big")
        pos = end
    elif info == 31:
        raise CBORError("indefinite-length CBOR items are not allowed")
    else:
        raise CBORError(f"reserved CBOR additional information {info}")
    if major == 2 or major == 3:
        end = pos + arg
        if end > len(data):
            raise CBORError(_END)
        if major == 2:
            return data[pos:end], end
        try:
            return data[pos:end].decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise CBORError("invalid UTF-8 in CBOR text string") from exc
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major < 6:  # array or map: every member takes at least one byte
        if arg > len(data) - pos:
            raise CBORError(_END)
        if depth >= MAX_DEPTH and arg:
            raise CBORError("CBOR nesting too deep")
        depth += 1
        if major == 4:
            items = []
            for _ in range(arg):
                value, pos = _item(data, pos, depth)
                items.append(value)
            return items, pos
        out: dict[Any, Any] = {}
        for _ in range(arg):
            key, pos = _item(data, pos, depth)
            if key.__class__ not in _KEY_TYPES and (isinstance(key, bool) or not isinstance(key, (int, str, bytes))):
                raise CBORError("CBOR map keys must be integers, text strings or byte strings")
            if key in out:
                raise CBORError(f"duplicate CBOR map key {key!r}")
            out[key], pos = _item(data, pos, depth)
        return out, pos
    if major == 6:
        if depth >= MAX_DEPTH:
            raise CBORError("CBOR nesting too deep")
        value, pos = _item(data, pos, depth + 1)
        return Tag(arg, value), pos
    # major 7: simple values and floats
    if info in _SIMPLE:
        return _SIMPLE[info], pos
    if info in _FLOAT_FORMATS:
        return struct.unpack(_FLOAT_FORMATS[info], arg.to_bytes(1 << (info - 24), "big"))[0], pos
    raise CBORError(f"unsupported CBOR simple value {arg}")


_KEY_TYPES = frozenset((int, str, bytes))
"""Exact key types that need no further check (a bool is an int subclass, and is refused)."""


def loads(data: bytes) -> Any:
    """Decode exactly one CBOR item; trailing bytes are an error."""
    value, pos = _item(data, 0, 0)
    if pos != len(data):
        raise CBORError(f"{len(data) - pos} bytes of extraneous data after the CBOR item")
    return value


def loads_array_after(data: bytes, head: bytes, count: int) -> list[Any]:
    """``loads(data).value`` for ``data`` that starts with ``head``: one tag head and an array(``count``) head, one byte
    each (COSE_Sign1_Tagged's ``d2 84``). Same checks, depths and errors as :func:`loads`, without building the tag
    and the outer array first (the caller has checked the head)."""
    assert len(head) == 2 and data.startswith(head) and head[1] == 0x80 | count
    pos = len(head)
    if count > len(data) - pos:
        raise CBORError(_END)
    items = []
    for _ in range(count):
        value, pos = _item(data, pos, 2)
        items.append(value)
    if pos != len(data):
        raise CBORError(f"{len(data) - pos} bytes of extraneous data after the CBOR item")
    return items


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise CBORError("integer too large for CBOR")


def bytes_head(length: int) -> bytes:
    """The head of a byte string of ``length`` bytes (what ``dumps`` writes before the bytes)."""
    return _head(2, length)


def dumps(value: Any) -> bytes:
    """Encode ints, str, bytes, lists, dicts and tags deterministically."""
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, Tag):  # before tuple: a Tag is one
        return _head(6, value.number) + dumps(value.value)
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(dumps(v) for v in value)
    if isinstance(value, dict):
        items = sorted((dumps(k), dumps(v)) for k, v in value.items())
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    raise CBORError(f"cannot encode {type(value).__name__} as CBOR")
