"""Access policies (KVA-01..06), the challenge and token rules (KVE-04..10) of the Key Vault emulator."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

pytest.importorskip("azure.keyvault.certificates")

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient

from notation_devstack.vault import VaultServer

POLICY = {
    "issuerParameters": {"name": "Self"},
    "keyProperties": {"exportable": False, "keySize": 2048, "keyType": "RSA", "reuseKey": True},
    "secretProperties": {"contentType": "application/x-pem-file"},
    "x509CertificateProperties": {
        "ekus": ["1.3.6.1.5.5.7.3.3"],
        "keyUsage": ["digitalSignature"],
        "subject": "CN=wabbit-networks.io,O=Notation,L=Seattle,ST=WA,C=US",
        "validityInMonths": 12,
    },
}
SIGNER = "11111111-2222-4333-8444-555555555555"
STRANGER = "99999999-8888-4777-8666-555555555555"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with VaultServer(tmp_path_factory.mktemp("vault-acl")) as server:
        server.create_certificate("cert", POLICY)
        yield server


def _kw(vault: VaultServer) -> dict[str, Any]:
    return {"connection_verify": str(vault.ca_cert_path)}  # SDK defaults: challenge verification on


def _expect_403(fn: Any, text: str) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as err:
        fn()
    assert err.value.status_code == 403, err.value.message
    assert err.value.error.code == "Forbidden"
    assert text in err.value.message
    return err.value


def test_kva06_tutorial_policy_sign_works_with_key_get_forbidden(vault: VaultServer) -> None:
    """certificates create,get + keys sign: the crypto client's key GET gets 403 and signing goes remote."""
    vault.set_policy(SIGNER, certificates=["create", "get"], keys=["sign"])
    cred = vault.credential(SIGNER)
    certs = CertificateClient(vault.url, cred, **_kw(vault))
    kid = certs.get_certificate("cert").key_id
    crypto = CryptographyClient(kid, cred, **_kw(vault))
    result = crypto.sign(SignatureAlgorithm.ps256, hashlib.sha256(b"x").digest())
    assert len(result.signature) == 256
    principal = f"appid=04b07795-8ddb-461a-bbee-02f9e1bf7b46;oid={SIGNER};iss=https://sts.windows.net/{vault.tenant_id}/"
    err = _expect_403(
        lambda: KeyClient(vault.url, cred, **_kw(vault)).get_key("cert"),
        f"The user, group or application '{principal}' does not have keys get permission on key vault "
        f"'{vault.vault_name};location=",
    )
    assert "https://go.microsoft.com/fwlink/?linkid=2125287" in err.message
    # KVE-11: the exact substring the plugin matches on
    _expect_403(lambda: SecretClient(vault.url, cred, **_kw(vault)).get_secret("cert"),
                "does not have secrets get permission")


def test_kva05_authorization_before_existence(vault: VaultServer) -> None:
    """A missing permission is a 403 even for objects that do not exist; with it, the 404 appears."""
    vault.set_policy(SIGNER, certificates=["get"], keys=[])
    cred = vault.credential(SIGNER)
    _expect_403(lambda: KeyClient(vault.url, cred, **_kw(vault)).get_key("no-such-key"),
                "does not have keys get permission")
    crypto = CryptographyClient(f"{vault.url}/keys/no-such-key/{'0' * 32}", cred, **_kw(vault))
    _expect_403(lambda: crypto.sign(SignatureAlgorithm.ps256, b"\0" * 32), "does not have keys sign permission")
    with pytest.raises(HttpResponseError) as err:
        CertificateClient(vault.url, cred, **_kw(vault)).get_certificate("no-such-cert")
    assert err.value.status_code == 404 and err.value.error.code == "CertificateNotFound"


def test_kva03_caller_on_no_policy(vault: VaultServer) -> None:
    cred = vault.credential(STRANGER)
    err = _expect_403(
        lambda: CertificateClient(vault.url, cred, **_kw(vault)).get_certificate("cert"),
        "Access denied. Caller was not found on any access policy.\r\nCaller: appid=",
    )
    assert f"oid={STRANGER}" in err.message and f"Vault: {vault.vault_name};location=" in err.message


