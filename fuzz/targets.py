"""Fuzz targets for the formats layer (issue 8): one function per parser, each taking raw bytes.

A target feeds the bytes to one parser the way untrusted input reaches it (an envelope blob from a registry, a
trust policy file, a ``--oci-layout`` argument...). The contract under test is the one every security-relevant
reader here promises: bad input raises a :class:`notation.errors.NotationError` subclass with a one-line message,
never any other exception. A target therefore swallows ``NotationError`` and lets everything else escape, so both
drivers (hypothesis in ``tests/test_hardening_fuzz.py``, atheris in ``fuzz/run_atheris.py``) treat an escaping
exception as a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from notation.errors import NotationError

Target = Callable[[bytes], None]


def _text(data: bytes) -> str:
    """Bytes to text the way a command-line argument or JSON string could carry them (lone surrogates included)."""
    return data.decode("utf-8", "surrogateescape")


def jws_envelope(data: bytes) -> None:
    """JWS decoder, then the full integrity check (algorithm, signature, chain rules) on whatever parses."""
    from notation._internal.envelope.codec import parse_envelope, verify_integrity
    from notation._internal.oci.mediatypes import JWS_ENVELOPE

    try:
        parse_envelope(JWS_ENVELOPE, data)
        verify_integrity(JWS_ENVELOPE, data)
    except NotationError:
        pass


def cose_envelope(data: bytes) -> None:
    """COSE_Sign1 decoder and integrity check."""
    from notation._internal.envelope.codec import parse_envelope, verify_integrity
    from notation._internal.oci.mediatypes import COSE_ENVELOPE

    try:
        parse_envelope(COSE_ENVELOPE, data)
        verify_integrity(COSE_ENVELOPE, data)
    except NotationError:
        pass


def cbor(data: bytes) -> None:
    """The strict CBOR reader on its own; its only error is CBORError (a ValueError the COSE codec converts)."""
    from notation._internal.envelope import _cbor

    try:
        value = _cbor.loads(data)
    except _cbor.CBORError:
        return
    # What was read must encode again (the writer is used on decoded protected headers by tests and tools).
    with contextlib.suppress(_cbor.CBORError):
        _cbor.dumps(value)


def payload(data: bytes) -> None:
    """The signed payload (``{"targetArtifact": ...}``), then the descriptor round trip the verifier relies on."""
    from notation._internal.envelope.payload import build_payload, parse_payload
    from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE

    try:
        target = parse_payload(data)
    except NotationError:
        return
    for media_type in (JWS_ENVELOPE, COSE_ENVELOPE):
        if parse_payload(build_payload(target, media_type)) != target:
            raise AssertionError("payload does not survive build/parse")


def signature_manifest(data: bytes) -> None:
    """Signature manifest parser under both manifest media types (first byte picks one, the rest is the body)."""
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.mediatypes import OCI_ARTIFACT_MANIFEST, OCI_IMAGE_MANIFEST
    from notation._internal.oci.signature_manifest import parse_signature_manifest

    media_type = OCI_ARTIFACT_MANIFEST if data[:1] == b"\x01" else OCI_IMAGE_MANIFEST
    body = data[1:] if data[:1] in (b"\x00", b"\x01") else data
    with contextlib.suppress(NotationError):
        parse_signature_manifest(body, Descriptor.for_content(media_type, body))


def trust_policy(data: bytes) -> None:
    """Trust policy loader (decode + validate), then statement selection for a few artifact references."""
    from notation._internal.trust.policy import TrustPolicyDocument

    try:
        doc = TrustPolicyDocument.parse(data)
    except NotationError:
        return
    for ref in ("registry.example/app@sha256:" + "a" * 64, "local/interop@sha256:" + "b" * 64, "x@y", "@"):
        try:
            statement = doc.statement_for(ref)
        except NotationError:
            continue
        _ = statement.trust_stores, statement.verify_timestamp, statement.is_skip
        for validation in statement.actions:
            statement.action(validation)
    _ = doc.warnings


def distinguished_name(data: bytes) -> None:
    """The trusted-identity DN parser (``x509.Subject: ...`` values) and the subset match used against leaves."""
    from notation._internal.x509.dn import is_subset_dn, parse_distinguished_name

    try:
        parsed = parse_distinguished_name(_text(data))
    except NotationError:
        return
    is_subset_dn(parsed, parsed)


def registry_reference(data: bytes) -> None:
    """Registry references (``<registry>/<repository>[:tag|@digest]``) and their string round trip."""
    from notation._internal.oci.reference import parse_reference, parse_repository_reference

    text = _text(data)
    try:
        ref = parse_reference(text)
    except NotationError:
        ref = None
    if ref is not None:
        str(ref)
        _ = ref.host, ref.repository_name, ref.reference
    with contextlib.suppress(NotationError):
        parse_repository_reference(text)


def layout_reference(data: bytes) -> None:
    """``--oci-layout`` references (``<path>@<digest>`` / ``<path>:<tag>``)."""
    from notation._internal.oci.layout import parse_layout_reference

    with contextlib.suppress(NotationError):
        parse_layout_reference(_text(data))


def trust_store_certificate(data: bytes) -> None:
    """A trust store certificate file: PEM/DER reading, then the trust-anchor rules for every store type."""
    from notation._internal.trust.store import parse_certificate_data, validate_trust_anchor
    from notation._internal.x509.chain import subject_dn
    from notation._internal.x509.dn import go_name_string
    from notation._internal.x509.keys import load_certificates, thumbprint_sha256

    try:
        certs = parse_certificate_data(data)
    except NotationError:
        certs = []
    for cert in certs:  # what `notation cert show/ls` and the error messages render
        go_name_string(cert.subject)
        go_name_string(cert.issuer)
        subject_dn(cert)
        thumbprint_sha256(cert)
    for store_type in ("ca", "signingAuthority", "tsa"):
        if certs:
            validate_trust_anchor(certs, store_type)
    with contextlib.suppress(NotationError):
        load_certificates(data)


def signing_chain(data: bytes) -> None:
    """The Notary certificate-chain rules on whatever certificates the bytes hold (CERT-01..12)."""
    from notation._internal.trust.store import parse_certificate_data
    from notation._internal.x509.chain import validate_signing_chain, validate_timestamping_chain

    try:
        certs = parse_certificate_data(data)
    except NotationError:
        return
    if not certs:
        return
    for check in (validate_signing_chain, validate_timestamping_chain):
        with contextlib.suppress(NotationError):
            check(certs)


# --- plugin responses -------------------------------------------------------------------------------------------
# What a plugin prints is untrusted input. The target plays a plugin whose every command printed ``data`` (exit 0),
# or printed it on stderr and failed, and feeds that through the host's real code: Plugin.run's decoding
# (process.parse_output), then each command's consumer as notation calls it. Only Plugin.execute, the one step
# that starts a process, is replaced.

PLUGIN_NAME = "fuzz"
PLUGIN_KEY_ID = "fuzz-key"
PLUGIN_SIGNING_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""The signing time of the sign request (fixed, so a seed's generate-signature answer signs exactly this input)."""
PLUGIN_EXTRA_ATTRIBUTE = "io.example.fuzz.attribute"
"""A critical extended attribute of the signature verify-signature is asked about (the plugin must process it)."""


