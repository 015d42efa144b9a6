"""Build envelopes with arbitrary (possibly invalid) headers but valid signatures, so negative tests hit the
rule under test rather than the signature check."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from notation._internal.envelope import _cbor, _crypto
from notation._internal.envelope.algorithms import KeySpec, SignatureAlgorithm
from support import pki

PAYLOAD = (
    b'{"targetArtifact":{"digest":"sha256:' + b"a" * 64 + b'","mediaType":"application/vnd.oci.image.manifest.v1+json",'
    b'"size":401}}'
)
CTY = "application/vnd.cncf.notary.payload.v1+json"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def alg_for(issued: pki.Issued) -> SignatureAlgorithm:
    return KeySpec.from_public_key(issued.cert.public_key()).algorithm


def jws_header(alg: str = "PS256", **extra: Any) -> dict[str, Any]:
    header: dict[str, Any] = {
        "alg": alg,
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": CTY,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for key, value in extra.items():
        key = key.replace("__", ".")
        if value is None:
            header.pop(key, None)
        else:
            header[key] = value
    return header


def jws(
    signer: pki.Issued,
    header: dict[str, Any] | None = None,
    *,
    payload: bytes = PAYLOAD,
    chain: list[x509.Certificate] | None = None,
    protected_raw: bytes | None = None,
    algorithm: SignatureAlgorithm | None = None,
    signature: bytes | None = None,
    unprotected: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JWS envelope document (dict) signed with ``signer.key``."""
    algorithm = algorithm or alg_for(signer)
    header = header if header is not None else jws_header(algorithm.jws)
    prot = b64u(protected_raw if protected_raw is not None else json.dumps(header).encode())
    pay = b64u(payload)
    sig = signature if signature is not None else _crypto.sign(algorithm, signer.key, f"{prot}.{pay}".encode())
    chain = chain if chain is not None else signer.chain
    unprot: dict[str, Any] = {"x5c": [base64.b64encode(der(c)).decode() for c in chain]}
    if unprotected:
        unprot.update(unprotected)
    return {"payload": pay, "protected": prot, "header": unprot, "signature": b64u(sig)}


def dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def cose_protected(alg: int = -37, **extra: Any) -> dict[Any, Any]:
    protected: dict[Any, Any] = {
        1: alg,
        2: ["io.cncf.notary.signingScheme"],
        3: CTY,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": _cbor.Tag(1, int(NOW.timestamp())),
    }
    for key, value in extra.items():
        key = key.replace("__", ".")
        if value is None:
            protected.pop(key, None)
        else:
            protected[key] = value
    return protected


def cose(
    signer: pki.Issued,
    protected: dict[Any, Any] | None = None,
    *,
    payload: bytes = PAYLOAD,
    chain: list[x509.Certificate] | None = None,
    protected_raw: bytes | None = None,
    unprotected: dict[Any, Any] | None = None,
    algorithm: SignatureAlgorithm | None = None,
    signature: bytes | None = None,
) -> bytes:
    algorithm = algorithm or alg_for(signer)
    protected = protected if protected is not None else cose_protected(algorithm.cose)
    raw = protected_raw if protected_raw is not None else _cbor.dumps(protected)
    tbs = _cbor.dumps(["Signature1", raw, b"", payload])
    sig = signature if signature is not None else _crypto.sign(algorithm, signer.key, tbs)
    chain = chain if chain is not None else signer.chain
    unprot: dict[Any, Any] = {33: [der(c) for c in chain]}
    if unprotected is not None:
        unprot = unprotected
    return _cbor.dumps(_cbor.Tag(18, [raw, unprot, payload, sig]))


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
