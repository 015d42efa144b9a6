"""Issue 8, fuzzing in CI: every fuzz target in ``fuzz/targets.py`` driven by hypothesis for a bounded number of
examples, from three kinds of input: raw bytes, seeds (real signatures, manifests, policies...) mutated byte-wise,
and JSON documents shaped like the input the target expects. The contract: a bad input raises a NotationError
subclass, never anything else (any other exception escapes the target and fails the test).

``NOTATION_HARDENING_LONG=1`` raises the example budget tenfold; ``fuzz/run_atheris.py`` is the coverage-guided
driver for long local runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable
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


def _seed_values(member: str) -> list[Any]:
    """The values ``member`` has in the plugin-response seeds (real signatures, chains, envelopes)."""
    docs = [json.loads(d) for d in fuzz_seeds.seeds("plugin_response")]
    return [doc[member] for doc in docs if member in doc]


def _plugin_docs() -> st.SearchStrategy[Any]:
    """A plugin answer carrying any mix of every command's members, real values mixed with wrong ones."""
    from notation._internal.plugin import protocol

    caps = (
        protocol.CAP_SIGNATURE_GENERATOR_RAW,
        protocol.CAP_SIGNATURE_GENERATOR_ENVELOPE,
        protocol.CAP_TRUSTED_IDENTITY,
        protocol.CAP_REVOCATION_CHECK,
        "SIGNATURE_VERIFIER.OTHER",
    )
    certs = sorted({c for chain in _seed_values("certificateChain") for c in chain})
    verdict = st.fixed_dictionaries({}, optional={"success": _pick(True, False, "true", 1), "reason": _pick("r", "")})
    return st.fixed_dictionaries(
        {},
        optional={
            "name": _pick("fuzz", "other", ""),
            "description": _pick("d", ""),
            "version": _pick("1.0.0", "0.0.1", "1.2.3-rc.1+b", "v1.0.0", "1.0", "01.0.0"),
            "url": _pick("https://example.invalid", ""),
            "supportedContractVersions": st.lists(_pick("1.0", "2.0", ""), max_size=3) | _json,
            "capabilities": st.lists(st.sampled_from(caps), max_size=4) | _json,
            "keyId": _pick("fuzz-key", "other", ""),
            "keySpec": _pick("EC-256", "EC-384", "EC-521", "RSA-2048", "RSA-3072", "RSA-4096", "EC-224", ""),
            "signature": st.sampled_from(_seed_values("signature")) | _pick("", "AAAA", "AA=A", "!!!!"),
            "signingAlgorithm": _pick(
                "ECDSA-SHA-256", "ECDSA-SHA-384", "ECDSA-SHA-512", "RSASSA-PSS-SHA-256", "RSASSA-PSS-SHA-512", ""
            ),
            "certificateChain": st.lists(st.sampled_from(certs) | _pick("", "AAAA", "MA=="), max_size=3) | _json,
            "signatureEnvelope": st.sampled_from(_seed_values("signatureEnvelope")) | _pick("", "e30="),
            "signatureEnvelopeType": _pick("application/jose+json", "application/cose", ""),
            "annotations": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2) | _json,
            "verificationResults": st.dictionaries(st.sampled_from(caps), verdict | _json, max_size=3) | _json,
            "processedAttributes": st.lists(_pick("io.example.fuzz.attribute", "x"), max_size=2) | _json,
            "errorCode": _pick("ACCESS_DENIED", "ERROR", ""),
            "errorMessage": _pick("m", ""),
            "errorMetadata": st.dictionaries(st.text(max_size=4), _json, max_size=2) | _json,
        },
    )


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
    if target == "plugin_response":
        return _plugin_docs().map(_encode)
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
    "name", ["trust_policy", "signature_manifest", "payload", "dn", "reference", "layout_reference", "plugin_response"]
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
        ("plugin_response", b"[" * 100_000),  # was RecursionError out of Plugin.run
        ("plugin_response", b'{"a":' * 50_000),
        ("timestamp_response", b"\x30\x80" * 50_000),
        ("timestamp_response", b"\x30\x84\xff\xff\xff\xff"),
        ("timestamp_token", b"\x30\x80" * 50_000),
        ("timestamp_token", b"\x30\x83\x01\x00\x00" * 1000),
        # atheris: a rejection status with an empty failInfo BIT STRING raised IndexError out of asn1crypto
        ("timestamp_response", base64.b64decode("MBswGQIBAjAQDA5wb2xpY3kgc2F5HQAAAAMAAAA=")),
        ("ocsp_response", b"\x30\x80" * 50_000),
        ("ocsp_response", b"\x30\x84\xff\xff\xff\xff"),
        ("ocsp_response", b"\x30\x83\x01\x00\x00" * 1000),
        ("crl", b"\x30\x80" * 50_000),
        ("crl", b"\x30\x84\xff\xff\xff\xff"),
        ("crl", b"\x30\x00" * 50_000),  # a "base" followed by a long run of empty "deltas"
        ("crl", b"\x30\x83\x01\x00\x00" * 1000),
        # The crl inputs below are the base CRL of what atheris found (the delta CRL after it played no part).
        # atheris: a Freshest CRL URI with a non-IA5 byte; decoding the base CRL's extensions raised ValueError
        (
            "crl",
            base64.b64decode(
                "MIIBrDCCAVICAQEwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCVVMxDzANBgNVBAoMBk5vdGFyeTEbMBkGA1UEAwwSRnV6eiBS"
                "ZXZvY2F0aW9uIENBFw0yNjAxMDExMTAwMDBaFw0yNjAxMDgxMjAwMDBaMH4wIQICHq8XDTI1MTIyOTEyMDAwMFowDDAKBgNV"
                "HRUEAwoBBjAhAgIQARcNMjUxMjI5MTIwMDAwWjAMMAoGA1UdFQQDCgEEMBMCAhACFw0yNTEyMjkxMjAwMDBaMCECAhADFw0y"
                "NTEyMjkxMjAwMDBaMAwwCgYDVR0VBAMKAQKgZjBkMAoGA1UdFAQDAgEFMB8GA1UdIwQYMBaAFAUUC+5quoj+DoeEwl0gmmg2"
                "0lhJMDUGA1UdLgQuMCwwKqAooCaGJGh0dHA6Ly9jcmwuZnV6ei5pbnZhbGlkL2NhLWRlbHRhLmONbDAKBggqhkjOPQQDAgNI"
                "ADBFAiBSicgb3yHf4JwpRUkIJe9gMGoCAQEwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCVVMxDzANBgNVBAoMBk5v/I0js8RV"
            ),
        ),
        # atheris: an issuer countryName whose value has an APPLICATION tag; decoding the issuer raised ValueError
        (
            "crl",
            base64.b64decode(
                "MIIBrDCCAVICAQEwCgYIKoZIzj0EAwIwOzELMAkGA1UEBkECVVMxDzANBgNVBAoMBk5vdGFyeTEbMBkGA1UEAwwSRnV6eiBS"
                "ZXZvY2F0aW9uIENBFw0yNjAxMDExMTAwMDBaFw0yNjAxMDgxMjAwMDBaMH4wIQICHq8XDTI1MTIyOTEyMDAwMFowDDAKBgNV"
                "HRUEAwoBBjAhAgIQARcNMjUxMjI5MTIwMDAwWjAMMAoGA1UdFQQDCgEEMBMCAhACFw0yNTEyMjkxMjAwMDBaMCECAhADFw0y"
                "NTEyMjkxMjAwMDBaMAwwCgYDVR0VBAMKAQKgZjBkMAoGA1UdFAQDAgEFMB8GA1UdIwQYMBaAFAUUC+5quoj+DoeEwl0gmmg2"
                "0lhJMDUGA1UdLgQuMCwwKqAooCaGJGh0dHA6Ly9jcmwuZnV6ei5pbnZhbGlkL2NhLWRlbHRhLmNybDAKBggqhkjOPQQDAgNI"
                "ADBFAiBSicgb3yHf4JwpRUkIJe9gJGZ/aOS0k2jfazj44MYv4AIhAJT/yn/SN5Kc5eSyAVUkTSlmM9a+hX1Hk7Ps/I0js8RV"
            ),
        ),
        # atheris: an issuer attribute (title) holding a BIT STRING; cryptography's NameAttribute raised TypeError
        (
            "crl",
            base64.b64decode(
                "MIIBrDCCAVICAQEwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCVVMxDzANBgNVBAoMBk5vdGFyeTEbMBkGA1UEDAMSRnV6eiBS"
                "ZXZvY2F0aW9uIENBFw0yNjAxMDExMTAwMDBaFw0yNjAxMDgxMjAwMDBaMH4wIQICHq8XDTI1MTIyOTEyMDAwMFowDDAKBgNV"
                "HRUEAwoBBjAhAgIQARcNMjUxMjI5MTIwMDAwWjAMMAoGA1UdFQQDCgEEMBMCAhACFw0yNTEyMjkxMjAwMDFaMCECAhADFw0y"
                "NTEyMjkxMjAwMDBaMAwwCgYDVR0VBAMKAQKgZjBkMAoGA1UdFAQDAgEFMB8GA1UdIwQYMBaAFAUUC+5quoj+DoeEwl0gmmg2"
                "0lhJMDUGA1UdLgQuMCwwKqAooCaGJGh0dHA6Ly9jcmwuZnV6ei5pbnZhbGlkL2NhLWRlbHRhLmNybDAKBggqhkjOPQQDAgNI"
                "ADBFAiBSicgb3yHf4JwpRUkIJe9gMGoCAQEwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCVVMxDzANBgNVBAoMBk5v/I0js8RV"
            ),
        ),
        # atheris: CRL version 40; load_der_x509_crl raised InvalidVersion (not a ValueError)
        (
            "crl",
            base64.b64decode(
                "MIIBrDCCAVICASgwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCVVMxDzANBgNVBAoMBk5vdGFyeTEbMBkGA1UEAwwSRnV6eiBS"
                "ZXZvY2F0aW9uIENBFw0yNjAxMDExMTAwMDBaFw0yNjAxMDgxMjAwMDBaMH4wIQICHq8XDTI1MTIyOTEyMDAwMFowDDAKBgNV"
                "HRUEAwoBBjAhAgIQARcNMjUxMjI5MTIwMDAwWjAMMAoGA1UdFQQDCgEEMBMCAhACFw0yNTEyMjkxMjAwMDBaMCECAhADFw0y"
                "NTEyMjkxMjAwMDBaMAwwCgYDVR0VBAMKAQKgZjBkMAoGA1UdFAQDAgEFMB8GA1UdIwQYMBaAFAUUC+5quoj+DoeEwl0gmmg2"
                "0lhJMDUGA1UdLgQuMCwwKqAooCaGJGh0dHA6Ly9jcmwuZnV6ei5pbnZhbGlkL2NhLWRlbHRhLmNybDAKBggqhkjOPQQDAgNI"
                "ADBFAiBSicgb3yHf4JwpRUkIJe9gJGZ/aOS0k2jfazj44MYv4AIhAJT/yn/SN5Kc5eSyAVUkTSlmM9a+hX1Hk7Ps/I0js8RV"
            ),
        ),
        # atheris: Freshest CRL URL "http://crl.f]zz.invalid/..."; urlsplit raised ValueError (Invalid IPv6 URL)
        (
            "crl",
            base64.b64decode(
                "MIIBiDCCAS8CAQEwCgYIKoZIzj0EAwIwOzELMAkGA1UEBhMCVVMxDzANBgNVBAoMBk5vdGFyeTEbMBkGA1UEAwwSRnV6eiBS"
                "ZXZvY2F0aW9uIENBFw0yNjAxMDExMTAwMDBaFw0yNjAxMDgxMjAwMDBaMFswIQICEAEXDTI1MTIyOTEyMDAwMFowDDAKBgNV"
                "HRUEAwoBBDATAgIQAhcNMjUxMjI5MTIwMDAwWjAhAgIQAxcNMjUxMjI5MTIwMDAwWjAMMAoGA1UdFQQDCgECoGYwZDAKBgNV"
                "HRQEAwIBBzAfBgNVHSMEGDAWgBQFFAvuarqI/g6HhMJdIJpoNtJYSTA1BgNVHS4ELjAsMCqgKKAmhiRodHRwOi8vY3JsLmZd"
                "enouaW52YWxpZC9jYS1kZWx0YS5jcmwwCgYIKoZIzj0EAwIDRwAwRAIgeGsj0HfRP1wGhRS51OYt3xaKv0cyug7a4tnmD+z8"
                "zQgCIDG/NWnH+Eg/470HH+paZwxnAWBgl4v7oj62lgl4+Wyh"
            ),
        ),
    ],
)
def test_hostile_shapes(name: str, data: bytes) -> None:
    """Deep nesting, huge declared lengths and long runs: typed errors, no RecursionError/MemoryError/hang."""
    TARGETS[name](data)