def plugin_sign_payload() -> bytes:
    """The payload the sign workflow sends to generate-envelope (and signs through generate-signature)."""
    from notation._internal.envelope.payload import build_payload
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.mediatypes import JWS_ENVELOPE

    target = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "c" * 64, 528, {"k": "v"})
    return build_payload(target, JWS_ENVELOPE)


def plugin_sign_request() -> Any:
    """The SignRequest the sign workflow builds for a raw-signing plugin (agent ``<ours> <plugin>/<version>``)."""
    from notation._internal.envelope.model import SignRequest
    from notation._internal.oci.mediatypes import NOTARY_PAYLOAD

    return SignRequest(
        payload=plugin_sign_payload(),
        payload_content_type=NOTARY_PAYLOAD,
        signing_time=PLUGIN_SIGNING_TIME,
        expiry=PLUGIN_SIGNING_TIME + dt.timedelta(days=7),
        signing_agent=f"notation-py/fuzz {PLUGIN_NAME}/1.0.0",
    )


@functools.cache
def _plugin_harness() -> tuple[Any, Any, Any]:
    """(plugin class answering with canned output, metadata with every capability, signature naming the plugin)."""
    from notation._internal.envelope.codec import sign_envelope, verify_integrity
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import (
        HEADER_VERIFICATION_PLUGIN,
        HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
        ExtendedAttribute,
        SignRequest,
    )
    from notation._internal.oci.mediatypes import JWS_ENVELOPE, NOTARY_PAYLOAD
    from notation._internal.plugin import protocol
    from notation._internal.plugin.process import Plugin, PluginOutput

    class CannedPlugin(Plugin):
        """A plugin whose every command left ``output`` behind; nothing is executed."""

        def __init__(self, output: PluginOutput) -> None:
            super().__init__(Path("/nonexistent") / PLUGIN_NAME / f"notation-{PLUGIN_NAME}", PLUGIN_NAME)
            self.output = output

        def execute(self, command: str, stdin: bytes) -> PluginOutput:
            return self.output

    metadata = protocol.PluginMetadata(
        name=PLUGIN_NAME,
        description="fuzz",
        version="1.0.0",
        url="https://example.invalid/fuzz",
        supported_contract_versions=(protocol.CONTRACT_VERSION,),
        capabilities=(
            protocol.CAP_SIGNATURE_GENERATOR_RAW,
            protocol.CAP_SIGNATURE_GENERATOR_ENVELOPE,
            *protocol.VERIFIER_CAPABILITIES,
        ),
    )
    from fuzz.seeds import _self_signed

    key, cert = _self_signed("ec")  # CN=fuzz seed ec: the identity the verify-signature call trusts
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    request = SignRequest(
        payload=plugin_sign_payload(),
        payload_content_type=NOTARY_PAYLOAD,
        signing_time=now,
        extended=(
            ExtendedAttribute(HEADER_VERIFICATION_PLUGIN, PLUGIN_NAME, True),
            ExtendedAttribute(HEADER_VERIFICATION_PLUGIN_MIN_VERSION, "0.1.0", True),
            ExtendedAttribute(PLUGIN_EXTRA_ATTRIBUTE, "value", True),
        ),
    )
    info = verify_integrity(JWS_ENVELOPE, sign_envelope(JWS_ENVELOPE, request, LocalSigner(key, [cert])))
    return CannedPlugin, metadata, info


