"""Signatures made by the Go notation v1.3.2 (../shared/interop) through our CLI: each case's `expect` outcome.

Acceptance of issue 2: `notation verify --oci-layout --scope ...` with each case's policy, metadata and trust store.
Cases cover SIG-*, VER-*, TP-*, LVL-* (strict/permissive/audit/skip), ID-* and tampering. Skips cleanly where the
interop folder is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop" / "v1"
pytestmark = pytest.mark.skipif(not (INTEROP / "cases.json").is_file(), reason="../shared/interop is absent")


def _cases() -> list[dict[str, Any]]:
    if not (INTEROP / "cases.json").is_file():
        return []
    return list(json.loads((INTEROP / "cases.json").read_text())["cases"])


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_go_signature_verifies_as_expected(case: dict[str, Any], tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    shutil.copytree(INTEROP / case["layout"], layout)  # verification must not write; the test does not trust that
    config = tmp_path / "config"
    shutil.copytree(INTEROP / "truststore", config / "truststore")
    shutil.copy(INTEROP / case["policy"], config / "trustpolicy.json")
    before = sorted((p.relative_to(layout), p.read_bytes()) for p in layout.rglob("*") if p.is_file())

    argv = [sys.executable, "-m", "notation", "verify", "--oci-layout", "--scope", case["scope"]]
    for pair in case["metadata"]:
        argv += ["-m", pair]
    argv.append(f"{layout}@{case['digest']}")
    env = {**os.environ, "NOTATION_CONFIG": str(config), "NOTATION_EXPERIMENTAL": "1"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)

    assert "Traceback" not in proc.stderr
    if case["expect"] == "pass":
        assert proc.returncode == 0, proc.stderr
        if "skip" in case["policy"]:
            assert f"Trust policy is configured to skip signature verification for {layout}@" in proc.stdout
        else:
            assert f"Successfully verified signature for {layout}@{case['digest']}" in proc.stdout
    else:
        assert proc.returncode == 1, proc.stdout
        errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1, proc.stderr
    after = sorted((p.relative_to(layout), p.read_bytes()) for p in layout.rglob("*") if p.is_file())
    assert before == after, "verification wrote to the layout"


def test_logged_failures_are_warned_on_stderr(tmp_path: Path) -> None:
    """OUT-01: permissive + expired signature passes with `Warning: expiry was set to "log" ...`."""
    case = next((c for c in _cases() if c["name"] == "jws-expired-permissive"), None)
    if case is None:
        pytest.skip("case not present")
    layout = tmp_path / "layout"
    shutil.copytree(INTEROP / case["layout"], layout)
    config = tmp_path / "config"
    shutil.copytree(INTEROP / "truststore", config / "truststore")
    shutil.copy(INTEROP / case["policy"], config / "trustpolicy.json")
    env = {**os.environ, "NOTATION_CONFIG": str(config), "NOTATION_EXPERIMENTAL": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "notation",
            "verify",
            "--oci-layout",
            "--scope",
            case["scope"],
            f"{layout}@{case['digest']}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert 'Warning: expiry was set to "log" and failed with error: digital signature has expired on' in proc.stderr
