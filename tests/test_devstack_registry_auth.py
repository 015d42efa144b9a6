"""Registry auth (issue 3, "Our registry"): htpasswd basic auth and the bearer-token flow, failing closed."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import requests

from devstack_registry_support.oci import digest, image
from notation_devstack.registry import RegistryServer, write_htpasswd
from notation_devstack.registry.auth import AuthConfigError, Htpasswd

USERS = {"alice": "correct horse", "bob": "hunter2"}


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_htpasswd(tmp_path_factory.mktemp("auth") / "htpasswd", USERS, rounds=4)


def _challenge(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    params["scheme"] = scheme
    return params


def test_htpasswd_accepts_2y_and_rejects_other_hashes(tmp_path: Path, htpasswd: Path) -> None:
    assert htpasswd.read_text().startswith("alice:$2y$04$")
    users = Htpasswd(htpasswd)
    assert users.check("alice", "correct horse")
    assert users.check("alice", "correct horse")  # cached path
    assert not users.check("alice", "correct horsE")
    assert not users.check("carol", "correct horse")
    bad = tmp_path / "md5"
    bad.write_text("alice:$apr1$abc$def\n")
    with pytest.raises(AuthConfigError, match="only bcrypt"):
        Htpasswd(bad)
    with pytest.raises(AuthConfigError, match="cannot read"):
        Htpasswd(tmp_path / "missing")


def test_basic_auth_required_and_checked(tmp_path: Path, htpasswd: Path) -> None:
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd) as srv:
        r = requests.get(f"{srv.url}/v2/")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="notation-devstack"'
        assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
        assert requests.get(f"{srv.url}/v2/", auth=("alice", "wrong")).status_code == 401
        assert requests.get(f"{srv.url}/v2/", auth=("mallory", "correct horse")).status_code == 401
        r = requests.get(f"{srv.url}/v2/", headers={"Authorization": "Basic !!!not-base64"})
        assert r.status_code == 401
        r = requests.get(f"{srv.url}/v2/", headers={"Authorization": "Bearer whatever"})
        assert r.status_code == 401
        # anonymous pushes are refused before anything is stored
        r = requests.post(f"{srv.url}/v2/app/blobs/uploads/", params={"digest": digest(b"x")}, data=b"x")
        assert r.status_code == 401
        assert not (tmp_path / "root" / "repositories" / "app").exists()
        with requests.Session() as s:
            s.auth = ("alice", "correct horse")
            assert s.get(f"{srv.url}/v2/").status_code == 200
            body, _ = image(s, srv.url, "app")
            assert s.get(f"{srv.url}/v2/app/manifests/v1").content == body
        assert requests.get(f"{srv.url}/v2/app/manifests/v1").status_code == 401


def _token(srv: RegistryServer, auth: tuple[str, str] | None, scope: str) -> requests.Response:
    r = requests.get(f"{srv.url}/v2/{scope.split(':')[1]}/tags/list")
    ch = _challenge(r.headers["WWW-Authenticate"])
    return requests.get(ch["realm"], params={"service": ch["service"], "scope": scope}, auth=auth)


def test_token_flow(tmp_path: Path, htpasswd: Path) -> None:
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, token_auth=True) as srv:
        r = requests.get(f"{srv.url}/v2/app/manifests/v1")
        assert r.status_code == 401
        ch = _challenge(r.headers["WWW-Authenticate"])
        assert ch == {"scheme": "Bearer", "realm": f"{srv.url}/token", "service": srv.host,
                      "scope": "repository:app:pull"}
        r = requests.put(f"{srv.url}/v2/app/manifests/v1", data=b"{}")
        assert _challenge(r.headers["WWW-Authenticate"])["scope"] == "repository:app:pull,push"
        ping = requests.get(f"{srv.url}/v2/")
        assert ping.status_code == 401 and "scope" not in _challenge(ping.headers["WWW-Authenticate"])
        # basic credentials are not accepted on the API itself in token mode
        assert requests.get(f"{srv.url}/v2/", auth=("alice", "correct horse")).status_code == 401

        # the token endpoint refuses anonymous and wrong credentials
        assert _token(srv, None, "repository:app:pull,push").status_code == 401
        assert _token(srv, ("alice", "nope"), "repository:app:pull,push").status_code == 401

        answer = _token(srv, ("alice", "correct horse"), "repository:app:pull,push").json()
        assert answer["token"] == answer["access_token"] and answer["expires_in"] > 0
        with requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {answer['token']}"
            assert s.get(f"{srv.url}/v2/").status_code == 200
            body, _ = image(s, srv.url, "app")
            assert s.get(f"{srv.url}/v2/app/manifests/v1").content == body
            # the token does not reach another repository, nor delete
            r = s.get(f"{srv.url}/v2/other/manifests/v1")
            assert r.status_code == 401 and 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
            assert s.delete(f"{srv.url}/v2/app/manifests/v1").status_code == 401

        pull_only = _token(srv, ("bob", "hunter2"), "repository:app:pull").json()["token"]
        hdr = {"Authorization": f"Bearer {pull_only}"}
        assert requests.get(f"{srv.url}/v2/app/manifests/v1", headers=hdr).status_code == 200
        assert requests.put(f"{srv.url}/v2/app/manifests/v2", data=body, headers=hdr).status_code == 401


def test_forged_and_foreign_tokens_are_refused(tmp_path: Path, htpasswd: Path) -> None:
    with RegistryServer(tmp_path / "a", htpasswd=htpasswd, token_auth=True) as srv, \
            RegistryServer(tmp_path / "b", htpasswd=htpasswd, token_auth=True) as other:
        good = _token(srv, ("alice", "correct horse"), "repository:app:pull").json()["token"]
        payload_b64, sig = good.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
        claims["access"][0]["actions"] = ["pull", "push", "delete"]
        forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        for token in (f"{forged_payload}.{sig}", good + "x", "garbage", good.replace(".", "")):
            r = requests.get(f"{srv.url}/v2/app/tags/list", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, token
        # a token from another registry (other secret, other service) is worthless here
        foreign = _token(other, ("alice", "correct horse"), "repository:app:pull").json()["token"]
        r = requests.get(f"{srv.url}/v2/app/tags/list", headers={"Authorization": f"Bearer {foreign}"})
        assert r.status_code == 401


def test_expired_token_is_refused() -> None:
    from notation_devstack.registry.auth import Scope, TokenAuthority

    authority = TokenAuthority("svc", secret=b"k" * 32, ttl=-1)
    token = authority.issue("alice", [Scope("repository", "app", ("pull",))])
    assert authority.verify(token) is None
    assert TokenAuthority("svc", secret=b"k" * 32).verify(token) is None


def test_oauth2_password_grant(tmp_path: Path, htpasswd: Path) -> None:
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, token_auth=True) as srv:
        form = {"grant_type": "password", "username": "alice", "password": "correct horse",
                "service": srv.host, "scope": "repository:app:pull", "client_id": "notation"}
        r = requests.post(f"{srv.url}/token", data=form)
        assert r.status_code == 200
        hdr = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert requests.get(f"{srv.url}/v2/app/tags/list", headers=hdr).status_code == 404  # authorised; no repo
        form["password"] = "wrong"
        assert requests.post(f"{srv.url}/token", data=form).status_code == 401


def test_token_auth_requires_htpasswd(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError):
        RegistryServer(tmp_path / "root", token_auth=True)

