"""Payload building and parsing (PAY-01..06, SIG-04, VER-30) and key/certificate loading (CLI-22, MAN-06)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from notation._internal.envelope.payload import add_user_metadata, build_payload, parse_payload
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE
from notation._internal.x509.keys import (
    load_certificates,
    load_certificates_file,
    load_local_signer,
    load_private_key,
    thumbprint_sha256,
)
from notation.errors import CertificateError, EnvelopeError, KeyError_, SigningError
from support import pki

DIGEST = "sha256:" + "c" * 64
TARGET = Descriptor(
    "application/vnd.oci.image.manifest.v1+json",
    DIGEST,
    7,
    {"z": "1", "a": "<&>"},
    artifact_type="application/x",
    extra={"urls": ["http://x"], "platform": {"os": "linux"}},
)


def test_pay05_pay06_two_byte_forms() -> None:
    assert build_payload(TARGET, JWS_ENVELOPE) == (
        b'{"targetArtifact":{"annotations":{"a":"\\u003c\\u0026\\u003e","z":"1"},"digest":"'
        + DIGEST.encode()
        + b'","mediaType":"application/vnd.oci.image.manifest.v1+json","size":7}}'
    )
    assert build_payload(TARGET, COSE_ENVELOPE) == (
        b'{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'
        + DIGEST.encode()
        + b'","size":7,"annotations":{"a":"\\u003c\\u0026\\u003e","z":"1"}}}'
    )
    bare = Descriptor("application/vnd.oci.image.manifest.v1+json", DIGEST, 7)
    assert b"annotations" not in build_payload(bare, COSE_ENVELOPE)


def test_pay01_parse_round_trip_ignores_order_and_whitespace() -> None:
    for media_type in (JWS_ENVELOPE, COSE_ENVELOPE):
        parsed = parse_payload(build_payload(TARGET, media_type))
        assert (parsed.media_type, parsed.digest, parsed.size, dict(parsed.annotations)) == (
            TARGET.media_type,
            TARGET.digest,
            TARGET.size,
            dict(TARGET.annotations),
        )
    spaced = b'{ "targetArtifact" : {"size": 7, "digest": "' + DIGEST.encode() + b'", "mediaType": "a/b"} }'
    assert parse_payload(spaced).size == 7


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"nope", "signature payload is not valid JSON"),
        (b"[]", "signature payload is not a JSON object"),
        (b"{}", "signature payload is missing targetArtifact"),
        (
            b'{"targetArtifact":{"mediaType":"a/b","size":1}}',
            "invalid targetArtifact: invalid descriptor: invalid digest",
        ),
        (b'{"targetArtifact":{"mediaType":"a/b","digest":"' + DIGEST.encode() + b'","size":-1}}', "invalid size"),
        (b'{"targetArtifact":{"mediaType":"a/b","digest":"' + DIGEST.encode() + b'"}}', "invalid size"),
        (b'{"targetArtifact":{},"targetArtifact":{}}', "duplicate JSON member"),
    ],
)
def test_pay02_strict_parse(data: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        parse_payload(data)


def test_sig04_reserved_prefix() -> None:
    with pytest.raises(SigningError) as err:
        add_user_metadata(TARGET, {"io.cncf.notary.x": "1"})
    assert (
        str(err.value) == "error adding user metadata: metadata key io.cncf.notary.x has reserved prefix io.cncf.notary"
    )


def test_pay04_existing_key_rejected_and_merge() -> None:
    with pytest.raises(SigningError) as err:
        add_user_metadata(TARGET, {"z": "2"})
    assert str(err.value) == "error adding user metadata: metadata key z is already present in the target artifact"
    merged = add_user_metadata(TARGET, {"env": "prod"})
    assert dict(merged.annotations) == {"z": "1", "a": "<&>", "env": "prod"}
    assert dict(TARGET.annotations) == {"z": "1", "a": "<&>"}
    assert add_user_metadata(TARGET, {}) is TARGET


# --- CLI-22: keys and certificates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("rsa2048", serialization.PrivateFormat.PKCS8),
        ("rsa2048", serialization.PrivateFormat.TraditionalOpenSSL),  # PKCS#1
        ("ec256", serialization.PrivateFormat.PKCS8),
        ("ec384", serialization.PrivateFormat.TraditionalOpenSSL),  # SEC1
    ],
)
def test_cli22_key_formats(tmp_path: Path, kind: str, fmt: serialization.PrivateFormat) -> None:
    _, _, leaf = pki.chain3(leaf_kind=kind, ca_kind="ec256")
    pem = leaf.key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    (tmp_path / "k.pem").write_bytes(pem)
    (tmp_path / "c.pem").write_bytes(leaf.chain_pem())
    signer = load_local_signer(tmp_path / "k.pem", tmp_path / "c.pem")
    assert signer.certificate_chain == leaf.chain
    signature, chain = signer.sign(b"data")
    assert chain == leaf.chain and signature
    assert type(load_private_key(pem)) is type(leaf.key)


def test_cli22_key_must_match_leaf(tmp_path: Path) -> None:
    a, b = pki.self_signed_leaf("a", key_kind="ec256"), pki.self_signed_leaf("b", key_kind="ec256")
    (tmp_path / "k.pem").write_bytes(a.key_pem())
    (tmp_path / "c.pem").write_bytes(b.chain_pem())
    with pytest.raises(CertificateError, match="does not match the public key of the first certificate"):
        load_local_signer(tmp_path / "k.pem", tmp_path / "c.pem")


def test_cli22_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(KeyError_, match="failed to read key file"):
        load_local_signer(tmp_path / "missing.pem", tmp_path / "c.pem")
    (tmp_path / "k.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyError_, match="failed to parse private key"):
        load_private_key((tmp_path / "k.pem").read_bytes())
    with pytest.raises(CertificateError, match="failed to parse certificate"):
        load_certificates(b"garbage")
    (tmp_path / "big.pem").write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(CertificateError, match="too large"):
        load_certificates_file(tmp_path / "big.pem")
    weak = pki.self_signed_leaf("weak", key_kind="rsa1024")
    (tmp_path / "k.pem").write_bytes(weak.key_pem())
    (tmp_path / "c.pem").write_bytes(weak.chain_pem())
    with pytest.raises(CertificateError, match="rsa key size 1024 bits is not supported"):
        load_local_signer(tmp_path / "k.pem", tmp_path / "c.pem")


def test_load_certificates_pem_and_der() -> None:
    root, inter, leaf = pki.chain3(leaf_kind="ec256", ca_kind="ec256")
    assert load_certificates(leaf.chain_pem()) == [leaf.cert, inter.cert, root.cert]
    der = leaf.cert.public_bytes(serialization.Encoding.DER)
    assert load_certificates(der) == [leaf.cert]
    assert thumbprint_sha256(leaf.cert) == hashlib.sha256(der).hexdigest()
