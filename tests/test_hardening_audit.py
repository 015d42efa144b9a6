"""Issue 8: the attack cases from the Notary Project audits and advisories that concern the formats layer, one named
test each, citing its source.

Sources: notation-go GHSA-87x9-7grx-m28v / CVE-2023-25656 (``=#`` identities exhausting memory in go-ldap's DN
parser, found by the ADA Logics 2023 audit; fixed by notation-go PR #275); notation-go GHSA-xhg5-42rf-296r /
CVE-2023-33959 (a compromised registry makes the user verify the wrong artifact: descriptor substitution);
notation GHSA-9m3v-v4r5-ppx7 / CVE-2023-33957 and GHSA-rvrx-rrwh-r9p6 / CVE-2023-33958 (unbounded registry
content; here: sizes that lie). The remaining cases are the spec rules the audits checked (TP-13/14, TS-05/06,
MAN-10, EXP-01, VER-32).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from notation._internal.envelope.codec import sign_envelope, verify_integrity
from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.envelope.model import SignRequest
from notation._internal.envelope.payload import build_payload, parse_payload
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.layout import OCILayout, write_image
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD, OCI_IMAGE_MANIFEST
from notation._internal.oci.signature_manifest import build_signature_manifest, parse_signature_manifest
from notation._internal.trust.evaluate import evaluate_trust
from notation._internal.trust.policy import TrustPolicyDocument
from notation._internal.trust.store import TrustStore, TrustStoreLoadError
from notation._internal.x509.dn import InvalidDistinguishedNameError, check_trusted_identities, parse_distinguished_name
from notation._internal.x509.keys import thumbprint_sha256
from notation.errors import StoreError, TrustPolicyError
from notation.models import ValidationAction, ValidationType
from support import pki

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


# --- CVE-2023-25656 / GHSA-87x9-7grx-m28v (ADA Logics 2023): "=#" in distinguished names ---------------------------


@pytest.mark.parametrize(
    "dn",
    ["C=US, ST=WA, O=#0403414243", "C=US, ST=WA, O=Notary, CN=#" + "30" * 5000, "C=US,ST=WA,O=N,1.2.3.4=#0c0161"],
)
def test_cve_2023_25656_hex_encoded_dn_values_are_refused(dn: str) -> None:
    """A trusted identity with a BER-encoded (`=#`) value is refused before any BER is decoded."""
    with pytest.raises(InvalidDistinguishedNameError, match='containing "=#"'):
        parse_distinguished_name(dn)


def test_cve_2023_25656_policy_identity_with_hex_value_fails_authenticity() -> None:
    leaf = pki.self_signed_leaf("dn leaf")
    error = check_trusted_identities("p", ["x509.subject: C=US, ST=WA, O=#0403414243"], leaf.cert)
    assert error is not None and "=#" in error


def test_cve_2023_25656_leaf_subject_rendering_with_hex_value_fails_closed() -> None:
    """A leaf whose subject Go renders with `=#` (an attribute without a short name) never matches."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notary"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b.c"),
        ]
    )
    leaf = pki.self_signed_leaf("x", subject=subject)
    error = check_trusted_identities("p", ["x509.subject: C=US, ST=WA, O=Notary"], leaf.cert)
    assert error is not None and "=#" in error


# --- TP-13 / TP-14 / ID-02: wildcard and overlap errors -----------------------------------------------------------


def _policy(*statements: dict[str, object]) -> bytes:
    base = {
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:s"],
        "trustedIdentities": ["*"],
    }
    return json.dumps({"version": "1.0", "trustPolicies": [{**base, **s} for s in statements]}).encode()


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        ([{"name": "a", "registryScopes": ["*", "r.example/app"]}], "wildcard scope cannot be used in conjunction"),
        (
            [{"name": "a", "registryScopes": ["*"]}, {"name": "b", "registryScopes": ["*"]}],
            "present in multiple trust policy statements",
        ),
        (
            [{"name": "a", "registryScopes": ["r.example/app"]}, {"name": "b", "registryScopes": ["r.example/app"]}],
            "present in multiple trust policy statements",
        ),
        (
            [{"name": "a", "registryScopes": ["r.example/app"]}, {"name": "a", "registryScopes": ["r.example/b"]}],
            "statement names must be unique",
        ),
        ([{"name": "a", "registryScopes": ["r.example/*"]}], ""),
        ([{"name": "a", "registryScopes": []}], "zero registry scopes"),
        (
            [{"name": "a", "registryScopes": ["r.example/app"], "trustedIdentities": ["*", "x509.subject: C=US"]}],
            "wildcard identity cannot be used in conjunction",
        ),
    ],
)
def test_tp13_tp14_wildcard_and_overlap_errors(statements: list[dict[str, object]], message: str) -> None:
    """An ambiguous policy is refused as a whole, never resolved by picking one statement."""
    with pytest.raises(TrustPolicyError, match=message):
        TrustPolicyDocument.parse(_policy(*statements))


