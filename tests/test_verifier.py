"""notation.Verifier: the long-lived verifier (issue 14's library part, issue 15's connection reuse).

Against the in-test registry on 127.0.0.1 (tests/registry_support) and an OCI layout on disk; the images are signed
with the CLI, as a user does, and verified through the public API. The verdicts must be the CLI's (VER-02..05,
CLI-31, CLI-32, CLI-35).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

import notation
from extensions_support import import_policy, setup_trust
from notation._internal.cli.main import main
from notation._internal.oci.layout import write_image
from notation.errors import NotationError, TrustPolicyError, VerificationError
from registry_support import State, push_image, running

INSECURE = "--insecure-registry"


def config_dir() -> Path:
    return Path(os.environ["NOTATION_CONFIG"])


def test_ver02_verify_many_ordered_with_resolved_digests_and_typed_errors(tmp_path: Path) -> None:
    setup_trust(tmp_path)
    with running() as server:
        descs = [push_image(server, "app", tag=f"v{i}", layer=f"layer {i}".encode()) for i in range(3)]
        unsigned = push_image(server, "app", tag="unsigned", layer=b"unsigned")
        refs = [f"{server.address}/app@{d.digest}" for d in descs]
        assert main(["sign", INSECURE, *refs]) == 0
        bad = f"{server.address}/app@{unsigned.digest}"
        tag = f"{server.address}/app:v1"
        with notation.Verifier(config_dir=config_dir(), insecure_registries=[server.address]) as verifier:
            results = verifier.verify_many([*refs, bad, "Not A Reference", tag])
            assert [r.reference for r in results] == [*refs, bad, "Not A Reference", tag]
            assert [r.ok for r in results] == [True, True, True, False, False, True]
            assert [r.digest for r in results] == [d.digest for d in descs] + [unsigned.digest, None, descs[1].digest]
            for result, desc in zip(results[:3], descs, strict=True):
                assert result.outcome is not None and result.outcome.subject == desc
                assert result.outcome.verified is not None and result.error is None
            assert isinstance(results[3].error, VerificationError)
            assert results[3].error.message == (
                f'signature verification failed: no signature is associated with "{bad}", '
                "make sure the artifact was signed successfully"
            )
            assert isinstance(results[4].error, NotationError) and results[4].outcome is None
            assert any("rather than a tag(:v1)" in w for w in results[5].warnings)  # CLI-31

            # verify() raises the same typed error; a tag's outcome names the digest it resolved to
            with pytest.raises(VerificationError, match="no signature is associated"):
                verifier.verify(bad)
            outcome = verifier.verify(tag)
            assert outcome.subject.digest == descs[1].digest
            assert outcome.reference == f"{server.address}/app@{descs[1].digest}"
            assert verifier.resolve(tag) == descs[1]


def test_cli35_connections_and_tokens_shared_across_calls_and_threads(tmp_path: Path) -> None:
    """One token exchange for the repository, whatever the number of calls and threads; credentials from a docker
    config.json given as ``registry_config`` (an imagePullSecret's ``.dockerconfigjson``)."""
    setup_trust(tmp_path)
    state = State(auth="bearer", users={"alice": "s3cret"})
    with running(state) as server:
        descs = [push_image(server, "app", tag=f"v{i}", layer=f"layer {i}".encode()) for i in range(6)]
        refs = [f"{server.address}/app@{d.digest}" for d in descs]
        assert main(["sign", INSECURE, "-u", "alice", "-p", "s3cret", *refs]) == 0
        docker_config = tmp_path / "pull-secret.json"
        auth = base64.b64encode(b"alice:s3cret").decode()
        docker_config.write_text(json.dumps({"auths": {server.address: {"auth": auth}}}))
        state.token_requests.clear()
        with notation.Verifier(
            config_dir=config_dir(), registry_config=docker_config, insecure_registries=[server.address], max_workers=3
        ) as verifier:
            assert all(r.ok for r in verifier.verify_many(refs))
            assert all(r.ok for r in verifier.verify_many(refs, parallel=4))
            verifier.verify(refs[0])
            assert len(state.token_requests) == 1
            assert verifier.request_count > 0

        # no credentials: the registry refuses, as a typed error per reference
        with notation.Verifier(config_dir=config_dir(), insecure_registries=[server.address]) as anonymous:
            result = anonymous.verify_many(refs[:1])[0]
            assert not result.ok and isinstance(result.error, NotationError)


def test_cli32_plain_http_only_for_named_registries(tmp_path: Path) -> None:
    setup_trust(tmp_path)
    with running() as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["sign", INSECURE, ref]) == 0
        verifier = notation.Verifier(config_dir=config_dir(), timeout=2.0)  # HTTPS to a plain HTTP server
        with verifier, pytest.raises(NotationError):
            verifier.verify(ref)
        assert notation.verify(ref, insecure_registry=True).subject == desc  # the one-shot front end