def test_kva04_keys_sign_only_fails_at_certificate_get(vault: VaultServer) -> None:
    vault.set_policy(SIGNER, certificates=[], keys=["sign"], secrets=[])
    cred = vault.credential(SIGNER)
    _expect_403(lambda: CertificateClient(vault.url, cred, **_kw(vault)).get_certificate("cert"),
                "does not have certificates get permission")


def test_kva02_application_id_compound_identity_and_all(vault: VaultServer) -> None:
    """An entry with applicationId applies only to tokens of that app; 'all' grants every permission."""
    oid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    vault.set_policy(oid, certificates=["all"], application_id="app-1")
    ok = CertificateClient(vault.url, vault.credential(oid, app_id="app-1"), **_kw(vault))
    assert ok.get_certificate("cert").name == "cert"
    other = CertificateClient(vault.url, vault.credential(oid, app_id="app-2"), **_kw(vault))
    _expect_403(lambda: other.get_certificate("cert"), "Caller was not found on any access policy")
    vault.set_policy(oid, application_id="app-1", mode="remove")
    _expect_403(lambda: ok.get_certificate("cert"), "Caller was not found on any access policy")


def _raw(vault: VaultServer, method: str, path: str, token: str | None = None, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{vault.url}{path}", headers=headers, verify=str(vault.ca_cert_path),
                            timeout=10, **kw)


def test_kve05_challenge_before_routing_and_validation(vault: VaultServer) -> None:
    """No token: 401 with the challenge for any path or body, even without api-version."""
    for method, path in (("GET", "/certificates/cert"), ("POST", "/keys/x//sign"), ("GET", "/nonsense"),
                         ("POST", "/certificates/c/create?api-version=7.5")):
        r = _raw(vault, method, path, data=b"{not json")
        assert r.status_code == 401, (method, path)
        assert r.headers["WWW-Authenticate"] == (
            f'Bearer authorization="https://127.0.0.1:{vault.port}/{vault.tenant_id}", '
            f'resource="https://0.0.1:{vault.port}"'  # the Host minus its first label: SDK defaults pass
        )
        assert r.json()["error"] == {"code": "Unauthorized",
                                     "message": "AKV10000: Request is missing a Bearer or PoP token."}


def test_kve08_only_own_tokens_are_accepted(vault: VaultServer) -> None:
    import base64
    import json

    good = vault.token()
    assert _raw(vault, "GET", "/certificates/cert?api-version=7.5", good).status_code == 200
    header, payload, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["oid"] = "someone-else"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode(), sig])
    for bad in (forged, "opaque-token", vault.token(lifetime=-10)):
        r = _raw(vault, "GET", "/certificates/cert?api-version=7.5", bad)
        assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    with pytest.raises(ClientAuthenticationError):
        class Forged:
            def get_token(self, *scopes: str, **kw: Any) -> Any:
                from azure.core.credentials import AccessToken
                return AccessToken(forged, 2**31)
        CertificateClient(vault.url, Forged(), **_kw(vault)).get_certificate("cert")


