"""The installed ``notation`` executable: real processes, exit codes, streams, and a light start-up (CLI-01..03)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import pki

BIN = Path(sys.executable).parent / "notation"

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="console script not installed in this environment")


def notation(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60
    )


def test_help_and_version_processes() -> None:
    result = notation()
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Notation - a tool to sign and verify artifacts\n\nUsage:\n  notation [command]\n")
    result = notation("version")
    assert result.returncode == 0 and result.stdout.startswith("Notation - a tool to sign and verify artifacts.\n\n")


def test_errors_go_to_stderr_with_exit_1() -> None:
    result = notation("verify")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: missing reference to the artifact: use `notation verify --help` to see what parameters are required\n"
    )
    result = notation("frobnicate")
    assert result.returncode == 1
    assert result.stderr == 'Error: unknown command "frobnicate" for "notation"\nRun \'notation --help\' for usage.\n'


def test_malformed_signingkeys_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "signingkeys.json").write_text("{oops")
    result = notation("key", "ls", env={"NOTATION_CONFIG": str(config)})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: malformed signingkeys.json: ") and result.stderr.count("\n") == 1


def test_cancelled_prompt_exits_0_cli03(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    (config / "truststore" / "x509" / "ca" / "s").mkdir(parents=True)
    (config / "truststore" / "x509" / "ca" / "s" / "c.pem").write_text("x")
    result = notation(
        "cert", "delete", "-t", "ca", "-s", "s", "c.pem", stdin="n\n", env={"NOTATION_CONFIG": str(config)}
    )
    assert result.returncode == 0
    assert result.stdout == 'Are you sure you want to delete "c.pem" in "s" of type "ca"? [y/N] Operation cancelled.\n'
    assert (config / "truststore" / "x509" / "ca" / "s" / "c.pem").exists()


@pytest.mark.parametrize("argv", [["--help"], ["version"], ["sign", "--help"], ["key", "ls"]])
def test_startup_imports_nothing_heavy(argv: list[str]) -> None:
    """Start-up is part of the product: help, version and key listing never load crypto, HTTP or CBOR."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "notation", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    heavy = {m for m in imported if m.split(".")[0] in {"cryptography", "requests", "cbor2", "urllib3", "asn1crypto"}}
    assert heavy == set()


def test_non_positive_serials_keep_stderr_one_line(tmp_path: Path) -> None:
    """Go 1.23+ parses a zero serial silently and refuses a negative one ("x509: negative serial number");
    cryptography's multi-line deprecation warning about either never reaches stderr."""
    env = {"NOTATION_CONFIG": str(tmp_path / "cfg")}
    ca = pki.root_ca("serial test", key_kind="ec256").cert
    (tmp_path / "zero.crt").write_bytes(pki.with_serial(ca, 0))
    (tmp_path / "negative.crt").write_bytes(pki.with_serial(ca, -1))
    added = notation("cert", "add", "--type", "ca", "--store", "s", str(tmp_path / "zero.crt"), env=env)
    assert (added.returncode, added.stderr) == (0, "")
    shown = notation("cert", "show", "--type", "ca", "--store", "s", "zero.crt", env=env)
    assert (shown.returncode, shown.stderr) == (0, "") and "serial test" in shown.stdout
    refused = notation("cert", "add", "--type", "ca", "--store", "s", str(tmp_path / "negative.crt"), env=env)
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: Failed to add following certificates to named store s of type ca:\n"
        f'{tmp_path / "negative.crt"}, with error "x509: negative serial number"\n\n'
    )
