"""Helpers for the admission service tests: TLS material, the service on a thread, review documents, redis-server."""

from __future__ import annotations

import io
import ipaddress
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from notation_admission.cli import Options, Running
from support import pki


@dataclass
class TLS:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_client_cert: Path
    other_client_key: Path


def tls_material(directory: Path) -> TLS:
    """A CA, a server certificate for 127.0.0.1, a client certificate it issued and one from another CA."""
    ca = pki.root_ca("Admission Test CA")
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    server = pki.issue("127.0.0.1", issuer=ca, eku=[ExtendedKeyUsageOID.SERVER_AUTH], extra_extensions=[(san, False)])
    client = pki.issue("apiserver", issuer=ca, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    other_ca = pki.root_ca("Someone Else")
    other = pki.issue("intruder", issuer=other_ca, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(ca.cert_pem())
    sk, sc = server.write(directory, "server")
    ck, cc = client.write(directory, "client")
    ok, oc = other.write(directory, "other")
    return TLS(directory / "ca.crt", sc, sk, cc, ck, oc, ok)


class Service:
    """``notation-admission serve`` in this process, on a thread, with its decision log captured."""

    def __init__(self, opts: Options) -> None:
        self.log = io.StringIO()
        self.running = Running(opts, decision_stream=self.log)
        self.thread = threading.Thread(target=self.running.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.running.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("admission service did not start")
            time.sleep(0.01)
        scheme = "http" if opts.plain_http else "https"
        self.url = f"{scheme}://127.0.0.1:{self.running.port}"

    def decisions(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines()]

    def stop(self) -> None:
        self.running.server.should_exit = True
        self.thread.join(10)
        self.running.close()


@contextmanager
def serving(opts: Options) -> Iterator[Service]:
    service = Service(opts)
    try:
        yield service
    finally:
        service.stop()


def pod(*images: str, init: tuple[str, ...] = (), ephemeral: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": im} for i, im in enumerate(init)]
    if ephemeral:
        spec["ephemeralContainers"] = [{"name": f"e{i}", "image": im} for i, im in enumerate(ephemeral)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"}, "spec": spec}


def workload(kind: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    """``kind`` (Deployment, CronJob, ...) embedding ``pod_spec`` where the API puts it."""
    template = {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}
    group = {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}.get(kind, "apps/v1")
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        spec = {"template": template}
    return {"apiVersion": group, "kind": kind, "metadata": {"name": "web", "namespace": "default"}, "spec": spec}


_RESOURCES = {
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
}


def review(obj: dict[str, Any], *, operation: str = "CREATE", dry_run: bool = False) -> dict[str, Any]:
    """An ``admission.k8s.io/v1`` AdmissionReview as the API server sends it."""
    kind = obj["kind"]
    group, version, resource = _RESOURCES[kind]
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller", "groups": []},
            "object": obj,
            "oldObject": None,
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def provider_request(*keys: str) -> dict[str, Any]:
    api = "externaldata.gatekeeper.sh/v1beta1"
    return {"apiVersion": api, "kind": "ProviderRequest", "request": {"keys": list(keys)}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A real redis-server on a free loopback port, no persistence; ``kill`` it to test the Redis-down path."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def client(tls: TLS, *, cert: bool = True) -> Any:
    """A requests session trusting the test CA (and not the environment's CA bundle), with the client certificate."""
    import requests

    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    s.verify = str(tls.ca)
    if cert:
        s.cert = (str(tls.client_cert), str(tls.client_key))
    return s
