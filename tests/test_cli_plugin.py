"""``notation plugin`` and plugin keys through the CLI (plugins.md §9 PLG-80..91, cli.md CLI-110, CLI-42)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notation._internal.config import dirs
from plugin_support import CAP_RAW, install_plugin, metadata, write_plugin
from support import pki
from support.cli import run


def test_install_list_update_uninstall_plg80_to_91(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    v1 = write_plugin(tmp_path / "v1" / "notation-pyplug", {"metadata": metadata("pyplug", version="1.0.0")})
    v2 = write_plugin(tmp_path / "v2" / "notation-pyplug", {"metadata": metadata("pyplug", version="1.2.0")})
    assert run(capsys, "plugin", "install", "--file", str(v1)) == (
        0,
        "Successfully installed plugin pyplug, version 1.0.0\n",
        "",
    )
    code, _, err = run(capsys, "plugin", "install", "--file", str(v1))
    assert (code, err) == (1, "Error: plugin installation failed: plugin pyplug with version 1.0.0 already exists\n")
    assert run(capsys, "plugin", "add", "--file", str(v2)) == (
        0,
        "Successfully updated plugin pyplug from version 1.0.0 to 1.2.0\n",
        "",
    )
    assert run(capsys, "plugin", "ls") == (
        0,
        "NAME     DESCRIPTION          VERSION   CAPABILITIES                ERROR   \n"
        "pyplug   test plugin pyplug   1.2.0     [SIGNATURE_GENERATOR.RAW]   <nil>   \n",
        "",
    )
    prompt = 'Are you sure you want to uninstall plugin "pyplug"? [y/N] '
    assert run(capsys, "plugin", "uninstall", "pyplug", stdin="\n") == (0, prompt + "Operation cancelled.\n", "")
    assert run(capsys, "plugin", "rm", "pyplug", stdin="y\n") == (
        0,
        prompt + "Successfully uninstalled plugin pyplug\n",
        "",
    )
    assert not (dirs.plugins_dir() / "pyplug").exists()
    assert run(capsys, "plugin", "remove", "-y", "pyplug") == (
        1,
        "",
        "Error: unable to find plugin pyplug.\nTo view a list of installed plugins, use `notation plugin list`\n",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plugin", "install", "--file"], "missing plugin file path"),
        (["plugin", "install", "--url"], "missing plugin URL"),
        (["plugin", "install", "--file", "a", "b"], "can only install one plugin at a time, but got [a b]"),
        (["plugin", "uninstall"], "plugin name is required"),
        (["plugin", "uninstall", "a", "b"], "only one plugin can be removed at a time"),
    ],
)
def test_plugin_argument_errors_plg80_plg90(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert run(capsys, *argv) == (1, "", f"Error: {message}\n")


def test_sign_with_plugin_key_cli42(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from notation._internal.oci.layout import write_image

    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    leaf = pki.self_signed_leaf("plugin-signer")
    key_file, chain_file = leaf.write(tmp_path, "leaf")
    install_plugin(
        dirs.libexec_dir(),
        "pyplug",
        {"key": str(key_file), "chain": str(chain_file)},
        capabilities=[CAP_RAW],
    )
    assert run(capsys, "key", "add", "--plugin", "pyplug", "--id", "kid", "--default", "pk") == (
        0,
        "pk: marked as default\n",
        "",
    )
    desc = write_image(tmp_path / "app", "v1", {"f": b"x"})
    ref = f"{tmp_path / 'app'}@{desc.digest}"
    code, out, _ = run(capsys, "sign", "--oci-layout", ref)
    assert (code, out) == (0, f"Successfully signed {ref}\n")
    # an on-demand plugin key (--plugin/--id) without any key list entry
    code, out, _ = run(
        capsys, "sign", "--oci-layout", "--plugin", "pyplug", "--id", "other", "--signature-format", "cose", ref
    )
    assert (code, out) == (0, f"Successfully signed {ref}\n")
    sigs = json.loads(run(capsys, "inspect", "--oci-layout", "-o", "json", ref)[1])["Signatures"]
    assert [s["mediaType"] for s in sigs] == ["application/jose+json", "application/cose"]
    assert all(s["certificates"][0]["issuedTo"] == "CN=plugin-signer,O=Notary,L=Seattle,ST=WA,C=US" for s in sigs)
    assert sigs[0]["unsignedAttributes"]["signingAgent"].startswith("notation-py/0.1.0 pyplug/")
    code, _, err = run(capsys, "sign", "--oci-layout", "--plugin", "nope", "--id", "x", ref)
    assert code == 1 and "Error: plugin executable file is either not found or inaccessible: " in err


def test_verbose_logs_to_stderr_cli06(capsys: pytest.CaptureFixture[str]) -> None:
    install_plugin(dirs.libexec_dir(), "pp")
    assert run(capsys, "key", "add", "--plugin", "pp", "--id", "i", "k")[0] == 0
    assert run(capsys, "key", "update", "k") == (0, "", "")
    code, out, err = run(capsys, "key", "update", "-v", "k")
    assert (code, out) == (0, "")
    assert err == "level=warning msg=--default flag is not set, command did not take effect\n"  # logrus DisableQuote


def test_registry_env_credentials_never_reach_plugins_cli09(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The signing plugin runs in a process whose environment no longer holds the registry credentials."""
    import os

    from notation._internal.oci.layout import write_image

    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    monkeypatch.setenv("NOTATION_USERNAME", "alice")
    monkeypatch.setenv("NOTATION_PASSWORD", "s3cret")
    leaf = pki.self_signed_leaf("plugin-signer")
    key_file, chain_file = leaf.write(tmp_path, "leaf")
    env_dump = tmp_path / "env.json"
    plugin = install_plugin(dirs.libexec_dir(), "envplug", {"key": str(key_file), "chain": str(chain_file)})
    source = plugin.read_text().replace(
        "def main():",
        f"def main():\n    open({str(env_dump)!r}, 'a').write(json.dumps(dict(os.environ)) + '\\n')",
        1,
    )
    plugin.write_text(source)
    desc = write_image(tmp_path / "app", "v1", {"f": b"x"})
    ref = f"{tmp_path / 'app'}@{desc.digest}"
    assert run(capsys, "sign", "--oci-layout", "--plugin", "envplug", "--id", "k", ref)[0] == 0
    seen = [json.loads(line) for line in env_dump.read_text().splitlines()]
    assert seen and all("NOTATION_USERNAME" not in env and "NOTATION_PASSWORD" not in env for env in seen)
    assert "NOTATION_USERNAME" not in os.environ
