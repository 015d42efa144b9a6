"""Seed corpora for the fuzz targets: real signatures, manifests, policies, DNs, references and certificates.

A fuzzer that starts from valid input reaches the deep parser states (a protected header that decodes, a chain
that parses) that random bytes never do. Seeds come from two places: the Go-made interop layouts in
``/work/shared/interop/v1`` (or ``$NOTATION_INTEROP_DIR``) when present, and artefacts made here with fresh keys:
signatures through the same code path ``notation sign`` uses, plugin answers as the test plugin
(``tests/plugin_support``) prints them, and TSA responses from the test TSA (``tests/protocol_servers/tsa.py``).
OCSP responses and CRLs are the exception to fresh keys: they are built with cryptography's builders for the fixed
revocation chain of ``fuzz.targets`` at a fixed time, so they are the same bytes in every run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    _CRLEntry = tuple[int, x509.ReasonFlags | None, dt.datetime | None]
    """(serial, reason or None, invalidity date or None)"""

_INTEROP_DEFAULT = Path("/work/shared/interop/v1")
_TESTS = Path(__file__).resolve().parents[1] / "tests"


def interop_dir() -> Path | None:
    root = Path(os.environ.get("NOTATION_INTEROP_DIR", _INTEROP_DEFAULT))
    return root if (root / "cases.json").is_file() else None


@dataclass(frozen=True)
class InteropSignature:
    case: str
    expect: str
    envelope_media_type: str
    envelope: bytes
    manifest: bytes
    manifest_media_type: str
    subject_digest: str


def interop_signatures() -> list[InteropSignature]:
    """Every Go-made signature in the interop layouts (empty when the vectors are absent)."""
    return list(_interop_signatures())


@functools.lru_cache(maxsize=1)
def _interop_signatures() -> tuple[InteropSignature, ...]:
    root = interop_dir()
    if root is None:
        return ()
    cases = json.loads((root / "cases.json").read_text())["cases"]
    out: list[InteropSignature] = []
    for case in cases:
        layout = root / case["layout"]
        index = json.loads((layout / "index.json").read_text())
        for entry in index["manifests"]:
            blob = layout / "blobs" / "sha256" / entry["digest"].split(":", 1)[1]
            manifest = json.loads(blob.read_bytes())
            layers = manifest.get("layers") or manifest.get("blobs") or []
            if manifest.get("config", {}).get("mediaType") != "application/vnd.cncf.notary.signature" or not layers:
                continue
            layer = layers[0]
            envelope = (layout / "blobs" / "sha256" / layer["digest"].split(":", 1)[1]).read_bytes()
            out.append(
                InteropSignature(
                    case=case["name"],
                    expect=case["expect"],
                    envelope_media_type=layer["mediaType"],
                    envelope=envelope,
                    manifest=blob.read_bytes(),
                    manifest_media_type=entry["mediaType"],
                    subject_digest=manifest["subject"]["digest"],
                )
            )
    return tuple(out)


def _self_signed(kind: str, not_before: dt.datetime | None = None) -> tuple[object, object]:
    """A `notation cert generate-test`-like certificate: self-signed, digitalSignature, codeSigning."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notary"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"fuzz seed {kind}"),
        ]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


@functools.lru_cache(maxsize=1)
def generated_signatures() -> tuple[tuple[str, bytes], ...]:
    """(envelope media type, envelope) made here: EC P-256 and RSA-2048, JWS and COSE, with an expiry."""
    from notation._internal.envelope.codec import sign_envelope
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import SignRequest
    from notation._internal.envelope.payload import build_payload
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD

    target = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "c" * 64, 528, {"k": "v"})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = []
    for kind in ("ec", "rsa"):
        key, cert = _self_signed(kind)
        signer = LocalSigner(key, [cert])  # type: ignore[arg-type]
        for media_type in (JWS_ENVELOPE, COSE_ENVELOPE):
            request = SignRequest(
                payload=build_payload(target, media_type),
                payload_content_type=NOTARY_PAYLOAD,
                signing_time=now,
                expiry=now + dt.timedelta(days=7),
                signing_agent="notation-py/fuzz",
            )
            out.append((media_type, sign_envelope(media_type, request, signer)))
    return tuple(out)


