"""Configuration files and directories (cli.md §3, §4: CLI-10..13, CLI-20..21)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from notation._internal.config import dirs
from notation._internal.config.config_file import default_signature_format, load_config, load_config_lenient
from notation._internal.config.fileio import atomic_write, go_json
from notation._internal.config.signingkeys import KeySuite, SigningKeys, load_signing_keys, save_signing_keys
from notation.errors import ConfigError, KeyError_


def test_config_dir_precedence_cli10(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTATION_CONFIG", str(tmp_path / "exact"))
    assert dirs.config_dir() == tmp_path / "exact"  # used as is, no "notation" suffix
    monkeypatch.delenv("NOTATION_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert dirs.config_dir() == tmp_path / "xdg" / "notation"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/path")  # Go refuses a relative XDG dir
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dirs.config_dir() == Path(".notation")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert dirs.config_dir() == tmp_path / "home" / ".config" / "notation"
    monkeypatch.delenv("HOME")
    assert dirs.config_dir() == Path(".notation")


def test_cache_and_libexec_dirs_cli10(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTATION_CACHE", str(tmp_path / "c"))
    assert dirs.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("NOTATION_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    assert dirs.cache_dir() == tmp_path / "xc" / "notation"
    monkeypatch.setenv("NOTATION_CONFIG", str(tmp_path / "cfg"))
    monkeypatch.delenv("NOTATION_LIBEXEC", raising=False)
    assert dirs.plugins_dir() == tmp_path / "cfg" / "plugins"  # {LIBEXEC} defaults to {CONFIG}
    monkeypatch.setenv("NOTATION_LIBEXEC", str(tmp_path / "lx"))
    assert dirs.plugins_dir() == tmp_path / "lx" / "plugins"


def _write(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"keys": [{"name": ""}]}, "malformed signingkeys.json: key name cannot be empty"),
        ({"keys": [{"name": "a"}, {"name": "a"}]}, "malformed signingkeys.json: multiple keys with name 'a' found"),
        ({"default": "", "keys": []}, "malformed signingkeys.json: default key name cannot be empty"),
        ({"default": "b", "keys": [{"name": "a"}]}, "malformed signingkeys.json: default key 'b' not found"),
    ],
)
def test_signingkeys_validation_cli21(doc: object, message: str) -> None:
    _write(dirs.config_dir() / "signingkeys.json", doc)
    with pytest.raises(ConfigError) as info:
        load_signing_keys()
    assert str(info.value) == message


def test_signingkeys_round_trip_format_cli12_cli21() -> None:
    assert load_signing_keys() == SigningKeys()  # missing file: empty
    doc = SigningKeys().add(KeySuite("test", key_path="/k/t.key", cert_path="/k/t.crt"), mark_default=True)
    doc = doc.add(KeySuite("pk", id="https://v/keys/k", plugin_name="azure-kv", plugin_config={"z": "1", "a": "<&>"}))
    save_signing_keys(doc)
    path = dirs.config_dir() / "signingkeys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text == (
        "{\n"
        '    "default": "test",\n'
        '    "keys": [\n'
        "        {\n"
        '            "name": "test",\n'
        '            "keyPath": "/k/t.key",\n'
        '            "certPath": "/k/t.crt"\n'
        "        },\n"
        "        {\n"
        '            "name": "pk",\n'
        '            "id": "https://v/keys/k",\n'
        '            "pluginName": "azure-kv",\n'
        '            "pluginConfig": {\n'
        '                "a": "\\u003c\\u0026\\u003e",\n'
        '                "z": "1"\n'
        "            }\n"
        "        }\n"
        "    ]\n"
        "}\n"
    )
    assert load_signing_keys() == doc


def test_signingkeys_resolution_messages_cli42() -> None:
    doc = SigningKeys().add(KeySuite("a", key_path="k", cert_path="c"))
    with pytest.raises(KeyError_) as info:
        doc.resolve("")
    assert str(info.value) == "default signing key not set. Please set default signing key or specify a key name"
    with pytest.raises(KeyError_) as info:
        doc.resolve("b")
    assert str(info.value) == "signing key b not found"
    with pytest.raises(KeyError_) as info:
        doc.add(KeySuite("a", id="x", plugin_name="p"))
    assert str(info.value) == 'signing key with name "a" already exists'
    assert doc.set_default("a").resolve("").name == "a"


def test_symlink_config_files_rejected_cli13(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text('{"keys": []}')
    config = dirs.config_dir()
    config.mkdir(parents=True)
    (config / "signingkeys.json").symlink_to(real)
    with pytest.raises(ConfigError) as info:
        load_signing_keys()
    assert str(info.value) == f'"{config / "signingkeys.json"}" is not a regular file (symlinks are not supported)'
    (config / "config.json").mkdir()
    with pytest.raises(ConfigError, match="is not a regular file"):
        load_config()


def test_config_json_members_cli20() -> None:
    _write(
        dirs.config_dir() / "config.json",
        {"insecureRegistries": ["LocalHost:5000"], "signatureFormat": "COSE", "credsStore": "pass", "unknown": 1},
    )
    cfg = load_config()
    assert cfg.is_insecure("localhost:5000") and not cfg.is_insecure("localhost:5001")
    assert cfg.configures_auth
    assert default_signature_format() == "cose"


def test_malformed_config_json_falls_back_silently_cli20() -> None:
    path = dirs.config_dir() / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError):
        load_config()
    assert load_config_lenient().insecure_registries == ()
    assert default_signature_format() == "jws"


def test_atomic_write_leaves_no_temp_and_sets_mode_cli12(tmp_path: Path) -> None:
    target = tmp_path / "a" / "d" / "f.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["f.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(target.parent.parent.stat().st_mode) == 0o700  # every created directory, like MkdirAll


def test_go_json_escapes_like_marshal_indent() -> None:
    assert go_json({"a": ["<x>", "é"]}) == '{\n    "a": [\n        "\\u003cx\\u003e",\n        "é"\n    ]\n}\n'
