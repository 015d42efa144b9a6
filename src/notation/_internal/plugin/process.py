"""Running one plugin command: one process, JSON on stdin, JSON on stdout, error JSON on stderr (PLG-20..24).

The output of a plugin is untrusted input: both streams are read with a hard cap (64 MiB, PLG-22), an optional
overall timeout kills the whole process group, and every malformed answer becomes a typed PluginError with a
one-line message. No timeout by default: remote key stores may be slow and Go imposes none (PLG-25).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from notation._internal.log import logger as log
from notation._internal.plugin.protocol import (
    CMD_GET_METADATA,
    MAX_OUTPUT_BYTES,
    PluginCommandError,
    PluginExecutableError,
    PluginMalformedError,
    PluginMetadata,
    parse_metadata,
)
from notation._internal.records import dataclass
from notation.errors import PluginError


@dataclass(frozen=True)
class PluginOutput:
    """What one plugin command left behind: its exit status and both output streams (untrusted bytes)."""

    returncode: int
    stdout: bytes
    stderr: bytes


class _OutputTooLarge(Exception):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.stream = stream


def _read_bounded(pipe: IO[bytes], limit: int, sink: list[bytes], over: list[str], name: str, kill: Any) -> None:
    total = 0
    try:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                return
            total += len(chunk)
            if total > limit:
                over.append(name)
                kill()
                return
            sink.append(chunk)
    except (OSError, ValueError):
        return


def _write_stdin(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass  # the plugin did not read its input; its exit status tells the story
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


def run_bounded(
    argv: list[str], stdin: bytes, *, limit: int = MAX_OUTPUT_BYTES, timeout: float | None = None
) -> PluginOutput:
    """Run ``argv`` with ``stdin``; raise _OutputTooLarge / subprocess.TimeoutExpired / OSError as they happen."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so a timeout or overflow can kill the plugin's children too
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None

    def kill() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            with contextlib.suppress(OSError):
                proc.kill()

    out: list[bytes] = []
    err: list[bytes] = []
    over: list[str] = []
    threads = [
        threading.Thread(target=_write_stdin, args=(proc.stdin, stdin), daemon=True),
        threading.Thread(target=_read_bounded, args=(proc.stdout, limit, out, over, "stdout", kill), daemon=True),
        threading.Thread(target=_read_bounded, args=(proc.stderr, limit, err, over, "stderr", kill), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill()
        proc.wait()
        for t in threads:
            t.join(timeout=5)
        raise
    # Grandchildren may still hold the pipes open: give the readers a moment, then cut them off.
    for t in threads[1:]:
        t.join(timeout=timeout if timeout is not None else 30)
        if t.is_alive():
            kill()
            t.join(timeout=5)
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()
    if over:
        raise _OutputTooLarge(over[0])
    return PluginOutput(returncode, b"".join(out), b"".join(err))


def _go_os_error(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


class _Shown:
    """Plugin JSON shown (decoded, secrets redacted) only when a log line is actually formatted, whichever handler
    formats it: a library user's own handler must not see plugin-config secrets either."""

    def __init__(self, data: bytes | str) -> None:
        self.data = data

    def __str__(self) -> str:
        from notation._internal.log import redact

        text = self.data if isinstance(self.data, str) else self.data.decode("utf-8", "replace")
        return redact(text)


class Plugin:
    """An installed plugin executable: ``{PLUGINS}/<name>/notation-<name>`` (or a staged one during install)."""

    def __init__(self, path: Path, name: str, *, timeout: float | None = None) -> None:
        self.path = Path(path)
        self.name = name
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Plugin(name={self.name!r}, path={str(self.path)!r})"

    def run(self, command: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Run ``command`` with ``request`` (JSON, compact, no trailing newline) and return the decoded response.

        Raises PluginCommandError (the plugin's own error object), PluginExecutableError (could not run, died
        without an error object, timed out) or PluginMalformedError (output breaks the contract).
        """
        text = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
        log.debug("Plugin %s request: %s", command, _Shown(text))  # notation-go plugin.go
        output = self.execute(command, text.encode())
        response = parse_output(self.name, command, output)
        log.debug("Plugin %s response: %s", command, _Shown(output.stdout))
        return response

    def execute(self, command: str, stdin: bytes) -> PluginOutput:
        """The one step that starts a process: run ``command`` with ``stdin`` and collect the bounded output.

        Raises PluginExecutableError (could not run, timed out) or PluginMalformedError (output too large); the
        output itself is judged by :func:`parse_output`.
        """
        try:
            return run_bounded([str(self.path), command], stdin, timeout=self.timeout)
        except _OutputTooLarge as exc:
            raise PluginMalformedError(
                f"failed to execute the {command} command for plugin {self.name}: "
                f"{exc.stream} reached the {MAX_OUTPUT_BYTES // (1024 * 1024)} MiB size limit"
            ) from None
        except subprocess.TimeoutExpired:
            raise PluginExecutableError(
                f"failed to execute the {command} command for plugin {self.name}: "
                f"timed out after {self.timeout:g} seconds"
            ) from None
        except OSError as exc:
            raise PluginExecutableError(
                f"failed to execute the {command} command for plugin {self.name}: "
                f"fork/exec {self.path}: {_go_os_error(exc)}",
                exc.errno,
            ) from exc

    def metadata(self, plugin_config: Mapping[str, str] | None = None) -> PluginMetadata:
        """``get-plugin-metadata``, validated (PLG-30..33) and name-checked (PLG-14). Never cached (PLG-15)."""
        request: dict[str, Any] = {}
        if plugin_config:
            request["pluginConfig"] = dict(plugin_config)
        return parse_metadata(self.name, self.run(CMD_GET_METADATA, request))


def parse_output(plugin_name: str, command: str, output: PluginOutput) -> dict[str, Any]:
    """The response object of a finished command, or the typed error it amounts to (PLG-20..22).

    Pure (no process): everything a plugin prints goes through here, so this is what the fuzz target drives.
    """
    if output.returncode != 0:
        raise error_from_output(plugin_name, command, output)
    try:
        response = json.loads(output.stdout)
    except (ValueError, UnicodeDecodeError, RecursionError):  # hostile nesting too (Go: "exceeded max depth")
        response = None
    if not isinstance(response, dict):
        raise PluginMalformedError(f"failed to unmarshal the response of {command} command for plugin {plugin_name}")
    return response


def error_from_output(plugin_name: str, command: str, output: PluginOutput) -> PluginError:
    """PLG-21 as Go does it: empty stderr -> process error; otherwise it must be the error object."""
    rc = output.returncode
    status = f"exit status {rc}" if rc > 0 else f"signal: {_signal_name(-rc)}"
    if not output.stderr.strip():
        return PluginExecutableError(f"failed to execute the {command} command for plugin {plugin_name}: {status}")
    try:
        obj = json.loads(output.stderr)
    except (ValueError, UnicodeDecodeError, RecursionError):
        obj = None
    keys = ("errorCode", "errorMessage", "errorMetadata")
    valid = (
        isinstance(obj, dict)
        and any(k in obj for k in keys)
        and isinstance(obj.get("errorCode", ""), str)
        and isinstance(obj.get("errorMessage", ""), str)
        and isinstance(obj.get("errorMetadata", {}), dict | None)
    )
    if not valid:
        text = output.stderr[:1024].decode("utf-8", "replace").strip().replace("\n", " ")
        return PluginMalformedError(
            f"failed to execute the {command} command for plugin {plugin_name}: the error response isn't "
            f"compliant with Notation plugin requirement: {text}"
        )
    assert isinstance(obj, dict)
    code = str(obj.get("errorCode") or "ERROR")
    message = str(obj.get("errorMessage") or code)
    metadata = {str(k): str(v) for k, v in (obj.get("errorMetadata") or {}).items()}
    return PluginCommandError(message, code, metadata)


_GO_SIGNAL_TEXT = {9: "killed", 15: "terminated", 11: "segmentation fault", 6: "aborted", 2: "interrupt"}


def _signal_name(num: int) -> str:
    """Go's ``signal: <text>`` wording of the common signals."""
    if num in _GO_SIGNAL_TEXT:
        return _GO_SIGNAL_TEXT[num]
    try:
        return signal.Signals(num).name.removeprefix("SIG").lower()
    except ValueError:
        return str(num)
