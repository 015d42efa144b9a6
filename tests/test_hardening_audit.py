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

import base64
import datetime as dt
import json
import logging
import os
import re
import time
import tracemalloc
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from notation._internal.cli.main import main
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
from notation._internal.workflows.verify import verify_artifact
from notation._internal.x509.dn import InvalidDistinguishedNameError, check_trusted_identities, parse_distinguished_name
from notation._internal.x509.keys import thumbprint_sha256
from notation.errors import StoreError, TrustPolicyError
from notation.models import ValidationAction, ValidationType
from registry_support import State, push_image, repo, running
from registry_support.server import INDEX, Handler, Hook, RegistryServer
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
        ([{"name": "a", "registryScopes": ["r.example/*"]}], r'registry scope "r.example/\*" with wild card'),
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


def _attach(layout_path: Path, subject: Descriptor, media_type: str, envelope: bytes, signer: pki.Issued) -> Descriptor:
    """Push ``envelope`` and a signature manifest naming ``subject`` into a layout; the manifest's descriptor."""
    layout = OCILayout.open(layout_path)
    env_desc = Descriptor.for_content(media_type, envelope)
    layout.push_blob(env_desc, envelope)
    thumbprints = [thumbprint_sha256(signer.cert)]
    data, desc = build_signature_manifest(subject, env_desc, signing_time=NOW, thumbprints=thumbprints)
    layout.push_signature_manifest(subject, desc, data)
    return desc


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
    desc = _attach(layout_path, b, media_type, _sign(a, media_type, leaf), leaf)
    layout = OCILayout.open(layout_path)

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


# --- CVE-2023-33958 / GHSA-rvrx-rrwh-r9p6 (ADA-NOT-23-1) and CVE-2023-33957 / GHSA-9m3v-v4r5-ppx7 (ADA-NOT-23-2):
# signature flood and its freeze variant (endless data from a compromised registry), VER-05, REF-01, CLI-53 ----------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _trust_test_key_for(scope: str, tmp_path: Path) -> None:
    """`notation cert generate-test --default test` and a strict policy trusting it for ``scope``."""
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    policy = tmp_path / "registry-policy.json"
    policy.write_bytes(_policy({"name": "reg", "registryScopes": [scope], "trustStores": ["ca:test"]}))
    assert main(["policy", "import", str(policy)]) == 0


def _flood(server: RegistryServer, subject: Descriptor, count: int) -> list[str]:
    """``count`` genuine signatures of ``subject`` by a key nobody trusts, seeded straight into the registry (the
    referrers listing keeps seeding order); their manifest digests."""
    stranger = pki.self_signed_leaf("flood", key_kind="ec256")
    thumbprints = [thumbprint_sha256(stranger.cert)]
    server.put_blob(b"{}")
    digests = []
    for _ in range(count):
        envelope = _sign(subject, JWS_ENVELOPE, stranger)  # ECDSA: every signature differs
        env_desc = Descriptor.for_content(JWS_ENVELOPE, envelope)
        server.put_blob(envelope)
        data, _ = build_signature_manifest(subject, env_desc, signing_time=NOW, thumbprints=thumbprints)
        digests.append(server.put_manifest("app", data, OCI_IMAGE_MANIFEST))
    return digests


def _manifest_gets(server: RegistryServer, digests: list[str]) -> list[str]:
    """The manifests among ``digests`` the client fetched, in request order."""
    wanted = set(digests)
    fetched = [r.path.rsplit("/", 1)[1] for r in server.state.requests if r.method == "GET" and "/manifests/" in r.path]
    return [d for d in fetched if d in wanted]


def test_cve_2023_33958_signature_flood_stops_at_max_signatures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """150 signatures nobody trusts, then a good one: verify evaluates exactly --max-signatures (default 100) and
    fails with Go's message, promptly; it never reaches the 151st. Raising the limit past it verifies (control)."""
    with running(State(page_size=40)) as server:
        subject = push_image(server)
        ref = f"{server.address}/app@{subject.digest}"
        _trust_test_key_for(f"{server.address}/app", tmp_path)
        flood = _flood(server, subject, 150)
        assert main(["sign", "--insecure-registry", ref]) == 0
        capsys.readouterr()

        started = time.monotonic()
        code, out, err = _cli(capsys, "verify", "--insecure-registry", ref)
        elapsed = time.monotonic() - started
        all_failed = f"Error: signature verification failed for all the signatures associated with {ref}\n"
        assert (code, out, err) == (1, "", all_failed)
        assert _manifest_gets(server, flood) == flood[:100]  # in listing order, each once, none past the limit
        referrers_pages = [r for r in server.state.requests if "/referrers/" in r.path]
        assert len(referrers_pages) == 3  # 100 signatures + the one that trips the limit: pages 1..3 of 4
        assert elapsed < 30

        code, _, err = _cli(capsys, "verify", "--insecure-registry", "--max-signatures", "3", ref)
        assert (code, err) == (1, all_failed)  # the good one is 151st
        server.state.requests.clear()
        code, out, _ = _cli(capsys, "verify", "--insecure-registry", "--max-signatures", "151", ref)
        assert (code, out) == (0, f"Successfully verified signature for {ref}\n")
        assert len(_manifest_gets(server, flood)) == 150


