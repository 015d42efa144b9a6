"""Trust evaluation after integrity (signature.md VER-13..19; trust.md AUTH-*, ID-08..11, EXP-01, TSV-01/10/11,
REV-03/04, LVL-*) with real certificates and real trust stores on disk."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from notation._internal.envelope.algorithms import SignatureAlgorithm
from notation._internal.envelope.model import (
    SCHEME_SIGNING_AUTHORITY,
    SCHEME_X509,
    SignedAttributes,
    SignerInfo,
    UnsignedAttributes,
)
from notation._internal.trust.evaluate import evaluate_trust, first_enforced_failure, rfc1123z
from notation._internal.trust.policy import TrustPolicyDocument, TrustPolicyStatement
from notation._internal.trust.store import TrustStore, TrustStoreLoadError
from notation.models import ValidationAction as A
from notation.models import ValidationResult
from notation.models import ValidationType as T
from support import pki

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
IDENTITY = "x509.subject: C=US, ST=WA, O=Notary"


def policy(level: str = "strict", **kw: Any) -> TrustPolicyStatement:
    st: dict[str, Any] = {
        "name": "p",
        "registryScopes": ["*"],
        "signatureVerification": {"level": level, **kw.pop("sv", {})},
        "trustStores": ["ca:acme"],
        "trustedIdentities": [IDENTITY],
    }
    st.update(kw)
    return TrustPolicyDocument.parse(json.dumps({"version": "1.0", "trustPolicies": [st]}).encode()).statements[0]


def signer(
    chain: Sequence[x509.Certificate],
    *,
    scheme: str = SCHEME_X509,
    expiry: dt.datetime | None = None,
    authentic_signing_time: dt.datetime | None = None,
    timestamp: bytes | None = None,
) -> SignerInfo:
    return SignerInfo(
        media_type="application/jose+json",
        payload=b"{}",
        signature_algorithm=SignatureAlgorithm.RSASSA_PSS_SHA256,
        signature=b"sig",
        certificate_chain=tuple(chain),
        signed=SignedAttributes(
            signing_scheme=scheme,
            content_type="application/vnd.cncf.notary.payload.v1+json",
            signing_time=NOW if scheme == SCHEME_X509 else None,
            authentic_signing_time=authentic_signing_time,
            expiry=expiry,
        ),
        unsigned=UnsignedAttributes(timestamp_signature=timestamp),
    )


@pytest.fixture(scope="module")
def chain() -> tuple[pki.Issued, pki.Issued, pki.Issued]:
    return pki.chain3()


@pytest.fixture
def store(tmp_path: Path, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> TrustStore:
    ts = TrustStore(tmp_path / "truststore")
    d = ts.store_dir("ca", "acme")
    d.mkdir(parents=True)
    (d / "root.pem").write_bytes(chain[0].cert_pem())
    return ts


def summary(results: list[ValidationResult]) -> list[tuple[str, str, bool]]:
    return [(r.type.value, r.action.value, r.passed) for r in results]


# ----------------------------------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("level", ["strict", "permissive", "audit"])
def test_ver13_19_trusted_chain_passes_every_level(store: TrustStore, chain: Any, level: str) -> None:
    results = evaluate_trust(policy(level), signer(chain[2].chain), store, now=NOW)
    assert [r.type for r in results] == [T.AUTHENTICITY, T.EXPIRY, T.AUTHENTIC_TIMESTAMP, T.REVOCATION]
    assert all(r.passed for r in results)
    assert first_enforced_failure(results) is None


def test_auth04_pinned_intermediate_matches(tmp_path: Path, chain: Any) -> None:
    ts = TrustStore(tmp_path)
    d = ts.store_dir("ca", "acme")
    d.mkdir(parents=True)
    (d / "inter.pem").write_bytes(chain[1].cert_pem())
    assert all(r.passed for r in evaluate_trust(policy(), signer(chain[2].chain), ts, now=NOW))


def test_ts10_only_the_scheme_store_type_counts(store: TrustStore, chain: Any) -> None:
    """A signingAuthority signature is not trusted by a `ca` store (AUTH-01, SCH-04)."""
    st = policy(trustStores=["ca:acme", "signingAuthority:acme"])
    with pytest.raises(TrustStoreLoadError, match='"acme" of type "signingAuthority" does not exist'):
        evaluate_trust(
            st, signer(chain[2].chain, scheme=SCHEME_SIGNING_AUTHORITY, authentic_signing_time=NOW), store, now=NOW
        )
    sa = store.store_dir("signingAuthority", "acme")
    sa.mkdir(parents=True)
    (sa / "root.pem").write_bytes(chain[0].cert_pem())
    results = evaluate_trust(
        st, signer(chain[2].chain, scheme=SCHEME_SIGNING_AUTHORITY, authentic_signing_time=NOW), store, now=NOW
    )
    assert all(r.passed for r in results)


# ----------------------------------------------------------------------------------------------------- authenticity


def test_auth04_untrusted_chain(store: TrustStore) -> None:
    other = pki.chain3(leaf_cn="other")
    results = evaluate_trust(policy(), signer(other[2].chain), store, now=NOW)
    assert summary(results) == [("authenticity", "enforce", False)]
    assert results[0].error == "the signature's certificate chain does not contain any trusted certificate"
    # audit: logged, and evaluation goes on
    results = evaluate_trust(policy("audit"), signer(other[2].chain), store, now=NOW)
    assert summary(results)[0] == ("authenticity", "log", False)
    assert len(results) == 4 and first_enforced_failure(results) is None


def test_auth05_missing_store_strict_raises_and_audit_logs(tmp_path: Path, chain: Any) -> None:
    ts = TrustStore(tmp_path / "truststore")
    st = policy(trustStores=["ca:nostore"])
    with pytest.raises(TrustStoreLoadError) as exc:
        evaluate_trust(st, signer(chain[2].chain), ts, now=NOW)
    assert str(exc.value) == (
        'the trust store "nostore" of type "ca" does not exist. Use command \'notation cert add\' to create and add '
        "trusted certificates to the trust store"
    )
    results = evaluate_trust(policy("audit", trustStores=["ca:nostore"]), signer(chain[2].chain), ts, now=NOW)
    assert results[0].error == 'the trust store "nostore" of type "ca" does not exist'
    assert results[0].action is A.LOG and first_enforced_failure(results) is None


def test_auth03_no_ca_store_listed(store: TrustStore, chain: Any) -> None:
    tsa = store.store_dir("tsa", "t")
    tsa.mkdir(parents=True)
    (tsa / "root.pem").write_bytes(chain[0].cert_pem())
    results = evaluate_trust(policy(trustStores=["tsa:t"]), signer(chain[2].chain), store, now=NOW)
    assert results[-1].error == "no trusted certificates are found to verify authenticity"


def test_auth01_unknown_scheme(store: TrustStore, chain: Any) -> None:
    with pytest.raises(TrustStoreLoadError, match=r'unrecognized signing scheme "notary.x509.other"'):
        evaluate_trust(policy(), signer(chain[2].chain, scheme="notary.x509.other"), store, now=NOW)


# ----------------------------------------------------------------------------------------------------- identity


def test_ver14_identity_mismatch(store: TrustStore, chain: Any) -> None:
    st = policy(trustedIdentities=["x509.subject: C=US, ST=WA, O=Someone Else"])
    results = evaluate_trust(st, signer(chain[2].chain), store, now=NOW)
    assert summary(results) == [("authenticity", "enforce", False)]
    assert results[0].error == (
        "signing certificate from the digital signature does not match the X.509 trusted identities "
        '[map["C":"US" "O":"Someone Else" "ST":"WA"]] defined in the trust policy "p"'
    )
    # ID-12: a plugin handling trusted identity skips the check
    assert all(r.passed for r in evaluate_trust(st, signer(chain[2].chain), store, now=NOW, skip_identity=True))


def test_ver14_audit_identity_error_replaces_store_error(store: TrustStore) -> None:
    """Go shares one authenticity result: under audit the identity failure overwrites the trust-store failure."""
    other = pki.chain3(leaf_cn="other")
    st = policy("audit", trustedIdentities=["x509.subject: C=US, ST=WA, O=Nope"])
    results = evaluate_trust(st, signer(other[2].chain), store, now=NOW)
    auth = [r for r in results if r.type is T.AUTHENTICITY]
    assert (
        len(auth) == 1 and auth[0].error is not None and "does not match the X.509 trusted identities" in auth[0].error
    )


def test_lvl14_audit_with_enforced_authenticity(store: TrustStore) -> None:
    other = pki.chain3(leaf_cn="other")
    st = policy("audit", sv={"override": {"authenticity": "enforce"}})
    results = evaluate_trust(st, signer(other[2].chain), store, now=NOW)
    assert summary(results) == [("authenticity", "enforce", False)]


# ----------------------------------------------------------------------------------------------------- expiry


def test_exp01_expired_signature(store: TrustStore, chain: Any) -> None:
    expiry = dt.datetime(2024, 3, 1, 12, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    results = evaluate_trust(policy(), signer(chain[2].chain, expiry=expiry), store, now=NOW)
    assert summary(results) == [("authenticity", "enforce", True), ("expiry", "enforce", False)]
    assert results[-1].error == 'digital signature has expired on "Fri, 01 Mar 2024 12:30:05 -0800"'
    # permissive: logged, evaluation continues (VER-19)
    results = evaluate_trust(policy("permissive"), signer(chain[2].chain, expiry=expiry), store, now=NOW)
    assert [r.type for r in results] == [T.AUTHENTICITY, T.EXPIRY, T.AUTHENTIC_TIMESTAMP, T.REVOCATION]
    assert results[1].action is A.LOG and not results[1].passed
    # exactly at expiry counts as expired; one second before does not
    assert not evaluate_trust(policy(), signer(chain[2].chain, expiry=NOW), store, now=NOW)[-1].passed
    later = NOW + dt.timedelta(seconds=1)
    assert evaluate_trust(policy(), signer(chain[2].chain, expiry=later), store, now=NOW)[1].passed


def test_rfc1123z() -> None:
    assert rfc1123z(dt.datetime(2006, 1, 2, 15, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-7)))) == (
        "Mon, 02 Jan 2006 15:04:05 -0700"
    )
    assert rfc1123z(dt.datetime(2026, 11, 29, 10, 26, 4, tzinfo=dt.UTC)) == "Sun, 29 Nov 2026 10:26:04 +0000"


# ----------------------------------------------------------------------------------------------------- timestamp


def _expired_chain() -> tuple[pki.Issued, pki.Issued]:
    root = pki.root_ca("Expiry Root")
    leaf = pki.issue(
        "expired-leaf",
        issuer=root,
        not_before=NOW - dt.timedelta(days=10),
        not_after=NOW - dt.timedelta(days=1),
    )
    return root, leaf


def _store_with(tmp_path: Path, root: pki.Issued, *extra: tuple[str, str]) -> TrustStore:
    ts = TrustStore(tmp_path / "ts")
    for kind, name in (("ca", "acme"), *extra):
        d = ts.store_dir(kind, name)
        d.mkdir(parents=True)
        (d / "root.pem").write_bytes(root.cert_pem())
    return ts


def test_tsv11_expired_chain_without_tsa_store(tmp_path: Path) -> None:
    root, leaf = _expired_chain()
    ts = _store_with(tmp_path, root)
    results = evaluate_trust(policy(), signer(leaf.chain), ts, now=NOW)
    assert summary(results)[-1] == ("authenticTimestamp", "enforce", False)
    assert results[-1].error == (
        'verification time is after certificate "CN=expired-leaf,O=Notary,L=Seattle,ST=WA,C=US" validity period, '
        f'it was expired at "{rfc1123z(leaf.cert.not_valid_after_utc)}"'
    )
    # permissive logs it and carries on
    results = evaluate_trust(policy("permissive"), signer(leaf.chain), ts, now=NOW)
    assert results[2].type is T.AUTHENTIC_TIMESTAMP and results[2].action is A.LOG and not results[2].passed
    assert first_enforced_failure(results) is None


def test_tsv11_not_yet_valid(tmp_path: Path) -> None:
    root = pki.root_ca("Future Root")
    leaf = pki.issue("future", issuer=root, not_before=NOW + dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=5))
    results = evaluate_trust(policy(), signer(leaf.chain), _store_with(tmp_path, root), now=NOW)
    assert results[-1].error is not None
    assert results[-1].error.startswith('verification time is before certificate "CN=future,')
    assert "validity period, it will be valid from" in results[-1].error


def test_tsv10_tsa_store_requires_a_timestamp(tmp_path: Path, chain: Any) -> None:
    root = chain[0]
    ts = _store_with(tmp_path, root, ("tsa", "tsa"))
    st = policy(trustStores=["ca:acme", "tsa:tsa"])
    results = evaluate_trust(st, signer(chain[2].chain), ts, now=NOW)
    assert results[-1].error == "no timestamp countersignature was found in the signature envelope"
    # a token present but no verifier available yet: fail closed
    results = evaluate_trust(st, signer(chain[2].chain, timestamp=b"\x30\x00"), ts, now=NOW)
    assert results[-1].type is T.AUTHENTIC_TIMESTAMP and results[-1].error is not None
    assert "not supported yet" in results[-1].error
    # the hook decides when present
    seen: list[bytes | None] = []

    def verifier(info: SignerInfo, statement: TrustPolicyStatement, store: TrustStore, now: dt.datetime) -> str | None:
        seen.append(info.unsigned.timestamp_signature)
        return None

    results = evaluate_trust(st, signer(chain[2].chain, timestamp=b"tok"), ts, now=NOW, timestamp_verifier=verifier)
    assert all(r.passed for r in results) and seen == [b"tok"]


def test_tsv10_after_cert_expiry_skips_timestamp_for_valid_chain(tmp_path: Path, chain: Any) -> None:
    ts = _store_with(tmp_path, chain[0], ("tsa", "tsa"))
    st = policy(trustStores=["ca:acme", "tsa:tsa"], sv={"verifyTimestamp": "afterCertExpiry"})
    assert all(r.passed for r in evaluate_trust(st, signer(chain[2].chain), ts, now=NOW))
    root, leaf = _expired_chain()
    ts2 = _store_with(tmp_path / "2", root, ("tsa", "tsa"))
    results = evaluate_trust(st, signer(leaf.chain), ts2, now=NOW)
    assert results[-1].error == "no timestamp countersignature was found in the signature envelope"


def test_tsv01_signing_authority_time_within_validity(tmp_path: Path) -> None:
    root = pki.root_ca("SA Root", not_before=NOW - dt.timedelta(days=20))
    leaf = pki.issue(
        "sa-leaf", issuer=root, not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(days=1)
    )
    ts = TrustStore(tmp_path)
    d = ts.store_dir("signingAuthority", "sa")
    d.mkdir(parents=True)
    (d / "root.pem").write_bytes(root.cert_pem())
    st = policy(trustStores=["signingAuthority:sa"])
    inside = NOW - dt.timedelta(days=5)
    ok = evaluate_trust(
        st, signer(leaf.chain, scheme=SCHEME_SIGNING_AUTHORITY, authentic_signing_time=inside), ts, now=NOW
    )
    assert all(r.passed for r in ok)  # the chain expired since, but was valid when signed
    outside = NOW - dt.timedelta(hours=1)
    bad = evaluate_trust(
        st, signer(leaf.chain, scheme=SCHEME_SIGNING_AUTHORITY, authentic_signing_time=outside), ts, now=NOW
    )
    assert bad[-1].error == (
        'certificate "CN=sa-leaf,O=Notary,L=Seattle,ST=WA,C=US" was not valid when the digital signature was produced '
        f'at "{rfc1123z(outside)}"'
    )


# ----------------------------------------------------------------------------------------------------- revocation


def _leaf_with_ocsp(root: pki.Issued) -> pki.Issued:
    leaf = pki.issue("ocsp-leaf", issuer=root)
    # re-issue with an AIA OCSP URL
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.cert.subject)
        .issuer_name(root.cert.subject)
        .public_key(leaf.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(leaf.cert.not_valid_before_utc)
        .not_valid_after(leaf.cert.not_valid_after_utc)
    )
    for ext in leaf.cert.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://127.0.0.1:1/ocsp")
                )
            ]
        ),
        critical=False,
    )
    from cryptography.hazmat.primitives import hashes

    cert = builder.sign(root.key, hashes.SHA256())
    return pki.Issued(key=leaf.key, cert=cert, chain=[cert, *root.chain])


def test_rev04_endpoint_fails_closed_until_checker_exists(tmp_path: Path) -> None:
    root = pki.root_ca("Rev Root")
    leaf = _leaf_with_ocsp(root)
    ts = _store_with(tmp_path, root)
    results = evaluate_trust(policy(), signer(leaf.chain), ts, now=NOW)
    assert summary(results)[-1] == ("revocation", "enforce", False)
    assert results[-1].error is not None and results[-1].error.startswith("unable to check revocation status, err: ")
    # skipped by override or by a plugin: no revocation result at all
    assert [
        r.type for r in evaluate_trust(policy(sv={"override": {"revocation": "skip"}}), signer(leaf.chain), ts, now=NOW)
    ] == [
        T.AUTHENTICITY,
        T.EXPIRY,
        T.AUTHENTIC_TIMESTAMP,
    ]
    assert len(evaluate_trust(policy(), signer(leaf.chain), ts, now=NOW, skip_revocation=True)) == 3
    # a checker hook gets the chain and decides
    calls: list[tuple[int, dt.datetime | None]] = []

    def checker(chain: Sequence[x509.Certificate], signing_time: dt.datetime | None) -> str | None:
        calls.append((len(chain), signing_time))
        return 'signing certificate with subject "x" is revoked'

    results = evaluate_trust(policy("permissive"), signer(leaf.chain), ts, now=NOW, revocation_checker=checker)
    assert results[-1].error == 'signing certificate with subject "x" is revoked' and results[-1].action is A.LOG
    assert calls == [(2, None)]


def test_rev03_self_signed_root_only_is_never_checked(tmp_path: Path) -> None:
    leaf = pki.self_signed_leaf("solo")
    ts = TrustStore(tmp_path)
    d = ts.store_dir("ca", "acme")
    d.mkdir(parents=True)
    (d / "solo.pem").write_bytes(leaf.cert_pem())
    results = evaluate_trust(policy(), signer(leaf.chain), ts, now=NOW)
    assert all(r.passed for r in results) and results[-1].type is T.REVOCATION


def test_naive_now_rejected(store: TrustStore, chain: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_trust(policy(), signer(chain[2].chain), store, now=NOW.replace(tzinfo=None))