class _OnePluginManager:
    """The PluginManager surface the verifier uses: ``get(name)``."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin

    def get(self, name: str) -> Any:
        return self.plugin


def plugin_response(data: bytes) -> None:
    """A plugin's output, through Plugin.run's decoding and every consumer: get-plugin-metadata (and the VER-12
    version checks), describe-key + generate-signature (then the envelope built and self-verified from the answer),
    generate-envelope (then the PLG-43 checks), verify-signature (then the verdict mapping)."""
    from notation._internal.envelope.codec import sign_envelope, verify_integrity
    from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD
    from notation._internal.plugin.process import PluginOutput
    from notation._internal.plugin.protocol import CMD_GENERATE_SIGNATURE
    from notation._internal.plugin.signer import PluginEnvelopeGenerator, PluginSigner
    from notation._internal.plugin.verifier import (
        ResolvedVerificationPlugin,
        resolve_verification_plugin,
        run_plugin_verification,
    )
    from notation.errors import PluginError
    from notation.models import ValidationAction

    canned_plugin, metadata, info = _plugin_harness()

    # A failed command: whatever is on stderr, the host raises a PluginError (never returns, never crashes).
    try:
        canned_plugin(PluginOutput(1, data, data)).run(CMD_GENERATE_SIGNATURE, {})
    except PluginError:
        pass
    else:
        raise AssertionError("a failed plugin command produced a response")

    plugin = canned_plugin(PluginOutput(0, data, b""))
    with contextlib.suppress(NotationError):
        plugin.metadata({"k": "v"})
    with contextlib.suppress(NotationError):
        resolve_verification_plugin(info, _OnePluginManager(plugin))

    signer = PluginSigner(plugin, metadata, PLUGIN_KEY_ID)
    for media_type in (JWS_ENVELOPE, COSE_ENVELOPE):
        with contextlib.suppress(NotationError):
            sign_envelope(media_type, plugin_sign_request(), signer)

    generator = PluginEnvelopeGenerator(plugin, metadata, PLUGIN_KEY_ID)
    payload = plugin_sign_payload()
    for media_type in (JWS_ENVELOPE, COSE_ENVELOPE):
        try:
            envelope, _ = generator.generate_envelope(payload, NOTARY_PAYLOAD, media_type, None)
            generator.check_generated_envelope(verify_integrity(media_type, envelope), payload)
        except NotationError:
            continue

    resolved = ResolvedVerificationPlugin(plugin, metadata)
    for authenticity, revocation in (
        (ValidationAction.ENFORCE, ValidationAction.ENFORCE),
        (ValidationAction.LOG, ValidationAction.SKIP),
    ):
        with contextlib.suppress(NotationError):
            run_plugin_verification(
                resolved,
                info,
                trusted_identities=["x509.subject: C=US, ST=WA, O=Notary, CN=fuzz seed ec"],
                authenticity_action=authenticity,
                revocation_action=revocation,
                plugin_config={"k": "v"},
            )


# --- RFC 3161 timestamps ----------------------------------------------------------------------------------------
# The TSA's answer at signing time (a TimeStampResp) and the token stored in a signature (a TimeStampToken, CMS
# SignedData) are untrusted. Both go through parsing and every check the signer, the verifier and inspect make,
# against a TSA root whose key is derived from a constant, so seeds made by any run chain to it.

TSA_SIGNATURE = b"notation-py fuzz: the primitive signature bytes the seed timestamps cover"
TSA_NONCE = 0x5EED5EED
TSA_VALIDITY = (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2050, 1, 1, tzinfo=dt.UTC))


@functools.cache
def tsa_root_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    secret = int.from_bytes(hashlib.sha384(b"notation-py fuzz TSA root").digest(), "big")
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
    return ec.derive_private_key(secret % (order - 1) + 1, ec.SECP384R1())


@functools.cache
def tsa_root() -> Any:
    """The TSA trust anchor (a self-signed CA; same name and key in every run)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = tsa_root_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notary"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Fuzz TSA Root"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5EED)
        .not_valid_before(TSA_VALIDITY[0])
        .not_valid_after(TSA_VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )


