"""A small cobra/pflag look-alike: the command tree, flag parsing, validation order and help rendering.

Why not argparse: the Go CLI's contract is its exact messages (``unknown flag: --x``, ``flag needs an argument``,
``invalid argument "x" for "--max-signatures" flag: ...``), interspersed flags, ``--flag=false`` booleans, combined
shorthands, cobra's validation order (CLI-05) and cobra's help layout. Bending argparse into all of that costs more
code than this parser, and this module imports nothing but ``os`` and ``sys`` at run time (not even ``typing`` or
``re``: on Python 3.11 ``typing`` imports ``re``, ``enum`` and ``functools``), so ``notation --help`` stays fast; the
guard is tests/test_startup.py.
"""

from __future__ import annotations

import os
import sys

from notation._internal.records import dataclass, field
from notation.errors import NotationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Sequence
    from typing import Literal, TextIO

    FlagKind = Literal["bool", "string", "int", "duration", "stringArray"]

EXPERIMENTAL_ENV = "NOTATION_EXPERIMENTAL"
EXPERIMENTAL_WARNING = (
    "Warning: This feature is experimental and may not be fully tested or completed and may be deprecated. "
    'Report any issues to "https://github/notaryproject/notation"'
)


class CommandError(NotationError):
    """A usage or validation error raised by the CLI layer itself (printed as ``Error: <message>``)."""


def os_message(exc: OSError, op: str = "open") -> str:
    """Go's *fs.PathError text: ``open <path>: no such file or directory``."""
    reason = (exc.strerror or str(exc)).lower()
    return f"{op} {exc.filename}: {reason}" if exc.filename is not None else reason


def read_input_file(path: str, limit: int, context: str, too_large: str) -> bytes:
    """A user-named input file read whole but bounded (at most ``limit`` bytes), failing with Go's words: ``read
    <path>: is a directory`` or the *fs.PathError text, after ``context`` (``failed to read ...: `` or empty);
    ``too_large`` is the whole message for a larger file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except IsADirectoryError:
        raise CommandError(f"{context}read {path}: is a directory") from None
    except OSError as exc:
        raise CommandError(f"{context}{os_message(exc)}") from None
    if len(data) > limit:
        raise CommandError(too_large)
    return data


def no_args(args: list[str]) -> None:
    """cobra.ExactArgs(0) (``policy show``, ``blob policy show|init``)."""
    if args:
        raise CommandError(f"accepts 0 arg(s), received {len(args)}")


class HelpRequested(Exception):
    """Internal signal: print the help of ``command`` and exit 0."""

    def __init__(self, command: Command) -> None:
        super().__init__(command.path)
        self.command = command


def is_experimental() -> bool:
    return os.environ.get(EXPERIMENTAL_ENV) == "1"


def go_quote(text: str) -> str:
    """Go's ``%q`` for the strings we quote (printable text; control characters escaped)."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------------------------------------------
# Value parsing with Go's messages (strconv, time.ParseDuration)

_BOOL_VALUES = {
    "1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
    "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False,
}  # fmt: skip


