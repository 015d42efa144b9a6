"""The Key Vault emulator under load and faults (issue 8, "Our servers under load and faults").

50 concurrent clients sign (half through the Azure SDK's CryptographyClient, half over raw HTTPS with emulator
tokens) and create certificates; every signature is verified with ``cryptography`` against the certificate's
public key. Then the emulator runs as a subprocess, is killed with SIGKILL while certificates are being created,
and restarts on the same state directory: every acknowledged create is readable and its key signs, and no state
file left by the crash breaks start-up. Unauthenticated and wrongly-authorised requests are refused throughout.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

pytest.importorskip("azure.keyvault.keys")

from azure.core.exceptions import AzureError
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm

from load_support.harness import CLIENTS, Figures, ServerProcess, duration, long_mode, run_clients
from load_support.vault_load import (
    API,
    IssuedCert,
    KeyVersion,
    VaultUnexpected,
    create_certificate,
    create_key,
    delete_certificate,
    get_certificate,
    get_key,
    import_certificate,
    key_signs,
    make_pfx,
    random_message,
    recover_certificate,
    rotate_key,
    session,
    sign,
    verifies,
)
from notation_devstack.vault import VaultServer

STRANGER = "99999999-8888-4777-8666-555555555555"  # a principal with no access policy
SHARED = (("shared-ec", "EC"), ("shared-rsa", "RSA"))


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[VaultServer]:
    with VaultServer(tmp_path / "state") as server:
        yield server


def _sdk_sign(client: CryptographyClient, cert: IssuedCert, message: bytes) -> bytes:
    import hashlib

    alg = SignatureAlgorithm.es256 if cert.kty == "EC" else SignatureAlgorithm.ps256
    return bytes(client.sign(alg, hashlib.sha256(message).digest()).signature)


def test_vault_50_clients_sign_and_create(vault: VaultServer) -> None:
    """KVE-16 under load: 0 errors, every signature verifies, every acknowledged certificate is there after."""
    figures = Figures("vault-load")
    ca = vault.ca_cert_path
    with session(ca, vault.token()) as s:
        for name, kty in SHARED:
            vault.create_certificate(name, {"key_props": {"kty": kty}, "x509_props": {"subject": f"CN={name}"},
                                            "issuer": {"name": "Self"}})
        shared = [get_certificate(s, vault.url, name, kty) for name, kty in SHARED]
    created: list[IssuedCert] = []
    key_versions: list[KeyVersion] = []
    created_lock = threading.Lock()
    every = 25 if long_mode() else 10_000  # short mode: one create per client, then signing
    pfx = make_pfx()

    def work(index: int, running: Callable[[], bool]) -> None:
        rng = random.Random(index)
        use_sdk = index % 2 == 0
        sdk_clients: dict[str, CryptographyClient] = {}
        with session(ca, vault.token()) as s:
            n = 0
            mine: list[IssuedCert] = []
            while running() or n == 0:
                try:
                    if n % every == 0:
                        kty = "RSA" if index % 10 == 0 else "EC"
                        name = f"load-{index}-{n}"
                        create_certificate(s, vault.url, name, kty)
                        figures.op("certificate_create")
                        cert = get_certificate(s, vault.url, name, kty)
                        figures.op("certificate_get")
                        mine.append(cert)
                        with created_lock:
                            created.append(cert)
                        # issue 12: imports, soft delete + recover and key rotation in the mix
                        if index % 3 == 0:
                            imported = import_certificate(s, vault.url, f"imp-{index}-{n}", pfx)
                            figures.op("certificate_import")
                            mine.append(imported)
                            with created_lock:
                                created.append(imported)
                        if index % 3 == 1:
                            delete_certificate(s, vault.url, name)
                            figures.op("certificate_delete")
                            recover_certificate(s, vault.url, name)
                            figures.op("certificate_recover")
                        if index % 5 == 0:
                            versions = [create_key(s, vault.url, f"rot-{index}-{n}")]
                            versions.append(rotate_key(s, vault.url, f"rot-{index}-{n}"))
                            figures.op("key_rotate")
                            with created_lock:
                                key_versions.extend(versions)
                    n += 1
                    cert = rng.choice([*shared, *mine])
                    message = random_message()
                    if use_sdk:
                        if cert.kid not in sdk_clients:
                            sdk_clients[cert.kid] = CryptographyClient(
                                cert.kid, vault.credential(), connection_verify=str(ca))
                        signature = _sdk_sign(sdk_clients[cert.kid], cert, message)
                        figures.op("sign_sdk")
                    else:
                        signature = sign(s, vault.url, cert, message)
                        figures.op("sign_https")
                    if not verifies(cert, message, signature):
                        figures.error(f"client {index}: signature by {cert.kid} does not verify")
                except (VaultUnexpected, requests.RequestException, AzureError, KeyError, ValueError) as exc:
                    figures.error(f"client {index} round {n}: {type(exc).__name__}: {exc}")
                    n += 1
        for client in sdk_clients.values():
            client.close()

    started = time.monotonic()
    run_clients(CLIENTS, duration(2.0, 60.0), work, figures)
    elapsed = time.monotonic() - started
    with session(ca, vault.token()) as s:
        for cert in created:
            figures.checked += 1
            try:
                again = get_certificate(s, vault.url, cert.name, cert.kty)
                message = random_message()
                if again.der != cert.der or not verifies(cert, message, sign(s, vault.url, cert, message)):
                    figures.loss(f"certificate {cert.name} changed or its key no longer signs")
            except (VaultUnexpected, requests.RequestException) as exc:
                figures.loss(f"certificate {cert.name}: {exc}")
        for version in key_versions:  # every rotated key version is still there and signs as itself
            figures.checked += 1
            try:
                if get_key(s, vault.url, version.kid) != version or not key_signs(s, vault.url, version):
                    figures.loss(f"key version {version.kid} changed or no longer signs")
            except (VaultUnexpected, requests.RequestException) as exc:
                figures.loss(f"key version {version.kid}: {exc}")
    figures.extra.update(clients=CLIENTS, seconds=round(elapsed, 1), certificates_created=len(created),
                         ops_per_second=round(figures.operations / elapsed, 1))
    figures.report()
    assert figures.ops["certificate_create"] >= CLIENTS
    assert figures.ops["sign_sdk"] > 0 and figures.ops["sign_https"] > 0
    assert figures.ops["certificate_import"] > 0 and figures.ops["certificate_recover"] > 0
    assert figures.ops["key_rotate"] > 0
    figures.assert_clean()


def test_vault_refuses_unauthenticated_and_unauthorised_under_load(vault: VaultServer, tmp_path: Path) -> None:
    """KVE-04/KVA-05 under load: no token and bad tokens are 401 with the challenge; a principal without a policy
    is 403; a token from another emulator is 401 -- while authorised clients keep signing."""
    figures = Figures("vault-refusals")
    ca = vault.ca_cert_path
    vault.create_certificate("guarded", {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=guarded"},
                                         "issuer": {"name": "Self"}})
    with session(ca, vault.token()) as s:
        cert = get_certificate(s, vault.url, "guarded", "EC")
    with VaultServer(tmp_path / "other-state") as other:
        foreign = other.token()
    stranger = vault.token(STRANGER)
    expired = vault.token(lifetime=-600)
    key_path = cert.kid.split("/keys/", 1)[1]
    sign_body = {"alg": "ES256", "value": "A" * 43}

    def check(r: requests.Response, status: int, what: str) -> None:
        ok = r.status_code == status
        if ok and status == 401:
            ok = r.headers.get("WWW-Authenticate", "").startswith("Bearer authorization=")
        if ok and status == 403:
            ok = r.json()["error"]["code"] == "Forbidden"
        if ok:
            figures.op(f"refused_{status}")
        else:
            figures.error(f"{what}: HTTP {r.status_code} {r.text[:150]}")

    def work(index: int, running: Callable[[], bool]) -> None:
        with session(ca, None) as anon, session(ca, vault.token()) as good:
            while running():
                try:
                    check(anon.post(f"{vault.url}/keys/{key_path}/sign", params=API, json=sign_body), 401,
                          "no token")
                    for token, what in (("garbage", "garbage token"), (foreign, "other emulator's token"),
                                        (expired, "expired token")):
                        check(anon.post(f"{vault.url}/keys/{key_path}/sign", params=API, json=sign_body,
                                        headers={"Authorization": f"Bearer {token}"}), 401, what)
                    bearer = {"Authorization": f"Bearer {stranger}"}
                    check(anon.post(f"{vault.url}/keys/{key_path}/sign", params=API, json=sign_body,
                                    headers=bearer), 403, "principal without a policy signing")
                    check(anon.post(f"{vault.url}/certificates/stolen-{index}/create", params=API,
                                    json={"policy": {"x509_props": {"subject": "CN=x"}, "issuer": {"name": "Self"}}},
                                    headers=bearer), 403, "principal without a policy creating")
                    message = random_message()
                    if not verifies(cert, message, sign(good, vault.url, cert, message)):
                        figures.error("authorised signature does not verify")
                    figures.op("sign_https")
                except (VaultUnexpected, requests.RequestException, ValueError, KeyError) as exc:
                    figures.error(f"client {index}: {type(exc).__name__}: {exc}")

    run_clients(CLIENTS, duration(1.5, 30.0), work, figures)
    with session(ca, vault.token()) as s:
        r = s.get(f"{vault.url}/certificates", params=API)
        names = {item["id"].rsplit("/", 1)[-1] for item in r.json()["value"]}
        assert not any(n.startswith("stolen-") for n in names), "a refused create landed"
    figures.report()
    assert figures.ops["refused_401"] >= CLIENTS * 4 and figures.ops["refused_403"] >= CLIENTS * 2
    figures.assert_clean()


def _admin_token(state: Path, url: str, ca: Path) -> str:
    admin = (state / "identity" / "admin-token").read_text().strip()
    with session(ca, admin) as s:
        r = s.post(f"{url}/_emulator/tokens", json={})
        assert r.status_code == 200, r.text
        return str(r.json()["accessToken"])


def test_vault_kill9_during_certificate_creation(tmp_path: Path) -> None:
    """SIGKILL while 16 clients create certificates; after a restart on the same state directory every
    acknowledged certificate is readable and its key signs, and every listed certificate is whole."""
    figures = Figures("vault-kill9")
    state = tmp_path / "state"
    args = ["vault", "serve", "--state-dir", str(state), "--port", "0"]
    acknowledged: dict[str, str] = {}
    acked_keys: list[KeyVersion] = []
    ack_lock = threading.Lock()
    pfx = make_pfx()
    cycles = 4 if long_mode() else 1
    writers = 16
    for cycle in range(cycles):
        killed = threading.Event()
        with ServerProcess(args, "https://", tmp_path / "vault.log") as server:
            ca = Path(json.loads((state / "server.json").read_text())["caCert"])
            token = _admin_token(state, server.url, ca)

            def writer(index: int, url: str = server.url, token: str = token, ca: Path = ca,
                       killed: threading.Event = killed, cycle: int = cycle) -> None:
                with session(ca, token) as s:
                    n = 0
                    key_name = f"crash-key-{cycle}-{index}"
                    while not killed.is_set():
                        n += 1
                        name = f"crash-{cycle}-{index}-{n}"
                        kty = "RSA" if n % 3 == 0 else "EC"
                        try:
                            # issue 12: imports, soft delete + recover, rotation in the mix, from the first round on
                            # (a loaded machine may give a writer only one or two rounds before the kill)
                            if (n + index) % 2 == 0:
                                import_certificate(s, url, name, pfx)
                                kty = "EC"
                                figures.op("certificate_import")
                            else:
                                create_certificate(s, url, name, kty)
                            if (n + index) % 2 == 1 and (n <= 2 or n % 5 == 0):
                                with ack_lock:  # between delete and recover either state is acceptable
                                    acknowledged.pop(name, None)
                                delete_certificate(s, url, name)
                                recover_certificate(s, url, name)
                                figures.op("certificate_recover")
                            if n % 3 == 1:
                                version = create_key(s, url, key_name) if n == 1 else rotate_key(s, url, key_name)
                                with ack_lock:
                                    acked_keys.append(version)
                                figures.op("key_rotate")
                        except (VaultUnexpected, requests.RequestException) as exc:
                            if not killed.is_set():
                                time.sleep(0.05)
                            if not killed.is_set():
                                figures.error(f"writer {index} before the kill: {type(exc).__name__}: {exc}")
                            return
                        with ack_lock:
                            acknowledged[name] = kty
                        figures.op("certificate_create")

            threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
            for thread in threads:
                thread.start()
            time.sleep(duration(1.2, 5.0) * random.uniform(0.7, 1.0))
            # On a loaded machine the writers may not have reached every kind of write yet: kill only once the
            # mix (create, import, delete + recover) is under way, within a bound.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (
                figures.ops["certificate_recover"] and figures.ops["certificate_import"]
                and figures.ops["certificate_create"] >= writers // 2
            ):
                time.sleep(0.05)
            killed.set()
            server.kill()
            for thread in threads:
                thread.join(timeout=60)
        figures.op("kill9")
        # Temp files the kill left (maybe a private key), aged past the sweep threshold: the restart removes them.
        leftovers = [p for p in state.rglob(".*.*") if p.is_file()]
        stale = time.time() - 2 * 3600
        for path in leftovers:
            os.utime(path, (stale, stale))
        figures.extra["leftover_temp_files"] = figures.extra.get("leftover_temp_files", 0) + len(leftovers)
        with ServerProcess(args, "https://", tmp_path / "vault.log") as server:  # start-up itself is checked
            for path in leftovers:
                if path.exists():
                    figures.error(f"dead writer's temp file {path} survived the restart")
            ca = Path(json.loads((state / "server.json").read_text())["caCert"])
            with session(ca, _admin_token(state, server.url, ca)) as s:
                for name, kty in sorted(acknowledged.items()):
                    figures.checked += 1
                    try:
                        cert = get_certificate(s, server.url, name, kty)
                        message = random_message()
                        if not verifies(cert, message, sign(s, server.url, cert, message)):
                            figures.loss(f"certificate {name}: its key's signature does not verify")
                    except (VaultUnexpected, requests.RequestException, KeyError) as exc:
                        figures.loss(f"certificate {name}: {exc}")
                for version in list(acked_keys):
                    figures.checked += 1
                    local = version.kid.split("/keys/", 1)[1]
                    try:
                        if not key_signs(s, server.url, KeyVersion(f"{server.url}/keys/{local}", version.x,
                                                                   version.y)):
                            figures.loss(f"rotated key version {local} no longer signs")
                    except (VaultUnexpected, requests.RequestException) as exc:
                        figures.loss(f"rotated key version {local}: {exc}")
                # Everything listed is whole: readable, and its key signs for its certificate.
                listed = s.get(f"{server.url}/certificates", params={**API, "maxresults": "25"})
                names: list[str] = []
                while True:
                    doc = listed.json()
                    names += [item["id"].rsplit("/", 1)[-1] for item in doc["value"]]
                    if not doc.get("nextLink"):
                        break
                    listed = s.get(doc["nextLink"].replace(doc["nextLink"].split("/certificates")[0], server.url))
                for name in names:
                    figures.checked += 1
                    kty = acknowledged.get(name) or str(s.get(f"{server.url}/certificates/{name}/policy",
                                                              params=API).json()["key_props"]["kty"])
                    try:
                        cert = get_certificate(s, server.url, name, kty)
                        message = random_message()
                        if not verifies(cert, message, sign(s, server.url, cert, message)):
                            figures.error(f"listed certificate {name}: signature does not verify")
                    except (VaultUnexpected, requests.RequestException, KeyError) as exc:
                        figures.error(f"listed certificate {name}: {exc}")
                figures.extra["listed"] = len(names)
                # and the restarted emulator still takes writes
                create_certificate(s, server.url, f"after-{cycle}", "EC")
                acknowledged[f"after-{cycle}"] = "EC"
    figures.extra.update(writers=writers, cycles=cycles, acknowledged_creates=len(acknowledged),
                         acknowledged_key_versions=len(acked_keys))
    figures.report()
    assert figures.ops["certificate_create"] >= writers // 2
    assert figures.ops["certificate_import"] > 0 and figures.ops["certificate_recover"] > 0
    figures.assert_clean()


def test_vault_stalled_handshake_does_not_block_other_clients(vault: VaultServer) -> None:
    """A client that connects and never sends its TLS hello must not stall the listener for everyone else (the
    handshake happens in the connection's own thread), and answers take no Nagle/delayed-ACK pause."""
    import socket

    stalled = [socket.create_connection(("127.0.0.1", vault.port), timeout=10) for _ in range(3)]
    try:
        with session(vault.ca_cert_path, vault.token()) as s:
            vault.create_certificate("quick", {"key_props": {"kty": "EC"}, "x509_props": {"subject": "CN=quick"},
                                               "issuer": {"name": "Self"}})
            cert = get_certificate(s, vault.url, "quick", "EC")
            started = time.monotonic()
            for _ in range(20):
                message = random_message()
                assert verifies(cert, message, sign(s, vault.url, cert, message))
            assert time.monotonic() - started < 0.6, "20 signs took ~40 ms each (Nagle and delayed ACK)"
    finally:
        for sock in stalled:
            sock.close()


def test_vault_refused_body_closes_the_connection(vault: VaultServer) -> None:
    """A chunked body the emulator will not read gets a 411 and a closed connection: the unread bytes are never
    parsed as a next request (which a pipelined second request would otherwise be smuggled through)."""
    import socket
    import ssl

    ctx = ssl.create_default_context(cafile=str(vault.ca_cert_path))
    with socket.create_connection(("127.0.0.1", vault.port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
        smuggled = "GET /_emulator/info HTTP/1.1\r\nHost: x\r\n\r\n"
        chunk = f"{len(smuggled):x}\r\n{smuggled}\r\n0\r\n\r\n"
        sock.sendall((f"POST /keys/k/sign?api-version=7.4 HTTP/1.1\r\nHost: 127.0.0.1:{vault.port}\r\n"
                      f"Transfer-Encoding: chunked\r\n\r\n{chunk}").encode())
        answer = b""
        while data := sock.recv(65536):
            answer += data
    assert answer.startswith(b"HTTP/1.1 411") and b"Connection: close" in answer
    assert answer.count(b"HTTP/1.1") == 1