def _timestamp_checks(token: bytes) -> None:
    from notation._internal.timestamp.client import check_response_token
    from notation._internal.timestamp.verify import verify_authentic_timestamp
    from notation._internal.workflows.inspect import _default_timestamp_parser

    root = tsa_root()
    # inspect: never raises, a bad token is a displayed error
    _default_timestamp_parser(token, TSA_SIGNATURE)
    # signing: the fresh token answers our request (imprint, nonce), verifies and chains to --timestamp-root-cert
    with contextlib.suppress(NotationError):
        check_response_token(token, "sha256", hashlib.sha256(TSA_SIGNATURE).digest(), TSA_NONCE, root)
    # verification: the authentic-timestamp step (revocation of the TSA chain needs a network: off)
    with contextlib.suppress(NotationError):
        verify_authentic_timestamp(
            token, TSA_SIGNATURE, [root], lambda: [root], now=dt.datetime.now(dt.UTC), check_revocation=False
        )


def timestamp_response(data: bytes) -> None:
    """A TSA's TimeStampResp: status and token extraction, then the token checks."""
    from notation._internal.timestamp.client import parse_timestamp_response

    try:
        token = parse_timestamp_response(data)
    except NotationError:
        return
    _timestamp_checks(token)


def timestamp_token(data: bytes) -> None:
    """A stored TimeStampToken (CMS SignedData with TSTInfo): inspect, the signer's checks, the verifier's."""
    _timestamp_checks(data)


