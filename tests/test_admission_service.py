"""The admission service end to end (issue 14): real AdmissionReview / ProviderRequest documents over real TLS and
mTLS, against the in-test registry with signed, unsigned, tampered, expired and wrongly signed images.

Every decision is checked against what ``notation verify`` decides for the same reference (one verifier, two
front ends). One service instance serves the module (signing is the slow part); tests that need their own settings
start their own.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import notation
from admission_support import TLS, client, pod, provider_request, review, serving, tls_material, workload
from admission_support import Service as AdmissionService
from extensions_support import import_policy, schema, validate
from notation._internal.cli.main import main
from notation_admission.cli import Options
from registry_support import State, push_image
from registry_support.server import RegistryServer

INSECURE = "--insecure-registry"


@dataclass
class World:
    registry: RegistryServer
    config: Path
    tls: TLS
    refs: dict[str, str]
    """case -> tagged reference (registry/app:case)"""
    digests: dict[str, str]
    service: AdmissionService
    tmp: Path

    def session(self) -> requests.Session:
        return client(self.tls)


def options(world_config: Path, tls: TLS, registry: RegistryServer, **kw: Any) -> Options:
    base: dict[str, Any] = {
        "config_dir": world_config,
        "host": "127.0.0.1",
        "port": 0,
        "tls_cert": tls.server_cert,
        "tls_key": tls.server_key,
        "client_ca": tls.ca,
        "insecure_registries": [registry.address],
        "reload_interval": 0.1,
        "budget": 5.0,
        "graceful_shutdown": 0.2,
    }
    base.update(kw)
    return Options(**base)


def _sign(ref: str, *extra: str) -> None:
    assert main(["sign", INSECURE, *extra, ref]) == 0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("admission")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOTATION_CONFIG", str(tmp / "notation"))
        mp.setenv("NOTATION_CACHE", str(tmp / "cache"))
        mp.setenv("DOCKER_CONFIG", str(tmp / "docker"))
        assert main(["cert", "generate-test", "--default", "test"]) == 0
        assert main(["cert", "generate-test", "other"]) == 0  # in the store as ca:other, which the policy ignores
        import_policy(tmp, "*", "reg")
        registry = RegistryServer(State()).start()
        refs, digests = {}, {}
        for case in ("good", "unsigned", "tampered", "expired", "wrong", "good2", "good3"):
            desc = push_image(registry, "app", tag=case, layer=f"layer {case}".encode())
            refs[case] = f"{registry.address}/app:{case}"
            digests[case] = desc.digest
        _sign(refs["good"])
        _sign(refs["good2"])
        _sign(refs["good3"])
        _sign(refs["wrong"], "--key", "other")
        _sign(refs["expired"], "--expiry", "1s")
        before = set(registry.state.blobs)
        _sign(refs["tampered"])
        for digest in set(registry.state.blobs) - before:
            data = registry.state.blobs[digest]
            if len(data) > 100:  # the envelope: served with one byte changed (digest no longer matches)
                registry.state.blobs[digest] = data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
        time.sleep(1.1)  # the 1 s signature expires
    tls = tls_material(tmp / "tls")
    service = AdmissionService(options(tmp / "notation", tls, registry))
    try:
        yield World(registry, tmp / "notation", tls, refs, digests, service, tmp)
    finally:
        service.stop()
        registry.stop()


def notation_verify_ok(world: World, ref: str) -> bool:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOTATION_CONFIG", str(world.config))
        return main(["verify", INSECURE, ref]) == 0


def post(world: World, path: str, doc: Any, session: requests.Session | None = None) -> requests.Response:
    return (session or world.session()).post(world.service.url + path, json=doc, timeout=10)


CASES = ("good", "unsigned", "tampered", "expired", "wrong")


def test_validate_pod_as_notation_verify_decides(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    s = world.session()
    for case in CASES:
        ref = world.refs[case]
        expected = notation_verify_ok(world, ref)
        assert expected == (case == "good"), case
        doc = review(pod(ref))
        r = post(world, "/validate", doc, s)
        assert r.status_code == 200
        body = r.json()
        assert body["apiVersion"] == "admission.k8s.io/v1" and body["kind"] == "AdmissionReview"
        resp = body["response"]
        assert resp["uid"] == doc["request"]["uid"]
        assert resp["allowed"] is expected, (case, resp)
        if not expected:
            assert resp["status"]["code"] == 403
            assert f"image {ref} was not verified: " in resp["status"]["message"]
    messages = {c: post(world, "/validate", review(pod(world.refs[c])), s).json()["response"] for c in CASES}
    assert "no signature is associated" in messages["unsigned"]["status"]["message"]
    assert "digest" in messages["tampered"]["status"]["message"]
    assert "expired" in messages["expired"]["status"]["message"]
    wrong = messages["wrong"]["status"]["message"]
    assert "signature verification failed for all the signatures" in wrong and "trusted certificate" in wrong, wrong
    lines = world.service.decisions()
    assert lines and all({"endpoint", "uid", "allowed", "images", "ms"} <= set(line) for line in lines)
    denied = [line for line in lines if not line["allowed"]]
    assert denied and denied[-1]["images"][0]["reason"]


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
                                  "ReplicationController"])
def test_validate_workloads_every_container_list(world: World, kind: str) -> None:
    good, bad = world.refs["good"], world.refs["unsigned"]
    spec = pod(good, init=(good,), ephemeral=(world.refs["good2"],))["spec"]
    assert post(world, "/validate", review(workload(kind, spec))).json()["response"]["allowed"] is True
    for field in ("initContainers", "containers", "ephemeralContainers"):
        spec = pod(good, init=(good,), ephemeral=(good,))["spec"]
        spec[field][0]["image"] = bad
        resp = post(world, "/validate", review(workload(kind, spec))).json()["response"]
        assert resp["allowed"] is False and bad in resp["status"]["message"], field


def test_mutate_pins_tags_to_verified_digests(world: World) -> None:
    good = world.refs["good"]
    by_digest = f"{world.registry.address}/app@{world.digests['good2']}"
    doc = review(workload("Deployment", pod(good, by_digest, init=(world.refs["good3"],))["spec"]))
    resp = post(world, "/mutate", doc).json()["response"]
    assert resp["allowed"] is True and resp["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(resp["patch"]))
    assert patch == [
        {"op": "replace", "path": "/spec/template/spec/initContainers/0/image",
         "value": f"{world.registry.address}/app@{world.digests['good3']}"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image",
         "value": f"{world.registry.address}/app@{world.digests['good']}"},
    ]  # the digest reference is already pinned: no op for it
    resp = post(world, "/mutate", review(pod(good, world.refs["wrong"]))).json()["response"]
    assert resp["allowed"] is False and "patch" not in resp


def test_provider_gatekeeper_items(world: World) -> None:
    keys = [world.refs["good"], world.refs["unsigned"], "not a reference", world.refs["good"]]
    r = post(world, "/provider", provider_request(*keys))
    assert r.status_code == 200
    body = r.json()
    assert body["apiVersion"] == "externaldata.gatekeeper.sh/v1beta1" and body["kind"] == "ProviderResponse"
    items = body["response"]["items"]
    assert body["response"]["systemError"] == "" and [i["key"] for i in items] == keys
    assert items[0]["error"] == "" and items[0]["value"]["verified"] is True
    assert items[0]["value"]["reference"] == f"{world.registry.address}/app@{world.digests['good']}"
    assert "no signature is associated" in items[1]["error"] and items[1]["value"]["verified"] is False
    assert "invalid image reference" in items[2]["error"]
    r = post(world, "/provider", {"kind": "ProviderRequest", "request": {"keys": "x"}})
    assert r.status_code == 400 and "ProviderRequest" in r.json()["response"]["systemError"]


def test_verify_endpoint_report_schema(world: World) -> None:
    refs = [f"{world.registry.address}/app@{world.digests['good3']}", world.refs["unsigned"]]
    doc = post(world, "/verify", {"references": refs}).json()
    validate(doc, schema("verify-output.schema.json"))
    assert doc["summary"] == {"total": 2, "verified": 1, "skipped": 0, "failed": 1}
    assert [r["result"] for r in doc["references"]] == ["verified", "failed"]
    assert doc["references"][0]["signatures"][0]["result"] == "passed"
    assert post(world, "/verify", {"references": []}).status_code == 400


def test_mtls_and_tls_required(world: World) -> None:
    url = world.service.url + "/healthz"
    assert world.session().get(url, timeout=5).text == "ok\n"
    with pytest.raises(requests.exceptions.RequestException):  # no client certificate
        client(world.tls, cert=False).get(url, timeout=5)
    with pytest.raises(requests.exceptions.RequestException):  # a client certificate from another CA
        other = client(world.tls, cert=False)
        other.cert = (str(world.tls.other_client_cert), str(world.tls.other_client_key))
        other.get(url, timeout=5)
    with pytest.raises(requests.exceptions.RequestException):  # plain HTTP to the TLS port
        requests.get(url.replace("https", "http"), timeout=5)


def test_malformed_oversized_and_limits(world: World) -> None:
    s = world.session()
    url = world.service.url
    r = s.post(url + "/validate", data=b"{not json", timeout=5)
    assert r.status_code == 400 and r.text.startswith("request body is not JSON") and r.text.count("\n") == 1
    r = s.post(url + "/validate", json={"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}, timeout=5)
    assert (r.status_code, r.text) == (400, "AdmissionReview has no request\n")
    bad = review(pod(world.refs["good"]))
    bad["request"]["object"]["spec"]["containers"] = "nope"
    r = s.post(url + "/validate", json=bad, timeout=5)
    assert r.status_code == 400 and "spec.containers is not a list" in r.text
    r = s.post(url + "/validate", data=b"x" * (3 * 1024 * 1024 + 1), timeout=10)
    assert r.status_code == 413
    many = review(pod(*[f"{world.registry.address}/app:t{i}" for i in range(65)]))
    resp = s.post(url + "/validate", json=many, timeout=5).json()["response"]
    assert resp["allowed"] is False and "65 distinct images are over the limit of 64" in resp["status"]["message"]
    other = review({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "d"}, "spec": {}})
    other["request"]["kind"]["kind"] = "ConfigMap"
    resp = s.post(url + "/validate", json=other, timeout=5).json()["response"]
    assert resp["allowed"] is False and "ConfigMap" in resp["status"]["message"]  # fail closed on unknown kinds
    gone = review(pod(world.refs["unsigned"]), operation="DELETE")
    assert s.post(url + "/validate", json=gone, timeout=5).json()["response"]["allowed"] is True
    dry = review(pod(world.refs["good"]), dry_run=True)
    assert s.post(url + "/validate", json=dry, timeout=5).json()["response"]["allowed"] is True
    assert world.service.decisions()[-1]["dryRun"] is True


def test_probes_and_metrics(world: World) -> None:
    s = world.session()
    post(world, "/validate", review(pod(world.refs["good"])), s)
    ready = s.get(world.service.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["ready"] is True and ready.json()["lastReloadError"] is None
    text = s.get(world.service.url + "/metrics", timeout=5).text
    for needle in (
        'notation_admission_requests_total{code="200",endpoint="validate"}',
        'notation_admission_request_seconds_bucket{endpoint="validate"',
        'notation_admission_verifications_total{outcome="verified"}',
        'notation_admission_verifications_total{outcome="failed"}',
        'notation_admission_cache_total{layer="local",result="hit"}',
        "notation_admission_registry_requests_total",
    ):
        assert needle in text, needle


def test_single_flight_one_verification_for_many_reviews(world: World) -> None:
    ref = f"{world.registry.address}/app@{world.digests['good2']}"
    tls = world.tls
    with serving(options(world.config, tls, world.registry)) as svc:
        s = client(tls)
        s.get(svc.url + "/healthz", timeout=5)

        def one(_: int) -> bool:
            session = client(tls)
            doc = review(pod(ref))
            return bool(session.post(svc.url + "/validate", json=doc, timeout=10).json()["response"]["allowed"])

        with ThreadPoolExecutor(16) as pool:
            assert all(pool.map(one, range(16)))
        text = s.get(svc.url + "/metrics", timeout=5).text
        assert 'notation_admission_verifications_total{outcome="verified"} 1.0' in text


def test_stalled_registry_answered_within_budget(world: World, tmp_path: Path) -> None:
    release = threading.Event()
    state = State()

    def stall(handler: Any, method: str, name: str, kind: str, ref: str) -> bool:
        if kind == "manifests":
            release.wait(20)
            handler.error(503, "UNAVAILABLE")
            return True
        return False

    state.hook = stall
    stalled = RegistryServer(state).start()
    try:
        with serving(options(world.config, world.tls, stalled, budget=1.0)) as svc:
            s = client(world.tls)
            started = time.monotonic()
            resp = s.post(svc.url + "/validate", json=review(pod(f"{stalled.address}/app:v1")), timeout=10).json()
            elapsed = time.monotonic() - started
            assert resp["response"]["allowed"] is False
            assert "did not finish within the 1s budget" in resp["response"]["status"]["message"]
            assert elapsed < 2.0
            release.set()
    finally:
        release.set()
        stalled.stop()


def _k8s_mount(directory: Path, files: dict[str, bytes], generation: int) -> None:
    """Lay ``files`` out as the kubelet's AtomicWriter does: ``..<ts>/`` real files, ``..data`` -> it, top-level
    entries -> ``..data/<entry>``; an update writes a new ``..<ts>`` and renames a new ``..data`` link over the old."""
    directory.mkdir(parents=True, exist_ok=True)
    ts = directory / f"..2026_12_02_00_00_0{generation}.000000000"
    for rel, data in files.items():
        path = ts / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    tmp_link = directory / "..data_tmp"
    os.symlink(ts.name, tmp_link)
    os.rename(tmp_link, directory / "..data")
    for top in {rel.split("/", 1)[0] for rel in files}:
        link = directory / top
        if not link.is_symlink():
            os.symlink(f"..data/{top}", link)
    for old in directory.glob("..2026_*"):
        if old != ts:
            shutil.rmtree(old)


def _material(config: Path, trusted_store: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in (config / "truststore").rglob("*"):
        if path.is_file():
            files[str(path.relative_to(config))] = path.read_bytes()
    policy = json.loads((config / "trustpolicy.json").read_text())
    policy["trustPolicies"][0]["trustStores"] = [trusted_store]
    files["trustpolicy.json"] = json.dumps(policy).encode()
    return files


def _wait(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_hot_reload_configmap_symlink_swap_and_broken_update(world: World, tmp_path: Path) -> None:
    mount = tmp_path / "mount"
    _k8s_mount(mount, _material(world.config, "ca:test"), 1)
    with serving(options(mount, world.tls, world.registry)) as svc:
        s = client(world.tls)

        def allowed(case: str) -> bool:
            doc = review(pod(world.refs[case]))
            return bool(s.post(svc.url + "/validate", json=doc, timeout=10).json()["response"]["allowed"])

        assert allowed("good") and not allowed("wrong")
        fp = s.get(svc.url + "/readyz", timeout=5).json()["trustFingerprint"]
        _k8s_mount(mount, _material(world.config, "ca:other"), 2)  # the ConfigMap now trusts the other key
        _wait(lambda: s.get(svc.url + "/readyz", timeout=5).json()["trustFingerprint"] != fp)
        assert allowed("wrong") and not allowed("good")  # the cached pass of "good" is keyed by the old material

        broken = _material(world.config, "ca:other")
        broken["trustpolicy.json"] = b'{"version": "1.0", "trustPolicies": [ oops'
        _k8s_mount(mount, broken, 3)
        _wait(lambda: s.get(svc.url + "/readyz", timeout=5).json()["lastReloadError"] is not None)
        ready = s.get(svc.url + "/readyz", timeout=5)
        assert ready.status_code == 200 and "\n" not in ready.json()["lastReloadError"]
        assert allowed("wrong") and not allowed("good")  # the last good policy stays in force
        assert "notation_admission_trust_material_current 0.0" in s.get(svc.url + "/metrics", timeout=5).text

        _k8s_mount(mount, _material(world.config, "ca:test"), 4)  # fixed: back to the first key
        _wait(lambda: s.get(svc.url + "/readyz", timeout=5).json()["lastReloadError"] is None)
        assert allowed("good") and not allowed("wrong")


def test_cli_errors_and_serve_subprocess(world: World, tmp_path: Path) -> None:
    from notation_admission.cli import main as admission_main

    def run(*argv: str) -> tuple[int, str]:
        proc = subprocess.run([sys.executable, "-m", "notation_admission", *argv], capture_output=True, text=True,
                              timeout=60)
        return proc.returncode, proc.stderr

    assert admission_main(["serve", "--config-dir", str(world.config), "--plain-http", "--host", "0.0.0.0"]) == 2
    assert admission_main(["serve", "--config-dir", str(world.config)]) == 2
    assert admission_main(["serve", "--config-dir", str(world.config), "--plain-http", "--budget", "12"]) == 2
    code, err = run("serve", "--config-dir", str(tmp_path / "missing"), "--plain-http", "--host", "127.0.0.1")
    assert code == 1 and err.startswith("notation-admission: error: ") and "Traceback" not in err
    code, err = run("serve", "--config-dir", str(world.config), "--host", "127.0.0.1", "--tls-cert",
                    str(tmp_path / "none.crt"), "--tls-key", str(world.tls.server_key))
    assert (code, err.count("\n")) == (1, 1) and "TLS certificate, key or client CA" in err
    proc = subprocess.Popen(
        [sys.executable, "-m", "notation_admission", "serve", "--config-dir", str(world.config), "--plain-http",
         "--host", "127.0.0.1", "--port", "0", "--insecure-registry", world.registry.address],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("notation-admission listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        resp = requests.post(url + "/validate", json=review(pod(world.refs["good"])), timeout=20).json()
        assert resp["response"]["allowed"] is True
        decision = json.loads(proc.stderr.readline())
        assert decision["endpoint"] == "validate" and decision["allowed"] is True
    finally:
        proc.terminate()
        proc.wait(10)


def test_cached_pass_never_outlives_the_signature_expiry(world: World) -> None:
    """A 300 s cache TTL, a signature valid for 2 s: the verdict is dropped at the expiry, not after the TTL."""
    desc = push_image(world.registry, "app", tag="short", layer=b"short-lived signature")
    ref = f"{world.registry.address}/app@{desc.digest}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOTATION_CONFIG", str(world.config))
        _sign(ref, "--expiry", "2s")
    signed_at = time.monotonic()
    with notation.Verifier(config_dir=world.config, insecure_registries=[world.registry.address]) as verifier:
        outcome = verifier.verify(ref)  # the library says how long the pass holds: the signature's expiry
    assert outcome.valid_until is not None
    left = (outcome.valid_until - dt.datetime.now(dt.UTC)).total_seconds()
    assert 0 < left <= 2.5, left
    s = world.session()
    first = post(world, "/validate", review(pod(ref)), s).json()["response"]
    assert first["allowed"] is True
    assert post(world, "/validate", review(pod(ref)), s).json()["response"]["allowed"] is True
    assert world.service.decisions()[-1]["images"][0]["source"] == "local"
    time.sleep(max(0.0, 2.2 - (time.monotonic() - signed_at)))
    late = post(world, "/validate", review(pod(ref)), s).json()["response"]
    assert late["allowed"] is False and "expired" in late["status"]["message"]


def test_audit_level_allows_with_warnings(world: World, tmp_path: Path) -> None:
    files = _material(world.config, "ca:test")
    policy = json.loads(files["trustpolicy.json"])
    policy["trustPolicies"][0]["signatureVerification"] = {"level": "audit"}
    files["trustpolicy.json"] = json.dumps(policy).encode()
    _k8s_mount(tmp_path / "mount", files, 1)
    with serving(options(tmp_path / "mount", world.tls, world.registry)) as svc:
        s = client(world.tls)
        resp = s.post(svc.url + "/validate", json=review(pod(world.refs["wrong"])), timeout=10).json()["response"]
        assert resp["allowed"] is True
        (warning,) = resp["warnings"]
        assert warning == (f'{world.refs["wrong"]}: authenticity was set to "log" and failed with error: '
                           "the signature's certificate chain does not contain any trusted certificate")
        assert svc.decisions()[-1]["images"][0]["warnings"] == [warning.split(": ", 1)[1]]


def test_registry_credentials_from_dockerconfigjson(world: World, tmp_path: Path) -> None:
    """An imagePullSecret's .dockerconfigjson: the only credentials the service has for a bearer-token registry."""
    state = State(auth="bearer", users={"puller": "pull-s3cret"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOTATION_CONFIG", str(world.config))
        private = RegistryServer(state).start()
        try:
            desc = push_image(private, "app", tag="v1", layer=b"private image")
            ref = f"{private.address}/app@{desc.digest}"
            assert main(["sign", "-u", "puller", "-p", "pull-s3cret", INSECURE, ref]) == 0
            auth = base64.b64encode(b"puller:pull-s3cret").decode()
            secret = tmp_path / ".dockerconfigjson"
            secret.write_text(json.dumps({"auths": {private.address: {"auth": auth}}}))
            with serving(options(world.config, world.tls, private)) as anonymous:
                resp = post_to(anonymous, world, review(pod(ref)))
                assert resp["allowed"] is False and "response status code 401" in resp["status"]["message"]
            with serving(options(world.config, world.tls, private, registry_config=secret)) as svc:
                assert post_to(svc, world, review(pod(ref)))["allowed"] is True
        finally:
            private.stop()


def post_to(svc: AdmissionService, world: World, doc: Any) -> Any:
    return client(world.tls).post(svc.url + "/validate", json=doc, timeout=10).json()["response"]


def _served_cert(url: str, tls: TLS) -> bytes:
    import socket

    ctx = ssl.create_default_context(cafile=str(tls.ca))
    ctx.load_cert_chain(str(tls.client_cert), str(tls.client_key))
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(
        raw, server_hostname="127.0.0.1"
    ) as conn:
        der = conn.getpeercert(binary_form=True)
    assert der is not None
    return der


def test_serving_certificate_renewed_in_place(world: World, tmp_path: Path) -> None:
    """cert-manager renews the Secret: new handshakes get the new certificate; a mismatched pair is refused."""
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import serialization

    tls = tls_material(tmp_path / "tls")
    with serving(options(world.config, tls, world.registry)) as svc:
        first = _served_cert(svc.url, tls)
        renewed = tls_material(tmp_path / "renewed")  # a new server certificate and key
        tls_new_cert = renewed.server_cert.read_bytes()
        tls_new_key = renewed.server_key.read_bytes()
        tls.server_cert.write_bytes(tls_new_cert)
        tls.server_key.write_bytes(tls_new_key)
        renewed_leaf = cx509.load_pem_x509_certificate(tls_new_cert).public_bytes(serialization.Encoding.DER)

        def served_with(ca: Path) -> bytes | None:
            probe = TLS(ca, tls.server_cert, tls.server_key, tls.client_cert, tls.client_key, tls.client_cert,
                        tls.client_key)
            try:
                return _served_cert(svc.url, probe)
            except (ssl.SSLError, OSError):
                return None

        _wait(lambda: served_with(renewed.ca) == renewed_leaf)
        assert first != renewed_leaf
        # a half-written renewal (key of another pair): refused, the renewed certificate stays in service
        tls.server_key.write_bytes(tls_material(tmp_path / "third").server_key.read_bytes())
        time.sleep(0.5)
        assert served_with(renewed.ca) == renewed_leaf
