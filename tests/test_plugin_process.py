"""Plugin invocation protocol (plugins.md §3, §5.1): real plugin processes, every malformed answer a clear error."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from notation._internal.plugin import (
    Plugin,
    PluginCommandError,
    PluginExecutableError,
    PluginMalformedError,
)
from notation._internal.plugin.protocol import compare_semver, is_semver
from notation.errors import PluginError
from plugin_support import metadata, read_log, write_plugin


def _plugin(tmp_path: Path, name: str = "fake", **config: object) -> Plugin:
    config.setdefault("metadata", metadata(name))
    config.setdefault("log", str(tmp_path / "log.jsonl"))
    path = write_plugin(tmp_path / name / f"notation-{name}", dict(config))
    return Plugin(path, name)


def test_plg20_request_on_stdin_command_in_argv(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    meta = plugin.metadata({"a": "1"})
    assert meta.name == "fake" and meta.capabilities == ("SIGNATURE_GENERATOR.RAW",)
    log = read_log(tmp_path / "log.jsonl")
    assert log == [
        {"cmd": "get-plugin-metadata", "request": {"pluginConfig": {"a": "1"}}, "argv": ["get-plugin-metadata"]}
    ]


def test_plg20_empty_plugin_config_is_omitted(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    plugin.metadata()
    assert read_log(tmp_path / "log.jsonl")[0]["request"] == {}


def test_plg21_error_object_message_is_user_facing(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "error", "code": "ACCESS_DENIED", "message": "no"}})
    with pytest.raises(PluginCommandError) as err:
        plugin.run("describe-key", {"contractVersion": "1.0", "keyId": "k"})
    assert str(err.value) == "no"
    assert err.value.code == "ACCESS_DENIED"


def test_plg21_nonzero_exit_with_empty_stderr_is_process_error(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "exit", "code": 3}})
    with pytest.raises(PluginExecutableError, match=r"exit status 3$"):
        plugin.run("describe-key", {})


def test_plg21_crash_reports_signal(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "crash"}})
    with pytest.raises(PluginExecutableError, match=r"signal: aborted"):
        plugin.run("describe-key", {})


def test_plg21_stderr_that_is_not_an_error_object_is_malformed(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "exit", "code": 1, "stderr": "Traceback: boom"}})
    with pytest.raises(
        PluginMalformedError, match=r"isn't compliant with Notation plugin requirement: Traceback: boom"
    ):
        plugin.run("describe-key", {})


def test_plg21_error_object_needs_a_known_member(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "exit", "code": 1, "stderr": '{"x": 1}'}})
    with pytest.raises(PluginMalformedError):
        plugin.run("describe-key", {})


def test_plg23_stdout_not_json_is_malformed(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "raw", "stdout": "hello"}})
    with pytest.raises(
        PluginMalformedError, match=r"failed to unmarshal the response of describe-key command for plugin fake"
    ):
        plugin.run("describe-key", {})


def test_plg23_stdout_json_array_is_malformed(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "raw", "stdout": "[1,2]"}})
    with pytest.raises(PluginMalformedError):
        plugin.run("describe-key", {})


@pytest.mark.parametrize("stream", ["huge_stdout", "huge_stderr"])
def test_plg22_output_capped_at_64_mib(tmp_path: Path, stream: str) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": stream, "mib": 65}})
    with pytest.raises(PluginMalformedError, match=r"64 MiB size limit"):
        plugin.run("describe-key", {})


def test_plg25_optional_timeout_kills_a_hanging_plugin(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, behaviour={"describe-key": {"kind": "hang", "seconds": 60}})
    plugin.timeout = 1.0
    start = time.monotonic()
    with pytest.raises(PluginExecutableError, match=r"timed out after 1 seconds"):
        plugin.run("describe-key", {})
    assert time.monotonic() - start < 10


def test_missing_executable_is_executable_error(tmp_path: Path) -> None:
    with pytest.raises(PluginExecutableError, match=r"no such file or directory"):
        Plugin(tmp_path / "nope" / "notation-nope", "nope").run("get-plugin-metadata", {})


def test_plg13_not_executable_file(tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "x" / "notation-x", {"metadata": metadata("x")}, executable=False)
    with pytest.raises(PluginExecutableError, match=r"permission denied"):
        Plugin(path, "x").metadata()


@pytest.mark.parametrize(
    ("member", "value", "reason"),
    [
        ("name", "", "empty name"),
        ("description", "", "empty description"),
        ("version", "", "empty version"),
        ("url", "", "empty url"),
        ("capabilities", [], "empty capabilities"),
        ("supportedContractVersions", [], "supported contract versions not specified"),
        (
            "supportedContractVersions",
            ["2.0", "1.1"],
            'contract version "1.0" is not in the list of the plugin supported versions [2.0 1.1]',
        ),
    ],
)
def test_plg32_metadata_validation(tmp_path: Path, member: str, value: object, reason: str) -> None:
    meta = metadata("fake")
    meta[member] = value
    plugin = _plugin(tmp_path, metadata=meta)
    with pytest.raises(PluginMalformedError) as err:
        plugin.metadata()
    assert str(err.value) == f"metadata validation failed for plugin fake: {reason}"


def test_plg32_metadata_member_of_wrong_type(tmp_path: Path) -> None:
    meta = metadata("fake")
    meta["capabilities"] = "SIGNATURE_GENERATOR.RAW"
    with pytest.raises(PluginMalformedError, match=r"failed to unmarshal the response of get-plugin-metadata"):
        _plugin(tmp_path, metadata=meta).metadata()


def test_plg14_name_mismatch(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, metadata=metadata("other"))
    with pytest.raises(PluginMalformedError) as err:
        plugin.metadata()
    assert str(err.value) == 'plugin executable file name must be "notation-other" instead of "notation-fake"'


def test_plg31_unknown_capabilities_and_members_are_ignored(tmp_path: Path) -> None:
    meta = metadata("fake", capabilities=["FUTURE.CAP"], extra_member={"x": 1})
    assert _plugin(tmp_path, metadata=meta).metadata().capabilities == ("FUTURE.CAP",)


def test_plg33_semver() -> None:
    assert is_semver("1.2.3") and is_semver("1.0.0-alpha.1+build.5") and not is_semver("v1.2.3")
    assert not is_semver("1.2") and not is_semver("01.2.3")
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    for a, b in itertools.pairwise(ordered):
        assert compare_semver(a, b) == -1 and compare_semver(b, a) == 1
    assert compare_semver("1.0.0+a", "1.0.0+b") == 0
    with pytest.raises(PluginError, match=r"v1 is not a valid semantic version"):
        compare_semver("v1", "1.0.0")