def test_kve04_api_versions_of_the_sdks_accepted_others_refused(
    vault: VaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The versions the SDKs and az send are served; unknown ones get the service's BadParameter text; the
    NOTATION_DEVSTACK_VAULT_API_VERSIONS knob admits a future SDK default without a new emulator."""
    token = vault.token()
    for version in ("7.0", "7.4", "7.5", "7.6-preview.1", "2016-10-01", "2025-07-01", "2026-04-01"):
        assert _raw(vault, "GET", f"/certificates/cert/?api-version={version}", token).status_code == 200
    r = _raw(vault, "GET", "/certificates/cert/", token)
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadParameter"
    for bad in ("banana", "2099-01-01", "1.0"):
        r = _raw(vault, "GET", f"/certificates/cert/?api-version={bad}", token)
        assert r.status_code == 400
        assert r.json()["error"] == {
            "code": "BadParameter",
            "message": f"The specified version ({bad}) is not recognized. Consider using the latest supported "
                       "version (2026-04-01).",
        }
    monkeypatch.setenv("NOTATION_DEVSTACK_VAULT_API_VERSIONS", "2099-01-01")
    assert _raw(vault, "GET", "/certificates/cert/?api-version=2099-01-01", token).status_code == 200


def test_kve03_path_forms_for_sign(vault: VaultServer) -> None:
    """/keys/n/sign, /keys/n//sign and /keys/n/<v>/sign all sign with the latest/that version."""
    token = vault.token()
    kid = _raw(vault, "GET", "/keys/cert/?api-version=7.5", token).json()["key"]["kid"]
    body = {"alg": "PS256", "value": "A" * 43}
    for path in ("/keys/cert/sign", "/keys/cert//sign", "/keys/CERT/sign", f"/keys/cert/{kid.rsplit('/', 1)[1]}/sign"):
        r = _raw(vault, "POST", f"{path}?api-version=7.5", token, json=body)
        assert r.status_code == 200, (path, r.text)
        assert r.json()["kid"] == kid
    r = _raw(vault, "POST", "/keys/cert/sign?api-version=7.5", token, json={"alg": "PS256", "value": "AAAA"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "Invalid length of 'value': 3 bytes. PS256 requires 32 bytes, encoded with base64url."
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"policy": "x"},
        {"policy": {"x509_props": {"subject": "CN=a", "sans": "not-a-dict"}}},
        {"policy": {"x509_props": {"subject": "nonsense"}}},
        {"policy": {"x509_props": {"subject": "CN=a", "ekus": ["not.an.oid"]}}},
        {"policy": {"x509_props": {"subject": "CN=a", "key_usage": ["fly"]}}},
        {"policy": {"x509_props": {"subject": "CN=a"}, "key_props": {"kty": "EC", "crv": "P-999"}}},
        {"policy": {"x509_props": {"subject": "CN=a"}, "key_props": {"kty": "EC", "crv": "P-256", "key_size": 384}}},
        {"policy": {"x509_props": {"subject": "CN=a", "validity_months": "12"}}},
        {"policy": {"x509_props": {}}},
        {"policy": {"x509_props": {"subject": "CN=a"}, "issuer": {"name": "DigiCert"}}},
    ],
)
def test_kve10_bad_create_bodies_are_400(vault: VaultServer, body: Any) -> None:
    """Malformed requests get 400 BadParameter in the service's error shape, never a 500 or a dropped socket."""
    r = _raw(vault, "POST", "/certificates/badbody/create?api-version=7.5", vault.token(), json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "BadParameter"


def test_kve10_bad_names_and_sign_bodies(vault: VaultServer) -> None:
    token = vault.token()
    r = _raw(vault, "GET", "/certificates/bad_name?api-version=7.5", token)
    assert r.status_code == 400
    for body in ({"alg": "PS256"}, {"alg": "XX256", "value": "A" * 43}, {"alg": "PS256", "value": "!!!"}, [1]):
        r = _raw(vault, "POST", "/keys/cert/sign?api-version=7.5", token, json=body)
        assert r.status_code == 400, (body, r.text)
    r = _raw(vault, "POST", "/keys/cert/sign?api-version=7.5", token, data=b"{oops")
    assert r.status_code == 400


def test_kva_access_policy_permissions_of_the_full_data_plane(vault: VaultServer) -> None:
    """§3.3 extended: delete, purge, backup, update, issuers each need their own permission; manageissuers covers
    every issuer operation."""
    who = "33333333-2222-4333-8444-555555555555"
    vault.set_policy(who, secrets=["get", "set", "list"], certificates=["manageissuers"], keys=["create"])
    cred = vault.credential(who)
    secrets = SecretClient(vault.url, cred, **_kw(vault))
    secrets.set_secret("ap-secret", "v")
    _expect_403(lambda: secrets.begin_delete_secret("ap-secret").result(),
                "does not have secrets delete permission")
    _expect_403(lambda: secrets.backup_secret("ap-secret"), "does not have secrets backup permission")
    _expect_403(lambda: secrets.purge_deleted_secret("ap-secret"), "does not have secrets purge permission")
    keys = KeyClient(vault.url, cred, **_kw(vault))
    keys.create_ec_key("ap-key")
    _expect_403(lambda: keys.rotate_key("ap-key"), "does not have keys rotate permission")
    _expect_403(lambda: keys.update_key_properties("ap-key", enabled=False), "does not have keys update permission")
    certs = CertificateClient(vault.url, cred, **_kw(vault))
    certs.create_issuer("ap-issuer", "Test")
    assert certs.get_issuer("ap-issuer").provider == "Test"
    _expect_403(lambda: certs.get_contacts(), "does not have certificates managecontacts permission")