def test_cve_2023_33957_ls_and_inspect_examine_at_most_max_signatures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The flood through `notation ls` and `notation inspect`: the first N are shown, Go's warning follows (exit 0),
    and inspect fetches no signature past the limit."""
    with running(State(page_size=40)) as server:
        subject = push_image(server)
        ref = f"{server.address}/app@{subject.digest}"
        flood = _flood(server, subject, 150)
        warning = "Warning: exceeded configured limit of max signatures {} to examine\n"

        code, out, _ = _cli(capsys, "ls", "--insecure-registry", ref)
        assert code == 0 and out.endswith(warning.format(100))
        assert [d for d in flood if d in out] == flood[:100]
        assert _manifest_gets(server, flood) == []  # listing needs no signature manifest

        code, out, _ = _cli(capsys, "inspect", "--insecure-registry", "--max-signatures", "7", "-o", "json", ref)
        assert code == 0 and out.endswith(warning.format(7))
        document = json.loads(out.removesuffix(warning.format(7)))
        assert [s["digest"] for s in document["Signatures"]] == flood[:7]
        assert _manifest_gets(server, flood) == flood[:7]


def _endless_pages(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
    """Referrers pages that each link to a new next page (no signature on any), for 5000 pages: far past any
    sane bound, but finite, so a client without a bound fails this test instead of hanging it."""
    if kind != "referrers":
        return False
    page = int(parse_qs(urlsplit(handler.path).query).get("last", ["0"])[0])
    other = {"mediaType": OCI_IMAGE_MANIFEST, "digest": f"sha256:{page:064x}", "size": 1, "artifactType": "x/y"}
    headers = {"Content-Type": INDEX}
    if page < 5000:
        headers["Link"] = f'</v2/{name}/referrers/{ref}?last={page + 1}>; rel="next"'
    handler.send(200, json.dumps({"schemaVersion": 2, "manifests": [other]}).encode(), headers)
    return True


def _self_link(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
    if kind != "referrers":
        return False
    headers = {"Content-Type": INDEX, "Link": f'<{handler.path}>; rel="next"'}
    handler.send(200, json.dumps({"schemaVersion": 2, "manifests": []}).encode(), headers)
    return True


def _endless_body(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
    if kind != "referrers":
        return False
    handler.endless({"Content-Type": INDEX})
    return True


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("hook", "error"),
    [
        (_endless_pages, "more than 1000 pages"),
        (_self_link, "pagination loops back to /v2/app/referrers/"),
        (_endless_body, f"page larger than {4 * 1024 * 1024} bytes"),
    ],
    ids=["endless-pages", "link-loop", "endless-body"],
)
def test_cve_2023_33958_endless_referrers_listing_ends_verify_with_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hook: Hook, error: str
) -> None:
    """The freeze variant: the registry never finishes the referrers listing. Verify gives up with a clear error
    (CLI-53 form), within a time bound and without reading unboundedly."""
    with running() as server:
        subject = push_image(server)
        ref = f"{server.address}/app@{subject.digest}"
        _trust_test_key_for(f"{server.address}/app", tmp_path)
        capsys.readouterr()
        server.state.hook = hook
        started = time.monotonic()
        tracemalloc.start()
        try:
            code, out, err = _cli(capsys, "verify", "--insecure-registry", ref)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert time.monotonic() - started < 60
        assert (code, out) == (1, "")
        assert err.startswith(f"Error: signature verification failed: referrers of {subject.digest}: {error}")
        assert err.count("\n") == 1
        assert peak < 16 * 1024 * 1024
        assert sum("/referrers/" in r.path for r in server.state.requests) <= 1000


def test_cve_2023_33958_dripping_referrers_page_hits_the_body_deadline(tmp_path: Path) -> None:
    """A referrers page that never ends, one byte at a time: the verify workflow stops at the body deadline."""
    with running() as server:
        subject = push_image(server)

        def drip(handler: Handler, method: str, name: str, kind: str, ref: str) -> bool:
            if kind != "referrers":
                return False
            handler.drip({"Content-Type": INDEX}, interval=0.02)
            return True

        server.state.hook = drip
        statement = _policy({"name": "reg", "registryScopes": [f"{server.address}/app"]})
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"signature verification failed: referrers of \S+: response too slow"):
            verify_artifact(
                repo(server),  # FAST: 2 s body deadline
                subject,
                policy=TrustPolicyDocument.parse(statement),
                trust_store=TrustStore(tmp_path / "truststore"),
                scope=f"{server.address}/app",
            )
        assert time.monotonic() - started < 8


# --- CLI-06 / CLI-34 (ADA-NOT-23-5, credentials in clear text): no secret in any output, -d and -v included ----------

_USER, _PASSWORD, _IDENTITY_TOKEN = "alice", "pw-Zq7!s3cret", "idtok-5b0f1c29e6d84a7c"
_HEADER_VALUE = re.compile(r"Authorization\W{0,3}[:=]\s*[\"']?([^\s\"']*)")


@pytest.mark.parametrize("verbosity", ["-d", "-v"])
@pytest.mark.parametrize("auth", ["basic", "bearer", "identity-token"])
def test_cli06_credentials_never_appear_in_output_or_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path, auth: str, verbosity: str
) -> None:
    """sign, ls, inspect and verify against a registry asking for Basic credentials or Bearer tokens (password
    grant, and the identity-token refresh grant), then with a wrong password and a failing login, all with -d or -v
    and every library logger at DEBUG: the password, the Basic header value and every issued token appear
    nowhere in stdout, stderr or the log records; a logged ``Authorization`` header shows ``*****``."""
    caplog.set_level(logging.DEBUG)
    state = State(auth="bearer" if auth == "identity-token" else auth, users={_USER: _PASSWORD})
    state.refresh_tokens[_IDENTITY_TOKEN] = _USER
    creds = ["-p", _IDENTITY_TOKEN] if auth == "identity-token" else ["-u", _USER, "-p", _PASSWORD]
    wrong = ["-u", _USER, "-p", _PASSWORD + "-wrong"]
    with running(state) as server:
        subject = push_image(server)
        ref = f"{server.address}/app@{subject.digest}"
        _trust_test_key_for(f"{server.address}/app", tmp_path)
        capsys.readouterr()
        flags = [verbosity, "--insecure-registry"]
        outputs: list[str] = []
        for argv, expected in [
            (["sign", *flags, *creds, ref], 0),
            (["ls", *flags, *creds, ref], 0),
            (["inspect", *flags, *creds, ref], 0),
            (["verify", *flags, *creds, ref], 0),
            (["verify", *flags, *wrong, ref], 1),
            (["ls", *flags, *wrong, ref], 1),
            (["login", *flags, *wrong, server.address], 1),
        ]:
            code, out, err = _cli(capsys, *argv)
            assert code == expected, (argv, err)
            outputs += [out, err]
        outputs.append(caplog.text)

    sent = {r.auth for r in state.requests}
    assert sent >= ({"basic"} if auth == "basic" else {"bearer"})  # the secrets did travel, to the registry only
    secrets = [_PASSWORD, _PASSWORD + "-wrong", _IDENTITY_TOKEN, *state.tokens]
    secrets += [base64.b64encode(f"{_USER}:{pw}".encode()).decode() for pw in (_PASSWORD, _PASSWORD + "-wrong")]
    assert len(state.tokens) >= (0 if auth == "basic" else 4)  # bearer tokens were issued: the check has teeth
    text = "\n".join(outputs)
    assert "Successfully verified signature" in text
    for secret in secrets:
        assert secret not in text, f"secret leaked: {secret[:6]}…"
    for value in _HEADER_VALUE.findall(text):
        assert value.strip("\"'") == "*****"


# --- plain-HTTP warnings (notaryproject/notation#623: --plain-http renamed --insecure-registry, help warns) ---------


@pytest.mark.parametrize("command", ["sign", "verify", "list", "inspect", "login"])
def test_notation_623_insecure_registry_help_warns(capsys: pytest.CaptureFixture[str], command: str) -> None:
    """Every command that talks to a registry names the plain-HTTP opt-in as insecure, in Go's words (CLI-32)."""
    code, out, _ = _cli(capsys, command, "--help")
    assert code == 0
    line = next(line for line in out.splitlines() if "--insecure-registry" in line)
    assert line.split("--insecure-registry", 1)[1].strip() == (
        "use HTTP protocol while connecting to registries. Should be used only for testing"
    )


def test_cli32_credentials_never_go_over_plain_http_without_the_opt_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A plain-HTTP registry on a host that is not ``localhost:<port>`` is reached over HTTPS only: without
    --insecure-registry the command fails in one line and the registry never sees a request, let alone the
    password; with the opt-in the same credentials work (so the refusal is about the scheme, not the login)."""
    state = State(auth="basic", users={_USER: _PASSWORD})
    with running(state) as server:
        subject = push_image(server)
        state.requests.clear()
        ref = f"{server.address}/app@{subject.digest}"
        code, out, err = _cli(capsys, "ls", "-u", _USER, "-p", _PASSWORD, ref)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and err.startswith("Error: ") and _PASSWORD not in err
        assert state.requests == []
        code, _, err = _cli(capsys, "ls", "--insecure-registry", "-u", _USER, "-p", _PASSWORD, ref)
        assert code == 0, err
        assert "basic" in {r.auth for r in state.requests}
