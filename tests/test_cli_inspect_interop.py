"""``notation inspect`` and ``notation ls`` over the Go-made interop signatures (cli.md CLI-61, CLI-72..75).

Inspect parses without verifying, so every case (tampered ones included) is displayed; what it shows must agree
with the layout: the signed artifact is the case's image, the certificates chain up from the signer.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from notation._internal.cli.main import main

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop" / "v1"

pytestmark = pytest.mark.skipif(not (INTEROP / "cases.json").exists(), reason="interop vectors not present")


def _cases() -> list[dict[str, Any]]:
    if not (INTEROP / "cases.json").exists():
        return []
    cases: list[dict[str, Any]] = json.loads((INTEROP / "cases.json").read_text())["cases"]
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c["name"]))
def test_inspect_go_signatures(
    case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    layout = tmp_path / "layout"
    shutil.copytree(INTEROP / case["layout"], layout)
    ref = f"{layout}@{case['digest']}"

    assert main(["inspect", "--oci-layout", "-o", "json", ref]) == 0
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    assert doc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    (sig,) = doc["Signatures"]
    tampered_payload = "tampered-payload" in case["name"]
    # inspect shows what the envelope says: an edited payload names another digest than the image's
    assert (sig["signedArtifact"]["digest"] == case["digest"]) is not tampered_payload
    assert sig["mediaType"] == ("application/cose" if case["name"].startswith("cose") else "application/jose+json")
    assert sig["signedAttributes"]["signingScheme"] == "notary.x509"
    assert sig["unsignedAttributes"]["signingAgent"].startswith("notation-go/")
    certs = sig["certificates"]
    assert certs and certs[-1]["issuedTo"] == certs[-1]["issuedBy"]  # the chain ends at a self-signed root
    if "swapped" not in case["name"]:  # that case replaced the leaf with an unrelated certificate
        for child, parent in itertools.pairwise(certs):
            assert child["issuedBy"] == parent["issuedTo"]
    wanted = dict(pair.split("=", 1) for pair in case["metadata"])
    if wanted and "mismatch" not in case["name"]:
        assert wanted.items() <= (sig["userDefinedAttributes"] or {}).items()

    assert main(["inspect", "--oci-layout", ref]) == 0
    text, _ = capsys.readouterr()
    assert text.startswith(f"Inspecting all signatures for signed artifact\n{ref}\n")
    assert f"    └── {sig['digest']}\n" in text
    assert f"SHA256 fingerprint: {certs[0]['SHA256Fingerprint']}\n" in text

    assert main(["ls", "--oci-layout", ref]) == 0
    assert capsys.readouterr()[0] == f"{ref}\n└── application/vnd.cncf.notary.signature\n    └── {sig['digest']}\n"
