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
from collections.abc import Callable

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
}
"""Target name -> function, as ``fuzz/run_atheris.py`` and the hypothesis tests select them."""