def _certificates() -> list[bytes]:
    from cryptography.hazmat.primitives import serialization

    out = []
    for kind in ("ec", "rsa"):
        _, cert = _self_signed(kind)
        out.append(cert.public_bytes(serialization.Encoding.PEM))  # type: ignore[attr-defined]
        out.append(cert.public_bytes(serialization.Encoding.DER))  # type: ignore[attr-defined]
    root = interop_dir()
    if root is not None:
        out.extend(p.read_bytes() for p in sorted((root / "truststore").rglob("*.pem")))
    return out


_POLICY = {
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "wabbit-networks-images",
            "registryScopes": ["registry.example/app", "local/interop"],
            "signatureVerification": {"level": "strict", "override": {"revocation": "log"}},
            "trustStores": ["ca:acme-rockets", "tsa:acme-tsa"],
            "trustedIdentities": ["x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=leaf"],
        },
        {
            "name": "global",
            "registryScopes": ["*"],
            "signatureVerification": {"level": "audit", "verifyTimestamp": "afterCertExpiry"},
            "trustStores": ["signingAuthority:acme"],
            "trustedIdentities": ["*"],
        },
    ],
}

_DNS = [
    "C=US, ST=WA, L=Seattle, O=Notary, CN=leaf",
    "CN=a\\,b+OU=x,O=Org,ST=S,C=US",
    'C=US,S=WA,O="quoted, value",CN=\\23hash',
    "C=US, ST=WA, O=Notary, CN=#0403616263",
    "O=Notary,ST=WA,C=US,1.2.3.4=#0c0161",
]

_REFERENCES = [
    "registry.example/app:v1",
    "localhost:5000/a/b@sha256:" + "a" * 64,
    "[::1]:5000/x/y:tag",
    "docker.io/library/alpine",
    "registry.example/app:v1@sha512:" + "b" * 128,
    "./layout:v1",
    "C:\\layouts\\app@sha256:" + "d" * 64,
    "/srv/oci@sha256:" + "e" * 64,
]


def seeds(target: str) -> list[bytes]:
    """The seed inputs for ``target`` (a name in ``fuzz.targets.TARGETS``)."""
    from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE

    envelopes = [(s.envelope_media_type, s.envelope) for s in interop_signatures()] + list(generated_signatures())
    if target in ("jws", "cose"):
        wanted = JWS_ENVELOPE if target == "jws" else COSE_ENVELOPE
        return [data for media_type, data in envelopes if media_type == wanted]
    if target == "cbor":
        return [data for media_type, data in envelopes if media_type == COSE_ENVELOPE]
    if target == "payload":
        from notation._internal.envelope.codec import parse_envelope

        return [parse_envelope(media_type, data).payload for media_type, data in envelopes]
    if target == "signature_manifest":
        return [b"\x00" + s.manifest for s in interop_signatures()] + [b"\x00" + _generated_manifest()]
    if target == "trust_policy":
        out = [json.dumps(_POLICY).encode()]
        root = interop_dir()
        if root is not None:
            out.extend(p.read_bytes() for p in sorted((root / "policies").glob("*.json")))
        return out
    if target == "dn":
        return [dn.encode() for dn in _DNS]
    if target in ("reference", "layout_reference"):
        return [ref.encode() for ref in _REFERENCES]
    if target in ("trust_store_cert", "signing_chain"):
        return _certificates()
    if target == "plugin_response":
        return list(_plugin_responses())
    if target == "timestamp_response":
        return [response for response, _ in _tsa_responses()]
    if target == "timestamp_token":
        return [token for _, token in _tsa_responses() if token is not None]
    if target == "ocsp_response":
        return [response for _, response in ocsp_responses()]
    if target == "crl":
        return [bundle for _, bundle in crl_bundles()]
    raise KeyError(target)


def _generated_manifest() -> bytes:
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.mediatypes import JWS_ENVELOPE
    from notation._internal.oci.signature_manifest import build_signature_manifest

    subject = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "c" * 64, 528)
    envelope = Descriptor(JWS_ENVELOPE, "sha256:" + "f" * 64, 2048)
    data, _ = build_signature_manifest(
        subject, envelope, signing_time=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), thumbprints=["0" * 64]
    )
    return data


def write_corpus(target: str, directory: Path) -> int:
    """Write the seeds of ``target`` into ``directory`` (one file each, for atheris/libFuzzer); return the count."""
    directory.mkdir(parents=True, exist_ok=True)
    items = seeds(target)
    for i, data in enumerate(items):
        (directory / f"seed-{i:03d}").write_bytes(data)
    return len(items)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


