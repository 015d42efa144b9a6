"""Start-up cost guards (issue 15): which modules each path imports, asserted by name, never by timing.

The wall-time figures are in bench/bench.py and bench/bench_many.py; these tests keep the import placement that
gives them. ``notation --help``/``version`` are interpreter start-up plus a few small modules: no ``typing``
(which on Python 3.11 imports ``re``, ``enum``, ``functools``), ``dataclasses`` (``inspect``, ``ast``), ``logging``
or ``pathlib``; ``notation verify`` adds what the verification needs and nothing it does not (no ``ssl`` for an OCI
layout or a plain-HTTP registry, no ``dataclasses``/``inspect``, no ``logging`` without ``-v``/``-d``). The
lighter replacements (notation._internal.records for dataclasses, the lazy logger) are tested here as well.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from notation._internal.records import FrozenInstanceError, dataclass, field, replace
from registry_support import push_image, running
from support import pki

BIN = Path(sys.executable).parent / "notation"

# Imported by the interpreter itself before any of our code runs (python -c pass); everything else is ours to pay.
_LIGHT_ALLOWED = {"__future__", "itertools", "gc", "_operator"}  # built in: nothing to read or run
_NEVER_ON_HELP = {
    "re", "typing", "enum", "functools", "collections", "dataclasses", "inspect", "logging", "pathlib", "datetime",
    "json", "warnings", "importlib", "contextlib", "threading", "socket", "ssl", "hashlib", "cryptography",
    "requests", "urllib3", "cbor2", "asn1crypto",
}  # fmt: skip
_NEVER_ON_VERIFY = {"dataclasses", "inspect", "logging", "ssl", "requests", "urllib3", "cbor2", "http", "subprocess"}


def _imported(argv: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the ``notation`` console script's code in a fresh interpreter; return the process and the module names
    imported after interpreter start-up (``-X importtime`` lists each module the first time it is imported)."""
    code = "import sys; from notation._internal.cli.main import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    baseline = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True, timeout=60
    )

    def names(stderr: str) -> set[str]:
        return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}

    return result, names(result.stderr) - names(baseline.stderr) - {"imported package"}


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("argv", [["--help"], ["version"], ["help"], ["frobnicate"]])
def test_help_and_version_import_only_our_small_modules(argv: list[str]) -> None:
    result, imported = _imported(argv)
    assert result.returncode == (1 if argv == ["frobnicate"] else 0), result.stderr
    ours = {m for m in imported if m == "notation" or m.startswith("notation.")}
    assert imported - ours <= _LIGHT_ALLOWED, imported - ours
    assert not (_top(imported) | imported) & _NEVER_ON_HELP
    assert ours <= {
        "notation", "notation._internal", "notation._internal.cli", "notation._internal.cli.main",
        "notation._internal.cli.framework", "notation._internal.cli.version", "notation._internal.records",
        "notation._internal.log", "notation.errors",
    }, ours  # fmt: skip


def test_import_notation_imports_nothing_else() -> None:
    code = "import sys; before = set(sys.modules); import notation; print(' '.join(sorted(set(sys.modules) - before)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert set(out.stdout.split()) <= {"notation", "__future__"}, out.stdout


def _signing_home(base: Path) -> tuple[dict[str, str], Path]:
    leaf = pki.self_signed_leaf("startup")
    key, cert = leaf.write(base / "keys", "startup")
    config = base / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "signingkeys.json").write_text(
        json.dumps({"default": "k", "keys": [{"name": "k", "keyPath": str(key), "certPath": str(cert)}]})
    )
    store = config / "truststore" / "x509" / "ca" / "s"
    store.mkdir(parents=True)
    (store / "s.crt").write_bytes(leaf.cert_pem())
    return {"NOTATION_CONFIG": str(config), "NOTATION_EXPERIMENTAL": "1"}, config


def _policy(config: Path, scope: str) -> None:
    (config / "trustpolicy.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "trustPolicies": [
                    {
                        "name": "p",
                        "registryScopes": [scope],
                        "signatureVerification": {"level": "strict"},
                        "trustStores": ["ca:s"],
                        "trustedIdentities": ["*"],
                    }
                ],
            }
        )
    )


