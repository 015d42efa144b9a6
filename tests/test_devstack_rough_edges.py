"""Issue 12's newcomer rough edges in the devstack and the azure-kv plugin: help that helps, messages that say what
happened, a credential failure that is one readable line on the plugin's error channel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(argv: list[str], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, **kw)  # type: ignore[call-overload,no-any-return]


def test_azure_kv_help_and_install_launcher_help(tmp_path: Path) -> None:
    for argv in (["--help"], ["-h"]):
        out = _run([str(BIN / "notation-azure-kv"), *argv], tmp_path)
        assert out.returncode == 0 and out.stdout.startswith("notation-azure-kv - Notation Azure Key Vault plugin")
        assert out.stderr == ""
    out = _run([str(BIN / "notation-azure-kv"), "install-launcher", "--help"], tmp_path)
    assert out.returncode == 0 and "usage: notation-azure-kv install-launcher DIR" in out.stdout
    assert list(tmp_path.iterdir()) == []  # no directory named --help
    out = _run([str(BIN / "notation-azure-kv"), "install-launcher", "--bogus"], tmp_path)
    assert out.returncode == 2 and list(tmp_path.iterdir()) == []


def test_devstack_help_is_for_users(tmp_path: Path) -> None:
    out = _run([str(BIN / "notation-devstack"), "--help"], tmp_path)
    assert out.returncode == 0
    assert "``" not in out.stdout and "registers itself" not in out.stdout
    assert "Key Vault emulator" in out.stdout and "notation-devstack up" in out.stdout


def test_image_build_to_oci_layout_says_written_not_pushed(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (ctx / "hello.txt").write_text("hi\n")
    out = _run([str(BIN / "notation-devstack"), "image", "build", "-t", "localhost:5000/demo:v1",
                "--oci-layout", str(tmp_path / "layout"), str(ctx)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Pushed" not in out.stderr and "nothing was pushed" in out.stderr
    assert (tmp_path / "layout" / "index.json").exists()


def test_default_credential_failure_is_one_line_json_useful_part_first(tmp_path: Path) -> None:
    """No credential anywhere: stderr holds exactly the plugin's error JSON (no azure-identity log lines), its
    message one line starting with what to do, never cut mid-word."""
    vault_mod = pytest.importorskip("notation_devstack.vault")
    with vault_mod.VaultServer(tmp_path / "state") as vault:
        cert = vault.create_certificate("c", {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=c"},
                                              "issuer": {"name": "Self"}})
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "REQUESTS_CA_BUNDLE": str(vault.ca_cert_path)}
        request = json.dumps({"contractVersion": "1.0", "keyId": cert["id"], "pluginConfig": {}})
        out = _run([str(BIN / "notation-azure-kv"), "describe-key"], tmp_path, input=request, env=env)
    assert out.returncode == 1
    error = json.loads(out.stderr)  # the whole of stderr is one JSON object
    message = error["errorMessage"]
    assert "\n" not in message and len(message) < 1000
    assert message.startswith("no Azure credential is available: set up one of them (az login;")
    assert "AzureCli: Azure CLI not found on path" in message


def test_up_refuses_to_move_a_remembered_port(tmp_path: Path) -> None:
    """Stable endpoints: a port of the last run that another process holds is a clear error naming the way out,
    never a silent move that would invalidate stored KEY_IDs and trust-policy scopes."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        state = tmp_path / "devstack"
        state.mkdir()
        (state / "ports.json").write_text(json.dumps({"vault": port, "registry": 0, "managedIdentity": 0}))
        env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "NOTATION_DEVSTACK_HOME": str(state)}
        out = _run([str(BIN / "notation-devstack"), "up"], tmp_path, env=env)
    finally:
        holder.close()
    assert out.returncode == 1
    assert f"port {port} of the vault (remembered from the last run) is in use" in out.stderr
    assert "--new-ports" in out.stderr and "Traceback" not in out.stderr
    assert not (state / "stack.json").exists()
