"""``notation-azure-kv install-launcher DIR``: write ``DIR/notation-azure-kv``, a small executable that runs this
plugin with the current Python, so notation (ours or Go's) can run it from its plugin directory.

Either point DIR at ``<notation libexec>/plugins/azure-kv`` directly, or write it anywhere and install it with
``notation plugin install --file DIR/notation-azure-kv`` (the launcher is a single executable named as notation
expects, so the standard install checks apply).
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path


def launcher_text(python: str | None = None) -> str:
    interpreter = python or sys.executable
    return (
        "#!/bin/sh\n"
        "# notation azure-kv plugin launcher (notation-py): runs the Python implementation.\n"
        f"exec {shlex.quote(interpreter)} -m notation_azure_kv \"$@\"\n"
    )


def install_launcher(directory: Path, python: str | None = None) -> Path:
    """Write the launcher atomically (temp file + rename), mode 0755."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "notation-azure-kv"
    fd, tmp = tempfile.mkstemp(prefix=".notation-azure-kv-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(launcher_text(python))
        os.chmod(tmp, 0o755)  # noqa: S103 - an executable others may run, like any installed plugin
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