@pytest.mark.skipif(not BIN.exists(), reason="console script not installed in this environment")
def test_verify_oci_layout_imports_no_ssl_dataclasses_or_logging(tmp_path: Path) -> None:
    from notation._internal.oci.layout import write_image

    env, config = _signing_home(tmp_path)
    _policy(config, "local/app")
    desc = write_image(tmp_path / "layout", "v1", {"a.txt": b"a"})
    ref = f"{tmp_path / 'layout'}@{desc.digest}"
    run_env = {**os.environ, **env}
    signed = subprocess.run([str(BIN), "sign", "--oci-layout", ref], capture_output=True, text=True, env=run_env)
    assert signed.returncode == 0, signed.stderr
    result, imported = _imported(["verify", "--oci-layout", "--scope", "local/app", ref], env)
    assert result.returncode == 0 and "Successfully verified" in result.stdout, result.stderr
    assert not (_top(imported) | imported) & _NEVER_ON_VERIFY, (_top(imported) | imported) & _NEVER_ON_VERIFY
    assert "notation._internal.registry.httpclient" not in imported


@pytest.mark.skipif(not BIN.exists(), reason="console script not installed in this environment")
def test_verify_plain_http_registry_imports_no_ssl(tmp_path: Path) -> None:
    env, config = _signing_home(tmp_path)
    with running() as server:
        subject = push_image(server)
        ref = f"{server.address}/app@{subject.digest}"
        _policy(config, f"{server.address}/app")
        run_env = {**os.environ, **env}
        signed = subprocess.run(
            [str(BIN), "sign", "--insecure-registry", ref], capture_output=True, text=True, env=run_env, timeout=120
        )
        assert signed.returncode == 0, signed.stderr
        result, imported = _imported(["verify", "--insecure-registry", ref], env)
    assert result.returncode == 0 and "Successfully verified" in result.stdout, result.stderr
    assert "notation._internal.registry.httpclient" in imported  # the registry path was taken
    assert not (_top(imported) | imported) & _NEVER_ON_VERIFY, (_top(imported) | imported) & _NEVER_ON_VERIFY


# -- notation._internal.records: the dataclass subset notation uses ---------------------------------------------


@dataclass(frozen=True)
class _Point:
    """A frozen record."""

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list, compare=False)
    note: str = field(default="", repr=False)


@dataclass(frozen=True)
class _Point3(_Point):
    z: int = 0


@dataclass
class _Mutable:
    name: str
    items: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.derived = self.name.upper()


def test_records_init_repr_eq_hash() -> None:
    p = _Point(1, tags=["a"], note="hidden")
    assert (p.x, p.y, p.tags, p.note) == (1, 0, ["a"], "hidden")
    assert repr(p) == "_Point(x=1, y=0, tags=['a'])"
    assert p == _Point(1, 0, ["other"], "hidden") and p != _Point(1) and hash(p) == hash(_Point(1, note="hidden"))
    assert _Point(1).tags is not _Point(1).tags  # a fresh default per instance
    assert _Point3(1, 2, z=3) != _Point(1, 2)  # another class never compares equal
    assert _Point.__match_args__ == ("x", "y", "tags", "note")
    m = _Mutable("a")
    assert m.derived == "A" and m == _Mutable("a") and _Mutable.__hash__ is None
    m.name = "b"
    assert m.name == "b"


def test_records_frozen_and_argument_errors() -> None:
    p = _Point(1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'x'"):
        _Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="got multiple values for argument 'x'"):
        _Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'w'"):
        _Point(1, w=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional arguments"):
        _Point(1, 2, [], "", 5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="mutable default"):

        @dataclass
        class _Bad:
            items: list[int] = []


def test_records_replace_and_stdlib_dataclass_functions() -> None:
    p = _Point3(1, 2, ["t"], "n", 3)
    assert replace(p, z=9) == _Point3(1, 2, note="n", z=9) and replace(p, z=9).tags == ["t"]
    # the public models stay usable with the standard library's dataclass helpers
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(p)] == ["x", "y", "tags", "note", "z"]
    assert dataclasses.asdict(p) == {"x": 1, "y": 2, "tags": ["t"], "note": "n", "z": 3}
    assert dataclasses.replace(p, x=5) == _Point3(5, 2, note="n", z=3)
    assert type(vars(_Point3)["__dataclass_fields__"]) is dict  # built once, then kept on the class

    class _PlainSubclass(_Point):  # not decorated: its base's fields
        pass

    assert [f.name for f in dataclasses.fields(_PlainSubclass(1))] == ["x", "y", "tags", "note"]
    from notation.models import ValidationAction, ValidationResult, ValidationType

    result = ValidationResult(ValidationType.INTEGRITY, ValidationAction.ENFORCE)
    assert dataclasses.asdict(result) == {"type": "integrity", "action": "enforce", "error": None}


