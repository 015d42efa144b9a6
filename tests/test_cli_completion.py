"""Shell completion (cobra's protocol): the hidden ``__complete`` / ``__completeNoDesc`` requests, and the bash script
``notation completion bash`` generates, driven in a real bash (functions called with COMP_WORDS/COMP_LINE, and an
interactive bash in tmux pressing Tab). Also the other CLI differences from Go 1.3.2 the audit found (issue 17)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notation._internal.cli.main import main
from notation._internal.config import dirs

BIN = Path(sys.executable).parent  # the venv's bin: holds the ``notation`` entry point


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def request(capsys: pytest.CaptureFixture[str], *words: str, desc: bool = True) -> tuple[list[str], str]:
    code, out, err = run(capsys, "__complete" if desc else "__completeNoDesc", *words)
    assert code == 0
    lines = out.splitlines()
    assert lines[-1].startswith(":")
    assert err.endswith(f"Completion ended with directive: {_name(int(lines[-1][1:]))}\n")
    return lines[:-1], lines[-1]


def _name(directive: int) -> str:
    from notation._internal.cli.completion import directive_text

    return directive_text(directive)


@pytest.fixture
def keys(capsys: pytest.CaptureFixture[str]) -> None:
    """Two signing keys (``test``, ``team-key``) and two plugins installed as directories."""
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    assert main(["cert", "generate-test", "team-key"]) == 0
    for name in ("azure-kv", "aws-signer"):
        (dirs.plugins_dir() / name).mkdir(parents=True)
    capsys.readouterr()


def test_complete_commands_and_flags_like_cobra(capsys: pytest.CaptureFixture[str]) -> None:
    assert request(capsys, "ve") == (
        ["verify\tVerify OCI artifacts", "version\tShow the notation version information"],
        ":4",
    )
    assert request(capsys, "ve", desc=False) == (["verify", "version"], ":4")
    names = [c.split("\t")[0] for c in request(capsys, "")[0]]
    assert names[:3] == ["blob", "certificate", "completion"] and "help" in names
    assert "__complete" not in names
    assert request(capsys, "sign", "--sig") == (
        ['--signature-format\tsignature envelope format, options: "jws", "cose"'],
        ":4",
    )
    flags = request(capsys, "blob", "sign", "-", desc=False)[0]
    assert "--media-type" in flags and "-k" in flags and "--help" in flags and "-h" in flags
    # a flag already given is not offered again, a repeatable one is
    again = request(capsys, "blob", "sign", "--force", "-m", "a=b", "--", desc=False)[0]
    assert "--force" not in again and "--user-metadata" in again
    # a required flag is offered first, even without the dash (cobra's completeRequireFlags)
    assert request(capsys, "blob", "verify", "", desc=False) == (["--signature", "-s"], ":0")
    assert request(capsys, "blob", "verify", "-s", "x.sig", "", desc=False) == ([], ":0")  # files
    assert request(capsys, "blob", "policy", "", desc=False) == (["import", "init", "show"], ":4")
    assert request(capsys, "sign", "--signature-format", "", desc=False) == (["jws", "cose"], ":4")
    assert request(capsys, "completion", "bash", "", desc=False) == ([], ":4")
    assert request(capsys, "sign", "--help", "", desc=False) == ([], ":4")
    # experimental flags only when enabled (Go hides them)
    assert "--oci-layout" not in request(capsys, "sign", "--oc", desc=False)[0]
    code, out, err = run(capsys, "__complete", "nosuch", "")
    assert (code, out) == (0, ":0\n")
    assert err.startswith("Error: unable to find a command for arguments: [nosuch]\n")
    code, out, err = run(capsys, "__complete", "sign", "--nosuch", "")
    assert out == ":0\n" and "unknown flag: --nosuch" in err


def test_complete_key_and_plugin_names(capsys: pytest.CaptureFixture[str], keys: None) -> None:
    assert request(capsys, "sign", "--key", "") == (["test", "team-key"], ":4")
    assert request(capsys, "sign", "-k", "te") == (["test", "team-key"], ":4")
    assert request(capsys, "blob", "sign", "--key=tea") == (["team-key"], ":4")
    assert request(capsys, "key", "delete", "test", "") == (["team-key"], ":4")  # several names, no repeats
    assert request(capsys, "key", "update", "test", "") == ([], ":4")  # one name only
    assert request(capsys, "key", "set", "") == (["test", "team-key"], ":4")  # the alias
    assert request(capsys, "sign", "--plugin", "") == (["aws-signer", "azure-kv"], ":4")
    assert request(capsys, "key", "add", "--plugin", "az") == (["azure-kv"], ":4")
    assert request(capsys, "plugin", "uninstall", "") == (["aws-signer", "azure-kv"], ":4")


def _bash(script: Path, probe: str) -> list[str]:
    env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", f"source {script}\n{probe}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed (.ci/run has it)")
def test_bash_script_completes_in_a_real_bash(capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path) -> None:
    script = tmp_path / "notation.bash"
    assert main(["completion", "bash"]) == 0
    script.write_text(capsys.readouterr().out)

    def words(*comp_words: str) -> str:
        quoted = " ".join(f"'{w}'" for w in comp_words)
        return (
            f"unset COMP_LINE; COMP_WORDS=({quoted}); COMP_CWORD={len(comp_words) - 1}; _notation_complete; "
            'printf "%s|" "${COMPREPLY[@]}"; echo'
        )

    def line(text: str) -> str:
        return (
            f'COMP_LINE=\'{text}\'; COMP_POINT={len(text)}; _notation_complete; printf "%s|" "${{COMPREPLY[@]}}"; echo'
        )

    out = _bash(
        script,
        "\n".join(
            [
                words("notation", "ve"),
                words("notation", "sign", "--sig"),
                words("notation", "sign", "--key", ""),
                line("notation sign --key=te"),
                line("notation key delete test "),
                line("notation plugin uninstall a"),
                words("notation", "cert", "a"),
            ]
        ),
    )
    assert out == [
        "verify  (Verify OCI artifacts)|version  (Show the notation version information)|",
        "--signature-format|",
        "test|team-key|",
        "test|team-key|",
        "team-key|",
        "aws-signer|azure-kv|",
        "add|",
    ]
    assert main(["completion", "bash", "--no-descriptions"]) == 0
    script.write_text(capsys.readouterr().out)
    assert _bash(script, words("notation", "ve")) == ["verify|version|"]


_SHELLS = {
    "bash": ("bash --norc --noprofile", ""),
    "zsh": ("zsh -f", "autoload -U compinit; compinit -u; "),
}


@pytest.mark.parametrize("shell", sorted(_SHELLS))
def test_tab_completion_interactive_in_tmux(
    capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path, shell: str
) -> None:
    """A real interactive shell in tmux: ``notation ve<TAB><TAB>`` lists both commands, ``notation sign --sig<TAB>``
    completes the flag, ``notation sign -k team<TAB>`` the key name from signingkeys.json."""
    if shutil.which("tmux") is None or shutil.which(shell) is None:
        pytest.skip(f"tmux or {shell} not installed (.ci/run installs both)")
    command, setup = _SHELLS[shell]
    script = tmp_path / f"notation.{shell}"
    assert main(["completion", shell, "--no-descriptions"]) == 0
    script.write_text(capsys.readouterr().out)
    socket = f"i17-{shell}-{os.getpid()}"
    env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin", "PS1": "$ ", "TERM": "xterm"}
    tmux = ["tmux", "-L", socket]
    subprocess.run([*tmux, "new-session", "-d", "-x", "200", "-y", "40", command], env=env, check=True)
    try:

        def send(*keys_: str) -> None:
            subprocess.run([*tmux, "send-keys", "-t", "0", *keys_], check=True)

        def screen(expect: str) -> str:
            deadline = time.monotonic() + 20
            text = ""
            while time.monotonic() < deadline:
                text = subprocess.run(
                    [*tmux, "capture-pane", "-p", "-t", "0"], capture_output=True, text=True, check=True
                ).stdout
                if expect in text:
                    return text
                time.sleep(0.1)
            raise AssertionError(f"{expect!r} not on screen:\n{text}")

        send(f"{setup}export NOTATION_CONFIG={dirs.config_dir()}; source {script}; clear", "Enter")
        time.sleep(0.5)
        send("notation ve", "Tab")
        screen("notation ver")  # the common prefix is inserted; then readline lists on a double Tab
        send("Tab")
        time.sleep(0.7)
        send("Tab")
        text = screen("version")
        assert "verify" in text and "version" in text
        send("C-u")
        send("clear", "Enter")
        time.sleep(0.3)
        send("notation sign --sig", "Tab")
        screen("notation sign --signature-format")
        send("X")  # capture-pane drops trailing blanks: a typed mark shows the space completion added
        screen("notation sign --signature-format X")
        send("C-u")
        send("clear", "Enter")
        time.sleep(0.3)
        send("notation sign -k team", "Tab")
        screen("notation sign -k team-key")
        send("X")
        screen("notation sign -k team-key X")
        send("C-u")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_completion_command_as_cobra(capsys: pytest.CaptureFixture[str]) -> None:
    # cobra: `completion` takes NoArgs but is not runnable, so an unknown shell prints its help (exit 0)
    code, out, err = run(capsys, "completion", "nosuch")
    assert (code, err) == (0, "") and out.startswith("Generate the autocompletion script for notation for the")
    assert run(capsys, "completion", "bash", "extra") == (
        1,
        "",
        'Error: unknown command "extra" for "notation completion bash"\n',
    )
    code, out, _ = run(capsys, "completion", "bash", "--help")
    assert out.startswith("Generate the autocompletion script for the bash shell.\n\nThis script depends on")
    assert "      --no-descriptions   disable completion descriptions\n" in out
    assert "Usage:\n  notation completion bash\n\nFlags:" in out
    assert "Usage:\n  notation completion zsh [flags]\n" in run(capsys, "completion", "zsh", "--help")[1]


def test_cli_differences_from_go_132(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "sign", "--help")[1]
    assert (
        "Example - Sign an OCI artifact and store signature using the Referrers API. If it's not supported, fallback "
        "to the Referrers tag schema\n  notation sign --force-referrers-tag=false <registry>/<repository>@<digest>\n"
    ) in out
    assert "Example - Sign an OCI artifact with a specified plugin and signing key stored in KMS \n" in out
    out = run(capsys, "key", "--help")[1]
    assert out.startswith("Manage keys used for signing\n\nExample - Add a key to signing key list:\n")
    assert "  add    Add key to Notation signing key list\n" in out
    assert "  delete Remove key from Notation signing key list\n" in out
    assert "  update Update key in Notation signing key list\n" in out
    assert run(capsys, "key", "add", "--help")[1].startswith("Add key to Notation signing key list\n\nUsage:")
    assert run(capsys, "policy", "show", "extra") == (1, "", "Error: accepts 0 arg(s), received 1\n")
    assert run(capsys, "inspect", "-o", "yaml", "r@sha256:" + "0" * 64)[2] == "Error: unrecognized output format yaml\n"


def test_inspect_output_tree_as_go_20(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notation._internal.oci.layout import write_image

    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    desc = write_image(str(tmp_path / "app"), "v1", {"a.txt": b"a"})
    ref = f"{tmp_path / 'app'}@{desc.digest}"
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    assert main(["sign", "--oci-layout", ref]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "inspect", "--oci-layout", "-o", "tree", ref)
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "Inspecting all signatures for signed artifact",
        ref,
        "└── application/vnd.cncf.notary.signature",
    ]
    assert lines[3].startswith("    └── sha256:")
    assert lines[4:6] == [
        "        ├── signature algorithm: RSASSA-PSS-SHA-256",
        "        ├── signature envelope type: application/jose+json",
    ]
    text = run(capsys, "inspect", "--oci-layout", ref)[1]  # text stays the default (1.3.2's form)
    assert "        ├── media type: application/jose+json" in text
    assert json.loads(run(capsys, "inspect", "--oci-layout", "-o", "json", ref)[1])["Signatures"]
