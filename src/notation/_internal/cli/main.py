"""Entry point of the ``notation`` command: builds the command tree, runs it, turns errors into one line.

Every error is ``Error: <message>`` on stderr and exit 1 (CLI-02/03); with ``-d`` a traceback follows.
Importing this module (and the command modules) pulls in no crypto, HTTP or CBOR library, and this module and the
framework import no ``typing``, ``re`` or ``logging`` at run time: ``notation --help`` is interpreter start-up plus
a few small modules (tests/test_startup.py).
"""

from __future__ import annotations

import sys

from notation._internal.cli.framework import (
    Command,
    HelpRequested,
    Invocation,
    UnknownCommand,
    execute,
    find_command,
    render_help,
    render_usage,
)
from notation.errors import NotationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn, TextIO

ROOT_SHORT = "Notation - a tool to sign and verify artifacts"

# (module, factory, name, aliases, short): root help and command lookup need only these, so a command's module is
# imported only when that command runs (``notation --help`` imports none of them).
_COMMANDS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    ("blob", "command", "blob", (), "Commands for blob"),
    ("cert", "command", "certificate", ("cert",), "Manage certificates in trust store"),
    ("completion", "command", "completion", (), "Generate the autocompletion script for the specified shell"),
    ("inspect", "command", "inspect", (), "Inspect all signatures associated with the signed artifact"),
    ("key", "command", "key", (), "Manage keys used for signing"),
    ("list", "command", "list", ("ls",), "List signatures of the signed artifact"),
    ("login", "command", "login", (), "Login to registry"),
    ("login", "logout_command", "logout", (), "Log out from the logged in registries"),
    ("plugin", "command", "plugin", (), "Manage plugins"),
    ("policy", "command", "policy", (), "Manage trust policy configuration"),
    ("sign", "command", "sign", (), "Sign artifacts"),
    ("verify", "command", "verify", (), "Verify OCI artifacts"),
    ("version", "command", "version", (), "Show the notation version information"),
)


_READS_NO_CERTIFICATE = frozenset({"version"})
"""Command modules that never parse a certificate: they skip the warnings filter (it imports ``re``)."""


def _loader(module: str, factory: str) -> Callable[[], Command]:
    def load() -> Command:
        if module not in _READS_NO_CERTIFICATE:
            _quiet_library_warnings()  # before the command can parse a certificate (not for root help: needs re)
        name = f"notation._internal.cli.{module}"
        __import__(name)  # importlib.import_module would import importlib (and warnings) at every start
        built: Command = getattr(sys.modules[name], factory)()
        return built

    return load


def _help_command(root: Command) -> Command:
    def run(inv: Invocation) -> None:
        try:
            target, _ = find_command(root, inv.args)
        except UnknownCommand:
            topic = " ".join(f"`{a}`" for a in inv.args)
            inv.out(f"Unknown help topic [{topic}]")
            inv.stdout.write(render_usage(root))
            return
        inv.stdout.write(render_help(target))

    return Command(
        "help [command]",
        "Help about any command",
        long="Help provides help for any command in the application.\n"
        "Simply type notation help [path to command] for full details.",
        run=run,
    )


def build_root() -> Command:
    root = Command("notation", ROOT_SHORT)
    for module, factory, name, aliases, short in _COMMANDS:
        root.add(Command(name, short, aliases=aliases, loader=_loader(module, factory)))
    root.add(_help_command(root))
    return root


def _report(exc: BaseException, debug: bool, stderr: TextIO) -> None:
    message = exc.message if isinstance(exc, NotationError) else (str(exc) or type(exc).__name__)
    stderr.write(f"Error: {message}\n")
    if debug and not isinstance(exc, NotationError):  # a bug: -d shows where; Go's own errors stay one line
        import traceback  # only for bugs: not imported on the way of every command

        stderr.write("".join(traceback.format_exception(exc)))


