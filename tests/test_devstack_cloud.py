"""Issue 13: the Azure control-plane stand-ins over real TLS on 127.0.0.1, without az (fast): cloud metadata, the
Entra authority's grants and errors, ARM's token checks, vaults and access policies through the emulator, the
registry's ACR token exchange, ACR Tasks' upload and build errors, and the loopback-only proxy.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from notation_devstack.cloud.http import CloudHttpServer
from notation_devstack.cloud.metadata import ARM_AUDIENCE
from notation_devstack.cloud.proxy import LoopbackProxy
from notation_devstack.cloud.server import build_routes
from notation_devstack.registry.acr import ACR_USER
from notation_devstack.registry.auth import write_htpasswd
from notation_devstack.registry.server import RegistryServer
from notation_devstack.stack.tls import ensure_tls
from notation_devstack.vault.registry import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, VaultRegistry
from notation_devstack.vault.server import VaultServer
from notation_devstack.vault.tokens import TokenIssuer

USER = {"upn": "dev@devstack.localhost", "password": "s3cret-pass", "objectId": "c7bfb854-d350-5716-9abb-1c6cc547dddd"}
CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("cloud")
    ca, cert, key = ensure_tls(base / "tls")
    vault = VaultServer(base / "vault", vault_name="demo").start()
    tenant = vault.tenant_id
    issuer = TokenIssuer(base / "vault" / "identity", tenant)
    jwks = base / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    htpasswd = write_htpasswd(base / "htpasswd", {"builder": "pw"}, rounds=4)
    registry = RegistryServer(base / "registry", htpasswd=htpasswd, tls=(cert, key), acr_jwks=jwks,
                              acr_tenant=tenant).start()
    config = {"user": USER, "vault_port": vault.port, "vaults": ["demo"],
              "registry": {"name": "demoacr", "host": registry.host, "username": "builder", "password": "pw"}}
    routes = build_routes(base / "cloud", base / "vault", config, [0])
    server = CloudHttpServer(routes, str(cert), str(key)).start()
    bundle = base / "bundle.pem"
    bundle.write_bytes(ca.read_bytes() + Path(vault.ca_cert_path).read_bytes())
    yield {"url": server.url, "ca": str(bundle), "vault": vault, "registry": registry, "issuer": issuer,
           "tenant": tenant, "base": base}
    server.stop()
    registry.stop()
    vault.stop()


def _token(cloud: dict[str, Any], scope: str, **form: str) -> requests.Response:
    data = {"grant_type": "password", "client_id": CLIENT, "username": USER["upn"], "password": USER["password"],
            "scope": f"{scope} offline_access openid profile", "client_info": "1", **form}
    return requests.post(f"{cloud['url']}/organizations/oauth2/v2.0/token", data=data, verify=cloud["ca"], timeout=10)


def _arm(cloud: dict[str, Any]) -> dict[str, str]:
    token = _token(cloud, ARM_AUDIENCE + ".default").json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_metadata_endpoints_name_the_devstack_hosts_and_the_vault_suffix(cloud: dict[str, Any]) -> None:
    doc = requests.get(f"{cloud['url']}/metadata/endpoints?api-version=2022-09-01", verify=cloud["ca"],
                       timeout=10).json()
    port = cloud["url"].rsplit(":", 1)[1]
    assert doc["authentication"]["loginEndpoint"] == f"https://login.devstack.localhost:{port}"
    assert doc["authentication"]["audiences"] == [ARM_AUDIENCE]
    assert doc["resourceManager"] == f"https://management.devstack.localhost:{port}/"
    assert doc["suffixes"]["keyVaultDns"] == f"localhost:{cloud['vault'].port}"


def test_password_grant_tokens_and_errors(cloud: dict[str, Any]) -> None:
    """ROPC as MSAL sends it: access + refresh + id token + client_info; a wrong password is AADSTS50126; the
    refresh-token grant works and a forged refresh token is AADSTS70008."""
    vault_scope = f"https://localhost:{cloud['vault'].port}/.default"
    answer = _token(cloud, vault_scope).json()
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= set(answer)
    bad = _token(cloud, vault_scope, password="wrong")
    assert bad.status_code == 400 and "AADSTS50126" in bad.json()["error_description"]
    refreshed = requests.post(f"{cloud['url']}/{cloud['tenant']}/oauth2/v2.0/token", verify=cloud["ca"], timeout=10,
                              data={"grant_type": "refresh_token", "client_id": CLIENT, "scope": vault_scope,
                                    "refresh_token": answer["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    forged = requests.post(f"{cloud['url']}/{cloud['tenant']}/oauth2/v2.0/token", verify=cloud["ca"], timeout=10,
                           data={"grant_type": "refresh_token", "client_id": CLIENT, "scope": vault_scope,
                                 "refresh_token": answer["access_token"]})
    assert forged.status_code == 400 and "AADSTS70008" in forged.json()["error_description"]
    # the Key Vault emulator accepts the authority's tokens (403 = authenticated, no access policy for this user)
    vault = cloud["vault"]
    r = requests.get(f"{vault.url}/certificates?api-version=7.5", verify=cloud["ca"], timeout=10,
                     headers={"Authorization": f"Bearer {refreshed.json()['access_token']}",
                              "Host": f"demo.localhost:{vault.port}"})
    assert r.status_code == 403, r.text


def test_arm_rejects_missing_wrong_and_expired_tokens(cloud: dict[str, Any]) -> None:
    url = f"{cloud['url']}/subscriptions?api-version=2022-12-01"
    assert requests.get(url, verify=cloud["ca"], timeout=10).status_code == 401
    vault_token = _token(cloud, "https://vault.azure.net/.default").json()["access_token"]
    wrong = requests.get(url, headers={"Authorization": f"Bearer {vault_token}"}, verify=cloud["ca"], timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "InvalidAuthenticationToken"
    expired, _ = cloud["issuer"].issue(USER["objectId"], audience=ARM_AUDIENCE, lifetime=-120)
    old = requests.get(url, headers={"Authorization": f"Bearer {expired}"}, verify=cloud["ca"], timeout=10)
    assert old.status_code == 401 and old.json()["error"]["code"] == "ExpiredAuthenticationToken"
    ok = requests.get(url, headers=_arm(cloud), verify=cloud["ca"], timeout=10)
    assert ok.json()["value"][0]["subscriptionId"] == DEFAULT_SUBSCRIPTION


def test_arm_access_policies_reach_the_emulator_and_unknown_vaults_are_404(cloud: dict[str, Any]) -> None:
    """KVA-02: ARM's accessPolicies/replace is what the emulator enforces (through VaultRegistry)."""
    headers = _arm(cloud)
    vaults = f"{cloud['url']}/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/{DEFAULT_RESOURCE_GROUP}" \
             "/providers/Microsoft.KeyVault/vaults"
    body = {"properties": {"accessPolicies": [{"tenantId": cloud["tenant"], "objectId": USER["objectId"],
                                               "permissions": {"keys": ["sign"], "certificates": ["get"]}}]}}
    r = requests.put(f"{vaults}/demo/accessPolicies/replace?api-version=2024-11-01", json=body, headers=headers,
                     verify=cloud["ca"], timeout=10)
    assert r.status_code == 200, r.text
    props = VaultRegistry(cloud["base"] / "vault").get_vault("demo")
    assert props is not None
    entry = next(p for p in props["accessPolicies"] if p["objectId"] == USER["objectId"])
    assert entry["permissions"]["keys"] == ["sign"]
    missing = requests.get(f"{vaults}/nosuchvault?api-version=2024-11-01", headers=headers, verify=cloud["ca"],
                           timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"


def test_acr_exchange_refresh_and_access_tokens(cloud: dict[str, Any]) -> None:
    """az acr login's exchange; the refresh token as docker's password; a token for another audience is 401."""
    registry = cloud["registry"]
    challenge = requests.get(f"{registry.url}/v2/", verify=cloud["ca"], timeout=10)
    assert challenge.status_code == 401
    assert challenge.headers["WWW-Authenticate"] == \
        f'Bearer realm="{registry.url}/oauth2/token",service="{registry.host}"'
    aad = _token(cloud, "https://containerregistry.azure.net/.default").json()["access_token"]
    form = {"grant_type": "access_token", "service": registry.host, "tenant": cloud["tenant"], "access_token": aad}
    exchanged = requests.post(f"{registry.url}/oauth2/exchange", data=form, verify=cloud["ca"], timeout=10)
    assert exchanged.status_code == 200, exchanged.text
    refresh = exchanged.json()["refresh_token"]
    wrong = _token(cloud, "https://vault.azure.net/.default").json()["access_token"]  # ACR takes ARM tokens too
    denied = requests.post(f"{registry.url}/oauth2/exchange", data={**form, "access_token": wrong},
                           verify=cloud["ca"], timeout=10)
    assert denied.status_code == 401
    token = requests.get(f"{registry.url}/oauth2/token", params={"service": registry.host,
                                                                 "scope": "registry:catalog:*"},
                         auth=(ACR_USER, refresh), verify=cloud["ca"], timeout=10)
    assert token.status_code == 200, token.text
    catalog = requests.get(f"{registry.url}/v2/_catalog", verify=cloud["ca"], timeout=10,
                           headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert catalog.status_code == 200
    bad = requests.get(f"{registry.url}/oauth2/token", params={"service": registry.host}, auth=(ACR_USER, "x.y"),
                       verify=cloud["ca"], timeout=10)
    assert bad.status_code == 401


def _context(dockerfile: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_acr_tasks_build_errors_are_clear(cloud: dict[str, Any]) -> None:
    """A RUN line fails the run with the builder's message; a git URL fails at once (offline); a tampered upload
    signature is refused."""
    headers = _arm(cloud)
    reg = f"{cloud['url']}/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/{DEFAULT_RESOURCE_GROUP}" \
          "/providers/Microsoft.ContainerRegistry/registries/demoacr"
    up = requests.post(f"{reg}/listBuildSourceUploadUrl?api-version=2019-06-01-preview", headers=headers,
                       verify=cloud["ca"], timeout=10).json()
    tampered = requests.put(up["uploadUrl"].replace("sig=", "sig=0"), data=b"x", verify=cloud["ca"], timeout=10,
                            headers={"x-ms-blob-type": "BlockBlob"})
    assert tampered.status_code == 403
    put = requests.put(up["uploadUrl"], data=_context("FROM scratch\nRUN echo hi\n"), verify=cloud["ca"],
                       timeout=10, headers={"x-ms-blob-type": "BlockBlob"})
    assert put.status_code == 201
    run = {"type": "DockerBuildRequest", "imageNames": ["app:v1"], "isPushEnabled": True,
           "sourceLocation": up["relativePath"], "dockerFilePath": "Dockerfile", "platform": {"os": "linux"}}
    failed = requests.post(f"{reg}/scheduleRun?api-version=2019-06-01-preview", json=run, headers=headers,
                           verify=cloud["ca"], timeout=30)
    assert failed.status_code == 400
    assert "RUN" in failed.json()["error"]["message"], failed.text
    remote = requests.post(f"{reg}/scheduleRun?api-version=2019-06-01-preview", headers=headers, verify=cloud["ca"],
                           timeout=10, json={**run, "sourceLocation": "https://github.com/wabbit-networks/net-monitor.git#main"})
    assert remote.status_code == 400 and "offline" in remote.json()["error"]["message"]


def test_loopback_proxy_refuses_everything_off_loopback() -> None:
    """Only localhost, *.localhost and loopback addresses are tunnelled; the answer is immediate (no hang)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    with LoopbackProxy(port_443={"devstack.localhost": port}) as proxy:
        for target, expected in ((f"demo.localhost:{port}", b" 200 "), ("login.devstack.localhost:443", b" 200 "),
                                 ("example.com:443", b" 403 "), ("10.0.0.1:443", b" 403 ")):
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as conn:
                conn.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
                head = conn.recv(200)
            assert expected in head.split(b"\r\n", 1)[0], (target, head)
            assert time.monotonic() - started < 2
    listener.close()
