"""Name resolution for named vaults: ``<vault>.localhost`` lines in ``/etc/hosts``.

Debian's ``hosts: files dns`` does not resolve ``*.localhost`` (glibc has no built-in rule for it) and hosts files
take no wildcards, so each named vault needs one line ``127.0.0.1 <vault>.localhost``. ``notation-devstack vault
hosts --apply`` adds the missing ones (root only; idempotent, existing lines untouched). The file is rewritten in
place under an ``flock`` rather than replaced, because in containers ``/etc/hosts`` is often a bind mount that a
rename cannot replace. The alternative with no per-vault step is libnss-myhostname (``hosts: files myhostname
dns``), which resolves every ``*.localhost`` to loopback.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

HOSTS_FILE = Path("/etc/hosts")
MARK = "# notation-devstack vault"


def vault_host(name: str) -> str:
    return f"{name.lower()}.localhost"


def resolves(host: str) -> bool:
    try:
        return any(info[4][0] in ("127.0.0.1", "::1") for info in socket.getaddrinfo(host, None))
    except OSError:
        return False


def missing_lines(names: list[str], path: Path = HOSTS_FILE) -> list[str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = ""
    present: set[str] = set()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        present.update(f.lower() for f in fields[1:])
    return [f"127.0.0.1 {vault_host(n)} {MARK}" for n in names if vault_host(n) not in present]


def ensure_entries(names: list[str], path: Path = HOSTS_FILE) -> list[str]:
    """Append the missing ``127.0.0.1 <vault>.localhost`` lines; returns the lines added."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            added = missing_lines(names, path)
            if added:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                prefix = ""
                if size:
                    fh.seek(size - 1)
                    prefix = "" if fh.read(1) == "\n" else "\n"
                fh.seek(0, os.SEEK_END)
                fh.write(prefix + "".join(line + "\n" for line in added))
                fh.flush()
                os.fsync(fh.fileno())
            return added
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
