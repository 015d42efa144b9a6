"""Issue 3 acceptance, end to end: the ``notation`` CLI as a subprocess against real registries over HTTPS.

Registries (each with basic auth from an htpasswd file and with a bearer-token server):

* ours (``notation_devstack.registry.RegistryServer``, referrers API on; its own ``/token`` endpoint);
* Debian's ``docker-registry`` 2.8 (distribution: no referrers API, so the REF-03 tag schema is the only way; its
  ``auth: token:`` mode is served by :class:`TokenServer` below, which issues ES256 JWTs carrying an ``x5c`` chain
  that the registry checks against its ``rootcertbundle``). Skipped when the binary is absent (``.ci/run`` installs
  it).

Both serve TLS from a throwaway CA that the CLI trusts through ``REQUESTS_CA_BUNDLE``, so the registry host is
``127.0.0.1:<port>`` over HTTPS with no ``--insecure-registry``. Credentials come from ``-u/-p``, from a docker
credential helper (``docker-credential-e2e`` on PATH, ``credsStore`` in ``$DOCKER_CONFIG/config.json``) and from
``notation login`` (stored through that helper, as Go does). Output lines are checked verbatim where cli.md gives
them (CLI-31, CLI-43, CLI-52, CLI-53, CLI-61, CLI-72, CLI-74, CLI-105, CLI-106).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry import RegistryClient
from notation_devstack.registry import RegistryServer, TLSFiles, make_tls_files, write_htpasswd

DOCKER_REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
HAVE_DOCKER_REGISTRY = os.access(DOCKER_REGISTRY, os.X_OK)
USER, PASSWORD = "e2e-user", "e2e-Passw0rd!"
IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SIGNATURE = "application/vnd.cncf.notary.signature"

HELPER = """#!{python}
import json, os, sys
store = os.environ["E2E_HELPER_STORE"]
data = json.load(open(store)) if os.path.exists(store) else {{}}
action, text = sys.argv[1], sys.stdin.read().strip()
if action == "get":
    if text not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps(data[text]))
elif action == "store":
    cred = json.loads(text)
    data[cred["ServerURL"]] = cred
    json.dump(data, open(store, "w"))
elif action == "erase":
    if text not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    del data[text]
    json.dump(data, open(store, "w"))