_OCSP_VERDICTS = {
    "good": ("OK", "OK"),
    "good, SHA-256 CertID": ("OK", "OK"),
    "revoked, invalidity date": ("Revoked", "OK"),
    "revoked, no reason": ("Revoked", "Revoked"),
    "unknown": ("Unknown", "Unknown"),
    "good, delegated responder": ("OK", "OK"),
    "revoked, delegated responder, invalidity date": ("Revoked", "OK"),
    "tryLater": ("ocsp: error from server: try_later", "ocsp: error from server: try_later"),
}
_CRL_VERDICTS = {
    "revoked, invalidity date": ("Revoked", "OK"),
    "on hold": ("Revoked", "Revoked"),
    "not listed, critical IDP": ("OK", "OK"),
    "no entries, no extensions": ("OK", "OK"),
    "on hold in the base, removed in the delta": ("OK", "OK"),
    "not listed in the base, revoked in the delta": ("Revoked", "OK"),
    "delta CRL alone": ("OK", "OK"),
}


def test_revocation_seeds_reach_every_verdict() -> None:
    """The OCSP and CRL seeds pass parsing, the signature and freshness checks and end in the verdict each stands
    for (without, then with a signing time before the invalidity date): mutations start from deep states."""
    from fuzz.targets import (
        REVOCATION_NOW,
        REVOCATION_SIGNING_TIME,
        _CannedCRLSession,
        revocation_ca,
        revocation_leaf,
        split_crl_bundle,
    )

    from notation._internal.revocation import crl, ocsp

    leaf, ca = revocation_leaf(), revocation_ca()

    def ocsp_verdict(body: bytes, signing_time: dt.datetime | None) -> str:
        try:
            return ocsp._evaluate(body, leaf, ca, signing_time=signing_time, now=REVOCATION_NOW).value
        except ocsp._OCSPFailure as exc:
            return str(exc)

    def crl_verdict(bundle: bytes, signing_time: dt.datetime | None) -> str:
        session = _CannedCRLSession(*split_crl_bundle(bundle))
        status, servers = crl.check(
            leaf, ca, signing_time=signing_time, now=REVOCATION_NOW, timeout=10.0, cache=None, session=session
        )
        assert [s.error for s in servers] == [None]
        return status.value

    ocsp_seen = {
        name: (ocsp_verdict(d, None), ocsp_verdict(d, REVOCATION_SIGNING_TIME))
        for name, d in fuzz_seeds.ocsp_responses()
    }
    crl_seen = {
        name: (crl_verdict(d, None), crl_verdict(d, REVOCATION_SIGNING_TIME)) for name, d in fuzz_seeds.crl_bundles()
    }
    assert ocsp_seen == _OCSP_VERDICTS
    assert crl_seen == _CRL_VERDICTS