# --- Revocation: OCSP responses and CRLs --------------------------------------------------------------------------
# What an OCSP responder or a CRL distribution point answers is untrusted. Both are checked for one fixed leaf under
# one fixed CA (keys derived from constants, certificates signed deterministically), at a fixed time, so a seed or
# a crashing input made by any run replays the same way in every later one.

REVOCATION_NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
"""The verification time of the revocation targets (the seeds are fresh at it)."""
REVOCATION_SIGNING_TIME = REVOCATION_NOW - dt.timedelta(days=30)
"""A signing time before the seeds' invalidity dates: a revoked answer with one of those reads as OK."""
REVOCATION_VALIDITY = (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2050, 1, 1, tzinfo=dt.UTC))
OCSP_URL = "http://ocsp.fuzz.invalid"
CRL_URL = "http://crl.fuzz.invalid/ca.crl"
DELTA_CRL_URL = "http://crl.fuzz.invalid/ca-delta.crl"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@functools.cache
def revocation_key(role: str) -> Any:
    """The EC P-256 key of ``role`` (ca, leaf, ocsp-delegate): the same in every run."""
    from cryptography.hazmat.primitives.asymmetric import ec

    secret = int.from_bytes(hashlib.sha256(f"notation-py fuzz revocation {role}".encode()).digest(), "big")
    return ec.derive_private_key(secret % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _revocation_cert(role: str, cn: str, serial: int, extensions: list[tuple[Any, bool]]) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notary"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )

    ca_key = revocation_key("ca")
    key = revocation_key(role)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name("Fuzz Revocation CA"))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(REVOCATION_VALIDITY[0])
        .not_valid_after(REVOCATION_VALIDITY[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if role != "ca":
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
        builder = builder.add_extension(aki, critical=False)
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(ca_key, hashes.SHA256(), ecdsa_deterministic=True)


@functools.cache
def revocation_ca() -> Any:
    """The issuer of the revocation targets: a self-signed CA that may sign certificates and CRLs."""
    from cryptography import x509

    return _revocation_cert(
        "ca",
        "Fuzz Revocation CA",
        0xCA,
        [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (x509.KeyUsage(True, False, False, False, False, True, True, False, False), True),
        ],
    )


@functools.cache
def revocation_leaf() -> Any:
    """The certificate whose status the OCSP and CRL targets ask (AIA names OCSP_URL, its CDP CRL_URL)."""
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

    ocsp = x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(OCSP_URL))
    cdp = x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)
    return _revocation_cert(
        "leaf",
        "Fuzz Revocation Leaf",
        0x1EAF,
        [
            (x509.KeyUsage(True, False, False, False, False, False, False, False, False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False),
            (x509.AuthorityInformationAccess([ocsp]), False),
            (x509.CRLDistributionPoints([cdp]), False),
        ],
    )


@functools.cache
def ocsp_delegate() -> Any:
    """A delegated OCSP responder certificate the CA issued (id-kp-OCSPSigning)."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    return _revocation_cert(
        "ocsp-delegate",
        "Fuzz Delegated OCSP Responder",
        0x0C5B,
        [
            (x509.KeyUsage(True, False, False, False, False, False, False, False, False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False),
        ],
    )


def ocsp_response(data: bytes) -> None:
    """One OCSP response for the fixed leaf: parsing, CertID match, signature (by the CA or a delegated responder),
    freshness and the verdict; a revoked verdict again with a signing time (the invalidity-date rule)."""
    from notation._internal.revocation import ocsp
    from notation._internal.revocation.model import Status

    leaf, ca = revocation_leaf(), revocation_ca()
    try:
        status = ocsp._evaluate(data, leaf, ca, signing_time=None, now=REVOCATION_NOW)
    except ocsp._OCSPFailure:
        return
    if status is Status.REVOKED:
        with contextlib.suppress(ocsp._OCSPFailure):
            ocsp._evaluate(data, leaf, ca, signing_time=REVOCATION_SIGNING_TIME, now=REVOCATION_NOW)


def split_crl_bundle(data: bytes) -> tuple[bytes, bytes | None]:
    """(base CRL, delta CRL or None): the first DER element of ``data`` and whatever follows it."""
    if len(data) < 2:
        return data, None
    first = data[1]
    if first < 0x80:
        end = 2 + first
    elif 0x81 <= first <= 0x84 and len(data) >= 2 + (first & 0x7F):
        count = first & 0x7F
        end = 2 + count + int.from_bytes(data[2 : 2 + count], "big")
    else:
        return data, None
    if end >= len(data):
        return data, None
    return data[:end], data[end:]


class _CannedBody:
    """``Response.raw`` as revocation.http reads it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def read1(self, size: int, decode_content: bool = False) -> bytes:
        chunk, self.body = self.body[:size], self.body[size:]
        return chunk


class _CannedResponse:
    def __init__(self, body: bytes | None) -> None:
        self.status_code = 404 if body is None else 200
        self.reason = "Not Found" if body is None else "OK"
        self.headers: dict[str, str] = {"Content-Type": "application/pkix-crl"}
        self.raw = _CannedBody(body or b"")

    def close(self) -> None:
        pass


class _CannedCRLSession:
    """The requests.Session surface revocation.http uses: CRL_URL serves the base CRL, any other URL (a Freshest
    CRL location the base names) the delta, or 404 without one."""

    def __init__(self, base: bytes, delta: bytes | None) -> None:
        self.base = base
        self.delta = delta

    def request(self, method: str, url: str, **kwargs: Any) -> _CannedResponse:
        return _CannedResponse(self.base if url == CRL_URL else self.delta)


def crl(data: bytes) -> None:
    """A base CRL optionally followed by its delta CRL: the download path (crl.check: parse, Freshest CRL, issuer
    signature and freshness, delta rules, lookup), the cache path (_parse_bundle), and the lookup rules on whatever
    parses, signed or not (a CA can sign any entry; the signature check would hide them from mutation)."""
    from notation._internal.revocation import crl as rcrl
    from notation._internal.revocation.cache import Bundle

    leaf, ca = revocation_leaf(), revocation_ca()
    base_der, delta_der = split_crl_bundle(data)
    rcrl.check(
        leaf,
        ca,
        signing_time=None,
        now=REVOCATION_NOW,
        timeout=10.0,
        cache=None,
        session=_CannedCRLSession(base_der, delta_der),
    )  # reports every failure as an Unknown server result, raises nothing
    with contextlib.suppress(rcrl._CRLFailure):
        rcrl._parse_bundle(Bundle(base_der, delta_der), ca, now=REVOCATION_NOW)
    try:
        base = rcrl._load(base_der)
        delta = rcrl._load(delta_der) if delta_der is not None else None
    except rcrl._CRLFailure:
        return
    for signing_time in (None, REVOCATION_SIGNING_TIME):
        with contextlib.suppress(rcrl._CRLFailure):
            rcrl._lookup(leaf, base, delta, signing_time=signing_time)


TARGETS: dict[str, Target] = {
    "jws": jws_envelope,
    "cose": cose_envelope,
    "cbor": cbor,
    "payload": payload,
    "signature_manifest": signature_manifest,
    "trust_policy": trust_policy,
    "dn": distinguished_name,
    "reference": registry_reference,
    "layout_reference": layout_reference,
    "trust_store_cert": trust_store_certificate,
    "signing_chain": signing_chain,
    "plugin_response": plugin_response,
    "timestamp_response": timestamp_response,
    "timestamp_token": timestamp_token,
    "ocsp_response": ocsp_response,
    "crl": crl,
}
"""Target name -> function, as ``fuzz/run_atheris.py`` and the hypothesis tests select them."""
