"""For bench_tutorial_az.py: log every HTTP request a Python process makes through requests (az, MSAL, the Azure
SDK, the azure-kv plugin) as ``METHOD URL STATUS`` lines to ``$AZ_REQUESTS_LOG``. Put this directory on PYTHONPATH."""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any

_LOG = os.environ.get("AZ_REQUESTS_LOG")
_orig_import = builtins.__import__


def _patch() -> None:
    sessions = sys.modules.get("requests.sessions")
    session = getattr(sessions, "Session", None)  # None while the module is still being imported
    if sessions is None or session is None or getattr(session.send, "_bench_logged", False):
        return
    original = sessions.Session.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        try:
            response = original(self, request, **kwargs)
        except Exception as exc:
            _write(f"{request.method} {request.url.split('?')[0]} {type(exc).__name__}")
            raise
        _write(f"{request.method} {request.url.split('?')[0]} {response.status_code}")
        return response

    send._bench_logged = True  # type: ignore[attr-defined]
    sessions.Session.send = send


def _write(line: str) -> None:
    assert _LOG is not None
    with open(_LOG, "a") as out:
        out.write(f"{os.path.basename(sys.argv[0])} {line}\n")


def _import(name: str, *args: Any, **kwargs: Any) -> Any:
    module = _orig_import(name, *args, **kwargs)
    if hasattr(sys.modules.get("requests.sessions"), "Session"):
        _patch()
        builtins.__import__ = _orig_import
    return module


if _LOG:
    builtins.__import__ = _import