# --- What the plugin and timestamp targets found: each input rebuilt from a seed, now a typed error -------------


def _replace_once(data: bytes, old: bytes, new: bytes, *, last: bool = False) -> bytes:
    at = data.rindex(old) if last else data.index(old)
    return data[:at] + new + data[at + len(old) :]


def _tsa_token() -> bytes:
    """A granted token from an EC P-256 TSA with a SHA-256 imprint over ``TSA_SIGNATURE`` (the first seed)."""
    return fuzz_seeds.seeds("timestamp_token")[0]


def test_found_token_signer_info_with_unknown_signature_algorithm() -> None:
    """atheris/hypothesis: an unknown SignerInfo signatureAlgorithm OID was a ValueError out of the verifier."""
    from fuzz.targets import TSA_SIGNATURE, tsa_root

    from notation._internal.timestamp import verify_timestamp
    from notation.errors import TimestampError

    ecdsa_sha256 = bytes.fromhex("06082a8648ce3d040302")  # the SignerInfo's is the last one in the token
    token = _replace_once(_tsa_token(), ecdsa_sha256, bytes.fromhex("06082a8648ce3d440302"), last=True)
    with pytest.raises(TimestampError, match=r"^failed to verify the timestamp countersignature with error: "):
        verify_timestamp(token, TSA_SIGNATURE, [tsa_root()])


