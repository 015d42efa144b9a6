"""Registry over TLS, the ``notation-devstack registry serve`` command, and interop with a Go client (skopeo).

Issue 3, "Our registry": TLS with a given cert/key, a single command on a chosen or free port printing its
address and stopping cleanly on SIGTERM, and ``skopeo copy --preserve-digests`` in and out.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import requests

from devstack_registry_support.oci import image
from notation_devstack.registry import RegistryServer, make_tls_files, write_htpasswd


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


def test_tls_with_generated_ca(tmp_path: Path, tls_dir: Path) -> None:
    files = make_tls_files(tls_dir)
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    with RegistryServer(tmp_path / "root", tls=(files.cert, files.key)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        with requests.Session() as s:
            s.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override s.verify
            s.verify = str(files.ca_cert)
            assert s.get(f"{srv.url}/v2/").status_code == 200
            body, _ = image(s, srv.url, "app")
            assert s.get(f"{srv.url}/v2/app/manifests/v1").content == body
        # not trusted without our CA
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{srv.url}/v2/", timeout=5)
        # plain HTTP to the TLS port gets no API answer
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://{srv.host}/v2/", timeout=5)


def test_stalled_tls_client_does_not_block_others(tmp_path: Path, tls_dir: Path) -> None:
    files = make_tls_files(tls_dir / "stall")
    with RegistryServer(tmp_path / "root", tls=(files.cert, files.key), request_timeout=30) as srv:
        stalled = socket.create_connection(("127.0.0.1", srv.port))  # connects, never says hello
        try:
            start = time.monotonic()
            assert requests.get(f"{srv.url}/v2/", verify=str(files.ca_cert), timeout=5).status_code == 200
            assert time.monotonic() - start < 3
        finally:
            stalled.close()


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "notation_devstack", "registry", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        pytest.fail("registry did not start")
    line = proc.stdout.readline().strip()
    assert line.startswith("Listening on "), (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, line.removeprefix("Listening on ")


def test_cli_serve_with_auth_and_tls_stops_on_sigterm(tmp_path: Path, tls_dir: Path) -> None:
    files = make_tls_files(tls_dir / "cli")
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"alice": "pw"}, rounds=4)
    proc, url = _start_cli("--root", str(tmp_path / "root"), "--port", "0", "--tls-cert", str(files.cert),
                           "--tls-key", str(files.key), "--htpasswd", str(htpasswd))
    try:
        assert url.startswith("https://127.0.0.1:")
        with requests.Session() as s:
            s.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override s.verify
            s.verify = str(files.ca_cert)
            assert s.get(f"{url}/v2/").status_code == 401
            s.auth = ("alice", "pw")
            image(s, url, "app")
            assert s.get(f"{url}/v2/app/tags/list").json()["tags"] == ["v1"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "Registry stopped" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/v2/", verify=str(files.ca_cert), timeout=2)


def test_cli_sigint_and_chosen_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc, url = _start_cli("--root", str(tmp_path / "root"), "--port", str(port), "--no-referrers")
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/v2/app/referrers/sha256:{'0' * 64}").status_code == 404
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-auth"], "--token-auth needs --htpasswd"),
        (["--htpasswd", "/nonexistent/htpasswd"], "cannot read htpasswd file"),
        (["--tls-cert", "/nonexistent.crt"], "--tls-cert and --tls-key go together"),
    ],
)
def test_cli_refuses_bad_configuration(tmp_path: Path, args: list[str], message: str) -> None:
    r = subprocess.run([sys.executable, "-m", "notation_devstack", "registry", "serve", "--root",
                        str(tmp_path / "root"), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and message in r.stderr
    assert "Traceback" not in r.stderr


# ----- skopeo (a Go client: containers/image) ---------------------------------------------------------------

skopeo = shutil.which("skopeo")
needs_skopeo = pytest.mark.skipif(skopeo is None, reason="skopeo is not installed")


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    hexd = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / hexd).write_bytes(data)
    return {"digest": f"sha256:{hexd}", "size": len(data)}


def _make_layout(layout: Path) -> str:
    """An OCI image layout holding one small image tagged v1; returns the manifest digest."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    layer = buf.getvalue()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
                         "config": {}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(layout, config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **_blob(layout, layer)}],
    }).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", **_blob(layout, manifest),
            "annotations": {"org.opencontainers.image.ref.name": "v1"}}
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return str(desc["digest"])


