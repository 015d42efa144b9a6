"""``notation key`` and ``notation certificate`` (cli.md §11, §12: CLI-110..113, CLI-120..124)."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from notation._internal.config import dirs
from support import pki
from support.cli import run


@pytest.fixture(scope="module")
def small_bits() -> int:
    return 2048


def test_generate_test_cli124(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cert", "generate-test", "--default", "wabbit.io")
    assert (code, err) == (0, "")
    config = dirs.config_dir().absolute()
    key_path, cert_path = config / "localkeys" / "wabbit.io.key", config / "localkeys" / "wabbit.io.crt"
    lines = out.splitlines()
    assert lines[0] == "generating RSA Key with 2048 bits"
    assert lines[1].startswith("generated certificate expiring on ") and lines[1].endswith("Z")
    assert lines[2:] == [
        f"wrote key: {key_path}",
        f"wrote certificate: {cert_path}",
        "Successfully added wabbit.io.crt to named store wabbit.io of type ca",
        "wabbit.io: added to the key list",
        "wabbit.io: mark as default signing key",
    ]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.subject.rfc4514_string() == "CN=wabbit.io,O=Notary,L=Seattle,ST=WA,C=US"
    assert cert.issuer == cert.subject
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(hours=24)
    assert lines[1] == f"generated certificate expiring on {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.BasicConstraints)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == key.public_key().public_numbers()
    keys = json.loads((dirs.config_dir() / "signingkeys.json").read_text())
    assert keys == {
        "default": "wabbit.io",
        "keys": [{"name": "wabbit.io", "keyPath": str(key_path), "certPath": str(cert_path)}],
    }
    stored = dirs.config_dir() / "truststore" / "x509" / "ca" / "wabbit.io" / "wabbit.io.crt"
    assert stored.read_bytes() == cert_path.read_bytes()

    # a second run refuses to overwrite the key file (exclusive create)
    code, out, err = run(capsys, "cert", "generate-test", "wabbit.io")
    assert code == 1
    assert err == f"Error: failed to write key file: open {key_path}: file exists\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cert", "generate-test"], "missing certificate common_name"),
        (["cert", "generate-test", "a/b"], "name needs to follow [a-zA-Z0-9_.-]+ format"),
        (["cert", "add", "-t", "ca", "-s", "s"], "missing certificate path"),
        (["cert", "add", "-t", "", "-s", "s", "f"], "store type cannot be empty"),
        (["cert", "add", "-t", "CA", "-s", "s", "f"], "unsupported store type: CA"),
        (["cert", "add", "-t", "ca", "-s", "a b", "f"], "named store name needs to follow [a-zA-Z0-9_.-]+ format"),
        (["cert", "show", "-t", "ca", "-s", "s"], "missing certificate file name"),
        (["cert", "show", "-t", "ca", "-s", "s", "a", "b"], "show only supports single certificate file"),
        (
            ["cert", "delete", "-t", "ca", "-s", "s", "--all", "f"],
            "cannot delete a single certificate file when --all flag is set. use --help flag for more details",
        ),
        (
            ["cert", "delete", "-t", "ca", "-s", "s"],
            "delete requires either the certificate file name that needs to be deleted or --all flag to delete all "
            "certificates in the given named trust store",
        ),
        (["key", "add", "--plugin", "p"], "either missing key name or unnecessary parameters passed"),
        (["key", "add", "--plugin", "p", "a", "b"], "either missing key name or unnecessary parameters passed"),
        (["key", "add", "--plugin", "p", "k"], "missing key id"),
        (
            ["key", "add", "--plugin", "p", "--id", "i", "--plugin-config", "novalue", "k"],
            'could not parse flag plugin-config: key-value pair requires "=" as separator',
        ),
        (["key", "update"], "missing key name"),
        (["key", "update", "--default", "nope"], "signing key nope not found"),
        (["key", "delete"], "missing key names"),
        (["key", "delete", "nope"], "signing key nope not found"),
    ],
)
def test_key_and_cert_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert run(capsys, *argv) == (1, "", f"Error: {message}\n")


def test_key_add_requires_installed_plugin_cli110(capsys: pytest.CaptureFixture[str]) -> None:
    path = dirs.config_dir() / "plugins" / "p" / "notation-p"
    assert run(capsys, "key", "add", "--plugin", "p", "--id", "i", "k") == (
        1,
        "",
        f"Error: plugin executable file is either not found or inaccessible: stat {path}: no such file or directory\n",
    )


def _install_fake_plugin(name: str) -> None:
    path = dirs.plugins_dir() / name / f"notation-{name}"
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)


def test_key_add_update_list_delete_cli110_to_113(capsys: pytest.CaptureFixture[str]) -> None:
    _install_fake_plugin("pyplug")
    assert run(capsys, "key", "add", "--plugin", "pyplug", "--id", "key1", "--plugin-config", "a=b=c", "one") == (
        0,
        "one\n",
        "",
    )
    assert run(capsys, "key", "add", "--default", "--plugin", "pyplug", "--id", "key2", "two") == (
        0,
        "two: marked as default\n",
        "",
    )
    assert run(capsys, "key", "add", "--plugin", "pyplug", "--id", "x", "two") == (
        1,
        "",
        'Error: signing key with name "two" already exists\n',
    )
    keys = json.loads((dirs.config_dir() / "signingkeys.json").read_text())
    assert keys["keys"][0] == {"name": "one", "id": "key1", "pluginName": "pyplug", "pluginConfig": {"a": "b=c"}}
    assert keys["keys"][1] == {"name": "two", "id": "key2", "pluginName": "pyplug"}
    assert run(capsys, "key", "ls")[1] == (
        "NAME    KEY PATH   CERTIFICATE PATH   ID     PLUGIN NAME   \n"
        "one                                   key1   pyplug        \n"
        "* two                                 key2   pyplug        \n"
    )
    # update without --default: no change, exit 0, silent without -v
    assert run(capsys, "key", "update", "one") == (0, "", "")
    assert run(capsys, "key", "set", "--default", "one") == (0, "one: marked as default\n", "")
    assert run(capsys, "key", "ls")[1].splitlines()[1].startswith("* one ")
    # a failing name aborts the whole delete
    assert run(capsys, "key", "delete", "two", "nope")[0] == 1
    assert len(json.loads((dirs.config_dir() / "signingkeys.json").read_text())["keys"]) == 2
    assert run(capsys, "key", "delete", "two", "one") == (
        0,
        "Removed the following keys from Notation signing key list. The source keys still exist.\ntwo\none (default)\n",
        "",
    )
    assert json.loads((dirs.config_dir() / "signingkeys.json").read_text()) == {"keys": []}


def test_key_delete_single_default_cli113(capsys: pytest.CaptureFixture[str]) -> None:
    _install_fake_plugin("pp")
    run(capsys, "key", "add", "--default", "--plugin", "pp", "--id", "i", "k")
    assert run(capsys, "key", "delete", "k") == (
        0,
        "Removed default key k from Notation signing key list. The source key still exists.\n",
        "",
    )


def test_cert_add_list_show_delete_cli120_to_123(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = pki.root_ca("Root One")
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(root.cert_pem())
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")

    code, out, err = run(capsys, "cert", "add", "-t", "ca", "-s", "acme", str(root_file), str(junk))
    assert code == 1
    assert out == f"Successfully added following certificates to named store acme of type ca:\n{root_file}\n"
    assert err.startswith(
        f'Error: Failed to add following certificates to named store acme of type ca:\n{junk}, with error "'
    )
    code, out, err = run(capsys, "cert", "add", "--type", "ca", "--store", "acme", str(root_file))
    assert code == 1 and err == (
        "Error: Failed to add following certificates to named store acme of type ca:\n"
        f'{root_file}, with error "certificate already exists in the Trust Store"\n\n'
    )
    assert run(capsys, "cert", "add", "-t", "signingAuthority", "-s", "sa", str(root_file))[0] == 0

    assert run(capsys, "cert", "ls")[1] == (
        "STORE TYPE         STORE NAME   CERTIFICATE   \n"
        "ca                 acme         root.pem      \n"
        "signingAuthority   sa           root.pem      \n"
    )
    assert run(capsys, "cert", "ls", "-t", "ca")[1].splitlines()[1].split() == ["ca", "acme", "root.pem"]
    assert run(capsys, "cert", "ls", "-s", "nothing") == (0, "", "")
    assert run(capsys, "cert", "ls", "-t", "bogus") == (0, "", "")

    from notation._internal.x509.keys import thumbprint_sha256

    code, out, _ = run(capsys, "cert", "show", "-t", "ca", "-s", "acme", "root.pem")
    assert code == 0
    c = root.cert
    assert out == (
        "Certificate details\n" + "-" * 80 + "\n"
        "Issuer: CN=Root One,O=Notary,L=Seattle,ST=WA,C=US\n"
        "Subject: CN=Root One,O=Notary,L=Seattle,ST=WA,C=US\n"
        f"Valid from: {c.not_valid_before_utc:%Y-%m-%d %H:%M:%S} +0000 UTC\n"
        f"Valid to: {c.not_valid_after_utc:%Y-%m-%d %H:%M:%S} +0000 UTC\n"
        "IsCA: true\n"
        f"SHA256 Thumbprint: {thumbprint_sha256(c)}\n"
    )
    code, _, err = run(capsys, "cert", "show", "-t", "ca", "-s", "acme", "missing.pem")
    assert code == 1 and err.startswith("Error: failed to show details of certificate missing.pem, with error: ")

    # delete: prompt answered no, then yes
    prompt = 'Are you sure you want to delete "root.pem" in "acme" of type "ca"? [y/N] '
    assert run(capsys, "cert", "delete", "-t", "ca", "-s", "acme", "root.pem", stdin="n\n") == (
        0,
        prompt + "Operation cancelled.\n",
        "",
    )
    assert run(capsys, "cert", "delete", "-t", "ca", "-s", "acme", "root.pem", stdin="") == (
        0,
        prompt,
        "",
    )  # EOF counts as no (CLI-85); Go's scanner read no line, so only the prompt is printed
    assert run(capsys, "cert", "delete", "-t", "ca", "-s", "acme", "root.pem", stdin="YES\n") == (
        0,
        prompt + "Successfully deleted root.pem\n",
        "",
    )
    code, _, err = run(capsys, "cert", "delete", "-t", "ca", "-s", "acme", "-y", "root.pem")
    path = dirs.config_dir() / "truststore" / "x509" / "ca" / "acme" / "root.pem"
    assert (code, err) == (1, f"Error: failed to delete the certificate file: stat {path}: no such file or directory\n")
    store_dir = (dirs.config_dir() / "truststore" / "x509" / "signingAuthority" / "sa").absolute()
    assert run(capsys, "cert", "delete", "-t", "signingAuthority", "-s", "sa", "--all", "-y") == (
        0,
        f"Successfully deleted {store_dir}\n",
        "",
    )
    assert not store_dir.exists()


def test_cleanup_test_removes_generated_material(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "cert", "generate-test", "tmp")[0] == 0
    code, out, _ = run(capsys, "cert", "cleanup-test", "-y", "tmp")
    assert code == 0 and "Successfully deleted tmp.crt from trust store tmp of type ca" in out
    assert json.loads((dirs.config_dir() / "signingkeys.json").read_text()) == {"keys": []}
    assert not (dirs.config_dir() / "localkeys" / "tmp.key").exists()
    assert not (dirs.config_dir() / "truststore" / "x509" / "ca" / "tmp").exists()
