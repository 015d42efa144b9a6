"""RFC 3161 timestamps (signature.md §10 TSA-*, trust.md §7 TSV-*, cli.md CLI-42) against a real TSA on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from notation._internal.timestamp import (
    check_tsa_url,
    is_timestamp_required,
    load_tsa_root,
    parse_timestamp,
    request_timestamp,
    verify_authentic_timestamp,
    verify_timestamp,
)
from notation.errors import TimestampError
from protocol_servers.ocsp import Entry, OCSPResponder
from protocol_servers.tsa import TSA, TSABehaviour
from support import pki

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SIG = b"primitive signature bytes"


@pytest.fixture(scope="module")
def tsa_pki() -> tuple[pki.Issued, pki.Issued]:
    return pki.tsa_chain()


@pytest.fixture
def tsa(tsa_pki: tuple[pki.Issued, pki.Issued]) -> Iterator[TSA]:
    with TSA(tsa_pki[1]) as server:
        yield server


def test_tsa_round_trip_request_then_verify(tsa: TSA, tsa_pki: tuple[pki.Issued, pki.Issued]) -> None:
    """TSA-02..05 / TSV-21..26: a granted token verifies against the root and vouches for [genTime ± accuracy]."""
    root = tsa_pki[0].cert
    token = request_timestamp(tsa.url, SIG, "sha256", root)
    seen = tsa.server.requests[-1]
    assert seen.method == "POST" and seen.headers["Content-Type"] == "application/timestamp-query"
    from asn1crypto import tsp

    req = tsp.TimeStampReq.load(seen.body)
    assert req["cert_req"].native is True and 0 < req["nonce"].native < 2**159
    assert req["message_imprint"]["hash_algorithm"]["parameters"].dump() == b"\x05\x00"
    result = verify_timestamp(token, SIG, [root], now=NOW)
    assert result.upper - result.lower == dt.timedelta(seconds=2)
    assert abs(result.gen_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert [c.subject for c in result.tsa_chain] == [tsa_pki[1].cert.subject, root.subject]
    lower, upper, certs = parse_timestamp(token)
    assert (lower, upper) == (result.lower, result.upper) and certs == [tsa_pki[1].cert]
    with pytest.raises(TimestampError, match=r"mismatched message imprint"):
        verify_timestamp(token, SIG + b"x", [root], now=NOW)


@pytest.mark.parametrize("hash_name", ["sha384", "SHA-512"])
def test_tsa_other_hashes(tsa: TSA, tsa_pki: tuple[pki.Issued, pki.Issued], hash_name: str) -> None:
    """ALG-03 / DISC-16: the request uses the signing hash; verification accepts SHA-256/384/512 imprints."""
    token = request_timestamp(tsa.url, SIG, hash_name, tsa_pki[0].cert)
    assert verify_timestamp(token, SIG, [tsa_pki[0].cert]).hash_name == hash_name.lower().replace("-", "")


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        (TSABehaviour(wrong_nonce=True), "mismatched nonce"),
        (TSABehaviour(no_nonce=True), "mismatched nonce"),
        (TSABehaviour(wrong_imprint=True), "mismatched message imprint"),
        (TSABehaviour(http_status=500), "https response bad status: 500 Internal Server Error"),
        (TSABehaviour(content_type="text/html"), "unexpected response content type"),
        (TSABehaviour(status="rejection"), "invalid timestamp response status: rejection: policy says no"),
        (TSABehaviour(oversize=2 * 1024 * 1024), "exceeds the limit of 1048576 bytes"),
        (TSABehaviour(delay=1.5), "context deadline exceeded"),
        (TSABehaviour(ess="none"), "signing certificate v2 attribute is missing"),
        (TSABehaviour(ess="wrong-hash"), "signing certificate hash does not match"),
        (TSABehaviour(tamper_signature=True), "failed to verify signature"),
        (TSABehaviour(tamper_content=True), "invalid message digest"),
        (TSABehaviour(include_certs=False), "signing certificate not found in the timestamp token"),
        (TSABehaviour(signer_info_version="v3"), "SignerInfo version must be 1"),
        (TSABehaviour(gen_time=NOW + dt.timedelta(days=400)), "certificate has expired or is not yet valid"),
    ],
)
def test_tsa_misbehaving_server_fails_signing(
    tsa: TSA, tsa_pki: tuple[pki.Issued, pki.Issued], behaviour: TSABehaviour, error: str
) -> None:
    """TSA-03/04: every bad response fails signing with a `timestamp: ` message; nothing is returned."""
    tsa.behaviour = behaviour
    with pytest.raises(TimestampError) as info:
        request_timestamp(tsa.url, SIG, "sha256", tsa_pki[0].cert, timeout=0.5)
    assert info.value.message.startswith("timestamp: ")
    assert error in info.value.message


def test_tsa_unsigned_attributes_and_root_in_token_are_fine(tsa: TSA, tsa_pki: tuple[pki.Issued, pki.Issued]) -> None:
    """Unsigned SignerInfo attributes and a root carried in the token do not matter; the root must still be ours."""
    tsa.behaviour = TSABehaviour(unsigned_attrs=True, include_root=True)
    token = request_timestamp(tsa.url, SIG, "sha256", tsa_pki[0].cert)
    verify_timestamp(token, SIG, [tsa_pki[0].cert])
    other_root = pki.root_ca("Other TSA Root", key_kind="ec384")
    with pytest.raises(TimestampError, match=r"failed to verify the timestamp countersignature with error: .*unknown"):
        verify_timestamp(token, SIG, [other_root.cert])
    with pytest.raises(TimestampError, match=r"certificate signed by unknown authority"):
        request_timestamp(tsa.url, SIG, "sha256", other_root.cert)


def test_tsa_expired_and_wrong_eku_tsa_certificates() -> None:
    """CERT-18 / TSA-04: an expired TSA certificate, or one without the critical timeStamping-only EKU, fails."""
    root, expired = pki.tsa_chain(not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(days=1))
    with TSA(expired) as server, pytest.raises(TimestampError, match=r"expired or is not yet valid"):
        request_timestamp(server.url, SIG, "sha256", root.cert)
    root, loose = pki.tsa_chain(eku_critical=False)
    with TSA(loose) as server, pytest.raises(TimestampError, match=r"must have extended key usage extension marked"):
        request_timestamp(server.url, SIG, "sha256", root.cert)
    root, both = pki.tsa_chain(eku=[ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING])
    with TSA(both) as server, pytest.raises(TimestampError, match=r"must have and only have Timestamping"):
        request_timestamp(server.url, SIG, "sha256", root.cert)


@pytest.mark.parametrize(
    ("status", "message"), [("revoked", "is revoked"), ("unknown", "revocation status is unknown")]
)
def test_tsa_revoked_tsa_certificate(status: str, message: str) -> None:
    """TSA-04 / TSV-28: the TSA chain's revocation is checked at signing and at verification."""
    with OCSPResponder(issuers=[]) as responder:
        root = pki.root_ca("TSA Root", key_kind="ec384", key_usage=pki.CA_KU_WITH_CRL)
        _, leaf = pki.tsa_chain(root=root, extra_extensions=pki.revocation_urls([responder.url]))
        responder.issuers = [root]
        with TSA(leaf) as server:
            token = request_timestamp(server.url, SIG, "sha256", root.cert)
            responder.statuses[leaf.cert.serial_number] = Entry(status)
            with pytest.raises(TimestampError) as info:
                request_timestamp(server.url, SIG, "sha256", root.cert)
        assert info.value.message == f'timestamp: timestamping certificate with subject "{_dn(leaf)}" {message}'
        signer = pki.issue("signer", key_kind="ec256")
        with pytest.raises(TimestampError) as info2:
            verify_authentic_timestamp(token, SIG, [signer.cert], [root.cert], now=NOW)
        assert info2.value.message == f'timestamping certificate with subject "{_dn(leaf)}" {message}'


