"""Revocation (trust.md §8, REV-*) against a real OCSP responder and CRL server on loopback."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from notation._internal.revocation import Method, Status, check_chain, revocation_error, revocation_failure
from notation._internal.revocation import cache as crl_cache
from notation.errors import RevocationError
from protocol_servers.crl import CRLServer, Revoked, make_crl
from protocol_servers.http_base import Reply
from protocol_servers.ocsp import Entry, OCSPResponder
from support import pki

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ocsp_chain() -> Iterator[tuple[OCSPResponder, list[x509.Certificate], tuple[pki.Issued, pki.Issued, pki.Issued]]]:
    """A responder for the chain's intermediate and root, and a chain whose certificates point at it."""
    responder = OCSPResponder(issuers=[])
    with responder:
        root, inter, leaf = pki.revocable_chain3(ocsp=responder.url)
        responder.issuers = [root, inter]
        responder.delegate = pki.issue(
            "Delegated OCSP", key_kind="ec256", issuer=inter, eku=[ExtendedKeyUsageOID.OCSP_SIGNING]
        )
        responder.stranger = pki.issue("Stranger", key_kind="ec256", eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
        yield responder, [leaf.cert, inter.cert, root.cert], (root, inter, leaf)


@pytest.fixture
def ocsp(ocsp_chain):  # type: ignore[no-untyped-def]
    responder, chain, issued = ocsp_chain
    responder.statuses.clear()
    responder.behaviour = type(responder.behaviour)()
    responder.server.requests.clear()
    return responder, chain, issued


def _check(chain: list[x509.Certificate], **kw: object) -> list:  # type: ignore[type-arg]
    return check_chain(chain, timeout=kw.pop("timeout", 1.0), **kw)  # type: ignore[arg-type]


def test_rev_ocsp_good_chain_passes_and_root_is_never_asked(ocsp) -> None:  # type: ignore[no-untyped-def]
    """REV-03/04/05/11: leaf and intermediate OK by OCSP GET, root NonRevokable without a request."""
    responder, chain, _ = ocsp
    results = _check(chain)
    assert [r.status for r in results] == [Status.OK, Status.OK, Status.NON_REVOKABLE]
    assert results[0].method is Method.OCSP
    assert revocation_error(results) is None
    assert len(responder.requests) == 2 and all(r.method == "GET" for r in responder.requests)
    assert all(r.headers.get("User-Agent", "").startswith("notation-py/") for r in responder.requests)


def test_rev_ocsp_revoked_leaf_and_intermediate_messages(ocsp) -> None:  # type: ignore[no-untyped-def]
    """REV-05/06: the revoked certificate closest to the leaf is named; TSV-28 wording for timestamping."""
    responder, chain, (_, inter, leaf) = ocsp
    responder.statuses[inter.cert.serial_number] = Entry("revoked")
    results = _check(chain)
    assert results[1].status is Status.REVOKED
    assert revocation_error(results) == (
        'signing certificate with subject "CN=Revocation Intermediate,O=Notary,L=Seattle,ST=WA,C=US" is revoked'
    )
    responder.statuses[leaf.cert.serial_number] = Entry("revoked")
    results = _check(chain)
    assert "CN=Revocation Leaf" in (revocation_error(results) or "")
    assert (revocation_error(results, purpose="timestamping") or "").startswith("timestamping certificate with")


def test_rev_ocsp_unknown_status(ocsp) -> None:  # type: ignore[no-untyped-def]
    """REV-14: an explicit unknown is Unknown (no CRL to fall back to)."""
    responder, chain, (_, _, leaf) = ocsp
    responder.statuses[leaf.cert.serial_number] = Entry("unknown")
    results = _check(chain)
    assert results[0].status is Status.UNKNOWN
    assert results[0].error == "certificate has unknown status via OCSP"
    assert revocation_error(results) == (
        'signing certificate with subject "CN=Revocation Leaf,O=Notary,L=Seattle,ST=WA,C=US" '
        "revocation status is unknown"
    )


def test_rev_ocsp_invalidity_date_after_signing_time_is_ok(ocsp) -> None:  # type: ignore[no-untyped-def]
    """REV-08/14: revoked with invalidityDate later than the (signingAuthority) signing time → OK; no time → Revoked."""
    responder, chain, (_, _, leaf) = ocsp
    responder.statuses[leaf.cert.serial_number] = Entry("revoked", invalidity_date=NOW.replace(microsecond=0))
    assert _check(chain, signing_time=NOW - dt.timedelta(hours=1))[0].status is Status.OK
    assert _check(chain, signing_time=NOW + dt.timedelta(hours=1))[0].status is Status.REVOKED
    assert _check(chain)[0].status is Status.REVOKED


def test_rev_ocsp_delegated_responder(ocsp) -> None:  # type: ignore[no-untyped-def]
    """REV-12: a responder certificate issued by the CA with OCSPSigning may sign; a stranger may not."""
    responder, chain, (_, _, leaf) = ocsp
    responder.statuses[leaf.cert.serial_number] = Entry("revoked")
    responder.behaviour.signer = "delegate"
    results = _check(chain[:1] + chain[1:])
    assert results[0].status is Status.REVOKED
    responder.behaviour.signer = "stranger"
    results = _check(chain)
    assert results[0].status is Status.UNKNOWN
    assert "bad OCSP signature" in (results[0].error or "")


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("http_status", 500, "failed to retrieve OCSP: response had status code 500"),
        ("garbage", True, "ocsp: malformed response"),
        ("response_status", "try_later", "ocsp: error from server: try_later"),
        ("next_update", None, "expired OCSP response"),
        ("next_update", dt.timedelta(minutes=-5), "expired OCSP response"),
        ("tamper_signature", True, "bad OCSP signature"),
        ("wrong_serial", True, "no response matching the supplied certificate"),
        ("oversize", 30000, "failed to retrieve OCSP"),
        ("delay", 1.5, "exceeded timeout threshold of 0.50 seconds for OCSP check"),
    ],
)
def test_rev_ocsp_misbehaving_responder_is_unknown(ocsp, setting: str, value: object, error: str) -> None:  # type: ignore[no-untyped-def]
    """REV-11..13/15: non-200, malformed, error status, stale, forged, mismatched, oversized, slow → Unknown."""
    responder, chain, _ = ocsp
    setattr(responder.behaviour, setting, value)
    results = _check(chain[:2] + chain[2:], timeout=0.5)
    assert results[0].status is Status.UNKNOWN
    assert error in (results[0].error or "")
    assert revocation_error(results) is not None


