"""Registry authentication and credentials: CLI-32 (TLS), CLI-34 (challenges, tokens), CLI-35..37 (sources, stores,
docker credential helpers), CLI-103..106 (login/logout functions). Secrets never appear in errors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import ssl
import stat
import sys
from pathlib import Path

import pytest

from notation._internal.oci.reference import parse_reference
from notation._internal.registry import RegistryClient, RegistryRepository, login, logout
from notation._internal.registry.auth import merge_scopes, parse_challenge
from notation._internal.registry.credentials import (
    Credential,
    CredentialResolver,
    FileStore,
    HelperStore,
    open_credential_store,
    server_key,
)
from notation._internal.registry.login import STORE_NOT_SET_UP_WARNING
from notation.errors import AuthenticationError, ConfigError, NotationError, RegistryError
from registry_support import FAST, State, push_image, repo, running, sign_into
from registry_support.server import Handler, Hook

HELPER = """#!{python}
import json, os, sys
store = os.environ["TEST_HELPER_STORE"]
data = json.load(open(store)) if os.path.exists(store) else {{}}
action = sys.argv[1]
text = sys.stdin.read()
with open(store + ".log", "a") as log:
    log.write(action + "\\n")
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


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real ``docker-credential-test`` executable on PATH backed by a JSON file; returns that file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "docker-credential-test"
    exe.write_text(HELPER.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    store = tmp_path / "helper-store.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("TEST_HELPER_STORE", str(store))
    return store


def _config(tmp_path: Path, doc: dict[str, object]) -> Path:
    cfg = tmp_path / "notation-config"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.json").write_text(json.dumps(doc))
    return cfg


def test_cli34_parse_challenge_and_scopes() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.io/token",service="reg.io",scope="repository:a:pull,push", Basic realm="x"'
    )
    assert scheme == "bearer"
    assert params == {"realm": "https://auth.io/token", "service": "reg.io", "scope": "repository:a:pull,push"}
    assert parse_challenge('Basic realm="r"') == ("basic", {"realm": "r"})
    assert merge_scopes(["repository:a:push", "repository:a:pull", "repository:b:pull", ""]) == [
        "repository:a:pull,push",
        "repository:b:pull",
    ]


def test_cli34_basic_auth_and_up_front_reuse() -> None:
    with running(State(auth="basic", users={"alice": "s3cret"})) as server:
        subject = push_image(server)
        store = repo(server, username="alice", password="s3cret")
        assert store.resolve("v1") == subject
        assert store.resolve(subject.digest) == subject
        auths = [r.auth for r in server.state.requests]
        assert auths == ["", "basic", "basic"]  # challenged once, then Basic up front


def test_cli34_basic_auth_refused_without_or_with_wrong_credentials() -> None:
    with running(State(auth="basic", users={"alice": "s3cret"})) as server:
        push_image(server)
        with pytest.raises(AuthenticationError, match="response status code 401"):
            repo(server).resolve("v1")
        with pytest.raises(AuthenticationError) as info:
            repo(server, username="alice", password="WRONG-pass-123").resolve("v1")
        assert "WRONG-pass-123" not in str(info.value)


def test_cli34_bearer_token_flow_scopes_and_reuse() -> None:
    with running(State(auth="bearer", users={"bob": "pw-bob-42"})) as server:
        subject = push_image(server)
        client = RegistryClient(username="bob", password="pw-bob-42", insecure=True, options=FAST)
        store = repo(server, client=client)
        assert store.resolve("v1") == subject
        assert store.resolve("v1") == subject
        sign_into(store, subject)
        assert list(store.list_signatures(subject))
        tokens = server.state.token_requests
        assert all(t["method"] == "GET" and t["basic"] for t in tokens)
        assert tokens[0]["query"]["scope"] == ["repository:app:pull"]
        assert tokens[0]["query"]["client_id"] == ["notation"]
        assert tokens[0]["query"]["service"] == ["test-registry"]
        scopes = sorted({s for t in tokens for s in t["query"]["scope"]})
        assert "repository:app:pull,push" in scopes
        assert len(tokens) <= 4  # one per distinct scope set, not one per request
        # a second repository on the same client gets its own scope but reuses the connection pool
        other = push_image(server, "other")
        assert repo(server, "other", client=client).resolve("v1") == other


