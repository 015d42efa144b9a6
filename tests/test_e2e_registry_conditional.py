"""Conditional manifest PUTs on our registry (RFC 9110 ``If-Match``/``If-None-Match``, ETag = ``"<digest>"``) and
the client's use of them for the REF-05 referrers tag index: concurrent signers never lose a signature, and a
registry that honours the conditions costs no settle wait."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry import RegistryClient
from notation._internal.registry.repository import referrers_tag
from notation._internal.registry.transport import TransportOptions
from notation_devstack.registry import RegistryServer
from registry_support import IMAGE_MANIFEST, sign_into

OPTIONS = TransportOptions(connect_timeout=5.0, read_timeout=5.0, body_deadline=5.0, retries=2, backoff=0.01)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    with RegistryServer(tmp_path_factory.mktemp("conditional") / "data") as srv:
        yield srv


def _index(*entries: str) -> bytes:
    """An empty image index whose annotation lists ``entries`` (the registry checks real children exist)."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_IMAGE_INDEX,
            "manifests": [],
            "annotations": {"entries": ",".join(entries)},
        }
    ).encode()


def _entries(doc: dict[str, object]) -> list[str]:
    annotations = doc.get("annotations")
    assert isinstance(annotations, dict)
    text = annotations["entries"]
    return text.split(",") if text else []


