"""CLI-06: what `verify -v` and `verify -d` print, as the Go notation's e2e suite looks for it in stderr.

Keyword groups: the debug steps (test/e2e/suite/command/verify.go "with debug log"), the validation failure reasons
at info level (trustpolicy/verification_level.go, trusted_identity.go "with invalid trusted identity"), the logged
(audit/permissive) failures as warnings, and the timestamp-disabled info lines (command/verify.go). Lines are in
logrus' text form (``level=... msg=...``, ``time=`` only under ``-d``) and never a traceback.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from notation._internal.cli.main import main
from notation._internal.oci.layout import write_image
from support.policy import import_policy


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """An OCI layout image signed by the default test key `e2e`, and a strict policy trusting it."""
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    path = str(tmp_path / "app")
    desc = write_image(path, "v1", {"hello.txt": b"hello"})
    assert main(["cert", "generate-test", "--default", "e2e"]) == 0
    import_policy(tmp_path)
    ref = f"{path}@{desc.digest}"
    assert main(["sign", "--oci-layout", ref]) == 0
    capsys.readouterr()
    return ref, desc.digest


def _log_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(("level=", "time="))]


def test_debug_prints_every_verification_step_cli06(
    capsys: pytest.CaptureFixture[str], signed: tuple[str, str]
) -> None:
    ref, digest = signed
    code, out, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-d", ref)
    assert code == 0 and "Successfully verified" in out, err
    for keyword in (
        "Check verification level",
        f"Verify signature against artifact {digest}",
        "Validating cert chain",
        "Validating trust identity",
        "Validating expiry",
        "Validating authentic timestamp",
        "Validating revocation",
        "Timestamp verification disabled: no tsa trust store is configured in trust policy",
    ):
        assert keyword in err, keyword
    # logrus TextFormatter, FullTimestamp under -d, no quoting of msg (DisableQuote)
    first = _log_lines(err)[0]
    assert re.match(
        r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) level=debug msg=Check verification level ", first
    )
    assert "Traceback" not in err


def test_quiet_and_verbose_print_no_debug_steps_cli06(
    capsys: pytest.CaptureFixture[str], signed: tuple[str, str]
) -> None:
    ref, _ = signed
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", ref)
    assert code == 0 and _log_lines(err) == []
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert code == 0
    lines = _log_lines(err)
    assert lines and all(line.startswith("level=info msg=") for line in lines), lines
    assert "Validating cert chain" not in err and "time=" not in err


def test_verbose_names_the_failed_trusted_identity_cli06(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], signed: tuple[str, str]
) -> None:
    ref, _ = signed
    import_policy(tmp_path, trustedIdentities=["x509.subject: CN=someone else,O=Notary,ST=WA,C=US"])
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert code == 1 and "signature verification failed" in err
    assert (
        "level=error msg=authenticity validation failed. Failure reason: signing certificate from the digital "
        "signature does not match the X.509 trusted identities" in err
    )


def test_verbose_names_the_failed_authenticity_and_logged_failures_cli06(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], signed: tuple[str, str]
) -> None:
    ref, _ = signed
    assert main(["cert", "generate-test", "other"]) == 0
    capsys.readouterr()
    import_policy(tmp_path, trustStores=["ca:other"])
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert code == 1 and "level=error msg=authenticity validation failed. Failure reason: " in err

    import_policy(tmp_path, trustStores=["ca:other"], signatureVerification={"level": "audit"})
    code, out, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert code == 0 and "Successfully verified" in out
    assert (
        'level=warning msg=authenticity validation failed with validation action set to "logged". Failure reason: '
        in err
    )
    assert 'Warning: authenticity was set to "log"' in err


def test_verbose_names_the_failed_expiry_cli06(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], signed: tuple[str, str]
) -> None:
    path = str(tmp_path / "expiring")
    desc = write_image(path, "v1", {"a.txt": b"expiring"})
    ref = f"{path}@{desc.digest}"
    assert main(["sign", "--oci-layout", "--expiry", "1s", ref]) == 0
    capsys.readouterr()
    time.sleep(1.2)
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert (
        code == 1 and "level=error msg=expiry validation failed. Failure reason: digital signature has expired" in err
    )
    import_policy(tmp_path, signatureVerification={"level": "permissive"})
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert code == 0
    assert 'level=warning msg=expiry validation failed with validation action set to "logged"' in err
    assert 'expiry was set to "log" and failed with error: digital signature has expired' in err


def _put_blob(layout: Path, data: bytes) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def test_verbose_names_the_failed_integrity_cli06(capsys: pytest.CaptureFixture[str], signed: tuple[str, str]) -> None:
    """A signature whose envelope was altered (and re-stored under its new digest) fails integrity."""
    ref, _ = signed
    layout = Path(ref.split("@")[0])
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        manifest = json.loads((layout / "blobs" / "sha256" / entry["digest"].split(":")[1]).read_text())
        if manifest["config"]["mediaType"] != "application/vnd.cncf.notary.signature":
            continue
        layer = manifest["layers"][0]
        envelope = json.loads((layout / "blobs" / "sha256" / layer["digest"].split(":")[1]).read_bytes())
        sig = envelope["signature"]
        envelope["signature"] = ("A" if sig[0] != "A" else "B") + sig[1:]
        layer["digest"], layer["size"] = _put_blob(layout, json.dumps(envelope).encode())
        entry["digest"], entry["size"] = _put_blob(layout, json.dumps(manifest).encode())
    (layout / "index.json").write_text(json.dumps(index))
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-v", ref)
    assert code == 1 and "signature verification failed" in err
    assert "level=error msg=integrity validation failed. Failure reason: " in err