def _dn(issued: pki.Issued) -> str:
    from notation._internal.x509.chain import subject_dn

    return subject_dn(issued.cert)


def test_tsv_expired_signing_certificate_passes_with_timestamp_inside_validity(
    tsa_pki: tuple[pki.Issued, pki.Issued],
) -> None:
    """TSV-27: a leaf expired now passes when the timestamp range lies inside its validity; not when after it."""
    root = pki.root_ca("Old TSA Root", key_kind="ec384", not_before=NOW - dt.timedelta(days=60))
    tsa_leaf = pki.tsa_chain(root=root, not_before=NOW - dt.timedelta(days=30))[1]
    signer = pki.self_signed_leaf(
        "expired signer", key_kind="ec256", not_before=NOW - dt.timedelta(days=20), not_after=NOW - dt.timedelta(days=5)
    )
    with TSA(tsa_leaf, TSABehaviour(gen_time=NOW - dt.timedelta(days=10))) as server:
        token = request_timestamp(server.url, SIG, "sha256", root.cert)
        result = verify_authentic_timestamp(token, SIG, [signer.cert], [root.cert], now=NOW)
        assert result.gen_time == NOW - dt.timedelta(days=10)
        assert is_timestamp_required("afterCertExpiry", [signer.cert], NOW)
        server.behaviour.gen_time = NOW - dt.timedelta(days=1)
        late = request_timestamp(server.url, SIG, "sha256", root.cert)
        with pytest.raises(
            TimestampError, match=r'^timestamp can be after certificate "CN=expired signer.*it was expired at'
        ):
            verify_authentic_timestamp(late, SIG, [signer.cert], [root.cert], now=NOW)
        server.behaviour.gen_time = NOW - dt.timedelta(days=25)
        early = request_timestamp(server.url, SIG, "sha256", root.cert)
        with pytest.raises(TimestampError, match=r"^timestamp can be before certificate .* it will be valid from"):
            verify_authentic_timestamp(early, SIG, [signer.cert], [root.cert], now=NOW)