def _signing_certificate_issuer_serial(token: bytes) -> bytes:
    from asn1crypto import cms

    signer = cms.ContentInfo.load(token)["content"]["signer_infos"][0]
    for attr in signer["signed_attrs"]:
        if attr["type"].native == "signing_certificate_v2":
            return bytes(attr["values"][0]["certs"][0]["issuer_serial"].dump())
    raise AssertionError("no signing-certificate-v2 attribute")


@pytest.mark.parametrize("where", ["tstinfo nonce", "ess issuer serial"])
def test_found_token_with_a_real_where_a_structure_belongs(where: str) -> None:
    """atheris: a REAL tag where TSTInfo's nonce or ESS issuerSerial belongs made asn1crypto raise AttributeError
    ('Real' object has no attribute 'native') out of parse_token: inspect and verify crashed."""
    from fuzz.targets import TARGETS, TSA_NONCE

    from notation._internal.timestamp import parse_timestamp
    from notation._internal.workflows.inspect import _default_timestamp_parser
    from notation.errors import TimestampError

    token = _tsa_token()
    if where == "tstinfo nonce":
        nonce = b"\x02\x04" + TSA_NONCE.to_bytes(4, "big")
        token = _replace_once(token, nonce, b"\xa9" + nonce[1:])
    else:
        issuer_serial = _signing_certificate_issuer_serial(token)
        token = _replace_once(token, issuer_serial, b"\x09" + issuer_serial[1:])
    with pytest.raises(TimestampError):
        parse_timestamp(token)
    assert (_default_timestamp_parser(token, b"sig").error or "").startswith("failed to parse timestamp")
    TARGETS["timestamp_token"](token)