def test_tp33_exact_scope_wins_over_wildcard_without_overlap() -> None:
    doc = TrustPolicyDocument.parse(
        _policy({"name": "any", "registryScopes": ["*"]}, {"name": "app", "registryScopes": ["r.example/app"]})
    )
    assert doc.statement_for("r.example/app@sha256:" + "a" * 64).name == "app"
    assert doc.statement_for("r.example/app2@sha256:" + "a" * 64).name == "any"


# --- TS-05 / TS-06 / DISC-T1: symlinked trust store entries ------------------------------------------------------


def _store_with_cert(tmp_path: Path) -> tuple[TrustStore, Path]:
    root = pki.root_ca("Store Root", key_kind="ec256")
    store = TrustStore(tmp_path / "truststore")
    directory = store.store_dir("ca", "s")
    directory.mkdir(parents=True)
    (directory / "root.pem").write_bytes(root.cert_pem())
    return store, directory


def test_ts06_symlinked_certificate_file_is_refused(tmp_path: Path) -> None:
    store, directory = _store_with_cert(tmp_path)
    outside = tmp_path / "outside.pem"
    outside.write_bytes(pki.root_ca("Attacker Root", key_kind="ec256").cert_pem())
    (directory / "link.pem").symlink_to(outside)
    with pytest.raises(TrustStoreLoadError, match="not a regular file"):
        store.certificates("ca", "s")


def test_ts06_dangling_and_directory_entries_are_refused(tmp_path: Path) -> None:
    store, directory = _store_with_cert(tmp_path)
    (directory / "dangling.pem").symlink_to(tmp_path / "missing.pem")
    with pytest.raises(TrustStoreLoadError, match="not a regular file"):
        store.certificates("ca", "s")
    (directory / "dangling.pem").unlink()
    (directory / "sub").mkdir()
    with pytest.raises(TrustStoreLoadError, match="not a regular file"):
        store.certificates("ca", "s")


def test_ts05_symlinked_store_directory_is_refused(tmp_path: Path) -> None:
    store, directory = _store_with_cert(tmp_path)
    (directory.parent / "alias").symlink_to(directory)
    with pytest.raises(TrustStoreLoadError, match="symlinks are not supported"):
        store.certificates("ca", "alias")
    assert store.certificates("ca", "s")  # the real directory still loads


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_ts06_fifo_entry_is_refused_without_blocking(tmp_path: Path) -> None:
    store, directory = _store_with_cert(tmp_path)
    os.mkfifo(directory / "pipe.pem")
    with pytest.raises(TrustStoreLoadError, match="not a regular file"):
        store.certificates("ca", "s")


# --- signing helpers ----------------------------------------------------------------------------------------------


def _sign(target: Descriptor, media_type: str, issued: pki.Issued, **kw: dt.datetime) -> bytes:
    request = SignRequest(
        payload=build_payload(target, media_type),
        payload_content_type=NOTARY_PAYLOAD,
        signing_time=kw.get("signing_time", NOW),
        expiry=kw.get("expiry"),
    )
    return sign_envelope(media_type, request, LocalSigner(issued.key, issued.chain))


# --- CVE-2023-33957/33958 and MAN-10: oversized and lying sizes ---------------------------------------------------


def test_man10_lying_sizes_in_layout_blobs_are_refused(tmp_path: Path) -> None:
    layout = OCILayout.open(tmp_path / "layout", create=True)
    data = b'{"a":1}'
    honest = Descriptor.for_content("application/octet-stream", data)
    layout.push_blob(honest, data)
    assert layout.fetch(honest, 1024) == data
    for size in (0, len(data) - 1, len(data) + 1, 2**62):
        liar = Descriptor(honest.media_type, honest.digest, size)
        with pytest.raises(StoreError):
            layout.fetch(liar, 1024 if size < 2**62 else 2**63)
    with pytest.raises(StoreError, match="too large"):
        layout.fetch(Descriptor(honest.media_type, honest.digest, 2**62), 4 * 1024 * 1024)


def test_man10_signature_manifest_with_huge_envelope_size_is_refused_before_reading(tmp_path: Path) -> None:
    """The manifest may claim any envelope size; the fetch limit applies to the claim, not to the bytes read."""
    subject = Descriptor(OCI_IMAGE_MANIFEST, "sha256:" + "1" * 64, 10)
    envelope = Descriptor(JWS_ENVELOPE, "sha256:" + "2" * 64, 2**62)
    data, desc = build_signature_manifest(subject, envelope, signing_time=NOW, thumbprints=["3" * 64])
    manifest = parse_signature_manifest(data, desc)
    assert manifest.envelope.size == 2**62
    layout = OCILayout.open(tmp_path / "layout", create=True)
    with pytest.raises(StoreError, match="too large"):
        layout.fetch(manifest.envelope, 2 * 1024 * 1024)


@pytest.mark.parametrize("size", [-1, 1.5, "1", True, None])
def test_man10_malformed_sizes_are_refused(size: object) -> None:
    doc = {"mediaType": JWS_ENVELOPE, "digest": "sha256:" + "a" * 64, "size": size}
    with pytest.raises(StoreError, match="invalid size"):
        Descriptor.from_dict(doc)


