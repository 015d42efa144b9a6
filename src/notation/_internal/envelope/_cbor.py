"""A small strict CBOR reader and deterministic writer for COSE_Sign1 (RFC 8949).

Written by hand instead of using cbor2 because COSE-02 needs what cbor2 does not enforce: duplicate map keys
and indefinite lengths rejected, trailing bytes rejected, tags kept visible (COSE-05 needs to see tag 1), and a
depth limit so hostile input cannot exhaust the stack. The writer emits core deterministic encoding (shortest
heads, map keys sorted bytewise by their encoding), which is what go-cose writes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

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


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise CBORError("unexpected end of CBOR data")
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def head(self) -> tuple[int, int, int]:
        """Return (major type, additional info, argument)."""
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if info < 24:
            return major, info, info
        if info in (24, 25, 26, 27):
            size = 1 << (info - 24)
            return major, info, int.from_bytes(self.take(size), "big")
        if info == 31:
            raise CBORError("indefinite-length CBOR items are not allowed")
        raise CBORError(f"reserved CBOR additional information {info}")

    def item(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CBORError("CBOR nesting too deep")
        major, info, arg = self.head()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self.take(arg)
        if major == 3:
            try:
                return self.take(arg).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CBORError("invalid UTF-8 in CBOR text string") from exc
        if major == 4:
            if arg > len(self.data) - self.pos:
                raise CBORError("unexpected end of CBOR data")
            return [self.item(depth + 1) for _ in range(arg)]
        if major == 5:
            if arg > len(self.data) - self.pos:
                raise CBORError("unexpected end of CBOR data")
            out: dict[Any, Any] = {}
            for _ in range(arg):
                key = self.item(depth + 1)
                if isinstance(key, bool) or not isinstance(key, (int, str, bytes)):
                    raise CBORError("CBOR map keys must be integers, text strings or byte strings")
                if key in out:
                    raise CBORError(f"duplicate CBOR map key {key!r}")
                out[key] = self.item(depth + 1)
            return out
        if major == 6:
            return Tag(arg, self.item(depth + 1))
        # major 7: simple values and floats
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 23:
            return UNDEFINED
        if info == 25:
            return struct.unpack(">e", arg.to_bytes(2, "big"))[0]
        if info == 26:
            return struct.unpack(">f", arg.to_bytes(4, "big"))[0]
        if info == 27:
            return struct.unpack(">d", arg.to_bytes(8, "big"))[0]
        raise CBORError(f"unsupported CBOR simple value {arg}")


def loads(data: bytes) -> Any:
    """Decode exactly one CBOR item; trailing bytes are an error."""
    reader = _Reader(data)
    value = reader.item(0)
    if reader.pos != len(data):
        raise CBORError(f"{len(data) - reader.pos} bytes of extraneous data after the CBOR item")
    return value


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise CBORError("integer too large for CBOR")


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
