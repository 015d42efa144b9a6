"""The CLI against a registry on 127.0.0.1 (cli.md §5..10): credentials, resolution, sign/list/inspect/verify, login."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from notation._internal.cli.main import main
from registry_support import State, push_image, running

HELPER = """#!{python}
import json, os, sys
store = os.environ["FAKE_HELPER_STORE"]
data = json.load(open(store)) if os.path.exists(store) else {{}}
action = sys.argv[1]
text = sys.stdin.read()
if action == "get":
    if text.strip() not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps(data[text.strip()]))
elif action == "store":
    cred = json.loads(text)
    data[cred["ServerURL"]] = cred
    json.dump(data, open(store, "w"))
elif action == "erase":
    if text.strip() not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    del data[text.strip()]
    json.dump(data, open(store, "w"))
"""


@pytest.fixture(autouse=True)
def _server_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test registry's threads must not write to the captured stderr: a client closing an idle keep-alive
    connection (reset) is normal; any other server-side exception fails the test."""
    import socketserver

    failures: list[BaseException] = []

    def handle_error(self: object, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            failures.append(exc)

    monkeypatch.setattr(socketserver.BaseServer, "handle_error", handle_error)
    yield
    assert failures == []


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _policy(scope: str) -> dict[str, object]:
    return {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "reg",
                "registryScopes": [scope],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:test"],
                "trustedIdentities": ["*"],
            }
        ],
    }


def test_sign_list_inspect_verify_with_basic_auth_from_env_cli09_cli35(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    state = State(auth="basic", users={"alice": "s3cret"})
    with running(state) as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        monkeypatch.setenv("NOTATION_USERNAME", "alice")
        monkeypatch.setenv("NOTATION_PASSWORD", "s3cret")
        capsys.readouterr()
        code, out, err = run(capsys, "sign", "--insecure-registry", f"{server.address}/app:v1")
        assert (code, out) == (0, f"Successfully signed {ref}\n")
        assert err == (
            "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1) because tags are "
            "mutable and a tag reference can point to a different artifact than the one signed.\n"
        )
        # CLI-09: the variables are taken out of the environment before the command runs
        assert "NOTATION_USERNAME" not in os.environ and "NOTATION_PASSWORD" not in os.environ
        creds = ("-u", "alice", "-p", "s3cret", "--insecure-registry")
        code, out, _ = run(capsys, "ls", *creds, ref)
        assert code == 0 and out.startswith(f"{ref}\n└── application/vnd.cncf.notary.signature\n    └── sha256:")
        code, out, _ = run(capsys, "inspect", *creds, "-o", "json", ref)
        assert code == 0 and json.loads(out)["Signatures"][0]["signedArtifact"]["digest"] == desc.digest
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps(_policy(f"{server.address}/app")))
        assert main(["policy", "import", str(policy)]) == 0
        capsys.readouterr()
        assert run(capsys, "verify", *creds, ref) == (0, f"Successfully verified signature for {ref}\n", "")
        code, out, err = run(capsys, "verify", "--insecure-registry", ref)  # no credentials now
        assert (code, out) == (1, "") and err.startswith("Error: failed to get manifest descriptor: ")
        missing = f"{server.address}/app@sha256:{'0' * 64}"
        code, _, err = run(capsys, "ls", *creds, missing)
        assert code == 1 and err.startswith("Error: failed to get manifest descriptor: ")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "nginx:1",
            '"nginx:1": invalid reference: missing registry or repository. Expecting '
            "<registry>/<repository>:<tag> or <registry>/<repository>@<digest>",
        ),
        (
            "reg.io/app",
            '"reg.io/app": invalid reference: no tag or digest. Expecting <registry>/<repository>:<tag> or '
            "<registry>/<repository>@<digest>",
        ),
    ],
)
def test_reference_errors_cli30(capsys: pytest.CaptureFixture[str], reference: str, message: str) -> None:
    assert run(capsys, "ls", reference) == (1, "", f"Error: {message}\n")


def test_login_logout_with_credential_helper_cli100_to_106(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-fake"
    helper.write_text(HELPER.format(python=sys.executable))
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    store = tmp_path / "helper-store.json"
    monkeypatch.setenv("FAKE_HELPER_STORE", str(store))
    config = Path(os.environ["NOTATION_CONFIG"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text('{"credsStore": "fake"}')

    state = State(auth="basic", users={"bob": "pw"})
    with running(state) as server:
        assert run(capsys, "login") == (1, "", "Error: no hostname specified\n")
        code, out, err = run(capsys, "login", "-u", "bob", "-p", "wrong", "--insecure-registry", server.address)
        assert (code, out) == (1, "")
        assert err.startswith(
            f"Error: failed to log in to {server.address}: failed to validate the credentials for {server.address}: "
        )
        monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("pw\r\n"))
        code, out, err = run(capsys, "login", "-u", "bob", "--password-stdin", "--insecure-registry", server.address)
        assert (code, out, err) == (0, "Login Succeeded\n", "")
        saved = json.loads(store.read_text())
        assert saved[server.address]["Username"] == "bob" and saved[server.address]["Secret"] == "pw"

        # the stored credential is used by later commands
        assert main(["cert", "generate-test", "--default", "test"]) == 0
        desc = push_image(server)
        capsys.readouterr()
        code, out, err = run(capsys, "sign", "-d", "--insecure-registry", f"{server.address}/app@{desc.digest}")
        assert (code, out) == (0, f"Successfully signed {server.address}/app@{desc.digest}\n")
        # CLI-06: -d names the helper execution, never what it returned
        assert f"msg=Executing credential helper {helper} get" in err
        assert "Ym9iOnB3" not in err and '"Secret"' not in err and '"Authorization": "*****"' in err

        assert run(capsys, "logout", server.address) == (0, "Logout Succeeded\n", "")
        assert json.loads(store.read_text()) == {}


def test_login_prompts_cli102(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("bob\n\n"))
    assert run(capsys, "login", "reg.example:5000") == (
        1,
        "Username: Password: \n",
        "Error: password required\n",
    )
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("\n\n"))
    assert run(capsys, "login", "reg.example:5000") == (1, "Username: Token: \n", "Error: token required\n")


def test_login_refuses_plaintext_store_cli104(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no platform credential helper can be found (CLI-36 step 3)
    with running(State()) as server:
        code, out, err = run(capsys, "login", "-u", "a", "-p", "b", "--insecure-registry", server.address)
    assert (code, out) == (1, "")
    assert err == (
        f"Error: failed to log in to {server.address}: the credential could not be saved because a credentials "
        "store is required to securely store the password. See "
        "https://notaryproject.dev/docs/how-to/registry-authentication/\n"
    )