@functools.lru_cache(maxsize=1)
def _plugin_responses() -> tuple[bytes, ...]:
    """What a plugin prints for each command, as the test plugin (tests/plugin_support/fake_plugin.py) answers the
    requests ``fuzz.targets.plugin_response`` makes; plus error objects, and one answer carrying every member at
    once (describe-key + generate-signature), so a single input reaches a whole signing exchange."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from fuzz import targets
    from notation._internal.envelope.codec import sign_envelope
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import SignRequest
    from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD
    from notation._internal.plugin import protocol

    answers: list[dict[str, object]] = [
        {
            "name": targets.PLUGIN_NAME,
            "description": "fuzz seed plugin",
            "version": "1.2.3-rc.1+build.5",
            "url": "https://example.invalid/fuzz",
            "supportedContractVersions": [protocol.CONTRACT_VERSION],
            "capabilities": [
                protocol.CAP_SIGNATURE_GENERATOR_RAW,
                protocol.CAP_SIGNATURE_GENERATOR_ENVELOPE,
                *protocol.VERIFIER_CAPABILITIES,
            ],
        },
        {"keyId": targets.PLUGIN_KEY_ID, "keySpec": "EC-256"},
        {
            "verificationResults": {
                protocol.CAP_TRUSTED_IDENTITY: {"success": True},
                protocol.CAP_REVOCATION_CHECK: {"success": False, "reason": "revoked by the fuzz seed"},
            },
            "processedAttributes": [targets.PLUGIN_EXTRA_ATTRIBUTE],
        },
    ]
    for kind in ("ec", "rsa"):
        key, cert = _self_signed(kind, not_before=targets.PLUGIN_SIGNING_TIME - dt.timedelta(days=1))
        local = LocalSigner(key, [cert])  # type: ignore[arg-type]
        recorder = _RecordingSigner(local)
        spec = local.key_spec()
        for media_type in (JWS_ENVELOPE, COSE_ENVELOPE):
            sign_envelope(media_type, targets.plugin_sign_request(), recorder)
            signature, chain = recorder.answer
            generated = {
                "keyId": targets.PLUGIN_KEY_ID,
                "signature": _b64(signature),
                "signingAlgorithm": spec.algorithm.plugin_name,
                "certificateChain": [_b64(c.public_bytes(Encoding.DER)) for c in chain],
            }
            answers.append(generated)
            answers.append({**generated, "keySpec": spec.plugin_name})  # describe-key and generate-signature
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            request = SignRequest(
                payload=targets.plugin_sign_payload(),
                payload_content_type=NOTARY_PAYLOAD,
                signing_time=now,
                expiry=now + dt.timedelta(days=1),
                signing_agent="fake-envelope-plugin/1.0",
            )
            answers.append(
                {
                    "signatureEnvelope": _b64(sign_envelope(media_type, request, local)),
                    "signatureEnvelopeType": media_type,
                    "annotations": {"io.example.fuzz": "seed"},
                }
            )
    errors = [
        {"errorCode": "ACCESS_DENIED", "errorMessage": "key vault says no", "errorMetadata": {"requestId": "42"}},
        {"errorCode": "VALIDATION_ERROR", "errorMessage": "Invalid command: describe-key"},
    ]
    return tuple(json.dumps(doc).encode() for doc in answers + errors)


class _RecordingSigner:
    """A PrimitiveSigner that keeps the (signature, chain) it returned: a plugin's generate-signature answer."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.answer: tuple[bytes, list[object]] = (b"", [])

    def key_spec(self) -> object:
        return self.inner.key_spec()  # type: ignore[attr-defined]

    def sign(self, data: bytes) -> tuple[bytes, list[object]]:
        self.answer = self.inner.sign(data)  # type: ignore[attr-defined]
        return self.answer