def _silence_stdout() -> None:
    """The reader went away (``notation ls | head -1``): no second error when the interpreter flushes at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _quiet_library_warnings() -> None:
    """Go parses a zero serial number silently; cryptography warns (several lines) each time one is read. The
    CLI's stderr carries one-line messages only. Negative serials are refused when certificates are parsed."""
    import warnings  # filterwarnings compiles the message with re: not on the way of root help

    warnings.filterwarnings("ignore", message=r"Parsed a serial number which wasn't positive")


# The cyclic collector's first generation runs every 700 net allocations by default: importing the verification
# path's modules (and cryptography's) triggers it dozens of times, each time traversing every young object, though
# a one-shot command leaves little cyclic garbage. A larger threshold keeps collections (and memory bounded: a few
# MB of cycles at most) at a fraction of the cost: ~2.5% of a ``notation verify``'s instructions.
_CLI_GC_THRESHOLD = 50_000


def main(argv: list[str] | None = None) -> int:
    """Run ``notation`` with ``argv`` (default: sys.argv[1:]) and return the exit status."""
    import gc

    thresholds = gc.get_threshold()
    gc.set_threshold(_CLI_GC_THRESHOLD, *thresholds[1:])
    try:
        return _main(argv)
    finally:
        gc.set_threshold(*thresholds)  # an in-process caller (tests, completion) keeps its own settings


def run() -> NoReturn:
    """The console script's entry point: :func:`main`, then exit without tearing the interpreter down.

    Why: CPython's teardown (module dicts, cryptography's Rust objects, OpenSSL's own exit handlers) is about 13 ms
    of a 70 ms ``notation verify``, paid once per image by a pipeline for nothing. What an exit must do is done
    here first: the atexit handlers (``logging.shutdown``, weakref finalizers such as temporary directories'), then
    stdout and stderr flushed. Where that cannot be done cleanly (a flush fails, a non-daemon thread still runs),
    the interpreter exits as usual, so nothing is lost. In-process callers (tests, completion) use :func:`main`.
    """
    import gc

    # As main() does, without restoring the default threshold at the end: the restore made the very next
    # allocation run an overdue collection cascading to a full one over every object of the process (4-6 ms of a
    # 55 ms verify, -X importtime showed it as "import atexit"). Nothing collects once the command is done.
    gc.set_threshold(_CLI_GC_THRESHOLD, *gc.get_threshold()[1:])
    code = _main(None)
    gc.disable()
    import atexit
    import os

    atexit._run_exitfuncs()
    threading = sys.modules.get("threading")
    if threading is not None:
        current = threading.current_thread()
        if any(t is not current and t.is_alive() and not t.daemon for t in threading.enumerate()):
            sys.exit(code)  # threading._shutdown joins them, as a normal exit does
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # the interpreter reports it as it always has
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    parsed: dict[str, object] = {}
    if args and args[0] in ("__complete", "__completeNoDesc"):  # cobra's hidden completion requests
        from notation._internal.cli.completion import run_request

        _quiet_library_warnings()
        return run_request(args, stdout, stderr)
    try:
        root = build_root()
        return execute(root, args, stdout, stderr, sys.stdin, parsed)
    except HelpRequested as req:
        stdout.write(render_help(req.command))
        return 0
    except UnknownCommand as exc:
        stderr.write(f"Error: {exc.message}\n")
        stderr.write(f"Run '{exc.command.path} --help' for usage.\n")
        return 1
    except KeyboardInterrupt:
        stderr.write("Error: context canceled\n")
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except Exception as exc:  # every failure is one line; -d adds the traceback
        _report(exc, bool(parsed.get("debug")), stderr)
        return 1
    finally:
        try:  # noqa: SIM105 - contextlib.suppress would cost an import at every start
            stdout.flush()
        except (BrokenPipeError, ValueError):
            pass


if __name__ == "__main__":  # pragma: no cover
    run()