def _skopeo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"),
           "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir(exist_ok=True)
    return subprocess.run([str(skopeo), "--insecure-policy", *args], capture_output=True, text=True, timeout=120,
                          env=env)


@needs_skopeo
def test_skopeo_copy_in_and_out_preserves_digests(tmp_path: Path) -> None:
    expected = _make_layout(tmp_path / "src")
    with RegistryServer(tmp_path / "root") as srv:
        r = _skopeo(tmp_path, "copy", "--preserve-digests", "--dest-tls-verify=false",
                    f"oci:{tmp_path / 'src'}:v1", f"docker://{srv.host}/skopeo/app:v1")
        assert r.returncode == 0, r.stderr
        got = requests.get(f"{srv.url}/v2/skopeo/app/manifests/v1")
        assert got.headers["Docker-Content-Digest"] == expected
        r = _skopeo(tmp_path, "copy", "--preserve-digests", "--src-tls-verify=false",
                    f"docker://{srv.host}/skopeo/app:v1", f"oci:{tmp_path / 'out'}:v1")
        assert r.returncode == 0, r.stderr
        index = json.loads((tmp_path / "out" / "index.json").read_text())
        assert index["manifests"][0]["digest"] == expected
        r = _skopeo(tmp_path, "list-tags", "--tls-verify=false", f"docker://{srv.host}/skopeo/app")
        assert r.returncode == 0 and json.loads(r.stdout)["Tags"] == ["v1"]


@needs_skopeo
def test_skopeo_over_tls_with_token_auth(tmp_path: Path, tls_dir: Path) -> None:
    """A Go client walks our bearer-token flow over TLS trusting our CA (cert dir), then copies back out."""
    files = make_tls_files(tls_dir / "skopeo")
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(files.ca_cert, certs / "ca.crt")
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"alice": "pw"}, rounds=4)
    expected = _make_layout(tmp_path / "src")
    with RegistryServer(tmp_path / "root", htpasswd=htpasswd, token_auth=True, tls=(files.cert, files.key)) as srv:
        src, dest = f"oci:{tmp_path / 'src'}:v1", f"docker://{srv.host}/app:v1"
        r = _skopeo(tmp_path, "copy", "--preserve-digests", "--dest-cert-dir", str(certs),
                    "--dest-creds", "alice:wrong", src, dest)
        assert r.returncode != 0
        r = _skopeo(tmp_path, "copy", "--preserve-digests", "--dest-cert-dir", str(certs),
                    "--dest-creds", "alice:pw", src, dest)
        assert r.returncode == 0, r.stderr
        r = _skopeo(tmp_path, "copy", "--preserve-digests", "--src-cert-dir", str(certs), "--src-creds", "alice:pw",
                    dest, f"oci:{tmp_path / 'out'}:v1")
        assert r.returncode == 0, r.stderr
        assert json.loads((tmp_path / "out" / "index.json").read_text())["manifests"][0]["digest"] == expected
        # registry to registry: skopeo asks for a token with two scopes and mounts the layer across repositories
        r = _skopeo(tmp_path, "copy", "--preserve-digests", "--src-cert-dir", str(certs), "--src-creds", "alice:pw",
                    "--dest-cert-dir", str(certs), "--dest-creds", "alice:pw", dest, f"docker://{srv.host}/copy:v1")
        assert r.returncode == 0, r.stderr
        assert srv.storage.resolve("copy", "v1") == expected


def test_stop_ends_keep_alive_tls_connections(tmp_path: Path, tls_dir: Path) -> None:
    files = make_tls_files(tls_dir / "keepalive")
    srv = RegistryServer(tmp_path / "root", tls=(files.cert, files.key)).start()
    with requests.Session() as s:
        s.trust_env = False
        s.verify = str(files.ca_cert)
        assert s.get(f"{srv.url}/v2/").status_code == 200
        srv.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(f"{srv.url}/v2/", timeout=5)
