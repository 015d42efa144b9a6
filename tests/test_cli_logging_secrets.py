"""CLI-06, CLI-34/35: `-d` shows every HTTP exchange (Go's internal/trace form) and never a secret.

Signing and verifying against a bearer-token registry, with a password and with an identity (refresh) token, and
signing through the azure-kv plugin against the Key Vault emulator with a client secret: no password, basic
credential, refresh token, issued access token or client secret may appear in the debug output.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notation._internal.cli.main import main
from notation._internal.log import redact
from registry_support import State, push_image, running

PASSWORD = "pw-Bob-7d1f0c9e"
IDENTITY_TOKEN = "idtok-4b8a-Secret-93"


@pytest.fixture(autouse=True)
def _server_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A client dropping an idle keep-alive connection is normal; the test server must not print it."""
    import socketserver

    def handle_error(self: object, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        assert exc is None or isinstance(exc, ConnectionResetError | BrokenPipeError)

    monkeypatch.setattr(socketserver.BaseServer, "handle_error", handle_error)
    yield


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _secrets_absent(err: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in err, f"secret {secret[:4]}... leaked into the debug output"


@pytest.mark.parametrize("credential", ["password", "identity-token"])
def test_debug_shows_http_but_no_registry_secret_cli06_cli34(
    credential: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    state = State(auth="bearer", users={"bob": PASSWORD}, refresh_tokens={IDENTITY_TOKEN: "bob"})
    with running(state) as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        creds = ["-u", "bob", "-p", PASSWORD] if credential == "password" else ["-p", IDENTITY_TOKEN]
        capsys.readouterr()
        code, out, sign_err = run(capsys, "sign", "-d", "--insecure-registry", *creds, ref)
        assert code == 0 and out == f"Successfully signed {ref}\n", sign_err
        policy = {
            "version": "1.0",
            "trustPolicies": [
                {
                    "name": "reg",
                    "registryScopes": [f"{server.address}/app"],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": ["ca:test"],
                    "trustedIdentities": ["*"],
                }
            ],
        }
        (tmp_path / "policy.json").write_text(json.dumps(policy))
        assert main(["policy", "import", str(tmp_path / "policy.json")]) == 0
        capsys.readouterr()
        code, out, verify_err = run(capsys, "verify", "-d", "--insecure-registry", *creds, ref)
        assert code == 0 and "Successfully verified" in out, verify_err
        issued = list(state.tokens)
    assert issued, "the registry issued bearer tokens"
    basic = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    for err in (sign_err, verify_err):
        _secrets_absent(err, [PASSWORD, basic, IDENTITY_TOKEN, *issued])
        # Go's trace lines: request, scrubbed headers, response status
        assert re.search(rf'> Request: "(GET|HEAD)" "http://{re.escape(server.address)}/v2/app/manifests/', err)
        assert '< Response status: "401 Unauthorized"' in err and '< Response status: "200 OK"' in err
        assert '"Authorization": "*****"' in err
        assert '"Www-Authenticate": "Bearer realm=' in err or '"WWW-Authenticate": "Bearer realm=' in err
        assert "Traceback" not in err
    assert "Check verification level" in verify_err


def test_redact_scrubs_every_secret_shape_cli06() -> None:
    """Whatever a call site logs, the formatter's pass removes secret values and keeps the rest readable."""
    text = (
        '{"password":"p1","refresh_token":"r1","client_secret":"c1","access_token":"a1","keyId":"k"} '
        "grant_type=refresh_token&refresh_token=r2&client_secret=c2&scope=repository:app:pull "
        "Authorization: Bearer abc.DEF-123 and Basic Ym9iOnB3 "
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln realm=Bearer realm=x Basic constraints"
    )
    out = redact(text)
    for secret in ("p1", '"r1"', '"c1"', '"a1"', "=r2", "=c2", "abc.DEF-123", "Ym9iOnB3", "eyJzdWIiOiJib2IifQ"):
        assert secret not in out, secret
    assert '"keyId":"k"' in out and "grant_type=refresh_token" in out and "scope=repository:app:pull" in out
    assert "Basic constraints" in out


def test_debug_signing_with_azure_kv_shows_no_client_secret_cli06(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """azure-kv against the Key Vault emulator, credential_type=environment with a client secret, under -d."""
    pytest.importorskip("azure.keyvault.keys")
    vault_mod = pytest.importorskip("notation_devstack.vault")
    from notation._internal.config import dirs
    from notation._internal.oci.layout import write_image
    from notation_azure_kv.launcher import install_launcher

    client_secret = "kv-Client-Secret-5e2d9a"
    policy: dict[str, Any] = {
        "issuerParameters": {"certificateTransparency": None, "name": "Self"},
        "keyProperties": {"exportable": False, "keyType": "RSA", "reuseKey": True, "keySize": 2048},
        "secretProperties": {"contentType": "application/x-pem-file"},
        "x509CertificateProperties": {
            "ekus": ["1.3.6.1.5.5.7.3.3"],
            "keyUsage": ["digitalSignature"],
            "subject": "CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US",
            "validityInMonths": 12,
        },
    }
    with vault_mod.VaultServer(tmp_path / "vault") as vault:
        key_id = vault.create_certificate("wabbit-networks-io", policy)["id"]
        install_launcher(dirs.libexec_dir() / "plugins" / "azure-kv")
        client_id = "66666666-7777-8888-9999-000000000000"
        vault.set_policy(vault.object_id_for_client(client_id), certificates=["get"], keys=["sign"])
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vault.ca_cert_path))
        monkeypatch.setenv("AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION", "true")
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", vault.authority_host)
        monkeypatch.setenv("AZURE_TENANT_ID", vault.tenant_id)
        monkeypatch.setenv("AZURE_CLIENT_ID", client_id)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", client_secret)
        for name in ("IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
        desc = write_image(tmp_path / "app", "v1", {"f": b"x"})
        ref = f"{tmp_path / 'app'}@{desc.digest}"
        capsys.readouterr()
        code, out, err = run(
            capsys,
            "sign",
            "-d",
            "--oci-layout",
            "--plugin",
            "azure-kv",
            "--id",
            key_id,
            "--plugin-config",
            "credential_type=environment",
            "--plugin-config",
            "self_signed=true",
            ref,
        )
    assert code == 0 and "Successfully signed" in out, err
    assert "Plugin generate-signature request" in err and "Plugin describe-key response" in err
    assert client_secret not in err and os.environ["AZURE_CLIENT_SECRET"] not in err
    assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.", err), "a JWT reached the debug output"


def test_json_lines_share_the_source_and_the_redaction_cli06(tmp_path: Path) -> None:
    """The admission service's JSON logs: the library's records (any ``notation.*`` logger), one object per line."""
    import io
    import logging

    from notation._internal import log

    stream = io.StringIO()
    log.configure(stream, level=logging.DEBUG, json_lines=True)
    try:
        logging.getLogger("notation.revocation").warning('Certificate #%d with subject "%s"', 2, "CN=x")
        rid = log.http_request("GET", "http://127.0.0.1:1/token?refresh_token=rt-9", {"Authorization": "Bearer zz9"})
        log.http_response(rid, 200, "OK", {"Set-Cookie": "session=abc123"})
    finally:
        log.quiet()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["level"] == "warning" and lines[0]["logger"] == "notation.revocation"
    assert lines[0]["msg"] == 'Certificate #2 with subject "CN=x"'
    assert lines[1]["level"] == "debug" and lines[1]["msg"].startswith("Request #")
    text = stream.getvalue()
    assert "rt-9" not in text and "zz9" not in text and "abc123" not in text