def test_rev_ocsp_https_responder_is_not_used() -> None:
    """REV-10: only http responders; an https one counts as a failed server."""
    root, inter, leaf = pki.revocable_chain3(ocsp="https://127.0.0.1:1/ocsp")
    results = _check([leaf.cert, inter.cert, root.cert])
    assert results[0].status is Status.UNKNOWN
    assert results[0].error == "OCSPServer protocol https is not supported"


# --- CRL ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def crl_env(
    tmp_path: Path,
) -> Iterator[tuple[CRLServer, list[x509.Certificate], tuple[pki.Issued, pki.Issued, pki.Issued]]]:
    with CRLServer() as server:
        root, inter, leaf = pki.revocable_chain3(crl=server.url)
        server.routes["/inter.crl"] = make_crl(inter)
        server.routes["/root.crl"] = make_crl(root)
        yield server, [leaf.cert, inter.cert, root.cert], (root, inter, leaf)


def test_rev_crl_good_and_cached(crl_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """REV-20/25: CRL OK; the second check is served from {CACHE}/crl/<sha256(url)> without a download."""
    server, chain, _ = crl_env
    results = _check(chain, cache_dir=tmp_path)
    assert [r.status for r in results] == [Status.OK, Status.OK, Status.NON_REVOKABLE]
    assert results[0].method is Method.CRL
    url = server.url + "/inter.crl"
    entry = tmp_path / "crl" / hashlib.sha256(url.encode()).hexdigest()
    doc = json.loads(entry.read_text())
    assert set(doc) == {"baseCRL"}
    assert oct((tmp_path / "crl").stat().st_mode & 0o777) == "0o700"
    _check(chain, cache_dir=tmp_path)
    assert server.hits["/inter.crl"] == 1
    assert not [p for p in (tmp_path / "crl").iterdir() if p.name.startswith("notation-")]


def test_rev_crl_revoked_hold_and_invalidity(crl_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """REV-23: keyCompromise revokes; certificateHold revokes; invalidityDate after the signing time → OK."""
    server, chain, (_, inter, leaf) = crl_env
    serial = leaf.cert.serial_number
    server.routes["/inter.crl"] = make_crl(inter, [Revoked(serial)])
    results = _check(chain, use_cache=False)
    assert results[0].status is Status.REVOKED
    assert "is revoked" in (revocation_error(results) or "")
    server.routes["/inter.crl"] = make_crl(inter, [Revoked(serial, x509.ReasonFlags.certificate_hold)])
    assert _check(chain, use_cache=False)[0].status is Status.REVOKED
    later = NOW + dt.timedelta(days=1)
    server.routes["/inter.crl"] = make_crl(inter, [Revoked(serial, invalidity_date=later)])
    assert _check(chain, use_cache=False, signing_time=NOW)[0].status is Status.OK
    assert _check(chain, use_cache=False)[0].status is Status.REVOKED


def test_rev_crl_delta_removes_hold(crl_env) -> None:  # type: ignore[no-untyped-def]
    """REV-21/23: a base CRL's Freshest CRL delta is fetched; a later removeFromCRL lifts an earlier hold."""
    server, chain, (_, inter, leaf) = crl_env
    serial = leaf.cert.serial_number
    hold = Revoked(serial, x509.ReasonFlags.certificate_hold, revocation_date=NOW - dt.timedelta(hours=2))
    server.routes["/inter.crl"] = make_crl(inter, [hold], number=5, freshest=[server.url + "/delta.crl"])
    server.routes["/delta.crl"] = make_crl(inter, [hold], number=6, delta_of=5)
    assert _check(chain, use_cache=False)[0].status is Status.REVOKED
    removed = Revoked(serial, x509.ReasonFlags.remove_from_crl, revocation_date=NOW - dt.timedelta(hours=1))
    server.routes["/delta.crl"] = make_crl(inter, [removed], number=6, delta_of=5)
    assert _check(chain, use_cache=False)[0].status is Status.OK
    server.routes["/delta.crl"] = Reply(503)
    results = _check(chain, use_cache=False)
    assert results[0].status is Status.UNKNOWN and "delta CRL" in (results[0].error or "")


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ("forged", "CRL is not signed by CA"),
        ("expired", "expired CRL"),
        ("critical", "unsupported critical extension found in CRL"),
        ("500", "failed to download with status code: 500"),
        ("garbage", "failed to parse CRL"),
        ("oversize", "CRL size exceeds the limit: 33554432"),
        ("slow", "exceeded timeout threshold"),
    ],
)
def test_rev_crl_misbehaving_server_is_unknown(crl_env, route: str, error: str) -> None:  # type: ignore[no-untyped-def]
    """REV-20/22/24: bad signature, stale, unknown critical extension, non-200, not DER, > 32 MiB, slow → Unknown."""
    server, chain, (_, inter, _) = crl_env
    server.routes["/inter.crl"] = {
        "forged": lambda: make_crl(inter, signer=pki.root_ca("Forger", key_kind="ec384")),
        "expired": lambda: make_crl(inter, next_update=dt.timedelta(seconds=-10), last_update=dt.timedelta(hours=-1)),
        "critical": lambda: make_crl(inter, critical_unknown_extension=True),
        "500": lambda: Reply(500),
        "garbage": lambda: b"not a crl",
        "oversize": lambda: Reply(200, b"\0" * (32 * 1024 * 1024 + 10), chunked_without_length=True),
        "slow": lambda: Reply(200, make_crl(inter), delay=1.0),
    }[route]()
    results = check_chain(chain, use_cache=False, crl_timeout=0.4)
    assert results[0].status is Status.UNKNOWN
    assert error in (results[0].error or "")
    assert "revocation status is unknown" in (revocation_error(results) or "")


