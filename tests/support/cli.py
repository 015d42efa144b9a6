"""Running the CLI in-process the way the CLI tests do: argv in, (exit code, stdout, stderr) out."""

from __future__ import annotations

import io
import sys

import pytest

from notation._internal.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    """``notation <argv>`` with ``stdin`` (for prompts) as standard input; the captured output is consumed."""
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err
