"""A registry that lies or stalls: every case ends in a clear StoreError/RegistryError with bounded memory.

Requirement ids: MAN-10 (limits, digest and size checks), REF-01..03 (bounded listing), REF-09 (descriptors from a
registry are not trusted), CLI-31.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from typing import Any

import pytest

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor, compute_digest
from notation._internal.registry.client import RegistryClient
from notation._internal.registry.repository import referrers_tag
from notation._internal.registry.transport import TransportOptions
from notation.errors import NotationError, RegistryError, StoreError
from registry_support import State, push_image, repo, running, sign_into
from registry_support.server import INDEX, NOTARY, Handler


def _serve(data: bytes, **headers: str) -> Any:
    """A hook answering every content GET with ``data`` (the registry's lie)."""

    def hook(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
        if method == "GET" and kind in ("manifests", "blobs"):
            handler.send(200, data, {"Content-Type": "application/octet-stream", **headers})
            return True
        return False

    return hook


def test_man10_wrong_bytes_for_digest_blob_and_manifest() -> None:
    with running() as server:
        subject = push_image(server)
        blob = Descriptor.for_content("application/octet-stream", b"genuine")
        server.put_blob(b"genuine")
        server.state.hook = _serve(b"forgery")  # same length, other bytes
        store = repo(server)
        with pytest.raises(StoreError, match=f"content digest mismatch: expected {blob.digest}"):
            store.fetch(blob, 1000)
        server.state.hook = _serve(b"x" * subject.size)
        with pytest.raises(StoreError, match="digest mismatch"):
            store.fetch(subject, mediatypes.MAX_MANIFEST_SIZE)


def test_man10_descriptor_over_the_cap_is_refused_before_download() -> None:
    with running() as server:
        store = repo(server)
        big = Descriptor(mediatypes.OCI_IMAGE_MANIFEST, "sha256:" + "3" * 64, mediatypes.MAX_MANIFEST_SIZE + 1)
        with pytest.raises(StoreError, match="too large"):
            store.fetch(big, mediatypes.MAX_MANIFEST_SIZE)
        assert server.state.requests == []


def test_man10_registry_sending_more_than_the_size_says() -> None:
    """A descriptor claiming 7 bytes; the registry streams 64 MiB+: we stop after 7 (+ one chunk) and fail."""
    with running() as server:
        blob = Descriptor.for_content("application/octet-stream", b"genuine")

        def endless(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            handler.endless({"Content-Type": "application/octet-stream"})
            return True

        server.state.hook = endless
        tracemalloc.start()
        try:
            with pytest.raises(StoreError, match="size mismatch"):
                repo(server).fetch(blob, mediatypes.MAX_ENVELOPE_SIZE)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 4 * 1024 * 1024


def test_man10_lying_content_length_over_cap_refused_unread() -> None:
    with running() as server:
        blob = Descriptor.for_content("application/octet-stream", b"genuine")

        def lie(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            handler.send_response(200)
            handler.send_header("Content-Length", str(10**12))
            handler.end_headers()
            handler.close_connection = True
            return True

        server.state.hook = lie
        with pytest.raises(StoreError, match=r"size mismatch|too large"):
            repo(server).fetch(blob, 100)


def test_man10_short_content_for_size_field() -> None:
    """A size field that lies upwards: the registry's bytes are shorter than the descriptor says."""
    with running() as server:
        server.put_blob(b"short")
        desc = Descriptor("application/octet-stream", compute_digest(b"short"), 50)
        with pytest.raises(StoreError, match="content size mismatch"):
            repo(server).fetch(desc, 100)


def test_slow_drip_response_hits_the_deadline() -> None:
    with running() as server:
        blob = Descriptor.for_content("application/octet-stream", b"x" * 1000)

        def drip(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            handler.drip({"Content-Type": "application/octet-stream", "Content-Length": "1000"}, interval=0.02)
            return True

        server.state.hook = drip
        started = time.monotonic()
        with pytest.raises(StoreError, match="too slow"):
            repo(server).fetch(blob, 2000)  # FAST: 2 s body deadline
        assert time.monotonic() - started < 6


def test_stalled_response_hits_the_read_timeout() -> None:
    with running() as server:
        push_image(server)

        def stall(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            time.sleep(5)
            return False

        server.state.hook = stall
        started = time.monotonic()
        options = TransportOptions(read_timeout=0.5, retries=1, backoff=0.01)
        with pytest.raises(
            RegistryError,
            match=r"^Head \"http://127\.0\.0\.1:\d+/v2/app/manifests/v1\": read tcp 127\.0\.0\.1:\d+: i/o timeout$",
        ):
            repo(server, client=RegistryClient(insecure=True, options=options)).resolve("v1")
        assert time.monotonic() - started < 4


def _fake_entries(n: int, artifact_type: str = NOTARY) -> list[dict[str, Any]]:
    return [
        {
            "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
            "digest": f"sha256:{i:064x}",
            "size": 700,
            "annotations": {"org.opencontainers.image.created": "2025-01-01T00:00:00Z"},
            "artifactType": artifact_type,
        }
        for i in range(n)
    ]


def test_ref01_ten_thousand_referrers_are_read_lazily_and_bounded() -> None:
    entries = _fake_entries(10_000)
    with running(State(page_size=500)) as server:
        subject = push_image(server)

        def referrers(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            if kind != "referrers":
                return False
            from urllib.parse import parse_qs, urlsplit

            query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
            start = int(query.get("last", 0))
            page = entries[start : start + 500]
            headers = {"Content-Type": INDEX}
            if start + 500 < len(entries):
                headers["Link"] = f'</v2/{name}/referrers/{ref}?last={start + 500}>; rel="next"'
            handler.send(200, json.dumps({"schemaVersion": 2, "manifests": page}).encode(), headers)
            return True

        server.state.hook = referrers
        listing = repo(server).list_signatures(subject)
        first_100 = [next(listing) for _ in range(100)]
        assert len(first_100) == 100
        # only the first page was fetched for the first 100 (what verify's --max-signatures consumes)
        assert len([r for r in server.state.requests if r.method == "GET"]) == 1
        tracemalloc.start()
        try:
            rest = sum(1 for _ in listing)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert rest == 9_900
        assert peak < 8 * 1024 * 1024


def test_ref01_oversized_referrers_page_is_refused() -> None:
    with running() as server:
        subject = push_image(server)
        huge = json.dumps({"schemaVersion": 2, "manifests": _fake_entries(20_000)}).encode()
        assert len(huge) > mediatypes.MAX_MANIFEST_SIZE

        def referrers(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            if kind != "referrers":
                return False
            handler.send(200, huge, {"Content-Type": INDEX})
            return True

        server.state.hook = referrers
        with pytest.raises(StoreError, match="larger than"):
            list(repo(server).list_signatures(subject))


@pytest.mark.parametrize("link", ["self", "elsewhere"])
def test_ref01_pagination_loops_and_foreign_links_are_refused(link: str) -> None:
    with running() as server:
        subject = push_image(server)

        def referrers(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            if kind != "referrers":
                return False
            target = handler.path if link == "self" else "http://evil.example:1/steal"
            headers = {"Content-Type": INDEX, "Link": f'<{target}>; rel="next"'}
            handler.send(200, json.dumps({"schemaVersion": 2, "manifests": _fake_entries(1)}).encode(), headers)
            return True

        server.state.hook = referrers
        with pytest.raises(NotationError, match=r"loops back|another origin"):
            list(repo(server).list_signatures(subject))


def test_ref03_tag_index_with_ten_thousand_entries_is_bounded() -> None:
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)
        index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": _fake_entries(10_000)}).encode()
        assert len(index) < mediatypes.MAX_MANIFEST_SIZE
        server.put_manifest("app", index, INDEX, referrers_tag(subject.digest))
        assert sum(1 for _ in repo(server).list_signatures(subject)) == 10_000
        too_big = json.dumps({"schemaVersion": 2, "manifests": _fake_entries(20_000)}).encode()
        server.put_manifest("app", too_big, INDEX, referrers_tag(subject.digest))
        with pytest.raises(StoreError, match="larger than"):
            list(repo(server).list_signatures(subject))


def test_ref03_malformed_tag_index_is_an_error() -> None:
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)
        server.put_manifest("app", b'{"manifests":[{"digest":"sha256:bad"}]}', INDEX, referrers_tag(subject.digest))
        with pytest.raises(StoreError, match="invalid descriptor"):
            list(repo(server).list_signatures(subject))


def test_ref09_tag_index_pointing_at_other_subjects_never_verifies(tmp_path: Any) -> None:
    """The index for image A lists a genuine signature of image B: verification of A must fail (VER-32)."""
    from notation._internal.cli.main import main

    assert main(["cert", "generate-test", "--default", "test"]) == 0
    with running(State(referrers_api=False)) as server:
        a = push_image(server, tag="a", layer=b"A")
        b = push_image(server, tag="b", layer=b"B")
        assert main(["sign", "--insecure-registry", f"{server.address}/app@{b.digest}"]) == 0
        # the registry (or an attacker with push rights) copies B's index under A's tag
        b_index = server.state.tags[("app", referrers_tag(b.digest))]
        server.state.tags[("app", referrers_tag(a.digest))] = b_index
        policy = {
            "version": "1.0",
            "trustPolicies": [
                {
                    "name": "reg",
                    "registryScopes": [f"{server.address}/app"],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": ["ca:test"],
                    "trustedIdentities": ["*"],
                }
            ],
        }
        (tmp_path / "policy.json").write_text(json.dumps(policy))
        assert main(["policy", "import", str(tmp_path / "policy.json")]) == 0
        assert main(["verify", "--insecure-registry", f"{server.address}/app@{b.digest}"]) == 0
        assert main(["verify", "--insecure-registry", f"{server.address}/app@{a.digest}"]) == 1


def test_manifest_put_answered_with_other_digest_is_an_error() -> None:
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)

        def lie(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            if method == "PUT" and kind == "manifests":
                handler.body()
                handler.send(201, b"", {"Docker-Content-Digest": "sha256:" + "9" * 64})
                return True
            return False

        server.state.hook = lie
        with pytest.raises(StoreError, match="registry stored the manifest as"):
            sign_into(repo(server), subject)