def test_rev_crl_corrupt_cache_entry_is_replaced(crl_env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """REV-25: a corrupt entry is a miss (one warning per process), refetched and overwritten; never a crash."""
    server, chain, _ = crl_env
    crl_cache.reset_warning_for_tests()
    url = server.url + "/inter.crl"
    entry = tmp_path / "crl" / hashlib.sha256(url.encode()).hexdigest()
    entry.parent.mkdir(parents=True)
    entry.write_text("{not json")
    assert _check(chain, cache_dir=tmp_path)[0].status is Status.OK
    assert json.loads(entry.read_text())["baseCRL"]
    _check(chain, cache_dir=tmp_path)
    assert server.hits["/inter.crl"] == 1
    entry.write_text('{"baseCRL": "!!!"}')
    _check(chain, cache_dir=tmp_path)
    err = capsys.readouterr().err
    assert err.count(crl_cache.DISCARDED_WARNING) == 1


def test_rev_crl_expired_cache_entry_is_refetched(crl_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """REV-25: a cached CRL past nextUpdate is not used."""
    server, chain, (_, inter, leaf) = crl_env
    stale = make_crl(inter, next_update=dt.timedelta(seconds=-1), last_update=dt.timedelta(hours=-1))
    crl_cache.CRLCache.open(tmp_path).set(server.url + "/inter.crl", crl_cache.Bundle(stale))  # type: ignore[union-attr]
    server.routes["/inter.crl"] = make_crl(inter, [Revoked(leaf.cert.serial_number)])
    assert _check(chain, cache_dir=tmp_path)[0].status is Status.REVOKED
    assert server.hits["/inter.crl"] == 1


def test_rev_crl_cache_dir_unusable_warns_and_continues(crl_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """REV-25: cache directory creation fails → Go's warning, check proceeds uncached."""
    _, chain, _ = crl_env
    blocker = tmp_path / "file"
    blocker.write_text("x")
    warnings: list[str] = []
    results = _check(chain, cache_dir=blocker, warn=warnings.append)
    assert results[0].status is Status.OK
    assert warnings and warnings[0].startswith("Warning: failed to create crl file cache: ")


def test_rev_ocsp_down_crl_up_falls_back(ocsp_chain) -> None:  # type: ignore[no-untyped-def]
    """REV-04: OCSP Unknown (server down) and CRL available → the CRL result, method OCSP fallback CRL."""
    with CRLServer() as server, OCSPResponder(issuers=[]) as responder:
        root, inter, leaf = pki.revocable_chain3(ocsp=responder.url, crl=server.url)
        responder.issuers = [root, inter]
        responder.behaviour.http_status = 503
        server.routes["/inter.crl"] = make_crl(inter)
        server.routes["/root.crl"] = make_crl(root)
        chain = [leaf.cert, inter.cert, root.cert]
        results = _check(chain, use_cache=False)
        assert results[0].status is Status.OK and results[0].method is Method.OCSP_FALLBACK_CRL
        server.routes["/inter.crl"] = make_crl(inter, [Revoked(leaf.cert.serial_number)])
        assert _check(chain, use_cache=False)[0].status is Status.REVOKED
        server.routes["/inter.crl"] = Reply(503)
        results = _check(chain, use_cache=False)
        assert results[0].status is Status.UNKNOWN
        assert "revocation status is unknown" in (revocation_error(results) or "")


def test_rev_no_methods_is_non_revokable() -> None:
    """REV-04: no OCSP and no CDP → NonRevokable → pass."""
    root, inter, leaf = pki.chain3()
    results = check_chain([leaf.cert, inter.cert, root.cert])
    assert {r.status for r in results} == {Status.NON_REVOKABLE}
    assert revocation_error(results) is None


def test_rev_invalid_chain_is_an_error() -> None:
    """REV-02: the chain is re-validated first; callers get Go's wording."""
    root, _inter, leaf = pki.chain3()
    with pytest.raises(RevocationError, match=r"^invalid chain: expected chain to be correct and complete: "):
        check_chain([leaf.cert, root.cert])
    assert (revocation_failure([leaf.cert, root.cert]) or "").startswith(
        "unable to check revocation status, err: invalid chain: expected chain to be correct and complete: "
    )
    assert (revocation_failure([leaf.cert, root.cert], purpose="timestamping") or "").startswith(
        "failed to check timestamping certificate chain revocation with error: invalid chain"
    )


def test_audit_crl_cache_cross_device_rename(
    crl_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    """REV-25, issue 8 "CRL cache cross-device rename": a cache that writes its temp file in $TMPDIR and renames it
    into place fails with EXDEV when the two are on different filesystems (tmpfs /tmp is common).

    Our temp file lives in the cache directory itself, so TMPDIR on another filesystem does not matter; and when the
    rename still fails (EXDEV injected), the check keeps its real verdict, nothing is left behind and one warning is
    printed."""
    import errno
    import os

    server, chain, (_, inter, leaf) = crl_env
    crl_cache.reset_warning_for_tests()
    other_fs = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp_path / "elsewhere"
    other_fs.mkdir(exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(other_fs))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    before = set(other_fs.iterdir())
    cache = tmp_path / "cache"
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        renames.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    assert _check(chain, cache_dir=cache)[0].status is Status.OK
    assert renames and all(Path(s).parent == Path(d).parent == cache / "crl" for s, d in renames)
    assert set(other_fs.iterdir()) == before

    # The rename fails as it would across devices: a revoked leaf stays revoked, no entry, no temp file, one warning.
    server.routes["/inter.crl"] = make_crl(inter, [Revoked(leaf.cert.serial_number)])
    fresh = tmp_path / "cache2"

    def exdev(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", exdev)
    for _ in range(2):
        results = _check(chain, cache_dir=fresh)
        assert results[0].status is Status.REVOKED
        assert "is revoked" in (revocation_error(results) or "")
    assert list((fresh / "crl").iterdir()) == []
    assert capsys.readouterr().err.count(crl_cache.DISCARDED_WARNING) == 1