def test_cli34_bearer_identity_token_uses_refresh_grant() -> None:
    state = State(auth="bearer", refresh_tokens={"idtoken-xyz": "bob"})
    with running(state) as server:
        subject = push_image(server)
        assert repo(server, username="", password="idtoken-xyz").resolve("v1") == subject
        post = server.state.token_requests[0]
        assert post["method"] == "POST"
        assert post["grant_type"] == "refresh_token" and post["client_id"] == "notation"
        assert post["scope"] == "repository:app:pull" and post["service"] == "test-registry"


def test_cli34_bearer_anonymous_pull_and_refused_token() -> None:
    with running(State(auth="bearer", anonymous_pull=True, users={"bob": "pw"})) as server:
        subject = push_image(server)
        assert repo(server).resolve("v1") == subject
        assert server.state.token_requests[0]["basic"] is False
        with pytest.raises(AuthenticationError, match="failed to fetch a token") as info:
            repo(server, username="bob", password="bad-secret-77").resolve("v1")
        assert "bad-secret-77" not in str(info.value)


def test_cli35_explicit_and_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CredentialResolver("u", "p")("r.io") == Credential("u", "p")
    assert CredentialResolver("", "tok")("r.io") == Credential(refresh_token="tok")
    monkeypatch.setenv("NOTATION_USERNAME", "envuser")
    monkeypatch.setenv("NOTATION_PASSWORD", "envpw")
    assert CredentialResolver()("r.io") == Credential("envuser", "envpw")
    assert "envpw" not in repr(CredentialResolver()("r.io"))


def test_cli36_docker_config_auths_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = Path(os.environ["DOCKER_CONFIG"])
    docker.mkdir(parents=True, exist_ok=True)
    with running(State(auth="basic", users={"dock": "dpw"})) as server:
        subject = push_image(server)
        auth = base64.b64encode(b"dock:dpw").decode()
        (docker / "config.json").write_text(json.dumps({"auths": {server.address: {"auth": auth}}}))
        assert repo(server).resolve("v1") == subject
        # notation's own config wins once it configures auth
        cfg = _config(tmp_path, {"auths": {server.address: {"auth": base64.b64encode(b"dock:nope").decode()}}})
        with pytest.raises(AuthenticationError):
            repo(server, config_dir=cfg).resolve("v1")


def test_cli36_store_selection_and_docker_hub_key(tmp_path: Path) -> None:
    assert server_key("docker.io") == "https://index.docker.io/v1/"
    assert server_key("registry-1.docker.io") == "https://index.docker.io/v1/"
    assert server_key("localhost:5000") == "localhost:5000"
    cfg = _config(tmp_path, {"credsStore": "test", "credHelpers": {"special.io": "other"}})
    store = open_credential_store(cfg)
    assert isinstance(store, FileStore) and not store.saves_plaintext
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"^failed to get credentials store: failed to create credential store"):
        open_credential_store(bad)


def test_cli37_credential_helper_get_store_erase(helper: Path) -> None:
    store = HelperStore("test")
    assert store.get("r.io") == Credential()
    store.put("r.io", Credential("u", "p"))
    assert store.get("r.io") == Credential("u", "p")
    store.put("t.io", Credential(refresh_token="rt"))
    assert json.loads(helper.read_text())["t.io"]["Username"] == "<token>"
    assert store.get("t.io") == Credential(refresh_token="rt")
    store.delete("r.io")
    assert store.get("r.io") == Credential()
    store.delete("never.io")  # not found is not an error
    with pytest.raises(RegistryError, match="not found in PATH"):
        HelperStore("absent-helper").get("r.io")


def test_cli37_registry_access_through_cred_helpers(tmp_path: Path, helper: Path) -> None:
    with running(State(auth="bearer", users={"hel": "hpw"})) as server:
        subject = push_image(server)
        helper.write_text(
            json.dumps({server.address: {"ServerURL": server.address, "Username": "hel", "Secret": "hpw"}})
        )
        cfg = _config(tmp_path, {"credHelpers": {server.address: "test"}})
        store = RegistryRepository(parse_reference(f"{server.address}/app:v1"), insecure=True, config_dir=cfg)
        try:
            assert store.resolve("v1") == subject
        finally:
            store.close()


