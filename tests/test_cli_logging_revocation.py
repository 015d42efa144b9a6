"""CLI-06, REV-04/REV-25: what `verify -d` prints about OCSP fallback, CRL downloads and the CRL file cache.

The keyword groups of Go's test/e2e/suite/scenario/crl.go: ``OCSP check failed with unknown error and fallback to
CRL check for certificate #2``, ``CRL file cache miss``, ``Retrieving crl bundle from file cache with key``,
``Storing crl bundle to file cache with key``, ``CRL bundle retrieved from file cache has expired at``, the CRL
``"GET" "<url>"`` request lines, ``... is revoked``, ``Warning: failed to create crl file cache`` and the discarded
cache errors (``failed to get crl bundle from file cache with key``, ``failed to store crl bundle in file cache``).
The chain names an OCSP responder that is down (connection refused), so every check falls back to CRLs.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from notation._internal.cli.main import main
from notation._internal.oci.layout import write_image
from notation._internal.revocation.cache import reset_warning_for_tests
from protocol_servers.crl import CRLServer, Revoked, make_crl
from support import pki
from support.policy import import_policy

FALLBACK = "OCSP check failed with unknown error and fallback to CRL check for certificate #2 in chain with subject"


@dataclass
class Setup:
    crls: CRLServer
    ref: str
    inter: pki.Issued
    root: pki.Issued
    leaf: pki.Issued
    cache: Path

    def publish(self, *, leaf_revoked: bool = False, next_update_hours: float = 1) -> None:
        import datetime as dt

        revoked = [Revoked(self.leaf.cert.serial_number)] if leaf_revoked else []
        ttl = dt.timedelta(hours=next_update_hours)
        since = min(dt.timedelta(minutes=-1), ttl - dt.timedelta(hours=1))
        self.crls.routes["/inter.crl"] = make_crl(self.inter, revoked, next_update=ttl, last_update=since)
        self.crls.routes["/root.crl"] = make_crl(self.root, next_update=ttl, last_update=since)


def _dead_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Setup]:
    import os

    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    reset_warning_for_tests()
    with CRLServer() as crls:
        root, inter, leaf = pki.revocable_chain3(ocsp=f"{_dead_url()}/ocsp", crl=crls.url)
        config = Path(os.environ["NOTATION_CONFIG"])
        key_path, cert_path = leaf.write(tmp_path / "keys", "rev")
        config.mkdir(parents=True, exist_ok=True)
        keys = {"default": "rev", "keys": [{"name": "rev", "keyPath": str(key_path), "certPath": str(cert_path)}]}
        (config / "signingkeys.json").write_text(json.dumps(keys))
        (tmp_path / "root.pem").write_bytes(root.cert_pem())
        assert main(["cert", "add", "--type", "ca", "--store", "e2e", str(tmp_path / "root.pem")]) == 0
        import_policy(tmp_path)
        desc = write_image(tmp_path / "app", "v1", {"f": b"x"})
        ref = f"{tmp_path / 'app'}@{desc.digest}"
        assert main(["sign", "--oci-layout", ref]) == 0
        capsys.readouterr()
        s = Setup(crls, ref, inter, root, leaf, Path(os.environ["NOTATION_CACHE"]))
        s.publish()
        yield s


def verify(capsys: pytest.CaptureFixture[str], s: Setup) -> tuple[int, str]:
    code = main(["verify", "--oci-layout", "--scope", "local/app", "-d", s.ref])
    _, err = capsys.readouterr()
    assert "Traceback" not in err, err[-3000:]
    return code, err


def test_crl_fallback_and_cache_miss_then_hit_rev25(capsys: pytest.CaptureFixture[str], setup: Setup) -> None:
    code, err = verify(capsys, setup)
    assert code == 0, err
    assert f"level=warning msg={FALLBACK}" in err
    for keyword in (
        f'CRL file cache miss. Key "{setup.crls.url}/inter.crl" does not exist',
        f'Retrieving crl bundle from file cache with key "{setup.crls.url}/inter.crl" ...',
        f'Storing crl bundle to file cache with key "{setup.crls.url}/inter.crl" ...',
        f'> Request: "GET" "{setup.crls.url}/inter.crl"',
        f'> Request: "GET" "{setup.crls.url}/root.crl"',
        "encountered an error for revocation method OCSP at URL",  # debug: CRL answered instead
        "connect: connection refused",
    ):
        assert keyword in err, keyword
    assert "is revoked" not in err

    code, err = verify(capsys, setup)
    assert code == 0 and "Retrieving crl bundle from file cache with key" in err and FALLBACK in err
    assert "CRL file cache miss" not in err and "Storing crl bundle to file cache" not in err
    assert '"GET" "' + setup.crls.url not in err


def test_revoked_leaf_is_named_rev06(capsys: pytest.CaptureFixture[str], setup: Setup) -> None:
    setup.publish(leaf_revoked=True)
    code, err = verify(capsys, setup)
    assert code == 1 and "signature verification failed" in err
    assert FALLBACK in err and "CRL file cache miss" in err
    assert 'level=error msg=revocation validation failed. Failure reason: signing certificate with subject "' in err
    assert "is revoked" in err


def test_cache_that_cannot_be_created_warns_rev25(capsys: pytest.CaptureFixture[str], setup: Setup) -> None:
    import shutil

    shutil.rmtree(setup.cache, ignore_errors=True)
    setup.cache.parent.mkdir(parents=True, exist_ok=True)
    setup.cache.write_text("a file where the cache directory should be")
    code, err = verify(capsys, setup)
    assert code == 0, err
    assert "Warning: failed to create crl file cache: mkdir " in err
    assert FALLBACK in err and f'"GET" "{setup.crls.url}/inter.crl"' in err


def test_cache_get_and_set_errors_are_debug_lines_rev25(capsys: pytest.CaptureFixture[str], setup: Setup) -> None:
    url = f"{setup.crls.url}/inter.crl"
    entry = setup.cache / "crl" / hashlib.sha256(url.encode()).hexdigest()
    entry.mkdir(parents=True)  # a directory where the cache file should be: reading and replacing both fail
    setup.publish(leaf_revoked=True)
    code, err = verify(capsys, setup)
    assert code == 1 and "is revoked" in err
    assert f'failed to get crl bundle from file cache with key "{url}": open {entry}: is a directory' in err
    assert "failed to store crl bundle in file cache: " in err
    assert "Warning: CRL cache error discarded. Enable debug log through '-d' for error details." in err


def test_expired_cached_crl_is_fetched_again_rev25(capsys: pytest.CaptureFixture[str], setup: Setup) -> None:
    """As Go's e2e suite does, an expired CRL is written into the cache first (a download is never cached expired)."""
    from notation._internal.revocation.cache import Bundle, CRLCache

    setup.publish(next_update_hours=-1)
    cache = CRLCache.open(setup.cache)
    assert cache is not None
    expired = setup.crls.routes["/inter.crl"]
    assert isinstance(expired, bytes)
    cache.set(f"{setup.crls.url}/inter.crl", Bundle(expired))
    setup.publish()
    code, err = verify(capsys, setup)
    assert code == 0, err
    assert "CRL bundle retrieved from file cache has expired at " in err
    assert f'"GET" "{setup.crls.url}/inter.crl"' in err and "Storing crl bundle to file cache with key" in err