def _put(server: RegistryServer, repo: str, ref: str, body: bytes, **headers: str) -> requests.Response:
    hdrs = {"Content-Type": mediatypes.OCI_IMAGE_INDEX, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return requests.put(f"{server.url}/v2/{repo}/manifests/{ref}", data=body, headers=hdrs, timeout=10)


def _fake_digest(n: int) -> str:
    return f"sha256:{n:064x}"


def test_ref05_if_none_match_star_creates_once(server: RegistryServer) -> None:
    """REF-05 support: ``If-None-Match: *`` creates a tag only if it does not exist yet (412 otherwise)."""
    first = _put(server, "cond/a", "idx", _index(_fake_digest(1)), If_None_Match="*")
    assert first.status_code == 201
    digest = first.headers["Docker-Content-Digest"]
    assert first.headers["ETag"] == f'"{digest}"'
    second = _put(server, "cond/a", "idx", _index(_fake_digest(2)), If_None_Match="*")
    assert second.status_code == 412
    assert second.json()["errors"][0]["code"] == "PRECONDITION_FAILED"
    got = requests.get(f"{server.url}/v2/cond/a/manifests/idx", timeout=10)
    assert got.headers["Docker-Content-Digest"] == digest
    assert got.headers["ETag"] == f'"{digest}"'
    head = requests.head(f"{server.url}/v2/cond/a/manifests/idx", timeout=10)
    assert head.headers["ETag"] == f'"{digest}"'


def test_ref05_if_match_requires_the_current_digest(server: RegistryServer) -> None:
    """``If-Match: "<digest>"``: 201 only while the tag still names that digest; a stale writer gets 412 and the tag
    keeps the newer index. Weak and unquoted forms, lists and ``*`` are understood; a missing tag never matches."""
    created = _put(server, "cond/b", "idx", _index(_fake_digest(1)))
    v1 = created.headers["Docker-Content-Digest"]
    updated = _put(server, "cond/b", "idx", _index(_fake_digest(1), _fake_digest(2)), If_Match=f'"{v1}"')
    assert updated.status_code == 201
    v2 = updated.headers["Docker-Content-Digest"]
    stale = _put(server, "cond/b", "idx", _index(_fake_digest(1), _fake_digest(3)), If_Match=f'"{v1}"')
    assert stale.status_code == 412
    current = requests.get(f"{server.url}/v2/cond/b/manifests/idx", timeout=10)
    assert current.headers["Docker-Content-Digest"] == v2
    assert _put(server, "cond/b", "idx", _index(_fake_digest(4)), If_Match=f'"{v1}", W/"{v2}"').status_code == 201
    v3 = requests.head(f"{server.url}/v2/cond/b/manifests/idx", timeout=10).headers["Docker-Content-Digest"]
    assert _put(server, "cond/b", "idx", _index(_fake_digest(5)), If_Match=v3).status_code == 201
    assert _put(server, "cond/b", "idx", _index(_fake_digest(6)), If_Match="*").status_code == 201
    assert _put(server, "cond/b", "idx", _index(_fake_digest(7)), If_None_Match=f'"{v1}"').status_code == 201
    assert _put(server, "cond/b", "missing", _index(_fake_digest(8)), If_Match="*").status_code == 412
    assert _put(server, "cond/b", "missing", _index(_fake_digest(8)), If_Match=f'"{v1}"').status_code == 412
    assert requests.head(f"{server.url}/v2/cond/b/manifests/missing", timeout=10).status_code == 404


def test_ref05_conditional_read_modify_write_loses_nothing(server: RegistryServer) -> None:
    """16 threads each add one entry by read-modify-write with conditional PUTs, retrying on 412: all 16 stay."""
    url = f"{server.url}/v2/cond/c/manifests/idx"
    errors: list[str] = []

    def add(n: int) -> None:
        session = requests.Session()
        for _ in range(200):
            got = session.get(url, headers={"Accept": mediatypes.OCI_IMAGE_INDEX}, timeout=10)
            if got.status_code == 404:
                entries, condition = [], {"If-None-Match": "*"}
            else:
                entries = _entries(got.json())
                condition = {"If-Match": got.headers["ETag"]}
            body = _index(*entries, _fake_digest(n))
            put = session.put(url, data=body, timeout=10,
                              headers={"Content-Type": mediatypes.OCI_IMAGE_INDEX, **condition})
            if put.status_code == 201:
                return
            if put.status_code != 412:
                errors.append(f"{n}: {put.status_code}")
                return
        errors.append(f"{n}: gave up")

    threads = [threading.Thread(target=add, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    final = _entries(requests.get(url, timeout=10).json())
    assert sorted(final) == sorted(_fake_digest(n) for n in range(16))


def _push_image(server: RegistryServer, repo: str) -> Descriptor:
    client = RegistryClient(insecure=True, options=OPTIONS)
    store = client.repository(parse_reference(f"{server.host}/{repo}:v1"))
    config = b'{"architecture":"amd64","os":"linux"}'
    cdesc = Descriptor.for_content(mediatypes.OCI_IMAGE_CONFIG, config)
    store.push_blob(cdesc, config)
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "config": cdesc.to_dict(), "layers": []}
    ).encode()
    store.push_manifest("v1", IMAGE_MANIFEST, manifest)
    client.close()
    return Descriptor.for_content(IMAGE_MANIFEST, manifest)


def test_ref05_client_learns_conditions_are_honoured_and_skips_the_settle_wait(server: RegistryServer) -> None:
    """The first index PUT probes with an impossible ``If-Match``: our registry answers 412, so the client updates
    the index with conditional PUTs only (no settle sleep, no re-read) and deletes the outdated index (REF-05)."""
    subject = _push_image(server, "cond/d")
    client = RegistryClient(insecure=True, options=OPTIONS)
    store = client.repository(parse_reference(f"{server.host}/cond/d:v1"))
    assert client.conditional_puts(server.host) is None
    first = sign_into(store, subject, b"first")
    assert client.conditional_puts(server.host) is True
    old_index = store.resolve(referrers_tag(subject.digest))
    started = time.monotonic()
    before = client.request_count
    second = sign_into(store, subject, b"second")
    elapsed = time.monotonic() - started
    # envelope HEAD+POST+PUT (config known: this client uploaded it), manifest PUT, the If-None-Match probe (the
    # manifest PUT again: 412), the create without a read (412: an index exists), index GET + conditional PUT, old
    # index DELETE
    assert client.request_count - before == 9
    assert elapsed < 2.0  # no settle wait (the settle path would also cost a re-read)
    assert client.conditional_creates(server.host) is True
    assert sorted(d.digest for d in store.list_signatures(subject)) == sorted([first.digest, second.digest])
    tag_index = store.fetch(store.resolve(referrers_tag(subject.digest)), 1 << 20)
    assert [m["digest"] for m in json.loads(tag_index)["manifests"]] == [first.digest, second.digest]
    with pytest.raises(Exception, match="not found"):
        store.resolve(old_index.digest)
    # A subject with no signature yet: the index is created with If-None-Match: * and never read.
    other = _push_image(server, "cond/d2")
    store = client.repository(parse_reference(f"{server.host}/cond/d2:v1"))
    before = client.request_count
    third = sign_into(store, other, b"third")
    # envelope HEAD+POST+PUT, config HEAD+POST+PUT (a new repository), manifest PUT, index PUT: no GET
    assert client.request_count - before == 8
    assert [d.digest for d in store.list_signatures(other)] == [third.digest]
    tag_index = store.fetch(store.resolve(referrers_tag(other.digest)), 1 << 20)
    assert json.loads(tag_index) == {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_IMAGE_INDEX,
        "manifests": [
            {
                "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
                "digest": third.digest,
                "size": third.size,
                "annotations": json.loads(store.fetch(third, 1 << 20))["annotations"],
                "artifactType": mediatypes.NOTARY_SIGNATURE,
            }
        ],
    }
    client.close()


def test_ref05_concurrent_signers_with_conditions_lose_no_signature(server: RegistryServer) -> None:
    """8 signers (own clients, threads) add signatures to one tag index at once: all 8 are listed."""
    subject = _push_image(server, "cond/e")
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def sign(n: int) -> None:
        client = RegistryClient(insecure=True, options=OPTIONS)
        try:
            store = client.repository(parse_reference(f"{server.host}/cond/e:v1"))
            barrier.wait(timeout=30)
            sign_into(store, subject, f"envelope-{n}".encode())
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    client = RegistryClient(insecure=True, options=OPTIONS)
    store = client.repository(parse_reference(f"{server.host}/cond/e:v1"))
    assert len(list(store.list_signatures(subject))) == 8
    client.close()


def test_conditions_checked_for_digest_references_too(server: RegistryServer) -> None:
    """``If-None-Match: *`` on a PUT by digest: 412 once that manifest exists."""
    body = _index(_fake_digest(9))
    digest = Descriptor.for_content(mediatypes.OCI_IMAGE_INDEX, body).digest
    assert _put(server, "cond/f", digest, body, If_None_Match="*").status_code == 201
    assert _put(server, "cond/f", digest, body, If_None_Match="*").status_code == 412
    assert _put(server, "cond/f", digest, body, If_Match=f'"{digest}"').status_code == 201


@pytest.mark.parametrize(("status", "expected"), [(412, 412), (400, 400)])
def test_precondition_failed_is_read_from_the_status_not_the_registry_text(status: int, expected: int) -> None:
    """REF-05: the client learns "conditions honoured" and merges again only on a real 412. The error message
    carries the registry's own words, so a 400 whose details say "status code 412" must stay a 400."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps({"errors": [{"code": "DENIED", "message": "response status code 412"}]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    client = RegistryClient(insecure=True, options=OPTIONS)
    try:
        store = client.repository(parse_reference(f"127.0.0.1:{httpd.server_address[1]}/cond/text:v1"))
        from notation.errors import RegistryError

        with pytest.raises(RegistryError, match="412") as caught:
            store.push_manifest("v1", IMAGE_MANIFEST, b"{}", extra_headers={"If-None-Match": "*"})
        assert caught.value.status_code == expected
    finally:
        client.close()
        httpd.shutdown()
        httpd.server_close()
