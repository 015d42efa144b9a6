"""The azure-kv plugin on its own (azure-key-vault.md §1, AZKV-01..15): protocol, key ids, config, chain building.

Everything here runs the real ``notation-azure-kv`` entry point or its pure parts; no network is needed because
every case fails (or answers) before Key Vault would be called. The end-to-end tests against the Key Vault
emulator are in test_azure_kv_e2e.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from notation_azure_kv import certs
from notation_azure_kv.__main__ import main
from notation_azure_kv.keyid import parse_key_id
from notation_azure_kv.launcher import install_launcher
from notation_azure_kv.protocol import PluginFailure
from support import pki


def _run(args: list[str], request: object | None = None, monkeypatch: pytest.MonkeyPatch | None = None):
    stdin = io.BytesIO(b"" if request is None else json.dumps(request).encode())
    out, err = io.StringIO(), io.StringIO()
    assert monkeypatch is not None
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_azkv01_metadata_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run(["get-plugin-metadata"], {}, monkeypatch)
    assert code == 0 and err == ""
    assert out == (
        '{"name":"azure-kv","description":"Notation Azure Key Vault plugin","version":"1.2.1",'
        '"url":"https://github.com/Azure/notation-azure-kv","supportedContractVersions":["1.0"],'
        '"capabilities":["SIGNATURE_GENERATOR.RAW"]}\n'
    )


def test_azkv10_metadata_is_fast_and_imports_no_azure() -> None:
    code = (
        "import sys, io; sys.stdin = io.TextIOWrapper(io.BytesIO(b'{}'));"
        "from notation_azure_kv.__main__ import main; main(['get-plugin-metadata']);"
        "assert not [m for m in sys.modules if m.startswith('azure')], 'azure imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_azkv10_usage_and_unknown_command(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run([], None, monkeypatch)
    assert code == 0 and out.startswith("notation-azure-kv")
    code, _, err = _run(["sign"], {}, monkeypatch)
    assert code == 1 and json.loads(err) == {"errorCode": "VALIDATION_ERROR", "errorMessage": "Invalid command: sign"}


@pytest.mark.parametrize(
    ("request_obj", "code", "message"),
    [
        (None, "VALIDATION_ERROR", "Standard input is empty"),
        ("[1]", "VALIDATION_ERROR", "Failed to parse the request in JSON format."),
        ({"contractVersion": "2.0", "keyId": "x"}, "UNSUPPORTED_CONTRACT_VERSION", "Unsupported contract version: 2.0"),
        ({"contractVersion": "1.0", "keyId": ""}, "VALIDATION_ERROR", 'Input passed to "--id" must not be empty'),
        (
            {
                "contractVersion": "1.0",
                "keyId": "https://v.vault.azure.net/keys/k",
                "pluginConfig": {"credential_type": "Default"},
            },
            "VALIDATION_ERROR",
            "Invalid credential type: default",
        ),
    ],
)
def test_azkv10_request_errors(monkeypatch: pytest.MonkeyPatch, request_obj: object, code: str, message: str) -> None:
    if request_obj == "[1]":
        stdin_obj: object = [1]
    else:
        stdin_obj = request_obj
    rc, out, err = _run(["describe-key"], stdin_obj, monkeypatch)
    assert rc == 1 and out == ""
    body = json.loads(err)
    assert body["errorCode"] == code and body["errorMessage"].startswith(message)


def test_azkv05_self_signed_with_ca_certs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    request = {
        "contractVersion": "1.0",
        "keyId": "https://v.vault.azure.net/keys/k/1",
        "keySpec": "RSA-2048",
        "hashAlgorithm": "SHA-256",
        "payload": "aGVsbG8=",
        "pluginConfig": {"self_signed": "TRUE", "ca_certs": "x.pem", "credential_type": "azurecli"},
    }
    rc, _, err = _run(["generate-signature"], request, monkeypatch)
    assert rc == 1
    assert json.loads(err) == {
        "errorCode": "ERROR",
        "errorMessage": "Self-signed certificate is specified. Please do not specify the `ca_certs` parameter if it "
        "is a self-signed certificate.",
    }


@pytest.mark.parametrize(
    ("raw", "vault", "name", "version"),
    [
        ("https://myvault.vault.azure.net/keys/mykey/abc123", "https://myvault.vault.azure.net", "mykey", "abc123"),
        ("https://myvault.vault.azure.net/certificates/c/v1/", "https://myvault.vault.azure.net", "c", "v1"),
        ("https://myvault.vault.azure.net/keys/mykey", "https://myvault.vault.azure.net", "mykey", None),
        ("https://127.0.0.1:8443/certificates/c", "https://127.0.0.1:8443", "c", None),  # AZKV-04: port kept
    ],
)
def test_azkv03_key_id_forms(raw: str, vault: str, name: str, version: str | None) -> None:
    key_id = parse_key_id(raw)
    assert (key_id.vault_url, key_id.name, key_id.version) == (vault, name, version)
    assert key_id.key_url == f"{vault}/keys/{name}" + (f"/{version}" if version else "")


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("/", "VALIDATION_ERROR", 'Input passed to "--id" must not be empty'),
        (
            "https://v.vault.azure.net/keys/a/b/c",
            "VALIDATION_ERROR",
            'Invalid input passed to "--id". Please follow this format to input the ID '
            '"https://<vault-name>.vault.azure.net/certificates/<certificate-name>/[certificate-version]"',
        ),
        ("https://v.vault.azure.net/secrets/a", "VALIDATION_ERROR", "Unsupported key vualt object type secrets."),
        ("http://v.vault.azure.net/keys/a", "VALIDATION_ERROR", "Unsupported scheme http. The scheme must be https."),
        ("mykey", "ERROR", "Invalid URI: The format of the URI could not be determined."),
    ],
)
def test_azkv03_key_id_rejections(raw: str, code: str, message: str) -> None:
    with pytest.raises(PluginFailure) as err:
        parse_key_id(raw)
    assert (err.value.code, err.value.message) == (code, message)


@pytest.mark.parametrize(
    ("kind", "spec", "alg"),
    [
        ("rsa2048", "RSA-2048", "PS256"),
        ("rsa3072", "RSA-3072", "PS384"),
        ("rsa4096", "RSA-4096", "PS512"),
        ("ec256", "EC-256", "ES256"),
        ("ec384", "EC-384", "ES384"),
        ("ec521", "EC-521", "ES512"),
    ],
)
def test_azkv06_algorithm_from_certificate(kind: str, spec: str, alg: str) -> None:
    a = certs.algorithm_for(pki.self_signed_leaf(key_kind=kind).cert)
    assert (a.key_spec, a.akv_alg) == (spec, alg)


def test_azkv06_unsupported_keys() -> None:
    with pytest.raises(PluginFailure, match="RSA key size 1024 bits is not supported"):
        certs.algorithm_for(pki.self_signed_leaf(key_kind="rsa1024").cert)
    with pytest.raises(PluginFailure, match="ECDSA key size 224 bits is not supported"):
        certs.algorithm_for(pki.self_signed_leaf(key_kind="ec224").cert)


@pytest.fixture(scope="module")
def chain() -> tuple[pki.Issued, pki.Issued, pki.Issued]:
    return pki.chain3("ec256", "ec256")


def test_azkv07_builds_leaf_to_root_in_any_order(chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    root, inter, leaf = chain
    assert certs.build_chain([root.cert, leaf.cert, inter.cert]) == [leaf.cert, inter.cert, root.cert]
    single = pki.self_signed_leaf(key_kind="ec256").cert
    assert certs.build_chain([single]) == [single]


def test_azkv07_chain_errors(chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    root, inter, leaf = chain
    other_leaf = pki.issue("another", key_kind="ec256", issuer=inter).cert
    cases = [
        ([], "The certificates that need to be built into a chain are empty."),
        ([leaf.cert], "Only obtained one certificate but it is not a self-signed certificate."),
        ([leaf.cert, leaf.cert], "Found duplicated certificates: CN=leaf, O=Notary, L=Seattle, S=WA, C=US"),
        ([leaf.cert, other_leaf, inter.cert, root.cert], "Found multiple leaf certificates or unreferenced"),
        ([leaf.cert, root.cert], "Certificate chain is not complete. The issuer of CN=leaf, O=Notary"),
    ]
    for certificates, message in cases:
        with pytest.raises(PluginFailure) as err:
            certs.build_chain(certificates)
        assert err.value.code == "ERROR" and err.value.message.startswith(message), certificates


def test_azkv12_secret_contents(chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    import base64

    from cryptography.hazmat.primitives.serialization import pkcs12

    root, inter, leaf = chain
    pem = (leaf.key_pem() + leaf.chain_pem()).decode()
    assert certs.certificates_from_secret(pem, "application/x-pem-file") == leaf.chain
    pfx = pkcs12.serialize_key_and_certificates(
        b"n", leaf.key, leaf.cert, [inter.cert, root.cert], serialization.NoEncryption()
    )
    got = certs.certificates_from_secret(base64.b64encode(pfx).decode(), "application/x-pkcs12")
    assert certs.build_chain(got) == leaf.chain
    with pytest.raises(PluginFailure, match="Unsupported secret content type: text/plain"):
        certs.certificates_from_secret("x", "text/plain")


def test_azkv12_ca_certs_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here")
    with pytest.raises(PluginFailure, match="No certificate found in"):
        certs.load_ca_certs(str(empty))
    with pytest.raises(PluginFailure, match="Could not find file"):
        certs.load_ca_certs(str(tmp_path / "missing.pem"))


def test_launcher_runs_the_plugin(tmp_path: Path) -> None:
    launcher = install_launcher(tmp_path / "plugins" / "azure-kv")
    assert launcher.name == "notation-azure-kv"
    done = subprocess.run([str(launcher), "get-plugin-metadata"], input=b"{}", capture_output=True, check=True)
    assert json.loads(done.stdout)["name"] == "azure-kv"


def test_launcher_is_installable_and_listed_by_notation_host(tmp_path: Path) -> None:
    """The launcher passes `notation plugin install --file` checks and `plugin ls` shows azure-kv."""
    from notation._internal.plugin import PluginManager

    launcher = install_launcher(tmp_path / "build")
    manager = PluginManager(tmp_path / "libexec")
    assert manager.install_from_file(launcher) == ("azure-kv", None, "1.2.1")
    rows = manager.list()
    assert [(r.name, r.version, r.capabilities, r.error) for r in rows] == [
        ("azure-kv", "1.2.1", ("SIGNATURE_GENERATOR.RAW",), None)
    ]


def test_azkv05_unparsable_authority_host_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """AZURE_AUTHORITY_HOST is read before any credential is built: a value urllib cannot parse is named in one
    VALIDATION_ERROR line, not a bare ValueError."""
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://[x")
    request = {"contractVersion": "1.0", "keyId": "https://v.vault.azure.net/keys/k/1"}
    code, out, err = _run(["describe-key"], request, monkeypatch)
    assert code == 1 and out == ""
    assert json.loads(err) == {
        "errorCode": "VALIDATION_ERROR",
        "errorMessage": "Invalid AZURE_AUTHORITY_HOST 'https://[x': Invalid IPv6 URL",
    }