# -- the lazy logger -------------------------------------------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_lazy_logger_keeps_logging_semantics() -> None:
    # below WARNING, with logging never imported: dropped, and logging stays unimported
    out = _python(
        "import sys; from notation._internal.log import logger; logger.debug('d %s', 1); logger.info('i');"
        "print('logging' in sys.modules, logger.isEnabledFor(10))"
    )
    assert (out.stdout, out.stderr) == ("False False\n", "")
    # a warning reaches Python's last-resort handler, as logging.getLogger('notation').warning would
    out = _python("from notation._internal.log import get_logger; get_logger('revocation').warning('w %d', 7)")
    assert out.stderr == "w 7\n"
    # an application that configured logging gets every record, with its own handler and level
    out = _python(
        "import logging, sys;"
        "logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format='%(name)s %(message)s');"
        "from notation._internal.log import logger, get_logger; logger.debug('d %s', 1); get_logger('cli').info('i')"
    )
    assert out.stdout == "notation d 1\nnotation.cli i\n"
    # quiet() (the CLI without -v/-d) silences everything, before and after logging is imported
    out = _python(
        "from notation._internal import log; log.quiet(); log.get_logger('revocation').error('e');"
        "import logging; log.logger.warning('w'); logging.getLogger('other').warning('kept')"
    )
    assert out.stderr == "kept\n"
    out = _python(
        "import logging; from notation._internal import log; log.quiet(); log.logger.error('e');"
        "logging.getLogger('notation.revocation').warning('w'); print(log.debug_enabled())"
    )
    assert (out.stdout, out.stderr) == ("False\n", "")


def test_lazy_logger_configure_after_quiet_logs_again() -> None:
    out = _python(
        "import sys; from notation._internal import log; log.quiet(); log.configure(sys.stdout, level=log.DEBUG);"
        "log.logger.debug('token=%s', 'abc'); log.get_logger('revocation').info('r')"
    )
    lines = out.stdout.splitlines()
    assert lines[0].startswith("time=") and lines[0].endswith(" level=debug msg=token=*****")
    assert lines[1].endswith(" level=info msg=r")


def test_records_init_fast_paths_match_the_general_one() -> None:
    """All fields by keyword, or all by position, skip the general loop (issue 15: per-envelope records)."""
    by_keyword = _Point3(x=1, y=2, tags=["t"], note="n", z=3)
    by_position = _Point3(1, 2, ["t"], "n", 3)
    mixed = _Point3(1, 2, tags=["t"], note="n", z=3)
    for p in (by_keyword, by_position, mixed):
        assert (p.x, p.y, p.tags, p.note, p.z) == (1, 2, ["t"], "n", 3)
    assert by_keyword == by_position == mixed
    assert _Mutable(name="a", items=[1]).derived == "A" and _Mutable("a", [1]).derived == "A"  # __post_init__ runs
    with pytest.raises(TypeError, match="unexpected keyword argument 'w'"):
        _Point(x=1, y=2, tags=[], w=0)  # type: ignore[call-arg]  # as many keywords as fields, one unknown
    with pytest.raises(FrozenInstanceError):
        by_keyword.x = 5  # type: ignore[misc]