def _der_sequence(*items: bytes) -> bytes:
    body = b"".join(items)
    assert len(body) < 0x10000
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


_REJECTION = b"\x02\x01\x02"


@pytest.mark.parametrize(
    ("status_info", "error"),
    [
        # statusString holding a BIT STRING / invalid UTF-8: ValueError, UnicodeDecodeError
        (_REJECTION + b"\x30\x03\x03\x01\x00", "invalid timestamp response: "),
        (_REJECTION + b"\x30\x04\x0c\x02\xff\xfe", "invalid timestamp response: "),
        # failInfo with 255 unused bits: ValueError
        (_REJECTION + b"\x03\x02\xff\x80", "invalid timestamp response: "),
        # failInfo with an unnamed bit: asn1crypto gives {1, 'bad_request'}, sorted() raised TypeError
        (
            _REJECTION + b"\x03\x02\x00\x60",
            "invalid timestamp response status: rejection (failure info: 1, bad_request)",
        ),
    ],
)
def test_found_timestamp_response_status_details(status_info: bytes, error: str) -> None:
    """hypothesis: a rejection's statusString/failInfo were decoded outside the error handling."""
    from notation._internal.timestamp.client import parse_timestamp_response
    from notation.errors import TimestampError

    with pytest.raises(TimestampError) as err:
        parse_timestamp_response(_der_sequence(_der_sequence(status_info)))
    assert str(err.value).startswith(error)


def test_found_granted_response_with_a_malformed_token() -> None:
    """hypothesis: a granted response whose token does not parse (here its TSTInfo claims more bytes than its
    OCTET STRING holds) raised ValueError from the token-presence check; it is now the token parser's error."""
    from asn1crypto import cms
    from fuzz.targets import TSA_NONCE, TSA_SIGNATURE, tsa_root

    from notation._internal.timestamp.client import check_response_token, parse_timestamp_response
    from notation.errors import TimestampError

    token = _tsa_token()
    tst_info = bytes(cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].contents)
    assert tst_info[0] == 0x30 and tst_info[1] < 0x7F
    token = _replace_once(token, tst_info, tst_info[:1] + b"\x7f" + tst_info[2:])
    response = _der_sequence(_der_sequence(b"\x02\x01\x00"), token)
    assert parse_timestamp_response(response) == token
    with pytest.raises(TimestampError, match=r"^invalid timestamp response: "):
        imprint = hashlib.sha256(TSA_SIGNATURE).digest()
        check_response_token(parse_timestamp_response(response), "sha256", imprint, TSA_NONCE, tsa_root())


