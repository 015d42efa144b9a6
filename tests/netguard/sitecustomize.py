"""Loopback-only guard for the subprocesses of the az tutorial test (put this directory on PYTHONPATH).

An audit hook (PEP 578) sees every ``socket.connect``/``connect_ex``/``sendto``/``getaddrinfo`` of the process:
anything that is not a loopback address, ``localhost`` or a ``*.localhost`` name is written to
``$NETGUARD_LOG`` and refused with an OSError at once (a refused call fails fast; it never waits for a timeout).
The test fails when the log is not empty, so a caller that swallows the error (a probing credential, telemetry)
is caught too. Only Python-level sockets are seen; every process the test runs is Python (az, notation, the
plugin, the stand-ins).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys


def _allowed_host(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost") or name == "":
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(event: str, target: object) -> None:
    path = os.environ.get("NETGUARD_LOG")
    line = f"{os.getpid()} {' '.join(sys.argv[:3])[:200]}: {event} {target!r}\n"
    if path:
        with open(path, "a") as out:
            out.write(line)
    raise OSError(f"netguard: {event} to {target!r} refused: only loopback is allowed in this test")


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event in ("socket.connect", "socket.sendto") and len(args) >= 2:
        family, address = getattr(args[0], "family", None), args[-1]
        inet = family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and bool(address)
        if inet and isinstance(address, tuple) and not _allowed_host(address[0]):
            _refuse(event, address)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname") and args and not _allowed_host(args[0]):
        _refuse(event, args[0])


if os.environ.get("NETGUARD_LOG"):
    sys.addaudithook(_hook)