def test_records_compiled_init_of_a_hot_class_behaves_as_the_closure() -> None:
    """Issue 15: after _COMPILE_AFTER instances a class gets a compiled __init__; values, defaults, fresh factory
    results, __post_init__, frozenness and every TypeError's wording stay what they were."""
    from notation._internal import records

    def make_classes() -> tuple[type, type]:
        @dataclass(frozen=True)
        class Frozen:
            x: int
            y: int = 0
            tags: list[str] = field(default_factory=list)

        @dataclass
        class Mutable:
            name: str
            items: list[int] = field(default_factory=list)

            def __post_init__(self) -> None:
                self.derived = self.name.upper()

        return Frozen, Mutable

    def behaviour(frozen: Any, mutable: Any) -> list[object]:
        seen: list[object] = []
        a, b = frozen(1), frozen(x=2, y=3, tags=["t"])
        seen += [(a.x, a.y, a.tags), (b.x, b.y, b.tags), a.tags is not frozen(1).tags, repr(b)]
        m = mutable("n")
        seen += [(m.name, m.items, m.derived), m.items is not mutable("n").items]
        for bad in (lambda: frozen(), lambda: frozen(1, 2, [], 4), lambda: frozen(1, w=0), lambda: frozen(1, x=1)):
            with pytest.raises(TypeError) as info:
                bad()
            seen.append(str(info.value))
        with pytest.raises(FrozenInstanceError):
            a.x = 5
        return seen

    cold_frozen, cold_mutable = make_classes()
    expected = behaviour(cold_frozen, cold_mutable)
    hot_frozen, hot_mutable = make_classes()
    closure = hot_frozen.__init__
    for _ in range(records._COMPILE_AFTER):
        hot_frozen(0)
        hot_mutable("m")
    assert hot_frozen.__init__ is not closure and "<locals>" in hot_frozen.__init__.__qualname__
    assert behaviour(hot_frozen, hot_mutable) == expected


# The console script's exit without interpreter teardown (cli.main.run): what an exit must do still happens.


def _run_script(body: str, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter that sets things up with ``body``, then runs the console script's entry point."""
    lines = ["import sys", body, "from notation._internal.cli.main import run", f"sys.argv = ['notation', *{argv!r}]"]
    code = "\n".join([*lines, "run()", ""])
    env = {**os.environ, "NOTATION_CONFIG": str(tmp_path / "config")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)


def test_run_calls_atexit_handlers_and_flushes_output(tmp_path: Path) -> None:
    """Handlers registered with atexit (logging.shutdown, temporary directories' finalizers, a caller's own) run
    before the fast exit, and what the command printed reaches the pipe."""
    marker = tmp_path / "atexit-ran"
    result = _run_script(
        f"import atexit, tempfile, pathlib\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
        f"left = tempfile.TemporaryDirectory(dir={str(tmp_path)!r})\n"
        f"pathlib.Path({str(tmp_path / 'tmpdir-name')!r}).write_text(left.name)\n"
        f"sys.stdout.write('buffered, not flushed\\n')",
        tmp_path,
        "version",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("buffered, not flushed\nNotation - a tool to sign and verify artifacts.")
    assert marker.read_text() == "yes"
    assert not Path((tmp_path / "tmpdir-name").read_text()).exists()  # its weakref finalizer ran at exit


def test_run_exits_without_a_collection_over_the_whole_heap(tmp_path: Path) -> None:
    """Issue 15: main() restores the default GC threshold for in-process callers, and that made the next
    allocation run an overdue collection cascading to a full one (4-6 ms of a verify); run() keeps the CLI's
    threshold and stops the collector once the command is done, before the atexit handlers allocate."""
    seen = tmp_path / "gc-at-exit"
    result = _run_script(
        f"import atexit, gc, pathlib\n"
        f"state = lambda: f'{{gc.isenabled()}} {{gc.get_threshold()[0]}}'\n"
        f"atexit.register(lambda: pathlib.Path({str(seen)!r}).write_text(state()))",
        tmp_path,
        "version",
    )
    assert result.returncode == 0, result.stderr
    from notation._internal.cli.main import _CLI_GC_THRESHOLD

    assert seen.read_text() == f"False {_CLI_GC_THRESHOLD}"


def test_run_keeps_the_exit_status_and_the_error_line(tmp_path: Path) -> None:
    result = _run_script("", tmp_path, "verify", "not a reference")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr


def test_run_waits_for_a_running_non_daemon_thread(tmp_path: Path) -> None:
    """A non-daemon thread still working when the command returns is joined as at a normal exit, not killed."""
    marker = tmp_path / "thread-finished"
    result = _run_script(
        f"import threading, time, pathlib\n"
        f"threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path({str(marker)!r}).write_text('done'))).start()",
        tmp_path,
        "version",
    )
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "done"


def test_console_script_and_python_m_use_run() -> None:
    """Both ways a user starts the CLI skip the teardown (bench/bench.py measures the console script)."""
    assert "import run" in BIN.read_text()
    assert "run()" in (Path(__file__).resolve().parents[1] / "src" / "notation" / "__main__.py").read_text()