def test_tsv_missing_token_and_missing_roots(tsa: TSA, tsa_pki: tuple[pki.Issued, pki.Issued]) -> None:
    """TSV-20/24 and TSV-21 messages."""
    signer = pki.issue("signer", key_kind="ec256")
    with pytest.raises(TimestampError, match=r"^no timestamp countersignature was found in the signature envelope$"):
        verify_authentic_timestamp(None, SIG, [signer.cert], [tsa_pki[0].cert], now=NOW)
    token = request_timestamp(tsa.url, SIG, "sha256", tsa_pki[0].cert)
    with pytest.raises(TimestampError, match=r"^no trusted TSA certificate found in trust store$"):
        verify_timestamp(token, SIG, [])
    with pytest.raises(TimestampError, match=r"^failed to parse timestamp countersignature with error: "):
        verify_timestamp(b"\x30\x03\x02\x01\x01", SIG, [tsa_pki[0].cert])
    with pytest.raises(TimestampError):
        parse_timestamp(b"junk")


def test_tsv_baseline_policy_accuracy(tsa: TSA, tsa_pki: tuple[pki.Issued, pki.Issued]) -> None:
    """TSV-23: no accuracy → 0, except the baseline policy 0.4.0.2023.1.1 → 1 s."""
    tsa.behaviour = TSABehaviour(accuracy_seconds=None)
    token = request_timestamp(tsa.url, SIG, "sha256", tsa_pki[0].cert)
    assert verify_timestamp(token, SIG, [tsa_pki[0].cert]).accuracy == dt.timedelta(0)
    tsa.behaviour = TSABehaviour(accuracy_seconds=None, policy="0.4.0.2023.1.1")
    token = request_timestamp(tsa.url, SIG, "sha256", tsa_pki[0].cert)
    assert verify_timestamp(token, SIG, [tsa_pki[0].cert]).accuracy == dt.timedelta(seconds=1)


def test_tsv_is_timestamp_required() -> None:
    """TSV-10 item 4."""
    valid = pki.issue("valid", key_kind="ec256")
    assert is_timestamp_required(None, [valid.cert], NOW)
    assert is_timestamp_required("always", [valid.cert], NOW)
    assert not is_timestamp_required("afterCertExpiry", [valid.cert], NOW)
    assert is_timestamp_required("afterCertExpiry", [valid.cert], NOW + dt.timedelta(days=365))


def test_cli42_load_tsa_root(tmp_path: Path, tsa_pki: tuple[pki.Issued, pki.Issued]) -> None:
    """CLI-42: exactly one certificate, and a self-signed root, with Go's messages."""
    root, leaf = tsa_pki
    good = tmp_path / "root.pem"
    good.write_bytes(root.cert_pem())
    assert load_tsa_root(good) == root.cert
    der = tmp_path / "root.der"
    der.write_bytes(root.cert.public_bytes(serialization.Encoding.DER))
    assert load_tsa_root(der) == root.cert
    hint = "Expecting single x509 root certificate in PEM or DER format from the file"
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    with pytest.raises(TimestampError, match=f'^cannot find any certificate from "{empty}". {hint}$'):
        load_tsa_root(empty)
    two = tmp_path / "two.pem"
    two.write_bytes(leaf.chain_pem())
    with pytest.raises(TimestampError, match=f'^found more than one certificates from "{two}". {hint}$'):
        load_tsa_root(two)
    one_leaf = tmp_path / "leaf.pem"
    one_leaf.write_bytes(leaf.cert_pem())
    with pytest.raises(
        TimestampError,
        match=r"^failed to check root certificate with error: x509: invalid signature: parent certificate cannot "
        r"sign this kind of certificate$",
    ):
        load_tsa_root(one_leaf)  # Go's IsRootCertificate: CheckSignatureFrom(itself) fails first
    with pytest.raises(TimestampError, match=r"^timestamping: tsa root certificate path cannot be empty$"):
        load_tsa_root("")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("", "timestamping: tsa url cannot be empty"),
        ("ftp://tsa.example", 'endpoint "ftp://tsa.example": scheme must be http or https, but got "ftp"'),
        ("http://", 'endpoint "http://": host cannot be empty'),
        ("tsa.example/x", 'endpoint "tsa.example/x": scheme cannot be empty'),
    ],
)
def test_tsa02_url_rules(url: str, error: str) -> None:
    with pytest.raises(TimestampError) as info:
        check_tsa_url(url)
    assert info.value.message == error