def test_cli103_104_login_logout_with_helper(tmp_path: Path, helper: Path) -> None:
    with running(State(auth="basic", users={"alice": "s3cret"})) as server:
        cfg = _config(tmp_path, {"credsStore": "test"})
        with pytest.raises(AuthenticationError) as info:
            login(server.address, "alice", "bad-pw-999", insecure=True, config_dir=cfg, options=FAST)
        message = str(info.value)
        assert message.startswith(
            f"failed to log in to {server.address}: failed to validate the credentials for {server.address}: "
        )
        assert "bad-pw-999" not in message and not helper.exists()
        result = login(server.address, "alice", "s3cret", insecure=True, config_dir=cfg, options=FAST)
        assert result.message == "Login Succeeded" and result.warnings == []
        assert json.loads(helper.read_text())[server.address]["Secret"] == "s3cret"
        # the stored credential is used by later commands
        push_image(server)
        store = RegistryRepository(parse_reference(f"{server.address}/app:v1"), insecure=True, config_dir=cfg)
        try:
            store.resolve("v1")
        finally:
            store.close()
        assert logout(server.address, config_dir=cfg) == "Logout Succeeded"
        assert server.address not in json.loads(helper.read_text())


def test_cli104_plaintext_store_refused_or_existing_reported(tmp_path: Path) -> None:
    with running(State(auth="basic", users={"alice": "s3cret"})) as server:
        cfg = tmp_path / "empty-config"
        with pytest.raises(RegistryError, match="a credentials store is required"):
            login(server.address, "alice", "s3cret", insecure=True, config_dir=cfg, options=FAST)
        auth = base64.b64encode(b"alice:s3cret").decode()
        cfg2 = _config(tmp_path, {"auths": {server.address: {"auth": auth}}})
        result = login(server.address, "alice", "s3cret", insecure=True, config_dir=cfg2, options=FAST)
        assert result.message == "Authenticated with existing credentials"
        assert result.warnings == [STORE_NOT_SET_UP_WARNING]


def test_cli100_no_hostname() -> None:
    with pytest.raises(NotationError, match="no hostname specified"):
        login("", "u", "p")
    with pytest.raises(NotationError, match="no hostname specified"):
        logout("")


def _tls_material(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A local CA and a server certificate for 127.0.0.1; returns the CA file and the server's SSL context."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test registry CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain)
    return ca_file, ctx


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_cli32_https_with_local_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    ca_file, server_ctx = _tls_material(tmp_path)
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with running(ssl_context=server_ctx) as server:
        subject = push_image(server)
        with pytest.raises(
            RegistryError, match=r"tls: failed to verify certificate: x509: certificate signed by unknown authority"
        ):
            repo(server).resolve("v1")
        monkeypatch.setenv(variable, str(ca_file))
        assert repo(server).resolve("v1") == subject


def _bad_realm(realm: str) -> Hook:
    def answer(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
        handler.send(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'})
        return True

    return answer


def _referrers_link(link: str) -> Hook:
    index = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'

    def answer(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
        if kind != "referrers":
            return False
        handler.send(200, index, {"Content-Type": "application/vnd.oci.image.index.v1+json", "Link": link})
        return True

    return answer


def _redirect(location: str) -> Hook:
    def answer(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
        handler.send(302, b"", {"Location": location})
        return True

    return answer


@pytest.mark.parametrize(
    ("hook", "error", "message"),
    [
        (_redirect("http://[x/v2/app/manifests/v1"), RegistryError, r": invalid redirect location: Invalid IPv6 URL$"),
        (_bad_realm("http://[x/token"), AuthenticationError, r"^invalid bearer token realm 'http://\[x/token' from "),
        (_bad_realm("http://127.0.0.1:99999/t"), AuthenticationError, r"^invalid bearer token realm 'http://127\."),
        (_bad_realm("ftp://h/t"), AuthenticationError, r"^invalid bearer token realm 'ftp://h/t' from "),
        (_referrers_link('<http://[x/v2/next>; rel="next"'), RegistryError, r"sent an invalid URL 'http://\[x/v2/"),
    ],
)
def test_cli34_unparsable_registry_urls_are_typed_errors(hook: Hook, error: type[Exception], message: str) -> None:
    """A registry's Location, challenge realm and Link header are untrusted: an unparsable URL (urllib's "Invalid
    IPv6 URL", a port out of range) is the registry's error in one line, not a ValueError out of the client."""
    state = State()
    with running(state) as server:
        subject = push_image(server)
        state.hook = hook
        store = repo(server, client=RegistryClient(insecure=True, options=FAST))
        with pytest.raises(error, match=message):
            store.resolve(subject.digest)
            list(store.list_signatures(subject))
