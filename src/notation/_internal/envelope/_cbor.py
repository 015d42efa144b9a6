"""A small strict CBOR reader and deterministic writer for COSE_Sign1 (RFC 8949).

Written by hand instead of using cbor2 because COSE-02 needs what cbor2 does not enforce: duplicate map keys
and indefinite lengths rejected, trailing bytes rejected, tags kept visible (COSE-05 needs to see tag 1), and a
depth limit so hostile input cannot exhaust the stack. The writer emits core deterministic encoding (shortest
heads, map keys sorted bytewise by their encoding), which is what go-cose writes.
"""

from __future__ import annotations

import struct
from typing import Any

from notation._internal.records import dataclass

MAX_DEPTH = 16


class CBORError(ValueError):
    """Malformed or non-canonical-enough CBOR (message says what)."""


@dataclass(frozen=True)
class Tag:
    number: int
    value: Any


class Undefined:
    """CBOR ``undefined`` (simple value 23)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = Undefined()


_END = "unexpected end of CBOR data"
_FLOAT_FORMATS = {25: ">e", 26: ">f", 27: ">d"}


def _item(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    """Decode the item at ``pos``; return it and the position after it.

    Plain recursive functions with the position passed along (not a reader object with methods): an envelope is a
    few dozen items, and method calls per byte taken were most of the COSE decoding time.
    """
    if depth > MAX_DEPTH:
        raise CBORError("CBOR nesting too deep")
    size = len(data)
    if pos >= size:
        raise CBORError(_END)
    first = data[pos]
    pos += 1
    major, info = first >> 5, first & 0x1F
    if info < 24:
        arg = info
    elif info < 28:
        end = pos + (1 << (info - 24))
        if end > size:
            raise CBORError(_END)
        arg = int.from_bytes(data[pos:end], "big")
        pos = end
    elif info == 31:
        raise CBORError("indefinite-length CBOR items are not allowed")
    else:
        raise CBORError(f"reserved CBOR additional information {info}")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major == 2 or major == 3:
        end = pos + arg
        if end > size:
            raise CBORError(_END)
        raw = data[pos:end]
        if major == 2:
            return raw, end
        try:
            return raw.decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise CBORError("invalid UTF-8 in CBOR text string") from exc
    if major == 4:
        if arg > size - pos:
            raise CBORError(_END)
        items = []
        for _ in range(arg):
            value, pos = _item(data, pos, depth + 1)
            items.append(value)
        return items, pos
    if major == 5:
        if arg > size - pos:
            raise CBORError(_END)
        out: dict[Any, Any] = {}
        for _ in range(arg):
            key, pos = _item(data, pos, depth + 1)
            if isinstance(key, bool) or not isinstance(key, (int, str, bytes)):
                raise CBORError("CBOR map keys must be integers, text strings or byte strings")
            if key in out:
                raise CBORError(f"duplicate CBOR map key {key!r}")
            out[key], pos = _item(data, pos, depth + 1)
        return out, pos
    if major == 6:
        value, pos = _item(data, pos, depth + 1)
        return Tag(arg, value), pos
    # major 7: simple values and floats
    if info == 20:
        return False, pos
    if info == 21:
        return True, pos
    if info == 22:
        return None, pos
    if info == 23:
        return UNDEFINED, pos
    if info in _FLOAT_FORMATS:
        return struct.unpack(_FLOAT_FORMATS[info], arg.to_bytes(1 << (info - 24), "big"))[0], pos
    raise CBORError(f"unsupported CBOR simple value {arg}")


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
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(dumps(v) for v in value)
    if isinstance(value, dict):
        items = sorted((dumps(k), dumps(v)) for k, v in value.items())
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    if isinstance(value, Tag):
        return _head(6, value.number) + dumps(value.value)
    raise CBORError(f"cannot encode {type(value).__name__} as CBOR")