@functools.lru_cache(maxsize=1)
def _tsa_responses() -> tuple[tuple[bytes, bytes | None], ...]:
    """(TimeStampResp, its TimeStampToken or None) from the test TSA, answering the request ``notation sign`` would
    make over ``fuzz.targets.TSA_SIGNATURE`` with nonce ``TSA_NONCE``, signed under the fuzz TSA root: EC and RSA
    TSA keys, several hash algorithms, with and without the root in the token, an unsigned attribute, a rejection."""
    import hashlib
    import sys

    from asn1crypto import algos, core, tsp

    from fuzz import targets

    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from protocol_servers.tsa import TSA, TSABehaviour
    from support import pki

    root = pki.Issued(key=targets.tsa_root_key(), cert=targets.tsa_root(), chain=[targets.tsa_root()])
    out: list[tuple[bytes, bytes | None]] = []
    for key_kind, hash_name, behaviour in (
        ("ec256", "sha256", TSABehaviour()),
        ("ec256", "sha256", TSABehaviour(include_root=True, unsigned_attrs=True)),
        ("ec256", "sha384", TSABehaviour(digest="sha384", accuracy_seconds=None, policy="0.4.0.2023.1.1")),
        ("rsa2048", "sha256", TSABehaviour()),
        ("rsa2048", "sha512", TSABehaviour(digest="sha512", include_root=True)),
        ("ec256", "sha256", TSABehaviour(status="rejection")),
    ):
        _, leaf = pki.tsa_chain(key_kind=key_kind, root=root)
        request = tsp.TimeStampReq(
            {
                "version": "v1",
                "message_imprint": {
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": hash_name, "parameters": core.Null()}),
                    "hashed_message": hashlib.new(hash_name, targets.TSA_SIGNATURE).digest(),
                },
                "nonce": targets.TSA_NONCE,
                "cert_req": True,
            }
        )
        response = TSA(leaf, behaviour).respond(request)
        granted = tsp.TimeStampResp.load(response) if behaviour.status == "granted" else None
        out.append((response, granted["time_stamp_token"].dump() if granted is not None else None))
    return tuple(out)


# --- Revocation: OCSP responses and CRLs for the fixed chain of fuzz.targets (revocation_ca / revocation_leaf) ------


