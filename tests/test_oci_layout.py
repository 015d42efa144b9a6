"""OCI image layout store (signature.md §11.2 MAN-20/21, MAN-11; cli.md CLI-54)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from notation._internal.oci.descriptor import Descriptor, compute_digest
from notation._internal.oci.layout import OCILayout, parse_layout_reference, write_image
from notation._internal.oci.mediatypes import (
    ANNOTATION_REF_NAME,
    COSE_ENVELOPE,
    EMPTY_JSON_DIGEST,
    JWS_ENVELOPE,
    MAX_MANIFEST_SIZE,
    NOTARY_SIGNATURE,
    OCI_EMPTY,
    OCI_IMAGE_INDEX,
    OCI_IMAGE_MANIFEST,
)
from notation._internal.oci.signature_manifest import build_signature_manifest, marshal_go_json
from notation._internal.oci.store import ArtifactStore
from notation.errors import InvalidReferenceError, LayoutError, NotFoundError, StoreError

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop" / "v1"
needs_interop = pytest.mark.skipif(not INTEROP.is_dir(), reason="shared/interop not present")

THUMB = "47cdd49983346c570e23b9c805016eb11479178fd3fad07cb2e81d17e884eda4"
WHEN = dt.datetime(2026, 11, 28, 10, 45, 56, tzinfo=dt.UTC)


def _copy_layout(src: Path, dst: Path) -> Path:
    """Copy a read-only interop layout and make the copy writable (shared/ may come without write bits)."""
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    return dst


def _blob(root: Path, digest: str) -> Path:
    alg, hex_ = digest.split(":", 1)
    return root / "blobs" / alg / hex_


def _sign(layout: OCILayout, subject: Descriptor, envelope: bytes = b'{"fake":"jws"}') -> Descriptor:
    """Push an envelope blob and a Go-form signature manifest for ``subject``; return the REF-04 descriptor."""
    env = Descriptor.for_content(JWS_ENVELOPE, envelope)
    layout.push_blob(env, envelope)
    data, desc = build_signature_manifest(subject, env, signing_time=WHEN, thumbprints=[THUMB])
    assert layout.push_signature_manifest(subject, desc, data) == []
    return desc


def _put_manifest(layout: OCILayout, doc: dict[str, Any], *, index: bool = True) -> Descriptor:
    data = marshal_go_json(doc)
    desc = Descriptor.for_content(doc.get("mediaType", OCI_IMAGE_MANIFEST), data)
    if index:
        layout.push_manifest(desc, data)
    else:
        layout.push_blob(desc, data)
    return desc


@pytest.fixture
def image(tmp_path: Path) -> tuple[OCILayout, Descriptor]:
    root = tmp_path / "layout"
    desc = write_image(root, "v1", {"app/message.txt": b"hello\n"})
    return OCILayout.open(root), desc


# -- references (MAN-20) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("dir:v1", ("dir", "v1")),
        ("a/b:c/d:v2", ("a/b:c/d", "v2")),
        ("dir@sha256:" + "a" * 64, ("dir", "sha256:" + "a" * 64)),
        ("we@ird/dir@sha256:" + "a" * 64, ("we@ird/dir", "sha256:" + "a" * 64)),
        ("C:\\images\\app:v1", ("C:\\images\\app", "v1")),
        ("C:\\images\\app@sha256:" + "b" * 64, ("C:\\images\\app", "sha256:" + "b" * 64)),
    ],
)
def test_man20_reference_split(ref: str, expected: tuple[str, str]) -> None:
    assert parse_layout_reference(ref) == expected


@pytest.mark.parametrize("ref", ["dir", "C:\\images", "dir:", "dir@", "/abs/path"])
def test_man20_reference_without_tag_or_digest(ref: str) -> None:
    with pytest.raises(InvalidReferenceError, match="reference is missing either digest or tag"):
        parse_layout_reference(ref)


@pytest.mark.parametrize("ref", [":v1", "@sha256:" + "a" * 64])
def test_man20_empty_path(ref: str) -> None:
    with pytest.raises(InvalidReferenceError, match="found empty file path"):
        parse_layout_reference(ref)


# -- opening and validation ---------------------------------------------------------------------------------------


def test_create_writes_go_form_layout_files(tmp_path: Path) -> None:
    layout = OCILayout.open(tmp_path / "new", create=True)
    assert (tmp_path / "new" / "oci-layout").read_bytes() == b'{"imageLayoutVersion":"1.0.0"}'
    assert json.loads((tmp_path / "new" / "index.json").read_bytes()) == {
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_INDEX,
        "manifests": [],
    }
    assert layout.display_name == str(tmp_path / "new")
    store: ArtifactStore = layout  # structurally an ArtifactStore (mypy checks this line)
    assert store.display_name == layout.display_name


def test_display_name_is_the_path_as_given(
    image: tuple[OCILayout, Descriptor], monkeypatch: pytest.MonkeyPatch
) -> None:
    layout, _ = image
    monkeypatch.chdir(layout.root.parent)
    assert OCILayout.open("layout").display_name == "layout"
    assert OCILayout.open("./layout/").display_name == "./layout/"


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda r: (r / "oci-layout").unlink(), "missing oci-layout file"),
        (lambda r: (r / "oci-layout").write_text("{not json"), "oci-layout is not valid JSON"),
        (lambda r: (r / "oci-layout").write_text('{"imageLayoutVersion":"2.0.0"}'), "unsupported imageLayoutVersion"),
        (lambda r: (r / "oci-layout").write_text("[]"), "unsupported imageLayoutVersion"),
        (lambda r: (r / "index.json").unlink(), "missing index.json"),
        (lambda r: (r / "index.json").write_text("{"), "index.json in OCI image layout .*: not valid JSON"),
        (lambda r: (r / "index.json").write_text('{"schemaVersion":1,"manifests":[]}'), "schemaVersion must be 2"),
        (lambda r: (r / "index.json").write_text('{"schemaVersion":2,"manifests":{}}'), "manifests must be an array"),
        (
            lambda r: (r / "index.json").write_text('{"schemaVersion":2,"mediaType":"x","manifests":[]}'),
            "mediaType must be",
        ),
        (
            lambda r: (r / "index.json").write_text(
                '{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:../../x","size":1}]}'
            ),
            r"manifests\[0\]: invalid descriptor: invalid digest",
        ),
        (lambda r: (r / "index.json").write_bytes(b"\xff\xfe"), "not valid JSON"),
    ],
)
def test_bad_layouts_raise_layout_error(image: tuple[OCILayout, Descriptor], setup: Any, fragment: str) -> None:
    layout, _ = image
    setup(layout.root)
    with pytest.raises(LayoutError, match=fragment) as err:
        OCILayout.open(layout.root)
    assert "\n" not in str(err.value)


def test_missing_and_non_directory_layouts(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="does not exist"):
        OCILayout.open(tmp_path / "absent")
    (tmp_path / "file").write_text("x")
    with pytest.raises(LayoutError, match="not a directory"):
        OCILayout.open(tmp_path / "file")


def test_null_manifests_is_an_empty_index(tmp_path: Path) -> None:
    """oras writes a nil manifests slice as null."""
    layout = OCILayout.open(tmp_path, create=True)
    (tmp_path / "index.json").write_text('{"schemaVersion":2,"manifests":null}')
    with pytest.raises(NotFoundError):
        layout.resolve("v1")


# -- resolve ------------------------------------------------------------------------------------------------------


def test_resolve_tag_and_digest(image: tuple[OCILayout, Descriptor]) -> None:
    layout, desc = image
    resolved = layout.resolve("v1")
    assert resolved == desc
    assert resolved.annotations == {}  # plain descriptor, no ref.name
    assert layout.resolve(desc.digest) == desc


def test_resolve_unknown(image: tuple[OCILayout, Descriptor]) -> None:
    layout, _ = image
    with pytest.raises(NotFoundError, match=":v2: not found"):
        layout.resolve("v2")
    with pytest.raises(NotFoundError, match="not found"):
        layout.resolve("sha256:" + "0" * 64)
    with pytest.raises(InvalidReferenceError, match="invalid digest"):
        layout.resolve("sha256:../../etc/passwd")
    with pytest.raises(InvalidReferenceError):
        layout.resolve("")


def test_write_image_is_deterministic_and_retag_moves_the_tag(tmp_path: Path) -> None:
    a = write_image(tmp_path / "a", "v1", {"f": b"1"})
    b = write_image(tmp_path / "b", "v1", {"f": b"1"})
    assert a == b
    c = write_image(tmp_path / "a", "v1", {"f": b"2"})
    layout = OCILayout.open(tmp_path / "a")
    assert layout.resolve("v1") == c
    assert layout.resolve(a.digest) == a  # still in blobs, no longer tagged
    index = json.loads((tmp_path / "a" / "index.json").read_bytes())
    assert [m["digest"] for m in index["manifests"]] == [c.digest]
    write_image(tmp_path / "a", "v1", {"f": b"2"})  # idempotent
    assert json.loads((tmp_path / "a" / "index.json").read_bytes()) == index


def test_resolve_manifest_nested_in_an_index(image: tuple[OCILayout, Descriptor]) -> None:
    layout, _ = image
    child = _put_manifest(
        layout,
        {
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": EMPTY_JSON_DIGEST, "size": 2},
            "layers": [],
            "annotations": {"n": "1"},
        },
        index=False,
    )
    inner = _put_manifest(
        layout, {"schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX, "manifests": [child.to_dict()]}, index=False
    )
    _put_manifest(layout, {"schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX, "manifests": [inner.to_dict()]})
    assert layout.resolve(child.digest) == child
    assert layout.resolve(inner.digest) == inner


def test_resolve_manifest_only_in_blobs(image: tuple[OCILayout, Descriptor]) -> None:
    layout, _ = image
    doc = {"schemaVersion": 2, "config": {"mediaType": "x", "digest": EMPTY_JSON_DIGEST, "size": 2}, "layers": []}
    desc = _put_manifest(layout, doc, index=False)
    assert layout.resolve(desc.digest) == Descriptor(OCI_IMAGE_MANIFEST, desc.digest, desc.size)
    layer_digest = json.loads(layout.fetch(layout.resolve("v1"), MAX_MANIFEST_SIZE))["layers"][0]["digest"]
    with pytest.raises(NotFoundError, match="not a manifest"):
        layout.resolve(layer_digest)


# -- fetch --------------------------------------------------------------------------------------------------------


def test_fetch_checks_content(image: tuple[OCILayout, Descriptor]) -> None:
    layout, desc = image
    data = layout.fetch(desc, MAX_MANIFEST_SIZE)
    assert compute_digest(data) == desc.digest
    path = _blob(layout.root, desc.digest)
    path.write_bytes(data.replace(b"amd64", b"arm64") if b"amd64" in data else data[:-1] + b" ")
    with pytest.raises(StoreError, match="digest mismatch"):
        layout.fetch(desc, MAX_MANIFEST_SIZE)
    path.write_bytes(data + b" ")
    with pytest.raises(StoreError, match="size mismatch"):
        layout.fetch(desc, MAX_MANIFEST_SIZE)
    path.unlink()
    with pytest.raises(NotFoundError):
        layout.fetch(desc, MAX_MANIFEST_SIZE)


def test_man10_oversized_blob_refused_before_read(image: tuple[OCILayout, Descriptor]) -> None:
    layout, desc = image
    big = Descriptor(JWS_ENVELOPE, "sha256:" + "e" * 64, 32 * 1024 * 1024 + 1)  # the file does not even exist
    with pytest.raises(StoreError, match="too large") as err:
        layout.fetch(big, 32 * 1024 * 1024)
    assert not isinstance(err.value, NotFoundError)
    with pytest.raises(StoreError, match="too large"):
        layout.fetch(desc, desc.size - 1)


@pytest.mark.timeout(10)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fetch_refuses_non_regular_files(image: tuple[OCILayout, Descriptor]) -> None:
    """A FIFO at a blob path would block a naive read forever."""
    layout, _ = image
    digest = "sha256:" + "f" * 64
    os.mkfifo(_blob(layout.root, digest))
    with pytest.raises(LayoutError, match="not a regular file"):
        layout.fetch(Descriptor(JWS_ENVELOPE, digest, 10), 100)


@pytest.mark.parametrize("digest", ["sha256:../../x", "sha256:" + "A" * 64, "md5:" + "a" * 32, "sha256/../../x"])
def test_path_traversal_digests_never_become_paths(image: tuple[OCILayout, Descriptor], digest: str) -> None:
    layout, _ = image
    bad = Descriptor(JWS_ENVELOPE, digest, 1)
    with pytest.raises(StoreError, match="invalid digest"):
        layout.fetch(bad, 100)
    with pytest.raises(StoreError, match="invalid digest"):
        layout.push_blob(bad, b"x")


def test_push_blob_checks_and_is_idempotent(image: tuple[OCILayout, Descriptor]) -> None:
    layout, _ = image
    desc = Descriptor.for_content(COSE_ENVELOPE, b"cose bytes")
    with pytest.raises(StoreError, match="mismatch"):
        layout.push_blob(desc, b"other byte")
    assert not layout.has_blob(desc.digest)
    layout.push_blob(desc, b"cose bytes")
    mtime = _blob(layout.root, desc.digest).stat().st_mtime_ns
    layout.push_blob(desc, b"cose bytes")
    assert _blob(layout.root, desc.digest).stat().st_mtime_ns == mtime
    assert layout.fetch(desc, 100) == b"cose bytes"


# -- signatures (MAN-11, MAN-21) ----------------------------------------------------------------------------------


def _interop_cases() -> list[Path]:
    return sorted(p.parent for p in (INTEROP / "cases").glob("*/layout/index.json"))


@needs_interop
def test_man11_list_signatures_finds_exactly_the_go_signature(tmp_path: Path) -> None:
    cases = json.loads((INTEROP / "cases.json").read_bytes())["cases"]
    assert len(cases) >= 20
    for case in cases:
        root = _copy_layout(INTEROP / case["layout"], tmp_path / case["name"])
        layout = OCILayout.open(root)
        subject = layout.resolve(case["digest"])
        assert layout.resolve("v1") == subject
        entries = json.loads((root / "index.json").read_bytes())["manifests"]
        expected = [e for e in entries if ANNOTATION_REF_NAME not in e.get("annotations", {})]
        sigs = list(layout.list_signatures(subject))
        assert [s.digest for s in sigs] == [e["digest"] for e in expected], case["name"]
        assert [dict(s.annotations) for s in sigs] == [e["annotations"] for e in expected]
        assert all(s.artifact_type == NOTARY_SIGNATURE for s in sigs)
        manifest = layout.fetch(sigs[0], MAX_MANIFEST_SIZE)
        assert json.loads(manifest)["subject"]["digest"] == case["digest"]


@needs_interop
def test_man21_resigning_a_go_layout_reproduces_go_index_json(tmp_path: Path) -> None:
    """Remove the Go signature from a copied layout, push the rebuilt manifest: index.json is byte-identical."""
    for case_dir in _interop_cases()[:4]:
        root = _copy_layout(case_dir, tmp_path / case_dir.parent.name)
        original_index = (root / "index.json").read_bytes()
        index = json.loads(original_index)
        sig_entry = index["manifests"].pop()
        (root / "index.json").write_bytes(marshal_go_json(index))
        manifest_path = _blob(root, sig_entry["digest"])
        go_manifest = json.loads(manifest_path.read_bytes())
        manifest_path.unlink()

        layout = OCILayout.open(root)
        subject = layout.resolve("v1")
        env = Descriptor.from_dict(go_manifest["layers"][0])
        data, desc = build_signature_manifest(
            subject,
            env,
            signing_time=dt.datetime.fromisoformat(go_manifest["annotations"]["org.opencontainers.image.created"]),
            thumbprints=json.loads(go_manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"]),
        )
        layout.push_signature_manifest(subject, desc, data)
        assert (root / "index.json").read_bytes() == original_index
        assert [s.digest for s in layout.list_signatures(subject)] == [sig_entry["digest"]]


def test_push_and_list_round_trip(image: tuple[OCILayout, Descriptor]) -> None:
    layout, subject = image
    first = _sign(layout, subject, b"envelope one")
    second = _sign(layout, subject, b"envelope two")
    assert list(layout.list_signatures(subject)) == [first, second]
    assert layout.has_blob(EMPTY_JSON_DIGEST)
    # Pushing the same manifest again does not duplicate the index entry.
    _sign(layout, subject, b"envelope one")
    index = json.loads((layout.root / "index.json").read_bytes())
    assert [m["digest"] for m in index["manifests"]] == [subject.digest, first.digest, second.digest]
    assert index["manifests"][1] == {
        "mediaType": OCI_IMAGE_MANIFEST,
        "digest": first.digest,
        "size": first.size,
        "annotations": dict(first.annotations),
    }
    # MAN-21: no ref.name, no referrers tag.
    assert all(ANNOTATION_REF_NAME not in m.get("annotations", {}) for m in index["manifests"][1:])
    # Atomic writes leave no temp files behind.
    leftovers = [p for p in layout.root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_push_signature_manifest_refuses_bad_input(image: tuple[OCILayout, Descriptor]) -> None:
    layout, subject = image
    env = Descriptor.for_content(JWS_ENVELOPE, b"env")
    data, desc = build_signature_manifest(subject, env, signing_time=WHEN, thumbprints=[THUMB])
    with pytest.raises(StoreError, match="is not in"):
        layout.push_signature_manifest(subject, desc, data)  # envelope not pushed
    layout.push_blob(env, b"env")
    other = Descriptor(OCI_IMAGE_MANIFEST, "sha256:" + "1" * 64, 5)
    with pytest.raises(StoreError, match="does not refer to"):
        layout.push_signature_manifest(other, desc, data)
    with pytest.raises(StoreError, match="mismatch"):
        layout.push_signature_manifest(subject, desc, data + b" ")
    assert list(layout.list_signatures(subject)) == []


def test_man11_listing_accepts_form_b_and_ignores_others(image: tuple[OCILayout, Descriptor]) -> None:
    layout, subject = image
    env = Descriptor.for_content(JWS_ENVELOPE, b"e")
    layout.push_blob(env, b"e")
    empty = {"mediaType": OCI_EMPTY, "digest": EMPTY_JSON_DIGEST, "size": 2}
    base = {"schemaVersion": 2, "mediaType": OCI_IMAGE_MANIFEST, "layers": [env.to_dict()]}
    form_a = build_signature_manifest(subject, env, signing_time=WHEN, thumbprints=[THUMB])[1]
    layout.push_signature_manifest(
        subject, form_a, build_signature_manifest(subject, env, signing_time=WHEN, thumbprints=[THUMB])[0]
    )
    form_b = _put_manifest(
        layout,
        {
            **base,
            "artifactType": NOTARY_SIGNATURE,
            "config": empty,
            "subject": subject.to_dict(),
            "annotations": {"k": "v"},
        },
    )
    _put_manifest(
        layout, {**base, "artifactType": "application/vnd.dev.cosign", "config": empty, "subject": subject.to_dict()}
    )
    _put_manifest(
        layout,
        {
            **base,
            "config": {**empty, "mediaType": NOTARY_SIGNATURE},
            "subject": {**subject.to_dict(), "size": subject.size + 1},
        },
    )
    _put_manifest(
        layout,
        {
            **base,
            "artifactType": NOTARY_SIGNATURE,
            "config": {**empty, "mediaType": NOTARY_SIGNATURE},
            "subject": subject.to_dict(),
        },
    )
    other = write_image(layout.root, "v2", {"x": b"y"})
    other_sig = _sign(layout, other)
    sigs = list(layout.list_signatures(subject))
    assert [s.digest for s in sigs] == [form_a.digest, form_b.digest]
    assert sigs[1] == Descriptor(OCI_IMAGE_MANIFEST, form_b.digest, form_b.size, {"k": "v"}, NOTARY_SIGNATURE)
    assert list(layout.list_signatures(other)) == [other_sig]


def test_listing_a_layout_whose_index_refers_to_a_missing_blob(image: tuple[OCILayout, Descriptor]) -> None:
    layout, subject = image
    sig = _sign(layout, subject)
    _blob(layout.root, sig.digest).unlink()
    with pytest.raises(LayoutError, match="refers to missing blob"):
        list(layout.list_signatures(subject))


def test_listing_a_corrupted_signature_manifest(image: tuple[OCILayout, Descriptor]) -> None:
    layout, subject = image
    sig = _sign(layout, subject)
    path = _blob(layout.root, sig.digest)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"size":2', b'"size":3'))
    with pytest.raises(StoreError, match="digest mismatch"):
        list(layout.list_signatures(subject))


def _push_many(root: str, worker: int, count: int) -> None:
    layout = OCILayout.open(root)
    subject = layout.resolve("v1")
    for i in range(count):
        _sign(layout, subject, f"envelope {worker}-{i}".encode())


@pytest.mark.skipif(os.name != "posix", reason="flock-based serialization is POSIX only")
def test_concurrent_appends_from_several_processes_lose_nothing(image: tuple[OCILayout, Descriptor]) -> None:
    import multiprocessing

    layout, subject = image
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_push_many, args=(str(layout.root), w, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(list(layout.list_signatures(subject))) == 20
