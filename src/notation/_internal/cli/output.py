"""Output shapes shared by commands: Go tabwriter tables (CLI-84), trees (CLI-80/81) and y/N prompts (CLI-85)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from notation._internal.records import dataclass, field

TAB_PADDING = 3


def table(rows: Sequence[Sequence[str]], *, padding: int = TAB_PADDING) -> str:
    """Go ``text/tabwriter`` (minwidth 0, padding 3, flags 0) over rows whose every cell ends with ``\\t``.

    Every cell, the last included, is padded to its column's widest cell plus ``padding``.
    """
    if not rows:
        return ""
    columns = max(len(r) for r in rows)
    widths = [0] * columns
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in rows:
        lines.append("".join(cell.ljust(widths[i] + padding) for i, cell in enumerate(row)) + "\n")
    return "".join(lines)


@dataclass
class Node:
    """A tree node; ``value`` is printed as is (``key: value`` nodes are built with :func:`kv`)."""

    value: str
    children: list[Node] = field(default_factory=list)

    def add(self, value: str) -> Node:
        child = Node(value)
        self.children.append(child)
        return child

    def add_kv(self, key: str, value: object) -> Node:
        return self.add(f"{key}: {value}")

    def render(self) -> str:
        lines = [self.value]
        _render_children(self, "", lines)
        return "\n".join(lines) + "\n"


def _render_children(node: Node, indent: str, lines: list[str]) -> None:
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        lines.append(indent + ("└── " if last else "├── ") + child.value)
        _render_children(child, indent + ("    " if last else "│   "), lines)


def confirm(prompt: str, stdin: TextIO, stdout: TextIO, *, assume_yes: bool = False) -> bool:
    """Go's AskForConfirmation: ask ``prompt`` (no newline) and read one line; only y/yes (any case) is a yes.

    A line that is not a yes prints ``Operation cancelled.``; at end of input nothing more is printed (Go's
    scanner found no line), so a closed stdin leaves only the prompt."""
    if assume_yes:
        return True
    stdout.write(prompt)
    stdout.flush()
    line = stdin.readline()
    if not line:
        return False
    if line.rstrip("\n").rstrip("\r").lower() in ("y", "yes"):
        return True
    stdout.write("Operation cancelled.\n")
    return False


def write_document(stdout: TextIO, data: bytes) -> None:
    """A file's bytes to stdout unchanged (``policy show``, ``blob policy show``): through the binary buffer when
    there is one, else decoded (a test's StringIO)."""
    stdout.flush()
    buffer = getattr(stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stdout.write(data.decode("utf-8", errors="replace"))