def test_found_ocsp_responder_certificate_with_invalid_version() -> None:
    """review of the same loader: a delegated responder certificate with version 8 raised cryptography's
    InvalidVersion (not a ValueError) out of the OCSP check; parse_der_certificate makes it a malformed response."""
    from asn1crypto import ocsp as aocsp
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from notation._internal.revocation import ocsp
    from protocol_servers.ocsp import OCSPBehaviour, OCSPResponder
    from support import pki

    root = pki.root_ca("Fuzz OCSP Root", key_kind="ec256")
    leaf = pki.issue("leaf", key_kind="ec256", issuer=root)
    delegate = pki.issue("Delegated OCSP", key_kind="ec256", issuer=root, eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    responder = OCSPResponder(issuers=[root], delegate=delegate, behaviour=OCSPBehaviour(signer="delegate"))
    request = aocsp.OCSPRequest.load(ocsp._build_request(leaf.cert, root.cert))
    body = responder.respond(request)
    now = dt.datetime.now(dt.UTC)
    assert ocsp._evaluate(body, leaf.cert, root.cert, signing_time=None, now=now).name == "OK"
    der = delegate.cert.public_bytes(Encoding.DER)
    bad = _replace_once(der, b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x07")
    with pytest.raises(ocsp._OCSPFailure, match=r"^ocsp: malformed response: malformed certificate"):
        ocsp._evaluate(body.replace(der, bad), leaf.cert, root.cert, signing_time=None, now=now)


def _crl_with_entry_extension(extension: Any) -> bytes:
    """A CRL the fuzz CA signed whose entry for the fuzz leaf carries ``extension``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from fuzz.targets import REVOCATION_NOW, revocation_ca, revocation_key, revocation_leaf

    entry = (
        x509.RevokedCertificateBuilder()
        .serial_number(revocation_leaf().serial_number)
        .revocation_date(REVOCATION_NOW - dt.timedelta(days=1))
        .add_extension(extension, False)
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(revocation_ca().subject)
        .last_update(REVOCATION_NOW - dt.timedelta(hours=1))
        .next_update(REVOCATION_NOW + dt.timedelta(days=1))
        .add_revoked_certificate(entry)
        .sign(revocation_key("ca"), hashes.SHA256())
    )
    return crl.public_bytes(Encoding.DER)


@pytest.mark.parametrize(
    ("oid", "value", "error"),
    [
        ("2.5.29.21", b"\x0a\x01\x07", "Unsupported reason code: 7"),  # reasonCode 7 is unassigned: ValueError
        ("2.5.29.29", b"\x30\x04\xa3\x02\x30\x00", "x400Address/EDIPartyName are not supported types"),
    ],
)
def test_found_crl_entry_with_a_malformed_extension(oid: str, value: bytes, error: str) -> None:
    """Review while fixing the crl target's finds: cryptography decodes an entry's extensions only when asked, so a
    CA-signed CRL whose entry for the certificate holds a malformed reasonCode (ValueError) or certificateIssuer
    (UnsupportedGeneralNameType) raised out of crl.check; it is now a parse failure, the status Unknown."""
    from cryptography import x509
    from fuzz.targets import CRL_URL, REVOCATION_NOW, TARGETS, _CannedCRLSession, revocation_ca, revocation_leaf

    from notation._internal.revocation import crl
    from notation._internal.revocation.model import ServerResult, Status

    body = _crl_with_entry_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value))
    status, servers = crl.check(
        revocation_leaf(),
        revocation_ca(),
        signing_time=None,
        now=REVOCATION_NOW,
        timeout=10.0,
        cache=None,
        session=_CannedCRLSession(body, None),
    )
    assert (status, servers) == (
        Status.UNKNOWN,
        [ServerResult(CRL_URL, Status.UNKNOWN, f"failed to parse CRL: {error}")],
    )
    TARGETS["crl"](body)


def test_found_revocation_url_that_urlsplit_rejects() -> None:
    """atheris (crl: a base CRL's Freshest CRL URL) and the same step for the certificate's own CDP and AIA URLs:
    a URL urlsplit rejects ("http://[x": Invalid IPv6 URL) raised ValueError out of crl.check and ocsp.check."""
    from notation._internal.revocation import crl, ocsp
    from notation._internal.revocation.model import ServerResult, Status
    from support import pki

    bad = "http://[x"
    root = pki.root_ca("Fuzz URL Root", key_kind="ec256", key_usage=pki.CA_KU_WITH_CRL)
    leaf = pki.issue("leaf", key_kind="ec256", issuer=root, extra_extensions=pki.revocation_urls([bad], [bad]))
    now = dt.datetime.now(dt.UTC)
    assert ocsp.check(leaf.cert, root.cert, signing_time=None, now=now, timeout=1.0) == (
        Status.UNKNOWN,
        [ServerResult(bad, Status.UNKNOWN, "invalid OCSPServer URL: Invalid IPv6 URL")],
    )
    assert crl.check(leaf.cert, root.cert, signing_time=None, now=now, timeout=1.0, cache=None) == (
        Status.UNKNOWN,
        [ServerResult(bad, Status.UNKNOWN, "invalid CRL URL: Invalid IPv6 URL")],
    )


def _generate_signature_answer(edit: Callable[[bytes], bytes]) -> bytes:
    """The EC seed answer to describe-key + generate-signature, its leaf certificate edited by ``edit``."""
    for data in fuzz_seeds.seeds("plugin_response"):
        doc = json.loads(data)
        if doc.get("keySpec") == "EC-256" and "certificateChain" in doc:
            leaf = base64.b64decode(doc["certificateChain"][0])
            doc["certificateChain"][0] = base64.b64encode(edit(leaf)).decode()
            return json.dumps(doc).encode()
    raise AssertionError("no EC generate-signature seed")


_P256 = bytes.fromhex("06082a8648ce3d030107")


def _unknown_curve(der: bytes) -> bytes:
    return _replace_once(der, _P256, _P256[:-1] + b"\x08")  # 1.2.840.10045.3.1.8: no such curve


def _point_off_curve(der: bytes) -> bytes:
    at = der.index(b"\x03\x42\x00\x04") + 67  # the last byte of the uncompressed point's Y coordinate
    return der[:at] + bytes([der[at] ^ 1]) + der[at + 1 :]


@pytest.mark.parametrize("edit", [_unknown_curve, _point_off_curve])
def test_found_plugin_chain_with_an_unusable_leaf_key(edit: Callable[[bytes], bytes]) -> None:
    """atheris/hypothesis: a generate-signature chain whose leaf key cryptography cannot load raised
    UnsupportedAlgorithm / ValueError('Invalid key') out of PluginSigner.sign."""
    from fuzz.targets import PLUGIN_KEY_ID, TARGETS, _plugin_harness

    from notation._internal.plugin.process import PluginOutput
    from notation._internal.plugin.signer import PluginSigner
    from notation.errors import PluginError

    canned_plugin, metadata, _ = _plugin_harness()
    answer = _generate_signature_answer(edit)
    signer = PluginSigner(canned_plugin(PluginOutput(0, answer, b"")), metadata, PLUGIN_KEY_ID)
    with pytest.raises(PluginError, match=r"^the signing certificate's key is not supported: "):
        signer.sign(b"to be signed")
    TARGETS["plugin_response"](answer)


def test_found_plugin_output_nested_too_deeply() -> None:
    """Hostile nesting on stdout or stderr was a RecursionError out of Plugin.run."""
    from notation._internal.plugin.process import PluginOutput, parse_output
    from notation._internal.plugin.protocol import PluginMalformedError

    with pytest.raises(PluginMalformedError, match=r"^failed to unmarshal the response of describe-key command"):
        parse_output("p", "describe-key", PluginOutput(0, b"[" * 100_000, b""))
    with pytest.raises(PluginMalformedError, match=r"the error response isn't compliant"):
        parse_output("p", "describe-key", PluginOutput(1, b"", b'{"errorCode":' + b"[" * 100_000))


def test_found_plugin_envelope_payload_nested_too_deeply() -> None:
    """Review while fuzzing: a plugin-made COSE envelope (the codec does not parse a COSE payload) whose payload is
    nested too deeply was a RecursionError out of the PLG-43 check."""
    from fuzz.targets import plugin_sign_payload

    from notation._internal.envelope.codec import sign_envelope, verify_integrity
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import SignRequest
    from notation._internal.oci.mediatypes import COSE_ENVELOPE, NOTARY_PAYLOAD
    from notation._internal.plugin.signer import check_generated_envelope
    from notation.errors import SigningError

    key, cert = fuzz_seeds._self_signed("ec")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    payload = b'{"targetArtifact":' + b"[" * 5000 + b"]" * 5000 + b"}"
    request = SignRequest(payload=payload, payload_content_type=NOTARY_PAYLOAD, signing_time=now)
    info = verify_integrity(COSE_ENVELOPE, sign_envelope(COSE_ENVELOPE, request, LocalSigner(key, [cert])))  # type: ignore[arg-type]
    with pytest.raises(SigningError, match=r"^signed envelope payload can't be unmarshalled: JSON nested too deeply"):
        check_generated_envelope(info, plugin_sign_payload())
