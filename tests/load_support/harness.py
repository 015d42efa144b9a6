"""Load and fault harness for our servers (issue 8, "Our servers under load and faults").

Two modes: the short one runs in CI (a few seconds per test); ``NOTATION_LOAD_LONG=1`` runs the long one for
local soak runs (``NOTATION_LOAD_SECONDS`` overrides the duration of the timed phases in either mode). Each test
reports its figures -- operations, errors, data lost -- on stdout (``pytest -s``) and, when
``NOTATION_LOAD_REPORT`` names a file, as one JSON line appended to it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLIENTS = 50


def long_mode() -> bool:
    return os.environ.get("NOTATION_LOAD_LONG", "") not in ("", "0")


def duration(short: float, long: float) -> float:
    """Seconds a timed phase runs: ``short`` in CI, ``long`` with NOTATION_LOAD_LONG=1, or NOTATION_LOAD_SECONDS."""
    override = os.environ.get("NOTATION_LOAD_SECONDS")
    if override:
        return float(override)
    return long if long_mode() else short


@dataclass
class Figures:
    """What a load or fault run did: operations by kind, errors (with the first few messages), data lost."""

    name: str
    ops: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    lost: int = 0
    checked: int = 0
    messages: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def op(self, kind: str) -> None:
        with self._lock:
            self.ops[kind] += 1

    def error(self, message: str) -> None:
        with self._lock:
            self.errors += 1
            if len(self.messages) < 20:
                self.messages.append(message[:300])

    def loss(self, message: str) -> None:
        with self._lock:
            self.lost += 1
            if len(self.messages) < 20:
                self.messages.append("LOST: " + message[:300])

    @property
    def operations(self) -> int:
        return sum(self.ops.values())

    def report(self) -> dict[str, Any]:
        doc = {
            "test": self.name,
            "mode": "long" if long_mode() else "short",
            "operations": self.operations,
            "by_kind": dict(sorted(self.ops.items())),
            "errors": self.errors,
            "lost": self.lost,
            "checked": self.checked,
            **self.extra,
        }
        print(f"\nLOAD {json.dumps(doc)}", flush=True)
        target = os.environ.get("NOTATION_LOAD_REPORT")
        if target:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(doc) + "\n")
        return doc

    def assert_clean(self) -> None:
        """The acceptance figures: no errors and nothing lost (messages shown when either is not 0)."""
        assert self.errors == 0 and self.lost == 0, "\n".join(self.messages)


def run_clients(count: int, seconds: float, work: Callable[[int, Callable[[], bool]], None],
                figures: Figures) -> None:
    """Run ``work(index, running)`` in ``count`` threads until ``seconds`` have passed.

    ``running()`` turns False at the deadline; workers check it between operations. An exception escaping a
    worker is an error in the figures (the worker's own failures are counted by the worker).
    """
    deadline = time.monotonic() + seconds
    start = threading.Barrier(count)

    def running() -> bool:
        return time.monotonic() < deadline

    def body(index: int) -> None:
        try:
            start.wait(timeout=60)
            work(index, running)
        except Exception as exc:  # every escape is counted, never swallowed silently
            figures.error(f"client {index}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=body, args=(i,), name=f"load-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
        assert not thread.is_alive(), f"{thread.name} is stuck"


class ServerProcess:
    """A ``notation-devstack`` server in a subprocess whose first stdout line names its URL; SIGKILL-able."""

    def __init__(self, args: list[str], url_prefix: str, log: Path) -> None:
        self.args = args
        self.url_prefix = url_prefix
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self._reader = threading.Thread()
        self.url = ""

    def start(self, timeout: float = 30.0) -> str:
        with open(self.log, "ab") as log:  # a file, not a pipe: a chatty server never blocks on a full pipe
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "notation_devstack", *self.args],
                stdout=subprocess.PIPE, stderr=log, text=True,
            )
        assert self.proc.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if self.url_prefix in line and not found:
                    found.append(line[line.index(self.url_prefix):].split()[0])

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        self._reader = reader
        end = time.monotonic() + timeout
        while not found and time.monotonic() < end and self.proc.poll() is None:
            time.sleep(0.02)
        if not found:
            self.kill()
            err = self.log.read_text(errors="replace")
            raise AssertionError(f"server did not start: {' '.join(self.args)}\n{err}")
        self.url = found[0]
        return self.url

    def kill(self) -> None:
        """SIGKILL: no handler, no flush, no cleanup -- the crash the storage must survive."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None:
            self._reader.join(timeout=5)  # EOF once the process is gone
            if self.proc.stdout is not None and not self._reader.is_alive():
                self.proc.stdout.close()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self.stop()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
