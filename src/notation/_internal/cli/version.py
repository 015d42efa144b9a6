"""``notation version`` (CLI-132)."""

from __future__ import annotations

import sys

from notation._internal.cli.framework import Command, Invocation


def _run(inv: Invocation) -> None:
    import notation

    inv.out("Notation - a tool to sign and verify artifacts.")
    inv.out()
    # sys.version's first word is what platform.python_version() returns, without importing platform (start-up).
    # Go pads labels so values start at column 14; "Python version:" is longer, so every label is padded to 17.
    inv.out(f"{'Version:':<17}{notation.__version__}")
    inv.out(f"{'Python version:':<17}{sys.version.split()[0]}")


def command() -> Command:
    return Command("version", "Show the notation version information", run=_run, no_args=True)