@functools.cache
def ocsp_responses() -> tuple[tuple[str, bytes], ...]:
    """(what it is, DER OCSPResponse) for the fixed leaf, built with cryptography's OCSPResponseBuilder: good (SHA-1
    and SHA-256 CertIDs), revoked with an invalidity date, revoked without a reason, unknown, good and revoked from a
    delegated responder, and a tryLater error. Byte-identical in every run (fixed times, deterministic ECDSA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    from fuzz import targets

    now = targets.REVOCATION_NOW
    good, revoked, unknown = ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED, ocsp.OCSPCertStatus.UNKNOWN
    key_compromise = x509.ReasonFlags.key_compromise
    invalid_since = now - dt.timedelta(days=10)  # after REVOCATION_SIGNING_TIME: a signature made then is OK
    out = [
        ("good", _ocsp_response(good)),
        ("good, SHA-256 CertID", _ocsp_response(good, cert_id_hash=hashes.SHA256())),
        ("revoked, invalidity date", _ocsp_response(revoked, reason=key_compromise, invalidity_date=invalid_since)),
        ("revoked, no reason", _ocsp_response(revoked)),
        ("unknown", _ocsp_response(unknown)),
        ("good, delegated responder", _ocsp_response(good, delegated=True)),
        (
            "revoked, delegated responder, invalidity date",
            _ocsp_response(revoked, reason=key_compromise, invalidity_date=invalid_since, delegated=True),
        ),
    ]
    unsuccessful = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    out.append(("tryLater", unsuccessful.public_bytes(_der_encoding())))
    return tuple(out)


def _der_encoding() -> Encoding:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _ocsp_response(
    status: ocsp.OCSPCertStatus,
    *,
    cert_id_hash: hashes.HashAlgorithm | None = None,
    reason: x509.ReasonFlags | None = None,
    invalidity_date: dt.datetime | None = None,
    delegated: bool = False,
) -> bytes:
    """One response about the fixed leaf, signed by the CA (responder by key hash) or by the delegated responder
    (responder by name, its certificate included)."""
    from asn1crypto import ocsp as aocsp
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    from fuzz import targets

    now = targets.REVOCATION_NOW
    ca, leaf = targets.revocation_ca(), targets.revocation_leaf()
    signer = targets.ocsp_delegate() if delegated else ca
    key = targets.revocation_key("ocsp-delegate" if delegated else "ca")
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=leaf,
        issuer=ca,
        algorithm=cert_id_hash or hashes.SHA1(),  # noqa: S303 - the CertID hash notation's requests use
        cert_status=status,
        this_update=now - dt.timedelta(minutes=5),
        next_update=now + dt.timedelta(hours=1),
        revocation_time=now - dt.timedelta(days=5) if status is ocsp.OCSPCertStatus.REVOKED else None,
        revocation_reason=reason,
    )
    if delegated:
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.NAME, signer).certificates([signer])
    else:
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer)
    der = builder.sign(key, hashes.SHA256()).public_bytes(_der_encoding())

    # The builder stamps producedAt with the clock, signs with a random ECDSA nonce and cannot write a
    # SingleResponse extension (the invalidityDate): fix the first two, add the third, and sign again.
    response = aocsp.OCSPResponse.load(der)
    basic = response["response_bytes"]["response"].parsed
    tbs = aocsp.ResponseData.load(basic["tbs_response_data"].dump())
    tbs["produced_at"] = now - dt.timedelta(minutes=5)
    if invalidity_date is not None:
        single = tbs["responses"][0]
        single["single_extensions"] = [{"extn_id": "invalidity_date", "critical": False, "extn_value": invalidity_date}]
    signed = tbs.dump(force=True)
    fields: dict[str, object] = {
        "tbs_response_data": aocsp.ResponseData.load(signed),
        "signature_algorithm": basic["signature_algorithm"],
        "signature": key.sign(signed, _deterministic_ecdsa()),
    }
    if basic["certs"].native:
        fields["certs"] = basic["certs"]
    response = aocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": aocsp.BasicOCSPResponse(fields)},
        }
    )
    return bytes(response.dump())


def _deterministic_ecdsa() -> ec.ECDSA:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


@functools.cache
def crl_bundles() -> tuple[tuple[str, bytes], ...]:
    """(what it is, base CRL DER optionally followed by its delta CRL DER) for the fixed leaf, built with
    cryptography's CertificateRevocationListBuilder: revoked with an invalidity date, on hold, not listed (with a
    critical issuingDistributionPoint), a base naming a Freshest CRL followed by a delta that releases the hold or
    revokes, and a delta CRL on its own. Byte-identical in every run."""
    from cryptography import x509

    from fuzz import targets

    now = targets.REVOCATION_NOW
    leaf = targets.revocation_leaf().serial_number
    reasons = x509.ReasonFlags
    others: list[_CRLEntry] = [
        (0x1001, reasons.superseded, None),
        (0x1002, None, None),
        (0x1003, reasons.ca_compromise, None),
    ]
    revoked: list[_CRLEntry] = [(leaf, reasons.key_compromise, now - dt.timedelta(days=10))]
    hold: list[_CRLEntry] = [(leaf, reasons.certificate_hold, None)]
    idp = x509.IssuingDistributionPoint(
        [x509.UniformResourceIdentifier(targets.CRL_URL)], None, True, False, None, False, False
    )
    base_with_delta = _crl(5, hold + others, freshest=True)
    return (
        ("revoked, invalidity date", _crl(1, others + revoked)),
        ("on hold", _crl(2, hold)),
        ("not listed, critical IDP", _crl(3, others, extensions=[(idp, True)])),
        ("no entries, no extensions", _crl(None, [])),
        (
            "on hold in the base, removed in the delta",
            base_with_delta + _crl(6, [(leaf, reasons.remove_from_crl, None)], delta_of=5, revoked_at_days=1),
        ),
        ("not listed in the base, revoked in the delta", _crl(7, others, freshest=True) + _crl(8, revoked, delta_of=7)),
        ("delta CRL alone", _crl(6, [(leaf, reasons.remove_from_crl, None)], delta_of=5)),
    )


def _crl(
    number: int | None,
    entries: list[_CRLEntry],
    *,
    delta_of: int | None = None,
    freshest: bool = False,
    extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
    revoked_at_days: int = 3,
) -> bytes:
    """A CRL from the fixed CA; ``entries`` are (serial, reason or None, invalidity date or None), revoked
    ``revoked_at_days`` days before REVOCATION_NOW."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from fuzz import targets

    now = targets.REVOCATION_NOW
    key = targets.revocation_key("ca")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(targets.revocation_ca().subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=7))
    )
    if number is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
        builder = builder.add_extension(x509.CRLNumber(number), False).add_extension(aki, False)
    if delta_of is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(delta_of), True)
    if freshest:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(targets.DELTA_CRL_URL)], None, None, None)
        builder = builder.add_extension(x509.FreshestCRL([point]), False)
    for extension, critical in extensions or []:
        builder = builder.add_extension(extension, critical)
    for serial, reason, invalidity_date in entries:
        entry = x509.RevokedCertificateBuilder().serial_number(serial)
        entry = entry.revocation_date(now - dt.timedelta(days=revoked_at_days))
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), False)
        if invalidity_date is not None:
            entry = entry.add_extension(x509.InvalidityDate(invalidity_date.replace(tzinfo=None)), False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return crl.public_bytes(_der_encoding())