def parse_go_bool(text: str) -> bool:
    if text in _BOOL_VALUES:
        return _BOOL_VALUES[text]
    raise ValueError(f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


_INT_PATTERN = r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$"
_DURATION_PATTERN = r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)"
_compiled: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: only int and duration flags need a regex, and ``re`` costs every start-up."""
    compiled = _compiled.get(pattern)
    if compiled is None:
        import re

        compiled = _compiled[pattern] = re.compile(pattern)
    return compiled


def parse_go_int(text: str) -> int:
    """strconv.ParseInt(s, 0, 64)."""
    if not _regex(_INT_PATTERN).match(text) or "__" in text or text.rstrip("_") != text:
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if len(body) > 1 and body[0] == "0" and body[1] not in "xXoObB":
        value = int(body.replace("_", ""), 8)
    else:
        value = int(body.replace("_", ""), 0)
    value *= sign
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return value


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def parse_go_duration(text: str) -> int:
    """time.ParseDuration: ``[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+`` -> nanoseconds, with Go's error messages."""
    original = go_quote(text)
    s = text
    negative = False
    if s[:1] in ("-", "+"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {original}")
    total = 0
    while s:
        m = _regex(_DURATION_PATTERN).match(s)
        if m is None:  # pragma: no cover - the pattern always matches
            raise ValueError(f"time: invalid duration {original}")
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {original}")
        if not unit:
            raise ValueError(f"time: missing unit in duration {original}")
        if unit not in _DURATION_UNITS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {original}")
        scale = _DURATION_UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > 2**63 - 1:
            raise ValueError(f"time: invalid duration {original}")
        s = s[m.end() :]
    return -total if negative else total


def format_go_duration(ns: int) -> str:
    """time.Duration.String() for whole-second-or-larger values used in help texts."""
    if ns == 0:
        return "0s"
    seconds, rem = divmod(abs(ns), 1_000_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    out = "-" if ns < 0 else ""
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    frac = f".{rem:09d}".rstrip("0") if rem else ""
    return out + f"{seconds}{frac.rstrip('.')}s"


# --------------------------------------------------------------------------------------------------------------
# Flags and commands


@dataclass
class Flag:
    """One pflag flag. ``default`` None means the type's zero value."""

    name: str
    kind: FlagKind
    help: str
    short: str | None = None
    default: object = None
    hidden: bool = False
    experimental: bool = False
    required: bool = False
    default_factory: Callable[[], object] | None = None
    """Computes the default when it is needed (e.g. from config.json), so building the tree stays cheap."""

    def __post_init__(self) -> None:
        self._resolved = self.default_factory is None

    def _resolve_default(self) -> None:
        if not self._resolved and self.default_factory is not None:
            self.default = self.default_factory()
            self._resolved = True

    def zero(self) -> object:
        self._resolve_default()
        if self.default is not None:
            return list(self.default) if isinstance(self.default, list) else self.default
        return {"bool": False, "string": "", "int": 0, "duration": 0, "stringArray": []}[self.kind]

    @property
    def display_name(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    def convert(self, raw: str) -> object:
        try:
            if self.kind == "bool":
                return parse_go_bool(raw)
            if self.kind == "int":
                return parse_go_int(raw)
            if self.kind == "duration":
                return parse_go_duration(raw)
        except ValueError as exc:
            raise CommandError(
                f"invalid argument {go_quote(raw)} for {go_quote(self.display_name)} flag: {exc}"
            ) from None
        return raw

    def default_text(self) -> str:
        """pflag's `` (default ...)`` suffix; empty for zero values."""
        self._resolve_default()
        if self.default is None:
            return ""
        if self.kind == "bool":
            return " (default true)" if self.default else ""
        if self.kind == "string":
            return f' (default "{self.default}")' if self.default else ""
        if self.kind == "int":
            return f" (default {self.default})" if self.default else ""
        if self.kind == "duration":
            return f" (default {format_go_duration(int(str(self.default)))})" if self.default else ""
        return ""

    def type_name(self) -> str:
        return "" if self.kind == "bool" else self.kind


@dataclass
class Invocation:
    """What a command handler receives: positional arguments, flag values and the streams."""

    command: Command
    args: list[str]
    values: dict[str, object]
    changed: set[str]
    stdout: TextIO
    stderr: TextIO
    stdin: TextIO

    def flag_bool(self, name: str) -> bool:
        return bool(self.values[name])

    def flag_str(self, name: str) -> str:
        return str(self.values[name])

    def flag_int(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def flag_list(self, name: str) -> list[str]:
        value = self.values[name]
        assert isinstance(value, list)
        return [str(v) for v in value]

    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text + "\n")

    def warn(self, text: str) -> None:
        self.stderr.write(f"Warning: {text}\n")


if TYPE_CHECKING:
    Handler = Callable[[Invocation], int | None]
    ArgsCheck = Callable[[list[str]], None]
    ArgsFlagsCheck = Callable[[list[str], dict[str, object]], None]
    """A positional check that also looks at flag values (cobra's Args functions can read the parsed flags)."""


@dataclass
class Command:
    """One cobra command."""

    use: str
    short: str
    long: str = ""
    aliases: tuple[str, ...] = ()
    flags: list[Flag] = field(default_factory=list)
    run: Handler | None = None
    args: ArgsCheck | None = None
    args_with_flags: ArgsFlagsCheck | None = None
    children: list[Command] = field(default_factory=list)
    exclusive: list[tuple[str, ...]] = field(default_factory=list)
    together: list[tuple[str, ...]] = field(default_factory=list)
    one_required: list[tuple[str, ...]] = field(default_factory=list)
    experimental_examples: str = ""
    no_args: bool = False
    hidden: bool = False
    parent: Command | None = None
    pre_run: Callable[[dict[str, object], set[str]], None] | None = None
    """cobra's PreRunE: runs after the experimental check, before required flags and flag groups (CLI-05)."""
    disable_flags_in_use_line: bool = False
    """cobra's DisableFlagsInUseLine: no `` [flags]`` after the use line."""
    loader: Callable[[], Command] | None = None
    """Set on a placeholder: builds the real command when it is used (keeps start-up imports minimal)."""

    def __post_init__(self) -> None:
        self.flags.append(Flag("help", "bool", f"help for {self.name}", short="h"))
        for child in self.children:
            child.parent = self

    @property
    def name(self) -> str:
        return self.use.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return f"{self.parent.path} {self.name}" if self.parent else self.name

    @property
    def runnable(self) -> bool:
        return self.run is not None

    def add(self, *children: Command) -> None:
        for child in children:
            child.parent = self
            self.children.append(child)

    def child(self, arg: str) -> Command | None:
        for i, c in enumerate(self.children):
            if arg == c.name or arg in c.aliases:
                if c.loader is not None:
                    c = self.children[i] = materialize(c)
                    c.parent = self
                return c
        return None

    def flag(self, arg: str) -> Flag | None:
        return next((f for f in self.flags if f.name == arg), None)

    def short_flag(self, ch: str) -> Flag | None:
        return next((f for f in self.flags if f.short == ch), None)

    def visible_flags(self) -> list[Flag]:
        show_experimental = is_experimental()
        return sorted(
            (f for f in self.flags if not f.hidden and (not f.experimental or show_experimental)),
            key=lambda f: f.name,
        )


def materialize(placeholder: Command) -> Command:
    assert placeholder.loader is not None
    real = placeholder.loader()
    if (real.name, real.aliases, real.short) != (placeholder.name, placeholder.aliases, placeholder.short):
        raise RuntimeError(f"placeholder for {placeholder.name!r} disagrees with the command it loads")
    return real


def load_all(cmd: Command) -> None:
    """Replace every placeholder below ``cmd`` by its command (for completion scripts and tests)."""
    for i, child in enumerate(cmd.children):
        if child.loader is not None:
            child = cmd.children[i] = materialize(child)
            child.parent = cmd
        load_all(child)


# --------------------------------------------------------------------------------------------------------------
# Finding the command (cobra Find) and parsing its flags (pflag)


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _suggestions(cmd: Command, typed: str) -> str:
    names = [
        c.name
        for c in sorted(cmd.children, key=lambda c: c.name)
        if not c.hidden
        and c.name != "help"
        and (_levenshtein(typed.lower(), c.name.lower()) <= 2 or c.name.lower().startswith(typed.lower()))
    ]
    if not names:
        return ""
    return "\n\nDid you mean this?\n" + "".join(f"\t{n}\n" for n in names)


class UnknownCommand(CommandError):
    """Raised by command lookup at the root: cobra adds ``Run '<path> --help' for usage.``."""

    def __init__(self, message: str, command: Command) -> None:
        super().__init__(message)
        self.command = command


def _takes_value(cmd: Command, arg: str) -> bool:
    """cobra's stripFlags: does this flag arg consume the next argument?"""
    if arg.startswith("--"):
        if "=" in arg:
            return False
        f = cmd.flag(arg[2:])
        return f is not None and f.kind != "bool"
    if len(arg) == 2:
        f = cmd.short_flag(arg[1])
        return f is not None and f.kind != "bool"
    return False


def find_command(root: Command, argv: list[str]) -> tuple[Command, list[str]]:
    """Walk sub-command names (skipping flags and their values) like cobra's Find."""
    cmd = root
    rest = list(argv)
    while cmd.children:
        index = None
        i = 0
        while i < len(rest):
            arg = rest[i]
            if arg == "--":
                break
            if arg.startswith("-") and arg != "-":
                i += 2 if _takes_value(cmd, arg) else 1
                continue
            index = i
            break
        if index is None:
            break
        nxt = cmd.child(rest[index])
        if nxt is None:
            if cmd.parent is None and not cmd.runnable:
                raise UnknownCommand(
                    f"unknown command {go_quote(rest[index])} for {go_quote(cmd.path)}"
                    + _suggestions(cmd, rest[index]),
                    cmd,
                )
            break
        del rest[index]
        cmd = nxt
    return cmd, rest


def parse_flags(cmd: Command, argv: Sequence[str]) -> tuple[list[str], dict[str, object], set[str]]:
    """pflag's interspersed parsing with its error messages."""
    values: dict[str, object] = {f.name: f.zero() for f in cmd.flags}
    changed: set[str] = set()
    positional: list[str] = []

    def assign(f: Flag, raw: str) -> None:
        value = f.convert(raw)
        if f.kind == "stringArray":
            current = values[f.name] if f.name in changed else []
            assert isinstance(current, list)
            current.append(value)
            values[f.name] = current
        else:
            values[f.name] = value
        changed.add(f.name)

    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        if arg.startswith("--"):
            body = arg[2:]
            if body.startswith("-") or body.startswith("="):
                raise CommandError(f"bad flag syntax: {arg}")
            name, eq, raw = body.partition("=")
            f = cmd.flag(name)
            if f is None:
                raise CommandError(f"unknown flag: --{name}")
            if eq:
                assign(f, raw)
            elif f.kind == "bool":
                assign(f, "true")
            elif i < len(args):
                assign(f, args[i])
                i += 1
            else:
                raise CommandError(f"flag needs an argument: {arg}")
            continue
        shorthands = arg[1:]
        while shorthands:
            ch = shorthands[0]
            f = cmd.short_flag(ch)
            if f is None:
                raise CommandError(f"unknown shorthand flag: '{ch}' in -{shorthands}")
            if len(shorthands) > 2 and shorthands[1] == "=":
                assign(f, shorthands[2:])
                shorthands = ""
            elif f.kind == "bool":
                assign(f, "true")
                shorthands = shorthands[1:]
            elif len(shorthands) > 1:
                assign(f, shorthands[1:])
                shorthands = ""
            elif i < len(args):
                assign(f, args[i])
                i += 1
                shorthands = ""
            else:
                raise CommandError(f"flag needs an argument: '{ch}' in -{shorthands}")
    return positional, values, changed


# --------------------------------------------------------------------------------------------------------------
# Help rendering (cobra's default templates)


def flag_usages(flags: list[Flag]) -> str:
    lines: list[tuple[str, str]] = []
    for f in flags:
        head = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        if f.type_name():
            head += " " + f.type_name()
        lines.append((head, f.help + f.default_text()))
    if not lines:
        return ""
    width = max(len(h) for h, _ in lines) + 1
    return "\n".join(f"{h}{' ' * (width - len(h))}  {u}".rstrip() for h, u in lines)


def use_line(cmd: Command) -> str:
    line = f"{cmd.parent.path} {cmd.use}" if cmd.parent else cmd.use
    if cmd.visible_flags() and "[flags]" not in line and not cmd.disable_flags_in_use_line:
        line += " [flags]"
    return line


def render_help(cmd: Command) -> str:
    """cobra's help: the long (or short) description, a blank line, then the usage."""
    text = cmd.long or cmd.short
    if cmd.experimental_examples and is_experimental():
        text += cmd.experimental_examples  # Go's HideFlags appends them to Long as they are
    text = text.rstrip()  # cobra's trimTrailingWhitespaces (inner lines keep theirs)
    return (text + "\n\n" if text else "") + render_usage(cmd)


def render_usage(cmd: Command) -> str:
    """cobra's usage template."""
    out: list[str] = []
    available = sorted((c for c in cmd.children if not c.hidden), key=lambda c: c.name)
    usage = "Usage:"
    if cmd.runnable:
        usage += "\n  " + use_line(cmd)
    if available:
        usage += f"\n  {cmd.path} [command]"
    if cmd.aliases:
        usage += "\n\nAliases:\n  " + ", ".join((cmd.name, *cmd.aliases))
    if available:
        pad = max(len(c.name) for c in cmd.children)
        usage += "\n\nAvailable Commands:" + "".join(f"\n  {c.name.ljust(pad)} {c.short}" for c in available)
    flags = cmd.visible_flags()
    if flags:
        usage += "\n\nFlags:\n" + flag_usages(flags)
    if available:
        usage += f'\n\nUse "{cmd.path} [command] --help" for more information about a command.'
    out.append(usage + "\n")
    return "".join(out)


# --------------------------------------------------------------------------------------------------------------
# Execution (cobra's execute order, CLI-05)


def _check_experimental(cmd: Command, changed: set[str], stderr: TextIO) -> None:
    used = [f"--{f.name}" for f in cmd.flags if f.experimental and f.name in changed]
    if not used:
        return
    if not is_experimental():
        raise CommandError(
            f"flag(s) {','.join(used)} in {go_quote(cmd.path)} is experimental and not enabled by default. "
            "To use, please set NOTATION_EXPERIMENTAL=1 environment variable"
        )
    stderr.write(EXPERIMENTAL_WARNING + "\n")


def _check_required(cmd: Command, changed: set[str]) -> None:
    missing = sorted(f.name for f in cmd.flags if f.required and f.name not in changed)
    if missing:
        raise CommandError("required flag(s) " + ", ".join(f'"{m}"' for m in missing) + " not set")


def _check_groups(cmd: Command, changed: set[str]) -> None:
    """cobra: "required together", then "one required", then "mutually exclusive"; groups in sorted key order."""
    for group in sorted(cmd.together, key=" ".join):
        missing = sorted(g for g in group if g not in changed)
        if missing and len(missing) != len(group):
            raise CommandError(
                f"if any flags in the group [{' '.join(group)}] are set they must all be set; "
                f"missing [{' '.join(missing)}]"
            )
    for group in sorted(cmd.one_required, key=" ".join):
        if not any(g in changed for g in group):
            raise CommandError(f"at least one of the flags in the group [{' '.join(group)}] is required")
    for group in sorted(cmd.exclusive, key=" ".join):
        present = sorted(g for g in group if g in changed)
        if len(present) > 1:
            raise CommandError(
                f"if any flags in the group [{' '.join(group)}] are set none of the others can be; "
                f"[{' '.join(present)}] were all set"
            )


def _quiet_logging() -> None:
    """Without -v/-d nothing is logged (CLI-06): keep Python's last-resort handler from printing warnings."""
    from notation._internal import log

    log.quiet()


def execute(
    root: Command,
    argv: list[str],
    stdout: TextIO,
    stderr: TextIO,
    stdin: TextIO | None = None,
    parsed: dict[str, object] | None = None,
) -> int:
    """Find, parse, validate and run; raises NotationError/HelpRequested for the caller to report.

    ``parsed`` (if given) receives the flag values once parsing succeeded, so the caller knows about ``--debug``.
    """
    cmd, rest = find_command(root, argv)
    positional, values, changed = parse_flags(cmd, rest)
    if parsed is not None:
        parsed.update(values)
    if values.get("help"):
        raise HelpRequested(cmd)
    if not cmd.runnable:
        raise HelpRequested(cmd)
    if cmd.no_args and positional:
        raise CommandError(f"unknown command {go_quote(positional[0])} for {go_quote(cmd.path)}")
    if cmd.args is not None:
        cmd.args(positional)
    if cmd.args_with_flags is not None:
        cmd.args_with_flags(positional, values)
    _check_experimental(cmd, changed, stderr)
    if cmd.pre_run is not None:
        cmd.pre_run(values, changed)
    _check_required(cmd, changed)
    _check_groups(cmd, changed)
    assert cmd.run is not None
    _quiet_logging()
    inv = Invocation(cmd, positional, values, changed, stdout, stderr, stdin or sys.stdin)
    result = cmd.run(inv)
    return 0 if result is None else result