# --- CVE-2023-33959 / GHSA-xhg5-42rf-296r: descriptor substitution -----------------------------------------------


@pytest.mark.parametrize("media_type", [JWS_ENVELOPE, COSE_ENVELOPE])
def test_cve_2023_33959_signature_moved_to_another_subject_names_its_real_target(
    tmp_path: Path, media_type: str
) -> None:
    """A valid signature of image A attached (by the registry/layout) to image B still says it signed A: the
    payload, not the manifest's subject, is what verification compares with the resolved artifact (VER-32)."""
    layout_path = tmp_path / "layout"
    a = write_image(layout_path, "a", {"a.txt": b"image A"})
    b = write_image(layout_path, "b", {"b.txt": b"image B"})
    assert not a.same_content(b)
    leaf = pki.self_signed_leaf("subst", key_kind="ec256")
    envelope = _sign(a, media_type, leaf)
    layout = OCILayout.open(layout_path)
    env_desc = Descriptor.for_content(media_type, envelope)
    layout.push_blob(env_desc, envelope)
    data, desc = build_signature_manifest(b, env_desc, signing_time=NOW, thumbprints=[thumbprint_sha256(leaf.cert)])
    layout.push_signature_manifest(b, desc, data)

    found = list(layout.list_signatures(layout.resolve("b")))
    assert [d.digest for d in found] == [desc.digest]
    manifest = parse_signature_manifest(layout.fetch(found[0], 4 * 1024 * 1024), found[0])
    assert manifest.subject is not None and manifest.subject.same_content(b)  # the lie is in the manifest
    info = verify_integrity(media_type, layout.fetch(manifest.envelope, 2 * 1024 * 1024))  # the envelope is genuine
    signed_target = parse_payload(info.payload)
    assert signed_target.same_content(a)
    assert not signed_target.same_content(b)  # so VER-32 fails the substitution


def test_cve_2023_33959_payload_descriptor_fields_cannot_be_swapped_without_breaking_the_signature() -> None:
    """Rewriting the signed payload to name the substitute artifact breaks integrity (SIG-31)."""
    a = Descriptor(OCI_IMAGE_MANIFEST, "sha256:" + "a" * 64, 100)
    b = Descriptor(OCI_IMAGE_MANIFEST, "sha256:" + "b" * 64, 100)
    leaf = pki.self_signed_leaf("subst2", key_kind="ec256")
    envelope = _sign(a, JWS_ENVELOPE, leaf)
    from notation._internal.envelope._common import b64url_encode

    doc = json.loads(envelope)
    doc["payload"] = b64url_encode(build_payload(b, JWS_ENVELOPE))
    from notation.errors import SignatureIntegrityError

    with pytest.raises(SignatureIntegrityError, match="signature is invalid"):
        verify_integrity(JWS_ENVELOPE, json.dumps(doc).encode())


# --- EXP-01: rollback of expired signatures ------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", [JWS_ENVELOPE, COSE_ENVELOPE])
def test_exp01_expired_signature_fails_under_strict(tmp_path: Path, media_type: str) -> None:
    """Replaying an old, once-valid signature after its expiry fails strict verification (EXP-01); the signature
    still passes integrity, so only the expiry check stands between the rollback and acceptance."""
    root = pki.root_ca("Rollback Root", key_kind="ec256", not_before=NOW - dt.timedelta(days=30))
    leaf = pki.issue("rollback", key_kind="ec256", issuer=root, not_before=NOW - dt.timedelta(days=30))
    target = Descriptor(OCI_IMAGE_MANIFEST, "sha256:" + "c" * 64, 10)
    signed_at = NOW - dt.timedelta(days=10)
    envelope = _sign(target, media_type, leaf, signing_time=signed_at, expiry=signed_at + dt.timedelta(days=1))
    info = verify_integrity(media_type, envelope)

    store = TrustStore(tmp_path / "truststore")
    store.store_dir("ca", "s").mkdir(parents=True)
    (store.store_dir("ca", "s") / "root.pem").write_bytes(root.cert_pem())
    policy = TrustPolicyDocument.parse(_policy({"name": "p", "registryScopes": ["r.example/app"]}))
    statement = policy.statement_for("r.example/app@" + target.digest)

    results = evaluate_trust(statement, info, store, now=NOW, skip_revocation=True)
    expiry = [r for r in results if r.type is ValidationType.EXPIRY]
    assert expiry and expiry[0].action is ValidationAction.ENFORCE
    assert expiry[0].error is not None and "digital signature has expired" in expiry[0].error
    assert results[-1] is expiry[0]  # enforced: evaluation stops here

    # The same signature evaluated while it was still valid passes the expiry check (the test can fail).
    before = evaluate_trust(statement, info, store, now=signed_at + dt.timedelta(hours=1), skip_revocation=True)
    assert all(r.error is None for r in before if r.type is ValidationType.EXPIRY)
