"""Parse the Dockerfile subset that needs no container runtime.

Supported: FROM (scratch, a registry image or an OCI layout), COPY/ADD of local files, ENV, WORKDIR, USER, LABEL,
EXPOSE, CMD, ENTRYPOINT, ARG (for substitution only). Anything else (RUN, HEALTHCHECK, ...) is refused with the line
number, because faking it would build an image that is not what the Dockerfile says.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

SUPPORTED = {"FROM", "COPY", "ADD", "ENV", "WORKDIR", "USER", "LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "ARG"}


class DockerfileError(Exception):
    """A Dockerfile we cannot build; the message names the line."""


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass
class Dockerfile:
    base: str = "scratch"
    instructions: list[Instruction] = field(default_factory=list)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; drop comments and blank lines; keep the first physical line number."""
    out: list[tuple[int, str]] = []
    buf = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if not buf:
            start = number
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        out.append((start, buf))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def parse(text: str) -> Dockerfile:
    result = Dockerfile()
    seen_from = False
    for number, line in _logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword not in SUPPORTED:
            raise DockerfileError(
                f"Dockerfile line {number}: {keyword} is not supported without a container runtime "
                f"(supported: {', '.join(sorted(SUPPORTED))})"
            )
        if keyword == "FROM":
            if seen_from:
                raise DockerfileError(f"Dockerfile line {number}: multi-stage builds are not supported")
            parts = rest.split()
            if not parts:
                raise DockerfileError(f"Dockerfile line {number}: FROM needs an image")
            result.base = parts[0]
            seen_from = True
            continue
        if not seen_from and keyword != "ARG":
            raise DockerfileError(f"Dockerfile line {number}: {keyword} before FROM")
        result.instructions.append(Instruction(number, keyword, rest.strip()))
    if not seen_from:
        raise DockerfileError("Dockerfile has no FROM instruction")
    return result


def words(instruction: Instruction) -> list[str]:
    """Exec form (a JSON array) or shell-words form."""
    args = instruction.args
    if args.startswith("["):
        try:
            value = json.loads(args)
        except json.JSONDecodeError as exc:
            raise DockerfileError(f"Dockerfile line {instruction.line}: invalid JSON array: {exc.msg}") from exc
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DockerfileError(f"Dockerfile line {instruction.line}: expected a JSON array of strings")
        return value
    try:
        return shlex.split(args)
    except ValueError as exc:
        raise DockerfileError(f"Dockerfile line {instruction.line}: {exc}") from exc


def key_values(instruction: Instruction) -> list[tuple[str, str]]:
    """ENV/LABEL: `k=v k2="v 2"` or the legacy `ENV k v` form."""
    parts = words(instruction)
    if parts and "=" not in parts[0]:
        if len(parts) < 2:
            raise DockerfileError(f"Dockerfile line {instruction.line}: {instruction.keyword} needs a value")
        return [(parts[0], " ".join(parts[1:]))]
    pairs = []
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise DockerfileError(f"Dockerfile line {instruction.line}: expected key=value, got {part!r}")
        pairs.append((key, value))
    return pairs


_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def substitute(text: str, env: dict[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)
