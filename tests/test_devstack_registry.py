"""Our OCI distribution v1.1 registry (issue 3, "Our registry"): real HTTP on 127.0.0.1 with ``requests``.

Referrers behaviour is what signature.md §12 expects of a registry: REF-01 (referrers API, artifactType filter,
OCI-Filters-Applied, pagination), REF-02 (NAME_UNKNOWN vs. unsupported API), REF-07 (OCI-Subject on PUT).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack_registry_support.oci import (
    EMPTY,
    NOTARY,
    OCI_INDEX,
    OCI_MANIFEST,
    descriptor,
    digest,
    image,
    push_blob,
    push_manifest,
    signature,
)
from notation_devstack.registry import RegistryServer


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[RegistryServer]:
    with RegistryServer(tmp_path / "root") as srv:
        yield srv


@pytest.fixture()
def s() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _error_code(r: requests.Response) -> str:
    return str(r.json()["errors"][0]["code"])


def test_ping_answers_v2(registry: RegistryServer, s: requests.Session) -> None:
    r = s.get(f"{registry.url}/v2/")
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert registry.url == f"http://127.0.0.1:{registry.port}"
    assert registry.host == f"127.0.0.1:{registry.port}"


def test_push_pull_image_keeps_exact_bytes(registry: RegistryServer, s: requests.Session) -> None:
    url = registry.url
    body, desc = image(s, url, "library/app", b"layer-bytes", tag="v1")
    for ref in ("v1", desc["digest"]):
        r = s.get(f"{url}/v2/library/app/manifests/{ref}")
        assert r.status_code == 200
        assert r.content == body
        assert r.headers["Content-Type"] == OCI_MANIFEST
        assert r.headers["Docker-Content-Digest"] == desc["digest"]
        h = s.head(f"{url}/v2/library/app/manifests/{ref}")
        assert h.status_code == 200 and h.content == b""
        assert int(h.headers["Content-Length"]) == len(body)
    layer = s.get(f"{url}/v2/library/app/blobs/{digest(b'layer-bytes')}")
    assert layer.content == b"layer-bytes"
    assert layer.headers["Docker-Content-Digest"] == digest(b"layer-bytes")
    assert s.head(f"{url}/v2/library/app/blobs/{digest(b'layer-bytes')}").headers["Content-Length"] == "11"
    part = s.get(f"{url}/v2/library/app/blobs/{digest(b'layer-bytes')}", headers={"Range": "bytes=6-"})
    assert part.status_code == 206 and part.content == b"bytes"
    assert part.headers["Content-Range"] == "bytes 6-10/11"
    bad = s.get(f"{url}/v2/library/app/blobs/{digest(b'layer-bytes')}", headers={"Range": "bytes=11-"})
    assert bad.status_code == 416
    assert s.get(f"{url}/v2/library/app/tags/list").json() == {"name": "library/app", "tags": ["v1"]}
    assert s.get(f"{url}/v2/_catalog").json() == {"repositories": ["library/app"]}


def test_manifest_with_unknown_blob_is_rejected(registry: RegistryServer, s: requests.Session) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": descriptor("application/vnd.oci.image.config.v1+json", b"{}"),
                       "layers": []}).encode()
    r = s.put(f"{registry.url}/v2/app/manifests/v1", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 400 and _error_code(r) == "MANIFEST_BLOB_UNKNOWN"
    # a blob of *another* repository does not count
    push_blob(s, registry.url, "other", b"{}")
    r = s.put(f"{registry.url}/v2/app/manifests/v1", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 400 and _error_code(r) == "MANIFEST_BLOB_UNKNOWN"
    # refused before the body is stored (it is written outside the repository lock, after the checks)
    algorithm, hexdigest = digest(body).split(":")
    assert not (registry.root / "blobs" / algorithm / hexdigest).exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", OCI_MANIFEST),
        (b"[]", OCI_MANIFEST),
        (json.dumps({"schemaVersion": 1, "mediaType": OCI_MANIFEST}).encode(), OCI_MANIFEST),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode(), OCI_MANIFEST),
        (json.dumps({"schemaVersion": 2, "mediaType": "text/plain"}).encode(), "text/plain"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                     "config": {"mediaType": "x", "digest": "sha256:../../etc", "size": 2}}).encode(), OCI_MANIFEST),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                     "config": {"mediaType": "x", "digest": digest(b"{}"), "size": -1}}).encode(), OCI_MANIFEST),
    ],
)
def test_malformed_manifests_are_rejected(registry: RegistryServer, s: requests.Session, body: bytes,
                                          content_type: str) -> None:
    r = s.put(f"{registry.url}/v2/app/manifests/v1", data=body, headers={"Content-Type": content_type})
    assert r.status_code == 400 and _error_code(r) in ("MANIFEST_INVALID", "DIGEST_INVALID")
    assert s.get(f"{registry.url}/v2/app/manifests/v1").status_code == 404


def test_oversized_manifest_is_refused(registry: RegistryServer, s: requests.Session) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [],
                       "annotations": {"pad": "x" * (4 * 1024 * 1024)}}).encode()
    r = s.put(f"{registry.url}/v2/app/manifests/big", data=body, headers={"Content-Type": OCI_INDEX})
    assert r.status_code == 413


def test_index_requires_children_and_serves_its_media_type(registry: RegistryServer, s: requests.Session) -> None:
    _, child = image(s, registry.url, "app", tag=None)
    missing = descriptor(OCI_MANIFEST, b"nope")
    bad = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child, missing]}).encode()
    r = s.put(f"{registry.url}/v2/app/manifests/multi", data=bad, headers={"Content-Type": OCI_INDEX})
    assert r.status_code == 400 and _error_code(r) == "MANIFEST_BLOB_UNKNOWN"
    good = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child]}).encode()
    push_manifest(s, registry.url, "app", good, "multi", OCI_INDEX)
    r = s.get(f"{registry.url}/v2/app/manifests/multi")
    assert r.content == good and r.headers["Content-Type"] == OCI_INDEX


def test_digest_mismatch_is_rejected(registry: RegistryServer, s: requests.Session) -> None:
    url = registry.url
    r = s.post(f"{url}/v2/app/blobs/uploads/", params={"digest": digest(b"expected")}, data=b"different")
    assert r.status_code == 400 and _error_code(r) == "DIGEST_INVALID"
    assert s.head(f"{url}/v2/app/blobs/{digest(b'expected')}").status_code == 404
    assert s.head(f"{url}/v2/app/blobs/{digest(b'different')}").status_code == 404
    # manifest pushed by a digest that is not its own
    body, _ = image(s, url, "app", tag=None)
    r = s.put(f"{url}/v2/app/manifests/{digest(b'other')}", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 400 and _error_code(r) == "DIGEST_INVALID"
    assert s.get(f"{url}/v2/app/manifests/{digest(b'other')}").status_code == 404
    # session upload closed with a wrong digest
    loc = s.post(f"{url}/v2/app/blobs/uploads/").headers["Location"]
    r = s.put(f"{url}{loc}", params={"digest": digest(b"abc")}, data=b"abd")
    assert r.status_code == 400 and _error_code(r) == "DIGEST_INVALID"
    assert s.head(f"{url}/v2/app/blobs/{digest(b'abc')}").status_code == 404
    # the session stays for a retry, holding what was sent; closed with its true digest, the blob lands
    assert s.get(f"{url}{loc}").headers["Range"] == "0-2"
    r = s.put(f"{url}{loc}", params={"digest": digest(b"abdef")}, data=b"ef")
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == digest(b"abdef")
    r = s.head(f"{url}/v2/app/blobs/{digest(b'abdef')}")
    assert r.status_code == 200 and r.headers["Content-Length"] == "5" and r.content == b""
    assert s.get(f"{url}/v2/app/blobs/{digest(b'abdef')}").content == b"abdef"
    assert s.get(f"{url}{loc}").status_code == 404


def test_artifact_with_subject_sets_oci_subject_and_is_listed(registry: RegistryServer, s: requests.Session) -> None:
    """REF-01, REF-07: OCI-Subject on PUT; the referrers API lists Form A and Form B with their artifactType."""
    url = registry.url
    _, subject = image(s, url, "app")
    form_a, resp_a = signature(s, url, "app", subject, b"envelope-a",
                               annotations={"io.cncf.notary.x509chain.thumbprint#S256": '["ab"]'})
    assert resp_a.headers["OCI-Subject"] == subject["digest"]
    form_b, resp_b = signature(s, url, "app", subject, b"envelope-b", form_b=True)
    assert resp_b.headers["OCI-Subject"] == subject["digest"]
    # an unrelated artifact type referring to the same subject
    push_blob(s, url, "app", b"sbom")
    other = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/spdx+json",
                        "config": descriptor("application/vnd.oci.empty.v1+json", EMPTY),
                        "layers": [descriptor("application/spdx+json", b"sbom")], "subject": subject}).encode()
    push_manifest(s, url, "app", other)

    r = s.get(f"{url}/v2/app/referrers/{subject['digest']}")
    assert r.status_code == 200 and r.headers["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in r.headers
    index = r.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    by_digest = {m["digest"]: m for m in index["manifests"]}
    assert set(by_digest) == {digest(form_a), digest(form_b), digest(other)}
    assert by_digest[digest(form_a)] == {
        "mediaType": OCI_MANIFEST, "digest": digest(form_a), "size": len(form_a), "artifactType": NOTARY,
        "annotations": {"io.cncf.notary.x509chain.thumbprint#S256": '["ab"]'},
    }
    assert by_digest[digest(form_b)]["artifactType"] == NOTARY

    r = s.get(f"{url}/v2/app/referrers/{subject['digest']}", params={"artifactType": NOTARY})
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert {m["digest"] for m in r.json()["manifests"]} == {digest(form_a), digest(form_b)}

    # deleting a referrer removes it from the index
    assert s.delete(f"{url}/v2/app/manifests/{digest(form_a)}").status_code == 202
    r = s.get(f"{url}/v2/app/referrers/{subject['digest']}", params={"artifactType": NOTARY})
    assert [m["digest"] for m in r.json()["manifests"]] == [digest(form_b)]


def test_referrers_of_unknown_subject_and_unknown_repo(registry: RegistryServer, s: requests.Session) -> None:
    """REF-02: an empty list for a subject without referrers, NAME_UNKNOWN for a missing repository."""
    url = registry.url
    image(s, url, "app")
    r = s.get(f"{url}/v2/app/referrers/{digest(b'nothing')}")
    assert r.status_code == 200 and r.json()["manifests"] == []
    r = s.get(f"{url}/v2/missing/referrers/{digest(b'nothing')}")
    assert r.status_code == 404 and _error_code(r) == "NAME_UNKNOWN"
    r = s.get(f"{url}/v2/app/referrers/sha256:abc")
    assert r.status_code == 400 and _error_code(r) == "DIGEST_INVALID"


def test_subject_may_be_pushed_before_its_target(registry: RegistryServer, s: requests.Session) -> None:
    subject = descriptor(OCI_MANIFEST, b"not pushed yet")
    body, resp = signature(s, registry.url, "app", subject, b"env")
    assert resp.headers["OCI-Subject"] == subject["digest"]
    r = s.get(f"{registry.url}/v2/app/referrers/{subject['digest']}")
    assert [m["digest"] for m in r.json()["manifests"]] == [digest(body)]


def test_referrers_pagination(tmp_path: Path, s: requests.Session) -> None:
    """REF-01: Link rel="next" pagination; following it yields every referrer exactly once."""
    with RegistryServer(tmp_path / "root", referrers_page_size=3) as srv:
        _, subject = image(s, srv.url, "app")
        pushed = {digest(signature(s, srv.url, "app", subject, f"env-{i}".encode())[0]) for i in range(7)}
        seen: list[str] = []
        next_url: str | None = f"{srv.url}/v2/app/referrers/{subject['digest']}?artifactType={NOTARY}"
        pages = 0
        while next_url:
            r = s.get(next_url)
            assert r.headers["OCI-Filters-Applied"] == "artifactType"
            seen += [m["digest"] for m in r.json()["manifests"]]
            pages += 1
            link = r.links.get("next", {}).get("url")
            next_url = f"{srv.url}{link}" if link else None
        assert pages == 3
        assert sorted(seen) == sorted(pushed)


def test_no_referrers_mode_answers_404_and_no_oci_subject(tmp_path: Path, s: requests.Session) -> None:
    """REF-02/REF-07: with the API off, a plain 404 (not NAME_UNKNOWN) and no OCI-Subject header."""
    with RegistryServer(tmp_path / "root", referrers=False) as srv:
        _, subject = image(s, srv.url, "app")
        _, resp = signature(s, srv.url, "app", subject, b"env")
        assert "OCI-Subject" not in resp.headers
        r = s.get(f"{srv.url}/v2/app/referrers/{subject['digest']}")
        assert r.status_code == 404
        assert "NAME_UNKNOWN" not in r.text


def test_chunked_upload_with_content_range(registry: RegistryServer, s: requests.Session) -> None:
    url, data = registry.url, b"0123456789abcdef"
    r = s.post(f"{url}/v2/app/blobs/uploads/")
    assert r.status_code == 202 and r.headers["Range"] == "0-0"
    loc = r.headers["Location"]
    headers = {"Content-Range": "0-5", "Content-Type": "application/octet-stream"}
    r = s.patch(f"{url}{loc}", data=data[:6], headers=headers)
    assert r.status_code == 202 and r.headers["Range"] == "0-5"
    loc = r.headers["Location"]
    # an out-of-order chunk is refused and changes nothing
    r = s.patch(f"{url}{loc}", data=data[8:10], headers={"Content-Range": "8-9"})
    assert r.status_code == 416
    assert s.get(f"{url}{loc}").headers["Range"] == "0-5"
    # a streamed chunk (Transfer-Encoding: chunked, no Content-Range)
    r = s.patch(f"{url}{loc}", data=iter([data[6:8], data[8:12]]))
    assert r.status_code == 202 and r.headers["Range"] == "0-11"
    r = s.put(f"{url}{r.headers['Location']}", params={"digest": digest(data)}, data=data[12:],
              headers={"Content-Range": "12-15"})
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == digest(data)
    assert s.get(f"{url}/v2/app/blobs/{digest(data)}").content == data
    assert s.get(f"{url}{loc}").status_code == 404  # the session is gone
    r = s.patch(f"{url}/v2/app/blobs/uploads/{'0' * 32}", data=b"x")
    assert r.status_code == 404 and _error_code(r) == "BLOB_UPLOAD_UNKNOWN"


def test_upload_session_belongs_to_its_repository(registry: RegistryServer, s: requests.Session) -> None:
    loc = s.post(f"{registry.url}/v2/app/blobs/uploads/").headers["Location"]
    upload_id = loc.rsplit("/", 1)[1]
    r = s.put(f"{registry.url}/v2/other/blobs/uploads/{upload_id}", params={"digest": digest(b"")})
    assert r.status_code == 404 and _error_code(r) == "BLOB_UPLOAD_UNKNOWN"
    assert s.delete(f"{registry.url}{loc}").status_code == 204
    assert s.get(f"{registry.url}{loc}").status_code == 404


def test_cross_repository_mount(registry: RegistryServer, s: requests.Session) -> None:
    url = registry.url
    push_blob(s, url, "source", b"shared layer")
    d = digest(b"shared layer")
    r = s.post(f"{url}/v2/target/blobs/uploads/", params={"mount": d, "from": "source"})
    assert r.status_code == 201 and r.headers["Location"] == f"/v2/target/blobs/{d}"
    assert s.get(f"{url}/v2/target/blobs/{d}").content == b"shared layer"
    # the source lacks the blob: an ordinary upload session is opened instead
    r = s.post(f"{url}/v2/target/blobs/uploads/", params={"mount": digest(b"absent"), "from": "source"})
    assert r.status_code == 202 and "/blobs/uploads/" in r.headers["Location"]


def test_tags_pagination_and_catalog(registry: RegistryServer, s: requests.Session) -> None:
    url = registry.url
    body, _ = image(s, url, "app", tag="a")
    for tag in ("e", "c", "b", "d"):
        push_manifest(s, url, "app", body, tag)
    r = s.get(f"{url}/v2/app/tags/list", params={"n": 2})
    assert r.json()["tags"] == ["a", "b"]
    assert r.links["next"]["url"] == "/v2/app/tags/list?n=2&last=b"
    seen = r.json()["tags"]
    while "next" in r.links:
        r = s.get(url + r.links["next"]["url"])
        seen += r.json()["tags"]
    assert seen == ["a", "b", "c", "d", "e"]
    assert s.get(f"{url}/v2/app/tags/list", params={"last": "c"}).json()["tags"] == ["d", "e"]
    assert s.get(f"{url}/v2/app/tags/list", params={"n": 0}).json()["tags"] == []
    assert s.get(f"{url}/v2/app/tags/list", params={"n": "x"}).status_code == 400
    r = s.get(f"{url}/v2/nope/tags/list")
    assert r.status_code == 404 and _error_code(r) == "NAME_UNKNOWN"
    for repo in ("zeta", "alpha/one"):
        image(s, url, repo)
    r = s.get(f"{url}/v2/_catalog", params={"n": 2})
    assert r.json()["repositories"] == ["alpha/one", "app"]
    assert s.get(url + r.links["next"]["url"]).json()["repositories"] == ["zeta"]


def test_delete_tag_manifest_and_blob(registry: RegistryServer, s: requests.Session) -> None:
    url = registry.url
    body, desc = image(s, url, "app", tag="v1")
    push_manifest(s, url, "app", body, "v2")
    assert s.delete(f"{url}/v2/app/manifests/v1").status_code == 202  # tag only
    assert s.get(f"{url}/v2/app/manifests/v1").status_code == 404
    assert s.get(f"{url}/v2/app/manifests/{desc['digest']}").status_code == 200
    assert s.delete(f"{url}/v2/app/manifests/{desc['digest']}").status_code == 202
    r = s.get(f"{url}/v2/app/manifests/v2")  # tags of a deleted manifest go with it
    assert r.status_code == 404 and _error_code(r) == "MANIFEST_UNKNOWN"
    assert s.get(f"{url}/v2/app/tags/list").json()["tags"] == []
    assert s.delete(f"{url}/v2/app/blobs/{digest(b'layer')}").status_code == 202
    r = s.get(f"{url}/v2/app/blobs/{digest(b'layer')}")
    assert r.status_code == 404 and _error_code(r) == "BLOB_UNKNOWN"


def _raw(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, body=body)  # path sent verbatim: no client-side normalisation
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/../../etc/manifests/latest"),
        ("PUT", "/v2/app/../../../outside/manifests/latest"),
        ("GET", "/v2/app/%2e%2e/%2e%2e/manifests/latest"),
        ("GET", "/v2/App/manifests/latest"),
        ("GET", "/v2/app/_manifests/manifests/latest"),
        ("GET", "/v2/app/manifests/.."),
        ("PUT", "/v2/app/manifests/..%2f..%2fevil"),
        ("GET", "/v2/app/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd"),
        ("GET", "/v2/app/blobs/sha256:../../../../etc/passwd"),
        ("GET", "/v2/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e"),
        ("PATCH", "/v2/app/blobs/uploads/..%2f..%2f..%2ftmp"),
        ("PUT", "/v2/app/blobs/uploads/../../../repositories?digest=sha256:" + "0" * 64),
        ("GET", "/v2/app/referrers/sha256:..%2f..%2f"),
        ("POST", "/v2/app/blobs/uploads/?mount=sha256:" + "0" * 64 + "&from=../../x"),
    ],
)
def test_path_traversal_attempts_are_rejected(registry: RegistryServer, tmp_path: Path, method: str,
                                              path: str) -> None:
    image(requests.Session(), registry.url, "app", tag="latest")
    before = sorted(os.listdir(tmp_path))
    status, body = _raw(registry.url, method, path, b"{}" if method in ("PUT", "PATCH") else None)
    assert status in (400, 404), (status, body)
    assert sorted(os.listdir(tmp_path)) == before
    root = (tmp_path / "root").resolve()
    for dirpath, _dirs, files in os.walk(tmp_path):
        for f in files:
            assert Path(dirpath, f).resolve().is_relative_to(root)


def test_blob_size_limit(tmp_path: Path, s: requests.Session) -> None:
    with RegistryServer(tmp_path / "root", max_blob_size=1024) as srv:
        big = b"x" * 2048
        r = s.post(f"{srv.url}/v2/app/blobs/uploads/", params={"digest": digest(big)}, data=big)
        assert r.status_code == 413
        loc = s.post(f"{srv.url}/v2/app/blobs/uploads/").headers["Location"]
        assert s.patch(f"{srv.url}{loc}", data=b"y" * 500).status_code == 202
        r = s.patch(f"{srv.url}{loc}", data=iter([b"y" * 300, b"y" * 300]))
        assert r.status_code == 413
        assert s.get(f"{srv.url}{loc}").headers["Range"] == "0-499"  # the refused chunk left nothing behind
        assert s.head(f"{srv.url}/v2/app/blobs/{digest(big)}").status_code == 404


def test_concurrent_referrer_pushes_are_all_listed(registry: RegistryServer) -> None:
    """REF-01: 16 clients push signatures for one subject at once; none is lost from the referrers index."""
    with requests.Session() as s0:
        _, subject = image(s0, registry.url, "app")
    results: dict[int, Any] = {}

    def push(i: int) -> None:
        with requests.Session() as s:
            results[i] = digest(signature(s, registry.url, "app", subject, f"envelope-{i}".encode())[0])

    threads = [threading.Thread(target=push, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 16
    r = requests.get(f"{registry.url}/v2/app/referrers/{subject['digest']}", params={"artifactType": NOTARY})
    assert sorted(m["digest"] for m in r.json()["manifests"]) == sorted(results.values())


def test_unknown_routes_and_methods(registry: RegistryServer, s: requests.Session) -> None:
    assert s.get(f"{registry.url}/nothing").status_code == 404
    r = s.post(f"{registry.url}/v2/app/manifests/v1")
    assert r.status_code == 405 and _error_code(r) == "UNSUPPORTED"


def test_storage_survives_restart(tmp_path: Path, s: requests.Session) -> None:
    with RegistryServer(tmp_path / "root") as srv:
        body, desc = image(s, srv.url, "app")
        signature(s, srv.url, "app", desc, b"env")
    with RegistryServer(tmp_path / "root") as srv:
        assert s.get(f"{srv.url}/v2/app/manifests/v1").content == body
        assert len(s.get(f"{srv.url}/v2/app/referrers/{desc['digest']}").json()["manifests"]) == 1


def test_stop_ends_keep_alive_connections(tmp_path: Path) -> None:
    srv = RegistryServer(tmp_path / "root").start()
    with requests.Session() as s:
        assert s.get(f"{srv.url}/v2/").status_code == 200  # leaves a pooled keep-alive connection
        srv.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(f"{srv.url}/v2/", timeout=5)


def test_docker_v2_and_withdrawn_artifact_manifests(registry: RegistryServer, s: requests.Session) -> None:
    """MAN-01: the withdrawn OCI artifact manifest (read by verifiers) is stored and indexed as a referrer."""
    url = registry.url
    docker_type = "application/vnd.docker.distribution.manifest.v2+json"
    push_blob(s, url, "app", b"cfg")
    push_blob(s, url, "app", b"lyr")
    docker = json.dumps({"schemaVersion": 2, "mediaType": docker_type,
                         "config": descriptor("application/vnd.docker.container.image.v1+json", b"cfg"),
                         "layers": [descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", b"lyr")]}).encode()
    push_manifest(s, url, "app", docker, "docker", docker_type)
    assert s.get(f"{url}/v2/app/manifests/docker").headers["Content-Type"] == docker_type
    subject = descriptor(docker_type, docker)
    artifact_type = "application/vnd.oci.artifact.manifest.v1+json"
    push_blob(s, url, "app", b"sig")
    artifact = json.dumps({"mediaType": artifact_type, "artifactType": NOTARY,
                           "blobs": [descriptor("application/jose+json", b"sig")], "subject": subject}).encode()
    r = push_manifest(s, url, "app", artifact, media_type=artifact_type)
    assert r.headers["OCI-Subject"] == subject["digest"]
    listed = s.get(f"{url}/v2/app/referrers/{subject['digest']}").json()["manifests"]
    assert listed == [{"mediaType": artifact_type, "digest": digest(artifact), "size": len(artifact),
                       "artifactType": NOTARY}]


def test_put_by_digest_with_tag_parameters(registry: RegistryServer, s: requests.Session) -> None:
    body, desc = image(s, registry.url, "app", tag=None)
    r = s.put(f"{registry.url}/v2/app/manifests/{desc['digest']}", params=[("tag", "one"), ("tag", "two")],
              data=body, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201
    assert s.get(f"{registry.url}/v2/app/tags/list").json()["tags"] == ["one", "two"]
    r = s.put(f"{registry.url}/v2/app/manifests/{desc['digest']}", params={"tag": "../x"}, data=body,
              headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 400 and _error_code(r) == "TAG_INVALID"


def test_restart_sweeps_a_dead_writers_leftovers_but_not_a_live_ones(tmp_path: Path, s: requests.Session) -> None:
    """Issue 8 (kill -9 mid-write): temp files older than an hour and upload sessions older than a week are
    removed when the registry starts; younger ones (a second server on the same root may own them) stay, and
    stored content is untouched."""
    root = tmp_path / "root"
    with RegistryServer(root) as srv:
        blob = b"kept"
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        r = s.post(f"{srv.url}/v2/app/blobs/uploads/?digest={digest}", data=blob)
        assert r.status_code == 201
        stale_upload = s.post(f"{srv.url}/v2/app/blobs/uploads/").headers["Location"].rsplit("/", 1)[-1]
        live_upload = s.post(f"{srv.url}/v2/app/blobs/uploads/").headers["Location"].rsplit("/", 1)[-1]
    hour_ago, week_ago = 3600 + 60, 7 * 24 * 3600 + 60
    old_blob_temp = root / "tmp" / "blob-dead"
    old_atomic_temp = root / "repositories" / "app" / ".tmp-dead"
    live_temp = root / "tmp" / "blob-live"
    for path in (old_blob_temp, old_atomic_temp, live_temp):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    [stale_session] = (root / "uploads").glob(f"{stale_upload}*")
    [live_session] = (root / "uploads").glob(f"{live_upload}*")
    old_layout_session = root / "uploads" / ("0" * 32)  # uploads/<id>/{data,repo}, as earlier versions kept them
    old_layout_session.mkdir()
    (old_layout_session / "data").write_bytes(b"half")
    now = time.time()
    for path, age in ((old_blob_temp, hour_ago), (old_atomic_temp, hour_ago), (stale_session, week_ago),
                      (old_layout_session, week_ago)):
        os.utime(path, (now - age, now - age))
    with RegistryServer(root) as srv:
        assert not old_blob_temp.exists() and not old_atomic_temp.exists()
        assert not stale_session.exists() and not old_layout_session.exists()
        assert s.get(f"{srv.url}/v2/app/blobs/uploads/{stale_upload}").status_code == 404
        assert live_temp.exists() and live_session.exists()
        assert s.get(f"{srv.url}/v2/app/blobs/uploads/{live_upload}").status_code == 204
        assert s.get(f"{srv.url}/v2/app/blobs/{digest}").content == blob


def test_manifest_put_refused_under_the_lock_leaves_nothing_visible(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A PUT's link and tag are written as synced temp files outside the repository lock and renamed into place
    under it after the checks are made again: when that second check refuses (the tag moved meanwhile), the temp
    files are removed and neither the manifest nor the tag appears."""
    from notation_devstack.registry import errors
    from notation_devstack.registry.storage import Storage

    storage = Storage(tmp_path / "root")
    storage.put_blob("app", digest(b"{}"), [b"{}"])
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": descriptor("application/vnd.oci.image.config.v1+json", b"{}"), "layers": []}).encode()
    real = Storage._check_manifest_put
    checks: list[str] = []

    def check(self: Storage, name: str, reference: str, *args: Any) -> None:
        checks.append(reference)
        if len(checks) == 2:
            raise errors.precondition_failed(reference)
        real(self, name, reference, *args)

    monkeypatch.setattr(Storage, "_check_manifest_put", check)
    with pytest.raises(errors.DistributionError):
        storage.put_manifest("app", "v1", body, OCI_MANIFEST, if_none_match="*")
    assert checks == ["v1", "v1"]
    assert list((tmp_path / "root" / "repositories").rglob(".tmp-*")) == []
    assert storage.tags("app") == []
    with pytest.raises(errors.DistributionError):
        storage.resolve("app", digest(body))
    monkeypatch.setattr(Storage, "_check_manifest_put", real)
    assert storage.put_manifest("app", "v1", body, OCI_MANIFEST, if_none_match="*")[0] == digest(body)
    assert storage.tags("app") == ["v1"]
