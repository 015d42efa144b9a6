"""CLI-30: registry reference grammar and Go's error messages."""

from __future__ import annotations

import pytest

from notation._internal.oci.reference import Reference, parse_reference, parse_repository_reference
from notation.errors import InvalidReferenceError

D = "sha256:" + "a" * 64
EXPECT = "Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("localhost:5000/app:v1", Reference("localhost:5000", "app", "v1", None)),
        (f"localhost:5000/app@{D}", Reference("localhost:5000", "app", None, D)),
        (f"r.io/a/b-c/d__e:v1@{D}", Reference("r.io", "a/b-c/d__e", None, D)),
        ("registry.example.com/ns/app:1.0_rc-2", Reference("registry.example.com", "ns/app", "1.0_rc-2", None)),
        ("[::1]:5000/app:t", Reference("[::1]:5000", "app", "t", None)),
    ],
)
def test_cli30_valid_references(text: str, want: Reference) -> None:
    got = parse_reference(text)
    assert got == want
    assert got.reference == (want.digest or want.tag)


def test_cli30_str_and_helpers() -> None:
    ref = parse_reference("localhost:5000/app:v1")
    assert str(ref) == "localhost:5000/app:v1"
    assert str(ref.with_digest(D)) == f"localhost:5000/app@{D}"
    assert ref.repository_name == "localhost:5000/app"
    assert parse_reference("docker.io/library/x:1").host == "registry-1.docker.io"
    assert parse_repository_reference("r.io/app").reference == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("nginx:1", "missing registry or repository"),
        ("localhost:5000/app", "no tag or digest"),
        ("r.io/App:v1", 'invalid repository "App"'),
        ("r.io/app:-bad", 'invalid tag "-bad"'),
        ("r.io/app:" + "a" * 129, 'invalid tag "' + "a" * 129 + '"'),
        ("r.io/app@sha256:abc", 'invalid digest "sha256:abc": invalid checksum digest length'),
        ("r.io/app@sha256:" + "A" * 64, 'invalid digest "sha256:' + "A" * 64 + '": invalid checksum digest format'),
        ("r.io/app@md5:abcd", 'invalid digest "md5:abcd": unsupported digest algorithm'),
        ("r.io/app@nocolon", 'invalid digest "nocolon": invalid checksum digest format'),
        ("bad host/app:v1", 'invalid registry "bad host"'),
        ("r.io/:v1", 'invalid repository ""'),
    ],
)
def test_cli30_invalid_references_use_go_messages(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    assert str(info.value) == f'"{text}": invalid reference: {reason}. {EXPECT}'
