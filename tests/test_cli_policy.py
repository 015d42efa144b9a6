"""``notation policy import|show`` (cli.md CLI-130/131, trust.md §2.4)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from notation._internal.config import dirs
from support.cli import run

POLICY = {
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "p",
            "registryScopes": ["local/app"],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:test"],
            "trustedIdentities": ["*"],
        }
    ],
}


def _file(tmp_path: Path, content: bytes | str, name: str = "policy.json") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def test_import_then_show_keeps_original_bytes_cli130_cli131(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    original = json.dumps(POLICY, indent=1)  # not notation's formatting, no trailing newline
    source = _file(tmp_path, original)
    assert run(capsys, "policy", "import", source) == (0, "Trust policy configuration imported successfully.\n", "")
    stored = dirs.config_dir() / "trustpolicy.json"
    assert stored.read_text() == original
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert run(capsys, "policy", "show") == (0, original, "")


def test_import_prompts_when_a_valid_policy_exists_cli130(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = _file(tmp_path, json.dumps(POLICY))
    assert run(capsys, "policy", "import", source)[0] == 0
    prompt = "The trust policy file already exists, do you want to overwrite it? [y/N] "
    assert run(capsys, "policy", "import", source, stdin="no\n") == (0, prompt + "Operation cancelled.\n", "")
    assert run(capsys, "policy", "import", source, stdin="y\n") == (
        0,
        prompt + "Trust policy configuration imported successfully.\n",
        "",
    )
    assert run(capsys, "policy", "import", "--force", source) == (
        0,
        "Trust policy configuration imported successfully.\n",
        "Warning: existing trust policy configuration file will be overwritten\n",
    )


def test_force_warns_even_without_existing_policy_cli130(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = _file(tmp_path, json.dumps(POLICY))
    code, _, err = run(capsys, "policy", "import", "--force", source)
    assert code == 0 and err == "Warning: existing trust policy configuration file will be overwritten\n"


def test_import_errors_cli130(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    usage = (
        "requires 1 argument but received {n}.\nUsage: notation policy import <path-to-policy.json>\n"
        "Please specify a trust policy file location as the argument"
    )
    assert run(capsys, "policy", "import") == (1, "", f"Error: {usage.format(n=0)}\n")
    assert run(capsys, "policy", "import", "a", "b") == (1, "", f"Error: {usage.format(n=2)}\n")
    missing = tmp_path / "missing.json"
    assert run(capsys, "policy", "import", str(missing)) == (
        1,
        "",
        f"Error: failed to read trust policy file: open {missing}: no such file or directory\n",
    )
    code, _, err = run(capsys, "policy", "import", _file(tmp_path, "{not json"))
    assert code == 1 and err.startswith("Error: failed to parse trust policy configuration: ")
    bad = dict(POLICY, version="2.0")
    assert run(capsys, "policy", "import", _file(tmp_path, json.dumps(bad))) == (
        1,
        "",
        'Error: failed to validate trust policy: trust policy document uses unsupported version "2.0"\n',
    )
    assert not (dirs.config_dir() / "trustpolicy.json").exists()


def test_show_missing_and_invalid_cli131(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "policy", "show") == (
        1,
        "",
        "Error: failed to show trust policy as the trust policy file does not exist.\n"
        "You can import one using `notation policy import <path-to-policy.json>`\n",
    )
    path = dirs.config_dir() / "trustpolicy.json"
    path.parent.mkdir(parents=True)
    content = '{"version": "1.0", "trustPolicies": []}'
    path.write_text(content)
    assert run(capsys, "policy", "show") == (
        0,
        content,
        "Error: trust policy document can not have zero trust policy statements\n"
        "Existing trust policy configuration is invalid, you may update or create a new one via "
        "`notation policy import <path-to-policy.json>`\n",
    )


def test_show_prefers_oci_policy_file_tp01(capsys: pytest.CaptureFixture[str]) -> None:
    config = dirs.config_dir()
    config.mkdir(parents=True)
    (config / "trustpolicy.json").write_text(json.dumps(POLICY))
    (config / "trustpolicy.oci.json").write_text(json.dumps(POLICY, indent=2))
    assert run(capsys, "policy", "show")[1] == json.dumps(POLICY, indent=2)


def test_policy_init_writes_a_valid_strict_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "policy", "init", "--name", "acme", "--trust-store", "ca:acme", "--trusted-identity", "*"
    )
    target = (dirs.config_dir() / "trustpolicy.json").absolute()
    assert (code, out, err) == (0, f"Successfully initialized trust policy file to {target}.\n", "")
    assert json.loads(target.read_text()) == {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "acme",
                "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:acme"],
                "trustedIdentities": ["*"],
            }
        ],
    }
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    prompt = "The trust policy file already exists, do you want to overwrite it? [y/N] "
    argv = ("policy", "init", "--name", "b", "--trust-store", "ca:b", "--trusted-identity", "*")
    assert run(capsys, *argv, stdin="n\n") == (0, prompt + "Operation cancelled.\n", "")
    code, _, err = run(capsys, "policy", "init", "--name", "x", "--trust-store", "bad", "--trusted-identity", "*")
    assert code == 1 and err.startswith(
        'Error: failed to validate trust policy: trust policy: trust policy statement "x" has malformed trust store'
    )
    assert run(capsys, "policy", "init", "--name", "x") == (
        1,
        "",
        'Error: required flag(s) "trust-store", "trusted-identity" not set\n',
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("policy", "import", "--force", "{file}"),
        ("policy", "init", "--force", "--name", "x", "--trust-store", "ca:x", "--trusted-identity", "*"),
    ],
)
def test_unwritable_config_dir_is_one_line_and_leaves_nothing_cli130(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    blocker = tmp_path / "not-a-dir"  # works as root too, unlike a read-only directory
    blocker.write_bytes(b"x")
    monkeypatch.setenv("NOTATION_CONFIG", str(blocker / "notation"))
    source = _file(tmp_path, json.dumps(POLICY))
    code, out, err = run(capsys, *(source if a == "{file}" else a for a in argv))
    target = blocker / "notation" / "trustpolicy.json"
    assert (code, out) == (1, "")
    assert err == (
        "Warning: existing trust policy configuration file will be overwritten\n"
        f"Error: failed to write trust policy file: open {target}: not a directory\n"
    )
    assert blocker.read_bytes() == b"x"