def test_expired_cached_crl_is_a_miss_before_its_signature_is_checked_rev25(
    capsys: pytest.CaptureFixture[str], setup: Setup
) -> None:
    """Go's e2e suite (scenario/crl.go "... the crl in the cache expired and a roundtrip") caches a leaf_expired.crl
    that another key signed: notation-go's FileCache.Get reports the expiry (a logged miss) before any signature
    check, then the fresh download is verified as usual."""
    import datetime as dt

    from notation._internal.revocation.cache import Bundle, CRLCache

    cache = CRLCache.open(setup.cache)
    assert cache is not None
    foreign = make_crl(
        setup.inter, [], next_update=dt.timedelta(hours=-1), last_update=dt.timedelta(hours=-2), signer=setup.root
    )
    cache.set(f"{setup.crls.url}/inter.crl", Bundle(foreign))
    code, err = verify(capsys, setup)
    assert code == 0, err
    assert "CRL bundle retrieved from file cache has expired at " in err
    assert "failed to parse base CRL of file retrieved from file cache" not in err
    assert f'"GET" "{setup.crls.url}/inter.crl"' in err and "Storing crl bundle to file cache with key" in err

    setup.publish(leaf_revoked=True)  # the new download is fresh in the cache: used, and its verdict holds
    cache.set(f"{setup.crls.url}/inter.crl", Bundle(foreign))
    code, err = verify(capsys, setup)
    assert code == 1 and "is revoked" in err and "has expired at" in err


def test_unexpired_cached_crl_of_another_key_is_discarded_rev22(
    capsys: pytest.CaptureFixture[str], setup: Setup
) -> None:
    """Fail closed: a fresh cached CRL is still checked against its issuer before use."""
    from notation._internal.revocation.cache import Bundle, CRLCache

    cache = CRLCache.open(setup.cache)
    assert cache is not None
    cache.set(f"{setup.crls.url}/inter.crl", Bundle(make_crl(setup.inter, [], signer=setup.root)))
    setup.publish(leaf_revoked=True)
    code, err = verify(capsys, setup)
    assert code == 1 and "is revoked" in err
    assert "failed to parse base CRL of file retrieved from file cache: CRL is not signed by CA" in err
