"""The command-line framework: cobra/pflag behaviour and messages (cli.md §1, §14, §15)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from notation._internal.cli.framework import (
    CommandError,
    parse_go_bool,
    parse_go_duration,
    parse_go_int,
)
from notation._internal.cli.main import main
from notation._internal.cli.output import Node, table

ROOT_HELP = """Notation - a tool to sign and verify artifacts

Usage:
  notation [command]

Available Commands:
  blob        Commands for blob
  certificate Manage certificates in trust store
  completion  Generate the autocompletion script for the specified shell
  help        Help about any command
  inspect     Inspect all signatures associated with the signed artifact
  key         Manage keys used for signing
  list        List signatures of the signed artifact
  login       Login to registry
  logout      Log out from the logged in registries
  plugin      Manage plugins
  policy      Manage trust policy configuration
  sign        Sign artifacts
  verify      Verify OCI artifacts
  version     Show the notation version information

Flags:
  -h, --help   help for notation

Use "notation [command] --help" for more information about a command.
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_root_help_verbatim_cli01(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert run(capsys, *argv) == (0, ROOT_HELP, "")


def test_unknown_command_with_suggestion_cli02(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sing")
    assert (code, out) == (1, "")
    assert err == (
        'Error: unknown command "sing" for "notation"\n\nDid you mean this?\n\tsign\n\n'
        "Run 'notation --help' for usage.\n"
    )
    assert run(capsys, "zzz") == (
        1,
        "",
        'Error: unknown command "zzz" for "notation"\nRun \'notation --help\' for usage.\n',
    )


def test_version_rejects_arguments_cli132(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "version", "x") == (1, "", 'Error: unknown command "x" for "notation version"\n')


def test_version_output_shape_cli132(capsys: pytest.CaptureFixture[str]) -> None:
    import notation

    code, out, err = run(capsys, "version")
    lines = out.splitlines()
    assert code == 0 and err == ""
    assert lines[0] == "Notation - a tool to sign and verify artifacts."
    assert lines[1] == ""
    assert lines[2].split() == ["Version:", notation.__version__]
    assert lines[3].startswith("Python version:")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sign", "--nope"], "unknown flag: --nope"),
        (["sign", "-x"], "unknown shorthand flag: 'x' in -x"),
        (["sign", "-dx"], "unknown shorthand flag: 'x' in -x"),
        (["sign", "--key"], "flag needs an argument: --key"),
        (["sign", "ref", "-k"], "flag needs an argument: 'k' in -k"),
        (
            ["verify", "--max-signatures", "abc", "r"],
            'invalid argument "abc" for "--max-signatures" flag: strconv.ParseInt: parsing "abc": invalid syntax',
        ),
        (
            ["sign", "-e", "1d", "r"],
            'invalid argument "1d" for "-e, --expiry" flag: time: unknown unit "d" in duration "1d"',
        ),
        (
            ["sign", "--debug=maybe", "r"],
            'invalid argument "maybe" for "-d, --debug" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
        (["sign"], "missing reference to the artifact: use `notation sign --help` to see what parameters are required"),
        (
            ["verify"],
            "missing reference to the artifact: use `notation verify --help` to see what parameters are required",
        ),
        (["list"], "missing reference to the artifact: use `notation list --help` to see what parameters are required"),
        (
            ["inspect"],
            "missing reference to the artifact: use `notation inspect --help` to see what parameters are required",
        ),
        (["inspect", "-o", "yaml", "r"], "unrecognized output format yaml"),
        (["verify", "--max-signatures", "0", "r"], "max-signatures value 0 must be a positive number"),
        (["list", "--max-signatures=-1", "r"], "max-signatures value -1 must be a positive number"),
        (
            ["sign", "--id", "k", "r"],
            "if any flags in the group [id plugin] are set they must all be set; missing [plugin]",
        ),
        (
            ["sign", "-k", "a", "--plugin", "p", "--id", "i", "r"],
            "if any flags in the group [key id] are set none of the others can be; [id key] were all set",
        ),
        (
            ["sign", "--timestamp-url", "http://x", "r"],
            "if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set; "
            "missing [timestamp-root-cert]",
        ),
        (["sign", "--timestamp-url", "", "r"], "timestamping: tsa url cannot be empty"),
        (
            ["sign", "--timestamp-url", "http://t", "--timestamp-root-cert=", "r"],
            "timestamping: tsa root certificate path cannot be empty",
        ),
        (["key", "add", "k"], 'required flag(s) "plugin" not set'),
        (["cert", "show", "f"], 'required flag(s) "store", "type" not set'),
        (["plugin", "install", "x"], "at least one of the flags in the group [file url] is required"),
        (
            ["plugin", "install", "--file", "--url", "x"],
            "if any flags in the group [file url] are set none of the others can be; [file url] were all set",
        ),
    ],
)
def test_usage_errors_one_line_exit_1_cli02_cli05(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(capsys, *argv) == (1, "", f"Error: {message}\n")


def test_experimental_flags_gated_cli90(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTATION_EXPERIMENTAL", raising=False)
    assert run(capsys, "sign", "--oci-layout", "x:v1") == (
        1,
        "",
        'Error: flag(s) --oci-layout in "notation sign" is experimental and not enabled by default. To use, please '
        "set NOTATION_EXPERIMENTAL=1 environment variable\n",
    )
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "a/b", "x:v1")
    assert code == 1 and 'flag(s) --oci-layout,--scope in "notation verify" is experimental' in err
    # hidden from help unless enabled
    assert "--oci-layout" not in run(capsys, "sign", "--help")[1]
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    help_text = run(capsys, "sign", "--help")[1]
    assert (
        "--oci-layout" in help_text and "[Experimental] Sign an OCI artifact referenced in an OCI layout" in help_text
    )
    assert "--allow-referrers-api" not in help_text  # hidden and deprecated, even when enabled
    # enabled: a warning on stderr, then the command proceeds (here to a layout error)
    code, _, err = run(capsys, "list", "--oci-layout", "/nonexistent-layout:v1")
    assert code == 1
    assert err.splitlines()[0] == (
        "Warning: This feature is experimental and may not be fully tested or completed and may be deprecated. "
        'Report any issues to "https://github/notaryproject/notation"'
    )
    assert err.splitlines()[1].startswith("Error: ")


def test_verify_scope_requires_oci_layout_cli50(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    code, _, err = run(capsys, "verify", "--scope", "a/b", "x:v1")
    assert code == 1
    assert err.endswith(
        "Error: if any flags in the group [oci-layout scope] are set they must all be set; missing [oci-layout]\n"
    )


def test_sign_help_flags_layout(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "sign", "--help")[1]
    assert "Usage:\n  notation sign [flags] <reference>\n" in out
    assert (
        "      --force-referrers-tag          force to store signatures using the referrers tag schema (default true)\n"
        in out
    )
    assert "  -e, --expiry duration              optional expiry" in out
    assert "  -m, --user-metadata stringArray    {key}={value} pairs that are added to the signature payload\n" in out
    assert out.endswith("  -v, --verbose                      verbose mode\n")


def test_help_for_group_and_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cert", "nonexistent")  # a group without that sub-command prints its help
    assert code == 0 and out.startswith(
        "Manage certificates in trust store\n\nUsage:\n  notation certificate [command]"
    )
    assert "Aliases:\n  certificate, cert\n" in out
    out = run(capsys, "help", "key", "ls")[1]
    assert "Usage:\n  notation key list [flags]\n\nAliases:\n  list, ls\n" in out


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("90s", 90 * 10**9),
        ("30m", 30 * 60 * 10**9),
        ("3h20m", (3 * 3600 + 20 * 60) * 10**9),
        ("1.5h", 5400 * 10**9),
        ("1h0.5m", 3630 * 10**9),
        ("-2s", -2 * 10**9),
        ("+1ms", 10**6),
        ("1500us", 15 * 10**5),
        ("1µs", 1000),
        ("1ns", 1),
        (".5s", 5 * 10**8),
    ],
)
def test_go_duration_cli08(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", 'time: invalid duration ""'),
        ("1", 'time: missing unit in duration "1"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("h", 'time: invalid duration "h"'),
        ("1h-1m", 'time: unknown unit "h-" in duration "1h-1m"'),
        (".s", 'time: invalid duration ".s"'),
        ("99999999999h", 'time: invalid duration "99999999999h"'),
    ],
)
def test_go_duration_errors(text: str, error: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_go_duration(text)
    assert str(info.value) == error


def test_go_int_and_bool() -> None:
    assert parse_go_int("0x10") == 16
    assert parse_go_int("010") == 8
    assert parse_go_int("-5") == -5
    assert parse_go_int("1_000") == 1000
    for bad in (" 1", "1.0", "", "0x", "1__0", "9223372036854775808"):
        with pytest.raises(ValueError):
            parse_go_int(bad)
    assert parse_go_bool("T") is True and parse_go_bool("0") is False
    with pytest.raises(ValueError, match=re.escape('strconv.ParseBool: parsing "yes": invalid syntax')):
        parse_go_bool("yes")


def test_bool_flag_forms_cli08(capsys: pytest.CaptureFixture[str]) -> None:
    # --force-referrers-tag=false is accepted and a bool never swallows the next argument
    code, _, err = run(
        capsys, "sign", "--force-referrers-tag=false", "-v", "-k", "nokey", "reg.io/a/b@sha256:" + "0" * 64
    )
    assert code == 1 and err.endswith("Error: signing key nokey not found\n")


def test_table_padding_cli84() -> None:
    assert table([["NAME", "X"], ["* longer", ""]]) == "NAME       X   \n* longer       \n"


def test_tree_rendering_cli80() -> None:
    root = Node("root")
    a = root.add("a")
    a.add("a1").add("a1x")
    a.add("a2")
    root.add("b").add_kv("k", "v")
    assert root.render() == ("root\n├── a\n│   ├── a1\n│   │   └── a1x\n│   └── a2\n└── b\n    └── k: v\n")


def test_unexpected_exception_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from notation._internal.cli import version

    def boom(inv: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(version, "_run", boom)
    assert run(capsys, "version") == (1, "", "Error: kaput\n")


def test_notation_error_with_debug_has_no_traceback_cli06(capsys: pytest.CaptureFixture[str]) -> None:
    """Go's -d prints log lines and the one-line error, never a stack; only an unexpected exception (a bug) does."""
    code, _, err = run(capsys, "sign", "-d", "-k", "nokey", "reg.io/a/b@sha256:" + "0" * 64)
    assert code == 1
    assert err.endswith("Error: signing key nokey not found\n") and "Traceback" not in err


def test_unexpected_exception_with_debug_adds_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from notation._internal import log

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(log, "configure_cli", boom)
    code, _, err = run(capsys, "sign", "-d", "-k", "nokey", "reg.io/a/b@sha256:" + "0" * 64)
    assert code == 1 and err.startswith("Error: kaput\nTraceback")


def test_command_error_is_a_notation_error() -> None:
    from notation.errors import NotationError

    assert issubclass(CommandError, NotationError)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completion_scripts(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0 and "__complete" in out and "__completeNoDesc" not in out  # they ask the program (cobra)
    code, out, _ = run(capsys, "completion", shell, "--no-descriptions")
    assert code == 0 and "__completeNoDesc" in out


@pytest.mark.skipif(__import__("shutil").which("bash") is None, reason="bash not installed")
def test_bash_completion_completes_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "notation.bash"
    assert main(["completion", "bash"]) == 0
    script.write_text(capsys.readouterr()[0])
    probe = (
        f"source {script}; COMP_WORDS=(notation cert a); COMP_CWORD=2; _notation_complete; "
        'echo "${COMPREPLY[@]}"; COMP_WORDS=(notation sign --for); COMP_CWORD=2; _notation_complete; '
        'echo "${COMPREPLY[@]}"'
    )
    env = {**__import__("os").environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30, env=env)
    assert result.stdout.splitlines() == ["add", "--force-referrers-tag"]


def test_placeholders_agree_with_their_commands() -> None:
    """Root help is drawn from a static table; every entry must match the command its module builds."""
    from notation._internal.cli.framework import load_all
    from notation._internal.cli.main import build_root

    root = build_root()
    load_all(root)  # raises if a name, alias or short text disagrees
    assert all(c.loader is None for c in root.children)
    assert [c.name for c in root.children if c.name != "help"] == [
        "blob", "certificate", "completion", "inspect", "key", "list", "login", "logout", "plugin", "policy", "sign",
        "verify", "version",
    ]  # fmt: skip


def test_root_help_imports_no_command_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, io; sys.stdout = io.StringIO(); from notation._internal.cli.main import main; main(['--help']);"
        "sys.stderr.write(' '.join(m for m in sys.modules if m.startswith('notation._internal.cli.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    loaded = set(result.stderr.split())
    assert loaded <= {"notation._internal.cli.main", "notation._internal.cli.framework"}, loaded