def test_tp01_reload_keeps_old_material_on_a_broken_policy(tmp_path: Path) -> None:
    setup_trust(tmp_path)
    with running() as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["sign", INSECURE, ref]) == 0
        verifier = notation.Verifier(config_dir=config_dir(), insecure_registries=[server.address])
        with verifier:
            before = verifier.trust_fingerprint
            assert len(before) == 64
            verifier.verify(ref)

            (config_dir() / "trustpolicy.json").write_text("{ not json")
            with pytest.raises(TrustPolicyError, match="malformed trust policy"):
                verifier.reload()
            assert verifier.trust_fingerprint == before
            verifier.verify(ref)  # still the last good policy

            import_policy(tmp_path, scope="other.example/app")  # a valid policy that no longer covers the image
            verifier.reload()
            assert verifier.trust_fingerprint != before
            with pytest.raises(VerificationError, match=r"artifact .* has no applicable trust policy"):
                verifier.verify(ref)

            import_policy(tmp_path)  # the first policy again: the same fingerprint
            verifier.reload()
            assert verifier.trust_fingerprint == before
            # a new certificate in the trust store changes the fingerprint (cache keys move with it)
            store = config_dir() / "truststore" / "x509" / "ca" / "test"
            extra = next(store.iterdir()).read_bytes()
            (store / "copy.pem").write_bytes(extra)
            verifier.reload()
            assert verifier.trust_fingerprint != before
            verifier.verify(ref)
        with pytest.raises(NotationError, match="closed"):
            verifier.verify(ref)


def test_ver02_oci_layout_and_explicit_policy_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    setup_trust(tmp_path)
    root = tmp_path / "layout"
    subject = write_image(root, "v1", {"app/message.txt": b"hello\n"})
    assert main(["sign", "--oci-layout", f"{root}:v1"]) == 0
    policy = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "layout",
                "registryScopes": ["local/app"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:test"],
                "trustedIdentities": ["*"],
            }
        ],
    }
    verifier = notation.Verifier(trust_policy=json.dumps(policy).encode(), trust_store_dir=config_dir() / "truststore")
    with verifier:
        outcome = verifier.verify(f"{root}@{subject.digest}", oci_layout=True, scope="local/app")
        assert outcome.subject == subject and outcome.policy_name == "layout"
        with pytest.raises(VerificationError, match="scope is required"):
            verifier.verify(f"{root}:v1", oci_layout=True)
        with pytest.raises(VerificationError, match="no applicable trust policy"):
            verifier.verify(f"{root}:v1", oci_layout=True, scope="local/other")
        with pytest.raises(VerificationError, match="failed for all the signatures"):  # VER-33
            verifier.verify(f"{root}:v1", oci_layout=True, scope="local/app", user_metadata={"k": "v"})
    with pytest.raises(TrustPolicyError):
        notation.Verifier(trust_policy=b'{"version": "1.0", "trustPolicies": []}')


def test_verify_document_is_the_cli_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_trust(tmp_path)
    with running() as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["sign", INSECURE, ref]) == 0
        with notation.Verifier(config_dir=config_dir(), insecure_registries=[server.address]) as verifier:
            doc = verifier.verify_document([ref])
        capsys.readouterr()
        assert main(["verify", INSECURE, "-o", "json", ref]) == 0
        assert json.loads(capsys.readouterr().out) == doc
        assert doc["summary"] == {"total": 1, "verified": 1, "skipped": 0, "failed": 0}
