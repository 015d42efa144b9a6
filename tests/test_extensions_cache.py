"""The verification cache (notation-py extension, issue 7): hits skip the signature fetches, and any change of the
trust policy or the trust store, a signature's expiry or the TTL ends reuse."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extensions_support import import_policy, setup_trust
from notation._internal.cli.main import main
from notation._internal.config import dirs
from registry_support import State, push_image, running

INSECURE = "--insecure-registry"


def _signature_fetches(state: State, since: int) -> int:
    """GETs of signature manifests and envelope blobs (a cache hit makes none); the subject is only HEADed."""
    return sum(
        1 for r in state.requests[since:] if r.method == "GET" and ("/blobs/" in r.path or "/manifests/" in r.path)
    )


def _verify(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    capsys.readouterr()
    code = main(["verify", INSECURE, "-o", "json", *argv])
    out, _ = capsys.readouterr()
    assert code == 0, out
    doc: dict[str, object] = json.loads(out)
    return doc


def _cached(doc: dict[str, object]) -> bool:
    refs = doc["references"]
    assert isinstance(refs, list)
    return bool(refs[0]["signatures"][0]["cached"])


def test_cache_hit_skips_fetches_and_is_invalidated_by_policy_and_trust_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_trust(tmp_path)
    state = State()
    with running(state) as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["sign", INSECURE, ref]) == 0

        # off by default: nothing stored
        mark = len(state.requests)
        assert not _cached(_verify(capsys, ref))
        assert _signature_fetches(state, mark) == 2
        assert not (dirs.cache_dir() / "verify").exists()

        mark = len(state.requests)
        assert not _cached(_verify(capsys, "--cache", ref))  # miss, stored
        assert _signature_fetches(state, mark) == 2
        entries = list((dirs.cache_dir() / "verify").glob("*.json"))
        assert len(entries) == 1 and oct(entries[0].stat().st_mode & 0o777) == "0o600"

        mark = len(state.requests)
        assert _cached(_verify(capsys, "--cache", ref))  # hit: reference resolved and referrers listed, no fetch
        assert _signature_fetches(state, mark) == 0
        assert [r.method for r in state.requests[mark:]] == ["HEAD", "GET"]

        monkeypatch.setenv("NOTATION_VERIFY_CACHE", "1")  # the environment switch, and the Go text path
        mark = len(state.requests)
        assert main(["verify", INSECURE, ref]) == 0
        assert capsys.readouterr().out == f"Successfully verified signature for {ref}\n"
        assert _signature_fetches(state, mark) == 0

        import_policy(tmp_path, name="renamed")  # a policy change: miss
        capsys.readouterr()
        mark = len(state.requests)
        assert not _cached(_verify(capsys, ref))
        assert _signature_fetches(state, mark) == 2
        assert _cached(_verify(capsys, ref))

        assert main(["cert", "generate-test", "another"]) == 0  # a trust store change: miss
        capsys.readouterr()
        mark = len(state.requests)
        assert not _cached(_verify(capsys, ref))
        assert _signature_fetches(state, mark) == 2
        assert _cached(_verify(capsys, ref))

        for entry in (dirs.cache_dir() / "verify").glob("*.json"):  # a corrupt entry is a miss, then rewritten
            entry.write_text("{not json")
        assert not _cached(_verify(capsys, ref))
        assert _cached(_verify(capsys, ref))


def test_cache_entry_never_outlives_signature_expiry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_trust(tmp_path)
    monkeypatch.setenv("NOTATION_VERIFY_CACHE_TTL", "48h")
    with running() as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["sign", INSECURE, "--expiry", "2h", ref]) == 0
        _verify(capsys, "--cache", ref)
        (entry,) = (dirs.cache_dir() / "verify").glob("*.json")
        not_after = dt.datetime.fromisoformat(json.loads(entry.read_text())["notAfter"])
        now = dt.datetime.now(dt.UTC)
        assert dt.timedelta(hours=1, minutes=59) < not_after - now <= dt.timedelta(hours=2)

        # an entry past its notAfter is not used
        doc = json.loads(entry.read_text())
        doc["notAfter"] = (now - dt.timedelta(seconds=1)).isoformat()
        entry.write_text(json.dumps(doc))
        assert not _cached(_verify(capsys, "--cache", ref))


def test_cache_ttl_from_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_trust(tmp_path)
    monkeypatch.setenv("NOTATION_VERIFY_CACHE_TTL", "10m")
    with running() as server:
        desc = push_image(server)
        ref = f"{server.address}/app@{desc.digest}"
        assert main(["sign", INSECURE, ref]) == 0
        _verify(capsys, "--cache", ref)
        (entry,) = (dirs.cache_dir() / "verify").glob("*.json")
        not_after = dt.datetime.fromisoformat(json.loads(entry.read_text())["notAfter"])
        assert not_after - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=10)


def test_verify_path_imports_only_what_it_uses(tmp_path: Path) -> None:
    """Start-up budget: a JWS verify on a layout loads no plugin machinery, no Azure SDK, no CBOR/COSE, no HTTP."""
    env = dict(os.environ, NOTATION_EXPERIMENTAL="1")
    script = f"""
import json, sys
from notation._internal.cli.main import main
from notation._internal.oci.layout import write_image
write_image({str(tmp_path / "lay")!r}, "v1", {{"a": b"x"}})
open({str(tmp_path / "p.json")!r}, "w").write(json.dumps({{"version": "1.0", "trustPolicies": [{{"name": "p",
    "registryScopes": ["*"], "signatureVerification": {{"level": "strict"}}, "trustStores": ["ca:test"],
    "trustedIdentities": ["*"]}}]}}))
assert main(["cert", "generate-test", "--default", "test"]) == 0
assert main(["policy", "import", {str(tmp_path / "p.json")!r}]) == 0
assert main(["sign", "--oci-layout", {str(tmp_path / "lay:v1")!r}]) == 0
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
    check = f"""
import sys
from notation._internal.cli.main import main
code = main(["verify", "--oci-layout", "--scope", "local/x", {str(tmp_path / "lay:v1")!r}])
print(code, sorted(m for m in sys.modules if m.split(".")[0] in ("cbor2", "azure", "requests", "urllib3")
      or ".plugin" in m or m.endswith(("cose", "_cbor")) or "notation_azure_kv" in m))
"""
    out = subprocess.run([sys.executable, "-c", check], env=env, check=True, capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "0 []"
