"""notation-py extensions (issue 7): many references per call, JSON reports, multi-arch signing and verification.

Against the in-test registry on 127.0.0.1 (tests/registry_support). The Go-compatible single-reference output is
checked to stay exactly as it was (CLI-52).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from extensions_support import PLATFORMS, push_index, schema, setup_trust, validate
from notation._internal.cli.main import main
from registry_support import State, push_image, running

INSECURE = "--insecure-registry"


@pytest.fixture(autouse=True)
def _server_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Server threads must not print into captured stderr; an idle keep-alive reset is normal."""
    import socketserver

    failures: list[BaseException] = []

    def handle_error(self: object, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            failures.append(exc)

    monkeypatch.setattr(socketserver.BaseServer, "handle_error", handle_error)
    yield
    assert failures == []


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sign_and_verify_many_references_one_line_each_cli52(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    setup_trust(tmp_path)
    with running() as server:
        descs = [push_image(server, "app", tag=f"v{i}", layer=f"layer {i}".encode()) for i in range(3)]
        unsigned = push_image(server, "app", tag="unsigned", layer=b"unsigned")
        refs = [f"{server.address}/app@{d.digest}" for d in descs]
        capsys.readouterr()
        code, out, err = run(capsys, "sign", INSECURE, "--parallel", "3", *refs)
        assert (code, err) == (0, "")
        assert out == "".join(f"Successfully signed {r}\n" for r in refs) + "3 references: 3 signed, 0 failed\n"

        # one reference, no new flag: exactly the Go output (CLI-52)
        assert run(capsys, "verify", INSECURE, refs[0]) == (0, f"Successfully verified signature for {refs[0]}\n", "")

        bad = f"{server.address}/app@{unsigned.digest}"
        code, out, err = run(capsys, "verify", INSECURE, *refs, bad, "nginx:1", f"{server.address}/app:v1")
        assert code == 1
        lines = out.splitlines()
        assert lines[:3] == [f"Successfully verified signature for {r}" for r in refs]
        assert lines[3] == (
            f'Failed to verify {bad}: signature verification failed: no signature is associated with "{bad}", '
            "make sure the artifact was signed successfully"
        )
        assert lines[4].startswith("Failed to verify nginx:1: ") and "invalid reference" in lines[4]
        assert lines[5] == f"Successfully verified signature for {refs[1]}"  # v1 resolves to the second image
        assert lines[6] == "6 references: 4 verified, 0 skipped, 2 failed" and len(lines) == 7
        assert "rather than a tag(:v1)" in err  # the tag warning, as for one reference


def test_many_references_share_one_client_tokens_cli09(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """One RegistryClient for the command: one token exchange serves every reference of a repository."""
    setup_trust(tmp_path)
    state = State(auth="bearer", users={"alice": "s3cret"})
    with running(state) as server:
        descs = [push_image(server, "app", tag=f"v{i}", layer=f"l{i}".encode()) for i in range(4)]
        refs = [f"{server.address}/app@{d.digest}" for d in descs]
        creds = ("-u", "alice", "-p", "s3cret", INSECURE)
        assert run(capsys, "sign", *creds, "--parallel", "1", *refs)[0] == 0
        state.token_requests.clear()
        before = len(state.requests)
        code, out, _ = run(capsys, "verify", *creds, "--parallel", "1", *refs)
        assert code == 0 and out.endswith("4 references: 4 verified, 0 skipped, 0 failed\n")
        assert len(state.token_requests) == 1
        # per reference: HEAD, referrers, signature manifest, envelope -- no repeated resolve (workflow takes the
        # resolved descriptor), plus the one challenge round trip and the token request
        assert len(state.requests) - before <= 4 * 4 + 2


def test_verify_json_report_matches_schema(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    setup_trust(tmp_path)
    with running() as server:
        good = push_image(server, "app", tag="good", layer=b"good")
        unsigned = push_image(server, "app", tag="unsigned", layer=b"unsigned")
        good_ref = f"{server.address}/app@{good.digest}"
        assert main(["sign", INSECURE, "-m", "team=blue", good_ref]) == 0
        capsys.readouterr()
        bad_ref = f"{server.address}/app@{unsigned.digest}"
        code, out, err = run(capsys, "verify", INSECURE, "-o", "json", good_ref, bad_ref)
        assert code == 1 and err == ""
        doc = json.loads(out)
        validate(doc, schema("verify-output.schema.json"))
        assert doc["summary"] == {"total": 2, "verified": 1, "skipped": 0, "failed": 1}
        first, second = doc["references"]
        assert (first["reference"], first["digest"], first["result"]) == (good_ref, good.digest, "verified")
        assert first["policy"] == {"name": "reg", "level": "strict"}
        sig = first["signatures"][0]
        assert sig["result"] == "passed" and sig["signer"].startswith("CN=test") and sig["signingTime"]
        assert sig["userMetadata"] == {"team": "blue"} and sig["cached"] is False
        verdicts = {v["type"]: (v["action"], v["result"]) for v in sig["validations"]}
        assert verdicts == {
            "integrity": ("enforce", "passed"),
            "authenticity": ("enforce", "passed"),
            "authenticTimestamp": ("enforce", "passed"),
            "expiry": ("enforce", "passed"),
            "revocation": ("enforce", "passed"),
        }
        assert second["result"] == "failed" and "no signature is associated" in second["error"]
        assert second["signatures"] == []

        # a single reference with -o json has the same shape (one entry)
        code, out, _ = run(capsys, "verify", INSECURE, "-o", "json", good_ref)
        assert code == 0
        validate(json.loads(out), schema("verify-output.schema.json"))

        code, out, _ = run(capsys, "ls", INSECURE, "-o", "json", good_ref)
        listed = json.loads(out)
        validate(listed, schema("list-output.schema.json"))
        assert code == 0 and listed["digest"] == good.digest and len(listed["signatures"]) == 1
        assert listed["signatures"][0]["digest"] == sig["digest"]


def test_verify_json_failed_signature_has_verdicts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A signature by an untrusted key: the report still shows who signed and which validation failed."""
    setup_trust(tmp_path)
    with running() as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["cert", "generate-test", "stranger"]) == 0
        assert main(["sign", INSECURE, "--key", "stranger", ref]) == 0
        capsys.readouterr()
        code, out, _ = run(capsys, "verify", INSECURE, "-o", "json", ref)
        doc = json.loads(out)
        validate(doc, schema("verify-output.schema.json"))
        sig = doc["references"][0]["signatures"][0]
        assert code == 1 and sig["result"] == "failed" and sig["signer"].startswith("CN=stranger")
        verdicts = {v["type"]: v["result"] for v in sig["validations"]}
        assert verdicts["integrity"] == "passed" and verdicts["authenticity"] == "failed"
        assert verdicts["expiry"] == "notEvaluated"


def test_sign_recursive_index_and_verify_every_platform(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    setup_trust(tmp_path)
    with running() as server:
        index, children = push_index(server, "app")
        index_ref = f"{server.address}/app@{index.digest}"
        capsys.readouterr()
        code, out, _ = run(capsys, "sign", INSECURE, "--recursive", index_ref)
        assert code == 0
        assert out.splitlines() == [
            *(
                f"Successfully signed {server.address}/app@{c.digest} ({p})"
                for c, p in zip(children, PLATFORMS, strict=True)
            ),
            f"Successfully signed {index_ref}",
            "1 reference: 1 signed, 0 failed",
        ]
        for child in children:  # platform by platform, on the Go-compatible path
            child_ref = f"{server.address}/app@{child.digest}"
            assert run(capsys, "verify", INSECURE, child_ref)[:2] == (
                0,
                f"Successfully verified signature for {child_ref}\n",
            )
        code, out, _ = run(capsys, "verify", INSECURE, "--require-all-platforms", "-o", "json", index_ref)
        doc = json.loads(out)
        validate(doc, schema("verify-output.schema.json"))
        top = doc["references"][0]
        assert code == 0 and top["result"] == "verified"
        assert [(p["platform"], p["digest"], p["result"]) for p in top["platforms"]] == [
            (p, c.digest, "verified") for p, c in zip(PLATFORMS, children, strict=True)
        ]

        # an index signed without --recursive: fine alone, refused when every platform is required
        other, _ = push_index(server, "other", salt="other")
        other_ref = f"{server.address}/other@{other.digest}"
        assert main(["sign", INSECURE, other_ref]) == 0
        capsys.readouterr()
        assert run(capsys, "verify", INSECURE, other_ref)[0] == 0
        code, out, _ = run(capsys, "verify", INSECURE, "--require-all-platforms", other_ref)
        lines = out.splitlines()
        assert code == 1
        assert lines[0] == f"Successfully verified signature for {other_ref}"
        assert all(line.startswith("Failed to verify ") for line in lines[1:4])
        assert lines[4] == (
            f"Failed to verify {other_ref}: 3 of 3 platform manifests of {other_ref} failed verification"
        )
        assert lines[5] == "1 reference: 0 verified, 0 skipped, 1 failed"


def test_parallel_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    setup_trust(tmp_path)
    capsys.readouterr()
    code, _, err = run(capsys, "verify", "--parallel", "0", "a.io/x@sha256:" + "0" * 64)
    assert (code, err) == (1, "Error: parallel value 0 must be between 1 and 64\n")
    code, _, err = run(capsys, "verify", "-o", "yaml", "a.io/x@sha256:" + "0" * 64)
    assert (code, err) == (1, "Error: unrecognized output format yaml\n")


def test_sign_batch_slot_is_lent_while_a_reference_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--parallel 1`` bounds the references at work, not those waiting (the tag-schema settle): while one pauses,
    another takes its slot; it takes a slot back before it goes on. A thread without a slot just sleeps."""
    import threading

    from notation._internal.cli import batch

    gate = threading.Event()
    monkeypatch.setattr(batch.time, "sleep", lambda seconds: gate.wait(30))
    slots = batch.Slots(1)
    events: list[str] = []
    paused = threading.Event()

    def waiter() -> None:
        with slots.held():
            events.append("waiter works")
            paused.set()
            slots.pause(1.0)
            events.append("waiter goes on")

    thread = threading.Thread(target=waiter)
    thread.start()
    assert paused.wait(30)
    with slots.held():  # only free because the waiter lent it
        events.append("other works")
        gate.set()
        thread.join(0.2)
        assert thread.is_alive()  # it waits for the slot back
    thread.join(30)
    assert events == ["waiter works", "other works", "waiter goes on"]
    slots.pause(0.0)  # no slot held: a plain sleep, nothing released (a BoundedSemaphore would raise)
