"""``notation-devstack vault`` end to end in subprocesses: serve, the tutorial's az steps, persistence."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from notation_devstack.vault import VaultServer

TUTORIAL_POLICY = """{
    "issuerParameters": {
    "certificateTransparency": null,
    "name": "Self"
    },
    "keyProperties": {
      "exportable": false,
      "keySize": 2048,
      "keyType": "RSA",
      "reuseKey": true
    },
    "secretProperties": {
      "contentType": "application/x-pem-file"
    },
    "x509CertificateProperties": {
    "ekus": [
        "1.3.6.1.5.5.7.3.3"
    ],
    "keyUsage": [
        "digitalSignature"
    ],
    "subject": "CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US",
    "validityInMonths": 12
    }
}
"""


def _cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "notation_devstack", "vault", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    state = tmp_path_factory.mktemp("vault-cli-state")
    env = {**os.environ, "DEVSTACK_VAULT_STATE_DIR": str(state)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "notation_devstack", "vault", "serve", "--state-dir", str(state),
         "--vault-name", "myakv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield url, env, state
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    assert not (state / "server.json").exists()


def test_tutorial_az_steps(served: tuple[str, dict[str, str], Path], tmp_path: Path) -> None:
    """§2.10: set-policy, certificate create -p @file, show --query kid -o tsv, download (PEM and DER)."""
    url, env, state = served
    info = json.loads((state / "server.json").read_text())
    principal = info["defaultPrincipal"]
    out = _cli("set-policy", "-n", "myakv", "--certificate-permissions", "get", "create",
               "--key-permissions", "sign", "--object-id", principal, env=env)
    entry = next(e for e in json.loads(out.stdout)["properties"]["accessPolicies"] if e["objectId"] == principal)
    assert entry["permissions"]["certificates"] == ["get", "create"]
    assert entry["permissions"]["keys"] == ["sign"]
    assert entry["permissions"]["secrets"] == ["all"]  # az keeps the lists that were not given

    policy = tmp_path / "my_policy.json"
    policy.write_text(TUTORIAL_POLICY)
    out = _cli("certificate", "create", "-n", "wabbit-networks-io", "--vault-name", "myakv", "-p", f"@{policy}",
               env=env)
    op = json.loads(out.stdout)
    assert op["status"] == "completed" and op["name"] == "wabbit-networks-io"
    assert op["target"] == f"{url}/certificates/wabbit-networks-io"
    assert set(op) == {"cancellationRequested", "csr", "error", "id", "issuerParameters", "name", "requestId",
                       "status", "statusDetails", "target"}

    kid = _cli("certificate", "show", "-n", "wabbit-networks-io", "--vault-name", "myakv", "--query", "kid",
               "-o", "tsv", env=env).stdout.strip()
    assert kid.startswith(f"{url}/keys/wabbit-networks-io/") and len(kid.rsplit("/", 1)[1]) == 32
    shown = json.loads(_cli("certificate", "show", "-n", "wabbit-networks-io", "--vault-name", "myakv",
                            env=env).stdout)
    assert shown["policy"]["keyProperties"]["exportable"] is False
    assert shown["x509ThumbprintHex"] == hashlib.sha1(base64.b64decode(shown["cer"])).hexdigest().upper()

    pem = tmp_path / "wabbit-networks-io.pem"
    out = _cli("certificate", "download", "--name", "wabbit-networks-io", "--vault-name", "myakv",
               "--file", str(pem), env=env)
    assert out.stdout == ""
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    assert cert.subject.rfc4514_string() == "C=US,ST=WA,L=Seattle,O=Notation,CN=wabbit-networks.io"
    assert all(len(line) <= 76 for line in pem.read_text().splitlines())
    again = _cli("certificate", "download", "--name", "wabbit-networks-io", "--vault-name", "myakv",
                 "--file", str(pem), env=env, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    der = tmp_path / "c.der"
    _cli("certificate", "download", "-n", "wabbit-networks-io", "--vault-name", "myakv", "--file", str(der),
         "--encoding", "DER", env=env)
    assert x509.load_der_x509_certificate(der.read_bytes()) == cert

    # the policy is enforced: signing works, key get does not (KVA-06, tutorial row)
    token = requests.post(f"{url}/_emulator/tokens", json={}, timeout=10, verify=info["caCert"],
                          headers={"Authorization": "Bearer " + (state / "identity/admin-token").read_text()}).json()
    auth = {"Authorization": f"Bearer {token['accessToken']}"}
    digest = hashlib.sha256(b"payload").digest()
    body = {"alg": "PS256", "value": base64.urlsafe_b64encode(digest).rstrip(b"=").decode()}
    r = requests.post(f"{kid}/sign?api-version=7.5", json=body, headers=auth, verify=info["caCert"], timeout=10)
    assert r.status_code == 200
    sig = base64.urlsafe_b64decode(r.json()["value"] + "==")
    cert.public_key().verify(sig, b"payload", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())  # type: ignore[call-arg,union-attr]
    r = requests.get(f"{kid}?api-version=7.5", headers=auth, verify=info["caCert"], timeout=10)
    assert r.status_code == 403 and "does not have keys get permission" in r.json()["error"]["message"]


def test_cli_errors_are_one_line(served: tuple[str, dict[str, str], Path], tmp_path: Path) -> None:
    _url, env, _state = served
    out = _cli("certificate", "show", "-n", "nope", "--vault-name", "myakv", env=env, check=False)
    assert out.returncode == 1
    assert out.stderr.startswith("Error: (CertificateNotFound) A certificate with (name/id) nope was not found")
    assert "Traceback" not in out.stderr
    out = _cli("set-policy", "-n", "myakv", "--key-permissions", "sign", env=env, check=False)
    assert out.returncode == 1 and "specify exactly one: --object-id, --spn, --upn" in out.stderr
    out = _cli("set-policy", "-n", "myakv", "--object-id", "x", env=env, check=False)
    assert out.returncode == 1 and "specify at least one: --key-permissions" in out.stderr
    out = _cli("set-policy", "-n", "myakv", "--object-id", "x", "--key-permissions", "fly", env=env, check=False)
    assert out.returncode == 1 and "invalid keys permission 'fly'" in out.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"x509CertificateProperties": {"subject": "CN=a"}, "keyProperties": {"keySize": 1024}}')
    out = _cli("certificate", "create", "-n", "bad", "--vault-name", "myakv", "-p", f"@{bad}", env=env, check=False)
    assert out.returncode == 1 and "(BadParameter) Unsupported key size (1024)" in out.stderr
    out = _cli("certificate", "show", "-n", "x", "--vault-name", "myakv",
               env={**env, "DEVSTACK_VAULT_STATE_DIR": str(tmp_path)}, check=False)
    assert out.returncode == 1 and "no running emulator found" in out.stderr


def test_fake_az_command(served: tuple[str, dict[str, str], Path], tmp_path: Path) -> None:
    _url, env, state = served
    path = Path(_cli("fake-az", "--dir", str(tmp_path), env=env).stdout.strip())
    assert path.stat().st_mode & stat.S_IXUSR
    out = subprocess.run([str(path), "account", "get-access-token", "--output", "json", "--resource",
                          "https://vault.azure.net"], capture_output=True, text=True, timeout=30, check=True)
    doc = json.loads(out.stdout)
    assert set(doc) >= {"accessToken", "expiresOn", "expires_on", "tenant", "tokenType"}
    info = json.loads((state / "server.json").read_text())
    assert doc["tenant"] == info["tenantId"]


def test_persistence_across_restart(tmp_path: Path) -> None:
    """State survives a restart: certificates, keys (same public key, still signs), policies; no private key
    appears in vault.json, and key files are 0600."""
    state = tmp_path / "state"
    policy = json.loads(TUTORIAL_POLICY)
    with VaultServer(state) as first:
        bundle = first.create_certificate("persist", policy)
        first.set_policy("12345678-1234-4234-8234-123456789012", certificates=["get"])
        url_ca = first.ca_cert_path
    doc_text = (state / "vaults" / "devstack-vault" / "vault.json").read_text()
    assert "PRIVATE KEY" not in doc_text
    key_files = list((state / "vaults").rglob("*.pem"))
    assert key_files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in key_files)
    with VaultServer(state) as second:
        assert second.ca_cert_path == url_ca
        token = second.token()
        r = requests.get(f"{second.url}/certificates/persist?api-version=7.5", verify=str(second.ca_cert_path),
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 200 and r.json()["cer"] == bundle["cer"]
        digest = hashlib.sha256(b"after restart").digest()
        r = requests.post(f"{second.url}/keys/persist/sign?api-version=7.5", verify=str(second.ca_cert_path),
                          headers={"Authorization": f"Bearer {token}"}, timeout=10,
                          json={"alg": "PS256", "value": base64.urlsafe_b64encode(digest).rstrip(b"=").decode()})
        assert r.status_code == 200
        cert = x509.load_der_x509_certificate(base64.b64decode(bundle["cer"]))
        cert.public_key().verify(  # type: ignore[call-arg,union-attr]
            base64.urlsafe_b64decode(r.json()["value"] + "=="), b"after restart",
            padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256(),
        )
        other = second.token("12345678-1234-4234-8234-123456789012")
        r = requests.get(f"{second.url}/keys/persist?api-version=7.5", verify=str(second.ca_cert_path),
                         headers={"Authorization": f"Bearer {other}"}, timeout=10)
        assert r.status_code == 403


def test_state_store_sweeps_old_temp_files_only(tmp_path: Path) -> None:
    """Issue 8 (kill -9 mid-write): an atomic_write temp file older than an hour (it may hold a private key) is
    removed when the state store opens; a young one (a live writer's) and every real file stay."""
    import time

    from notation_devstack.vault.store import StateStore

    StateStore(tmp_path)
    keys = tmp_path / "vaults" / "v" / "keys" / "k"
    keys.mkdir(parents=True)
    real = keys / "1.pem"
    real.write_bytes(b"real")
    dead, live = keys / ".1.pem.dead0001", tmp_path / "vaults" / "v" / ".vault.json.live0001"
    dead.write_bytes(b"-----BEGIN PRIVATE KEY-----")
    live.write_bytes(b"{")
    stale = time.time() - 3600 - 60
    os.utime(dead, (stale, stale))
    os.utime(real, (stale, stale))
    StateStore(tmp_path)
    assert not dead.exists()
    assert live.exists() and real.exists() and (tmp_path / "emulator.json").exists()