"""


# ----- servers --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A Docker token server for distribution's ``auth: token:`` mode: ``GET /token`` with basic credentials
    answers ``{"token": <ES256 JWT>}`` granting the requested scopes to the one known user (401 otherwise)."""

    ISSUER = "e2e-token-issuer"
    SERVICE = "e2e-registry"

    def __init__(self, signing: TLSFiles) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        self.key = serialization.load_pem_private_key(signing.key.read_bytes(), None)
        leaf = x509.load_pem_x509_certificates(signing.cert.read_bytes())[0]
        self.x5c = [base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()]
        self.rootcertbundle = signing.ca_cert
        self.issued = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if url.path != "/token" or self.headers.get("Authorization") != expected:
                    body = b'{"details":"invalid credentials"}'
                    self.send_response(401)
                else:
                    token = outer.token(query.get("scope", []), query.get("service", [""])[0])
                    body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def token(self, scopes: list[str], service: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        claims = {"iss": self.ISSUER, "sub": USER, "aud": service, "exp": now + 300, "nbf": now - 30,
                  "iat": now - 30, "jti": secrets.token_hex(8), "access": access}
        header = {"typ": "JWT", "alg": "ES256", "x5c": self.x5c}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        assert isinstance(self.key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        self.issued += 1
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Target:
    """One registry under test: ``host`` is what references name (``127.0.0.1:<port>``)."""

    name: str
    host: str
    referrers: bool
    token: TokenServer | None = None
    stop: list[Any] = field(default_factory=list)


def _start_docker_registry(base: Path, tls: TLSFiles, auth: str) -> subprocess.Popen[bytes]:
    port = _free_port()
    config = base / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {base / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {tls.cert}\n    key: {tls.key}\n"
        f"auth:\n{auth}"
    )
    proc = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            proc.port = port  # type: ignore[attr-defined]
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"docker-registry did not start (config: {config.read_text()})")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """What every test shares: the CA, the htpasswd file, notation's config with a test key and trust policy."""
    base = tmp_path_factory.mktemp("e2e")
    tls = make_tls_files(base / "tls")
    htpasswd = write_htpasswd(base / "htpasswd", {USER: PASSWORD}, rounds=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTATION_", "DOCKER_"))}
    env.update(
        NOTATION_CONFIG=str(base / "notation"),
        NOTATION_CACHE=str(base / "cache"),
        HOME=str(base / "home"),
        DOCKER_CONFIG=str(base / "docker-none"),
        REQUESTS_CA_BUNDLE=str(tls.ca_cert),
    )
    proc = subprocess.run([sys.executable, "-m", "notation", "cert", "generate-test", "--default", "e2e"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (base / "notation" / "trustpolicy.json").write_text(json.dumps({
        "version": "1.0",
        "trustPolicies": [{
            "name": "e2e", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:e2e"], "trustedIdentities": ["*"],
        }],
    }))
    yield {"base": base, "tls": tls, "htpasswd": htpasswd, "env": env}


REGISTRIES = [
    pytest.param("ours-basic"),
    pytest.param("ours-token"),
    pytest.param("distribution-basic", marks=pytest.mark.skipif(not HAVE_DOCKER_REGISTRY,
                                                                reason="docker-registry not installed")),
    pytest.param("distribution-token", marks=pytest.mark.skipif(not HAVE_DOCKER_REGISTRY,
                                                                reason="docker-registry not installed")),
]


@pytest.fixture(scope="module", params=REGISTRIES)
def target(request: pytest.FixtureRequest, world: dict[str, Any]) -> Iterator[Target]:
    name: str = request.param
    base: Path = world["base"] / name
    tls: TLSFiles = world["tls"]
    if name.startswith("ours"):
        server = RegistryServer(base / "data", htpasswd=world["htpasswd"], token_auth=name.endswith("token"),
                                tls=(tls.cert, tls.key)).start()
        found = Target(name, server.host, referrers=True, stop=[server.stop])
    else:
        base.mkdir(parents=True)
        token = None
        if name.endswith("token"):
            token = TokenServer(make_tls_files(base / "token-signing", hosts=("e2e-token-signer",)))
            auth = (f"  token:\n    realm: {token.realm}\n    service: {TokenServer.SERVICE}\n"
                    f"    issuer: {TokenServer.ISSUER}\n    rootcertbundle: {token.rootcertbundle}\n")
        else:
            auth = f"  htpasswd:\n    realm: e2e\n    path: {world['htpasswd']}\n"
        proc = _start_docker_registry(base, tls, auth)
        found = Target(name, f"127.0.0.1:{proc.port}", referrers=False, token=token)  # type: ignore[attr-defined]

        def stop_registry() -> None:
            proc.terminate()
            proc.wait(timeout=10)

        found.stop.append(stop_registry)
        if token is not None:
            found.stop.append(token.stop)
    try:
        yield found
    finally:
        for stop in found.stop:
            stop()


# ----- helpers --------------------------------------------------------------------------------------------------


def push_image(world: dict[str, Any], target: Target, repo: str) -> Descriptor:
    """Seed ``<host>/<repo>:v1`` through the library (with the same credentials and CA as the CLI)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", str(world["tls"].ca_cert))
        client = RegistryClient(username=USER, password=PASSWORD)
    try:
        store = client.repository(parse_reference(f"{target.host}/{repo}:v1"))
        config, layer = b'{"architecture":"amd64","os":"linux"}', repo.encode()
        cdesc = Descriptor.for_content(mediatypes.OCI_IMAGE_CONFIG, config)
        ldesc = Descriptor.for_content(mediatypes.OCI_LAYER_TAR, layer)
        store.push_blob(cdesc, config)
        store.push_blob(ldesc, layer)
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "config": cdesc.to_dict(), "layers": [ldesc.to_dict()]}
        ).encode()
        store.push_manifest("v1", IMAGE_MANIFEST, manifest)
    finally:
        client.close()
    return Descriptor.for_content(IMAGE_MANIFEST, manifest)


def notation(env: dict[str, str], *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "notation", *argv], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def helper_env(world: dict[str, Any], tmp_path: Path, stored: dict[str, Any] | None = None) -> dict[str, str]:
    """An env whose Docker config uses ``credsStore: e2e`` (the helper script on PATH keeps a JSON file)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-e2e"
    helper.write_text(HELPER.format(python=sys.executable))
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text('{"credsStore": "e2e"}')
    store = tmp_path / "helper-store.json"
    if stored is not None:
        store.write_text(json.dumps(stored))
    env = dict(world["env"])
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", DOCKER_CONFIG=str(docker),
               E2E_HELPER_STORE=str(store))
    return env


def tag_warning(op: str, tag: str) -> str:
    if op == "sign":
        return (f"Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:{tag}) because tags "
                "are mutable and a tag reference can point to a different artifact than the one signed.\n")
    return (f"Warning: Always {op} the artifact using digest(@sha256:...) rather than a tag(:{tag}) because resolved "
            "digest may not point to the same signed artifact, as tags are mutable.\n")


def listed(out: str, ref: str) -> list[str]:
    """CLI-61: the signature digests of a ``notation ls`` tree (checking the tree's fixed lines)."""
    lines = out.splitlines()
    assert lines[:2] == [ref, f"└── {SIGNATURE}"], out
    digests = []
    for i, line in enumerate(lines[2:]):
        branch = "└── " if i == len(lines) - 3 else "├── "
        assert line.startswith(f"    {branch}sha256:"), out
        digests.append(line[len("    ├── ") :])
    return digests


# ----- tests ----------------------------------------------------------------------------------------------------


def test_sign_ls_inspect_verify_with_username_password(world: dict[str, Any], target: Target) -> None:
    """CLI-35 (-u/-p), CLI-31/43/52/53/61/72/74 verbatim; REF-01 (ours) or REF-02/03 tag schema (distribution)."""
    desc = push_image(world, target, "e2e/flags")
    env, creds = world["env"], ("-u", USER, "-p", PASSWORD)
    ref = f"{target.host}/e2e/flags@{desc.digest}"

    assert notation(env, "ls", *creds, ref) == (0, f"{ref} has no associated signature\n", "")
    assert notation(env, "verify", *creds, ref) == (
        1, "", f'Error: signature verification failed: no signature is associated with "{ref}", make sure the '
        "artifact was signed successfully\n")

    assert notation(env, "sign", *creds, f"{target.host}/e2e/flags:v1") == (
        0, f"Successfully signed {ref}\n", tag_warning("sign", "v1"))

    code, out, err = notation(env, "ls", *creds, f"{target.host}/e2e/flags:v1")
    assert (code, err) == (0, tag_warning("list", "v1"))
    [signature] = listed(out, ref)

    code, out, err = notation(env, "inspect", *creds, ref)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == ["Inspecting all signatures for signed artifact", ref, f"└── {SIGNATURE}",
                         f"    └── {signature}"]
    assert lines[4:6] == ["        ├── media type: application/jose+json",
                          "        ├── signature algorithm: RSASSA-PSS-SHA-256"]
    assert "        │   └── (empty)" in lines  # user defined attributes
    assert lines[-4:] == ["        └── signed artifact",
                          f"            ├── media type: {IMAGE_MANIFEST}",
                          f"            ├── digest: {desc.digest}",
                          f"            └── size: {desc.size}"]

    code, out, err = notation(env, "inspect", *creds, "-o", "json", ref)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert out == json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    assert list(doc) == ["mediaType", "Signatures"] and doc["mediaType"] == IMAGE_MANIFEST
    [sig] = doc["Signatures"]
    assert list(sig) == ["mediaType", "digest", "signatureAlgorithm", "signedAttributes", "userDefinedAttributes",
                         "unsignedAttributes", "certificates", "signedArtifact"]
    assert (sig["digest"], sig["mediaType"], sig["userDefinedAttributes"]) == (
        signature, "application/jose+json", None)
    assert sig["signedArtifact"] == {"mediaType": IMAGE_MANIFEST, "digest": desc.digest, "size": desc.size}
    assert sig["certificates"][0]["issuedTo"] == "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"

    assert notation(env, "verify", *creds, ref) == (0, f"Successfully verified signature for {ref}\n", "")

    code, out, err = notation(env, "ls", ref)  # no credentials at all
    assert (code, out) == (1, "") and err.startswith("Error: failed to get manifest descriptor: "), err
    if target.token is not None:
        assert target.token.issued > 0


def test_credentials_from_a_docker_credential_helper(world: dict[str, Any], target: Target, tmp_path: Path) -> None:
    """CLI-36/37: no -u/-p; ``credsStore`` in $DOCKER_CONFIG/config.json runs ``docker-credential-e2e get``."""
    desc = push_image(world, target, "e2e/helper")
    stored = {target.host: {"ServerURL": target.host, "Username": USER, "Secret": PASSWORD}}
    env = helper_env(world, tmp_path, stored)
    ref = f"{target.host}/e2e/helper@{desc.digest}"
    assert notation(env, "sign", ref) == (0, f"Successfully signed {ref}\n", "")
    assert notation(env, "verify", ref) == (0, f"Successfully verified signature for {ref}\n", "")


def test_notation_login_stores_through_the_helper_then_logout(
    world: dict[str, Any], target: Target, tmp_path: Path
) -> None:
    """CLI-101..106: ``notation login --password-stdin`` validates and stores via the helper; later commands use
    it; ``notation logout`` erases it and commands fail again."""
    desc = push_image(world, target, "e2e/login")
    env = helper_env(world, tmp_path)
    ref = f"{target.host}/e2e/login@{desc.digest}"
    code, out, err = notation(env, "login", "-u", USER, "-p", "wrong", target.host)
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: failed to log in to {target.host}: failed to validate the credentials for "
                          f"{target.host}: "), err
    assert notation(env, "login", "-u", USER, "--password-stdin", target.host, stdin=PASSWORD + "\n") == (
        0, "Login Succeeded\n", "")
    saved = json.loads(Path(env["E2E_HELPER_STORE"]).read_text())
    assert saved == {target.host: {"ServerURL": target.host, "Username": USER, "Secret": PASSWORD}}
    assert notation(env, "sign", ref) == (0, f"Successfully signed {ref}\n", "")
    code, out, err = notation(env, "ls", ref)
    assert (code, err) == (0, "") and len(listed(out, ref)) == 1
    assert notation(env, "logout", target.host) == (0, "Logout Succeeded\n", "")
    assert json.loads(Path(env["E2E_HELPER_STORE"]).read_text()) == {}
    code, out, err = notation(env, "verify", ref)
    assert (code, out) == (1, "") and err.startswith("Error: failed to get manifest descriptor: "), err


@pytest.mark.skipif(not HAVE_DOCKER_REGISTRY, reason="docker-registry not installed")
@pytest.mark.parametrize("target", ["distribution-basic"], indirect=True)
def test_eight_processes_sign_at_once_under_the_tag_schema(world: dict[str, Any], target: Target) -> None:
    """Acceptance (issue 3): 8 ``notation sign`` processes, same image, same moment, registry without referrers API
    (REF-03 tag index, read-modify-write with re-check): ``notation ls`` lists all 8 afterwards."""
    desc = push_image(world, target, "e2e/concurrent")
    ref = f"{target.host}/e2e/concurrent@{desc.digest}"
    argv = [sys.executable, "-m", "notation", "sign", "-u", USER, "-p", PASSWORD, ref]
    procs = [subprocess.Popen(argv, env=world["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, results
    assert all(out == f"Successfully signed {ref}\n" for out, _ in results), results
    code, out, err = notation(world["env"], "ls", "-u", USER, "-p", PASSWORD, ref)
    assert (code, err) == (0, "")
    assert len(set(listed(out, ref))) == 8


def test_the_registries_really_differ(world: dict[str, Any], target: Target) -> None:
    """Guard for the matrix: ours answers the referrers API, distribution 2.8 does not (so the tag schema is used)."""
    import requests

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", str(world["tls"].ca_cert))
        client = RegistryClient(username=USER, password=PASSWORD)
    try:
        desc = push_image(world, target, "e2e/probe")
        response: requests.Response = client.send(
            "GET", target.host, f"/v2/e2e/probe/referrers/{desc.digest}", scopes=["repository:e2e/probe:pull"])
        assert (response.status_code == 200) is target.referrers
        response.close()
    finally:
        client.close()


def test_force_referrers_tag_false_uses_the_referrers_api_where_there_is_one(
    world: dict[str, Any], target: Target
) -> None:
    """CLI ``--force-referrers-tag=false`` (REF-07): ours indexes the signature itself (``OCI-Subject``), so no
    ``sha256-<hex>`` tag index is written; distribution 2.8 does not, so the client falls back to the tag schema."""
    from notation._internal.registry.repository import referrers_tag
    from notation.errors import NotFoundError

    desc = push_image(world, target, "e2e/api")
    ref = f"{target.host}/e2e/api@{desc.digest}"
    creds = ("-u", USER, "-p", PASSWORD)
    assert notation(world["env"], "sign", *creds, "--force-referrers-tag=false", ref) == (
        0, f"Successfully signed {ref}\n", "")
    code, out, err = notation(world["env"], "ls", *creds, ref)
    assert (code, err) == (0, "") and len(listed(out, ref)) == 1
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", str(world["tls"].ca_cert))
        client = RegistryClient(username=USER, password=PASSWORD)
    try:
        store = client.repository(parse_reference(f"{target.host}/e2e/api:v1"))
        if target.referrers:
            with pytest.raises(NotFoundError):
                store.resolve(referrers_tag(desc.digest))
        else:
            assert store.resolve(referrers_tag(desc.digest)).media_type == mediatypes.OCI_IMAGE_INDEX
    finally:
        client.close()
