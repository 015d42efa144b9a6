"""Issue 8, fuzzing in CI: every fuzz target in ``fuzz/targets.py`` driven by hypothesis for a bounded number of
examples, from three kinds of input: raw bytes, seeds (real signatures, manifests, policies...) mutated byte-wise,
and JSON documents shaped like the input the target expects. The contract: a bad input raises a NotationError
subclass, never anything else (any other exception escapes the target and fails the test).

``NOTATION_HARDENING_LONG=1`` raises the example budget tenfold; ``fuzz/run_atheris.py`` is the coverage-guided
driver for long local runs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz import seeds as fuzz_seeds
from fuzz.targets import TARGETS

LONG = os.environ.get("NOTATION_HARDENING_LONG") == "1"
EXAMPLES = 3000 if LONG else 150

_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not LONG,  # CI runs are reproducible; long runs explore
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@st.composite
def _mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A seed with a few byte-level edits: flips, deletions, insertions, duplications, truncation."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "delete", "insert", "dup", "truncate"]))
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[pos] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, ord('"'), ord("{"), ord("["), ord("\\")]))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "dup":
            end = min(len(data), pos + draw(st.integers(1, 64)))
            data[pos:pos] = data[pos:end]
        else:
            del data[pos:]
    return bytes(data)


_json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20)
)
_json = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def _pick(*choices: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(choices) | _json


_statement = st.fixed_dictionaries(
    {},
    optional={
        "name": _pick("a", "b", "", "x/y"),
        "registryScopes": st.lists(
            _pick("*", "registry.example/app", "local/interop", "Registry/App", "localhost:5000/a", "a"), max_size=3
        )
        | _json,
        "signatureVerification": st.fixed_dictionaries(
            {},
            optional={
                "level": _pick("strict", "permissive", "audit", "skip", "STRICT"),
                "override": st.dictionaries(
                    st.sampled_from(["integrity", "authenticity", "authenticTimestamp", "expiry", "revocation", "X"])
                    | st.text(max_size=8),
                    _pick("enforce", "log", "skip"),
                    max_size=3,
                )
                | _json,
                "verifyTimestamp": _pick("always", "afterCertExpiry", ""),
            },
        )
        | _json,
        "trustStores": st.lists(_pick("ca:a", "tsa:t", "signingAuthority:s", "ca:", "x:y", "ca:bad/name"), max_size=3)
        | _json,
        "trustedIdentities": st.lists(
            _pick("*", "x509.subject: C=US, ST=WA, O=N", "x509.subject: C=US, O=#01", "x509.subject:", "foo: bar"),
            max_size=3,
        )
        | _json,
    },
)
_policy_docs = st.fixed_dictionaries(
    {}, optional={"version": _pick("1.0", "1.1", ""), "trustPolicies": st.lists(_statement, max_size=3) | _json}
)

_descriptor = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": _pick("application/jose+json", "application/cose", ""),
        "digest": _pick("sha256:" + "a" * 64, "sha512:" + "b" * 128, "sha256:" + "A" * 64, "md5:00"),
        "size": _pick(0, 1, -1, 2**63, 2**64 + 1, 1.5, "1"),
        "annotations": _json,
    },
)
_manifest_docs = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": _pick(2, 1, True, 2.0),
        "mediaType": _pick(
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.artifact.manifest.v1+json"
        ),
        "artifactType": _pick("application/vnd.cncf.notary.signature", None),
        "config": st.fixed_dictionaries(
            {"mediaType": _pick("application/vnd.cncf.notary.signature", "application/vnd.oci.empty.v1+json")}
        )
        | _descriptor,
        "layers": st.lists(_descriptor, max_size=3) | _json,
        "blobs": st.lists(_descriptor, max_size=3) | _json,
        "subject": _descriptor,
        "annotations": _json,
    },
)
_payload_docs = st.fixed_dictionaries({}, optional={"targetArtifact": _descriptor | _json}) | _json


def _encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _structured(target: str) -> st.SearchStrategy[bytes] | None:
    if target == "trust_policy":
        return _policy_docs.map(_encode)
    if target == "signature_manifest":
        return st.tuples(st.sampled_from([b"\x00", b"\x01"]), _manifest_docs.map(_encode)).map(lambda t: t[0] + t[1])
    if target == "payload":
        return _payload_docs.map(_encode)
    if target == "dn":
        parts = st.lists(
            st.tuples(
                st.sampled_from(["C", "ST", "S", "O", "L", "CN", "OU", "1.2.3", "c", "0.9.2342.19200300.100.1.25"]),
                st.text(alphabet=' ,+=#"\\;<>abc0123456789\x00\u00e9', max_size=10),
            ),
            max_size=6,
        )
        return st.tuples(parts, st.sampled_from([",", ", ", "+", ";"])).map(
            lambda t: t[1].join(f"{k}={v}" for k, v in t[0]).encode("utf-8", "surrogateescape")
        )
    if target in ("reference", "layout_reference"):
        alphabet = "abcAB09.-_:/@[]%\\ \x00sha256"
        return st.text(alphabet=alphabet, max_size=80).map(lambda s: s.encode())
    return None


@pytest.fixture(scope="module")
def corpora() -> dict[str, list[bytes]]:
    return {name: fuzz_seeds.seeds(name) for name in TARGETS}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_are_accepted_without_crash(name: str, corpora: dict[str, list[bytes]]) -> None:
    """The seed corpus exists and runs clean (a seed that crashes would hide every mutation after it)."""
    assert corpora[name], f"no seeds for {name}"
    for data in corpora[name]:
        TARGETS[name](data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_raw_bytes(name: str) -> None:
    """Arbitrary bytes never raise anything but NotationError."""

    @_SETTINGS
    @given(st.binary(max_size=512))
    def run(data: bytes) -> None:
        TARGETS[name](data)

    run()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_mutated_seeds(name: str, corpora: dict[str, list[bytes]]) -> None:
    """Real inputs with byte-level damage never raise anything but NotationError."""
    corpus = corpora[name]

    @_SETTINGS
    @given(_mutated(corpus))
    def run(data: bytes) -> None:
        TARGETS[name](data)

    run()


@pytest.mark.parametrize(
    "name", ["trust_policy", "signature_manifest", "payload", "dn", "reference", "layout_reference"]
)
def test_fuzz_structured(name: str) -> None:
    """Documents of the right shape with wrong types, sizes and values in every member."""
    strategy = _structured(name)
    assert strategy is not None

    @_SETTINGS
    @given(strategy)
    def run(data: bytes) -> None:
        TARGETS[name](data)

    run()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("jws", b"[" * 100_000),
        ("jws", b'{"a":' * 50_000),
        ("payload", b"[" * 100_000),
        ("signature_manifest", b"[" * 100_000),
        ("signature_manifest", b"\x00" + b'{"a":' * 50_000),
        ("trust_policy", b"[" * 100_000),
        ("trust_policy", b'{"version":"1.0","trustPolicies":' + b"[" * 100_000),
        ("cose", b"\xd2\x84" + b"\x81" * 100_000),
        ("cbor", b"\x81" * 100_000),
        ("cbor", b"\xc1" * 100_000),
        ("cbor", b"\x9b" + b"\xff" * 8),
        ("cbor", b"\xbb" + b"\x7f" * 8),
        ("dn", b"C=" + b"\\" * 100_001),
        ("reference", b"a/" * 50_000 + b"b:c"),
        ("reference", b"registple/p" + b"l" * 60 + b"p\x00\x1em@s`bhbbbbbbbbbb"),  # atheris: exponential regex
        ("reference", b"r.example/" + b"a" * 5000 + b"!"),
        ("trust_store_cert", b"\x30\x84\xff\xff\xff\xff"),
        ("trust_store_cert", b"-----BEGIN CERTIFICATE-----\n" * 150_000),  # was quadratic (regex rescans)
    ],
)
def test_hostile_shapes(name: str, data: bytes) -> None:
    """Deep nesting, huge declared lengths and long runs: typed errors, no RecursionError/MemoryError/hang."""
    TARGETS[name](data)
