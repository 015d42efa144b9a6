"""The verification path's memos fail closed (issue 15; signature.md VER-11, JWS-11, COSE-10, CERT-03, CERT-06,
SIGN-05; trust.md TSV-11).

The chain rules that do not depend on the time are memoised by the exact DER of the chain, certificates by their
x5c text or DER. Each test first makes the memo answer (and checks that it holds the entry, so the test exercises
the memoised path, not a cold one), then shows that what must fail still fails.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from notation._internal.envelope import _cbor, _crypto, codec, cose, jws
from notation._internal.envelope._common import b64url_decode, b64url_encode
from notation._internal.envelope.algorithms import SignatureAlgorithm
from notation._internal.envelope.codec import sign_envelope, verify_integrity
from notation._internal.envelope.local_signer import LocalSigner
from notation._internal.envelope.model import SignRequest
from notation._internal.envelope.payload import build_payload
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.mediatypes import COSE_ENVELOPE, JWS_ENVELOPE, NOTARY_PAYLOAD
from notation._internal.trust.evaluate import evaluate_trust
from notation._internal.trust.policy import TrustPolicyDocument
from notation._internal.trust.store import TrustStore
from notation._internal.x509 import chain as chain_rules
from notation._internal.x509.chain import validate_signing_chain, validate_timestamping_chain
from notation._internal.x509.keys import DER, der_of, parse_der_certificate
from notation.errors import CertificateError, SignatureIntegrityError, SigningError
from support import pki

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
FORMATS = [JWS_ENVELOPE, COSE_ENVELOPE]


@pytest.fixture(autouse=True)
def fresh_memos() -> Iterator[None]:
    codec.clear_memos()
    yield
    codec.clear_memos()


@pytest.fixture(scope="module")
def ca() -> tuple[pki.Issued, pki.Issued]:
    root = pki.root_ca("Memo Root", key=pki.new_key("ec256", cached=False))
    inter = pki.issue("Memo Intermediate", key=pki.new_key("ec256", cached=False), issuer=root, ca=True, path_length=0)
    return root, inter


def _leaf(inter: pki.Issued, cn: str = "memo leaf", **kw: object) -> pki.Issued:
    return pki.issue(cn, key=pki.new_key("ec256", cached=False), issuer=inter, **kw)  # type: ignore[arg-type]


def _memoised(chain: list[x509.Certificate] | tuple[x509.Certificate, ...], *, timestamping: bool = False) -> bool:
    return (timestamping, tuple(der_of(c) for c in chain)) in chain_rules._GOOD_CHAINS


def _request(media_type: str, content: bytes = b"{}", signing_time: dt.datetime = NOW) -> SignRequest:
    target = Descriptor.for_content("application/vnd.oci.image.manifest.v1+json", content)
    return SignRequest(build_payload(target, media_type), NOTARY_PAYLOAD, signing_time)


def _sign(media_type: str, leaf: pki.Issued, content: bytes = b"{}") -> bytes:
    return sign_envelope(media_type, _request(media_type, content), LocalSigner(leaf.key, leaf.chain))


def _parts(media_type: str, envelope: bytes) -> tuple[bytes, list[bytes]]:
    """(signature, chain DERs) of an envelope."""
    if media_type == JWS_ENVELOPE:
        doc = json.loads(envelope)
        return b64url_decode(doc["signature"]), [base64.b64decode(c) for c in doc["header"]["x5c"]]
    message = _cbor.loads(envelope).value
    return message[3], message[1][cose.LABEL_X5CHAIN]


def _replace(media_type: str, envelope: bytes, *, signature: bytes | None = None,
             chain: list[bytes] | None = None) -> bytes:  # fmt: skip
    """The envelope with its signature and/or certificate chain replaced, everything else as received."""
    if media_type == JWS_ENVELOPE:
        doc = json.loads(envelope)
        if signature is not None:
            doc["signature"] = b64url_encode(signature)
        if chain is not None:
            doc["header"]["x5c"] = [base64.b64encode(c).decode() for c in chain]
        return json.dumps(doc).encode()
    message = _cbor.loads(envelope).value
    if signature is not None:
        message[3] = signature
    if chain is not None:
        message[1][cose.LABEL_X5CHAIN] = chain
    return _cbor.dumps(_cbor.Tag(cose.TAG_SIGN1, message))


@pytest.mark.parametrize("media_type", FORMATS)
def test_ver11_tampered_signature_fails_with_a_memoised_chain(
    media_type: str, ca: tuple[pki.Issued, pki.Issued]
) -> None:
    """VER-11 / JWS-11 / COSE-10: the envelope signature is checked every time, the chain memo does not cover it."""
    leaf = _leaf(ca[1])
    envelope = _sign(media_type, leaf)
    info = verify_integrity(media_type, envelope)
    assert _memoised(info.certificate_chain)
    verify_integrity(media_type, envelope)  # answered by the memo

    signature, _ = _parts(media_type, envelope)
    flipped = signature[:-1] + bytes([signature[-1] ^ 0x01])
    with pytest.raises(SignatureIntegrityError, match="signature is invalid"):
        verify_integrity(media_type, _replace(media_type, envelope, signature=flipped))

    # A valid signature of the same signer over another payload, replayed onto this envelope.
    other, _ = _parts(media_type, _sign(media_type, leaf, b'{"other":1}'))
    with pytest.raises(SignatureIntegrityError, match="signature is invalid"):
        verify_integrity(media_type, _replace(media_type, envelope, signature=other))
    assert _memoised(info.certificate_chain)  # the chain is still known good; the envelopes still failed


@pytest.mark.parametrize("media_type", FORMATS)
def test_ver11_signature_by_another_key_fails_with_the_memoised_chain_attached(
    media_type: str, ca: tuple[pki.Issued, pki.Issued]
) -> None:
    """An envelope that carries a memoised (good) chain but was signed by a key other than its leaf's."""
    leaf = _leaf(ca[1])
    verify_integrity(media_type, _sign(media_type, leaf))
    assert _memoised(leaf.chain)
    intruder = pki.new_key("ec256", cached=False)
    request = _request(media_type, b'{"forged":1}')
    algorithm = SignatureAlgorithm.ECDSA_SHA256
    if media_type == JWS_ENVELOPE:
        jws_tbs = jws.prepare(request, algorithm)
        forged = jws.assemble(jws_tbs, _crypto.sign(algorithm, intruder, jws_tbs.signing_input), leaf.chain)
    else:
        cose_tbs = cose.prepare(request, algorithm)
        forged = cose.assemble(cose_tbs, _crypto.sign(algorithm, intruder, cose_tbs.to_be_signed), leaf.chain)
    with pytest.raises(SignatureIntegrityError, match="signature is invalid"):
        verify_integrity(media_type, forged)


@pytest.mark.parametrize("media_type", FORMATS)
def test_ver11_envelope_with_one_different_certificate_misses_the_memo(
    media_type: str, ca: tuple[pki.Issued, pki.Issued]
) -> None:
    """CERT-03 at the envelope level: another leaf (same issuer, same names) in x5c[0] of a memoised envelope."""
    leaf, twin = _leaf(ca[1]), _leaf(ca[1])
    envelope = _sign(media_type, leaf)
    verify_integrity(media_type, envelope)
    _, ders = _parts(media_type, envelope)
    swapped = _replace(media_type, envelope, chain=[twin.cert.public_bytes(DER), *ders[1:]])
    assert not _memoised(twin.chain)
    with pytest.raises(SignatureIntegrityError, match="signature is invalid"):
        verify_integrity(media_type, swapped)


def test_cert03_chain_with_one_different_certificate_misses_the_memo(ca: tuple[pki.Issued, pki.Issued]) -> None:
    root, inter = ca
    leaf = _leaf(inter)
    validate_signing_chain(leaf.chain)
    validate_signing_chain(leaf.chain)
    assert _memoised(leaf.chain)

    # Re-issued intermediate: same names and key, another serial. Valid on its own merits, and another memo entry.
    reissued = pki.issue("Memo Intermediate", key=inter.key, issuer=root, ca=True, path_length=0)
    other = [leaf.cert, reissued.cert, root.cert]
    assert not _memoised(other)
    validate_signing_chain(other)
    assert _memoised(other) and len(chain_rules._GOOD_CHAINS) == 2

    # Impostor intermediate: the memoised one's names, another key, properly issued by the root.
    impostor = pki.issue("Memo Intermediate", key=pki.new_key("ec256", cached=False), issuer=root, ca=True,
                         path_length=0)  # fmt: skip
    with pytest.raises(CertificateError, match='is not issued by "CN=Memo Intermediate'):
        validate_signing_chain([leaf.cert, impostor.cert, root.cert])
    # The memoised certificates in another order, or one of them missing.
    with pytest.raises(CertificateError, match=r'"CN=memo leaf.* is not issued by "CN=Memo Root'):
        validate_signing_chain([leaf.cert, root.cert, inter.cert])
    with pytest.raises(CertificateError, match="not self-signed"):
        validate_signing_chain([leaf.cert, inter.cert])
    # The code-signing verdict is not a timestamping one (CERT-18): another key.
    with pytest.raises(CertificateError, match="Timestamping"):
        validate_timestamping_chain(leaf.chain)
    assert not _memoised(leaf.chain, timestamping=True)


def test_cert06_expired_leaf_fails_after_a_memoised_verification(ca: tuple[pki.Issued, pki.Issued]) -> None:
    """CERT-06: validity periods are checked at every call that gives a time, memo or not."""
    leaf = _leaf(ca[1], not_before=NOW - dt.timedelta(hours=1), not_after=NOW + dt.timedelta(hours=1))
    validate_signing_chain(leaf.chain, at=NOW)
    validate_signing_chain(leaf.chain, at=NOW)
    assert _memoised(leaf.chain)
    for when in (NOW + dt.timedelta(hours=2), NOW - dt.timedelta(hours=2)):
        with pytest.raises(CertificateError, match=r'"CN=memo leaf.*was invalid at signing time'):
            validate_signing_chain(leaf.chain, at=when)
    validate_signing_chain(leaf.chain, at=NOW + dt.timedelta(minutes=59))  # still good inside the period
    # The first invalid certificate is named, as the full check names it: an expired intermediate after a valid leaf.
    root = ca[0]
    short = pki.issue("Short Intermediate", key=pki.new_key("ec256", cached=False), issuer=root, ca=True,
                      path_length=0, not_after=NOW + dt.timedelta(hours=1))  # fmt: skip
    leaf2 = _leaf(short, not_after=NOW + dt.timedelta(hours=3))
    validate_signing_chain(leaf2.chain, at=NOW)
    with pytest.raises(CertificateError, match=r'"CN=Short Intermediate.*was invalid at signing time'):
        validate_signing_chain(leaf2.chain, at=NOW + dt.timedelta(hours=2))


@pytest.mark.parametrize("media_type", FORMATS)
def test_sign05_signing_time_outside_validity_fails_with_a_memoised_chain(
    media_type: str, ca: tuple[pki.Issued, pki.Issued]
) -> None:
    """SIGN-05 checks the chain at the signing time (CERT-06) after a signature with the same chain was memoised."""
    leaf = _leaf(ca[1], not_after=NOW + dt.timedelta(hours=1))
    signer = LocalSigner(leaf.key, leaf.chain)
    sign_envelope(media_type, _request(media_type), signer)
    assert _memoised(leaf.chain)
    late = _request(media_type, signing_time=NOW + dt.timedelta(hours=2))
    with pytest.raises(SigningError, match="was invalid at signing time"):
        sign_envelope(media_type, late, signer)


def test_tsv11_expired_leaf_fails_trust_evaluation_after_memoised_integrity(
    tmp_path: Path, ca: tuple[pki.Issued, pki.Issued]
) -> None:
    """VER-11 passes from the memo (it does not look at the time); TSV-11 then refuses the expired leaf."""
    root, inter = ca
    leaf = _leaf(inter, not_after=NOW + dt.timedelta(hours=1))
    envelope = _sign(JWS_ENVELOPE, leaf)
    store = TrustStore(tmp_path / "truststore")
    store.store_dir("ca", "memo").mkdir(parents=True)
    (store.store_dir("ca", "memo") / "root.pem").write_bytes(root.cert_pem())
    statement = TrustPolicyDocument.parse(json.dumps({"version": "1.0", "trustPolicies": [{
        "name": "p", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:memo"], "trustedIdentities": ["*"]}]}).encode()).statements[0]  # fmt: skip
    info = verify_integrity(JWS_ENVELOPE, envelope)
    assert all(r.passed for r in evaluate_trust(statement, info, store, now=NOW))
    info = verify_integrity(JWS_ENVELOPE, envelope)
    assert _memoised(info.certificate_chain)
    results = evaluate_trust(statement, info, store, now=NOW + dt.timedelta(hours=2))
    failed = [r for r in results if not r.passed]
    assert failed and "verification time is after certificate" in str(failed[0].error)


def test_chain_memo_is_a_bounded_lru(ca: tuple[pki.Issued, pki.Issued], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_rules, "_CHAIN_MEMO_LIMIT", 2)
    a, b, c = (_leaf(ca[1], cn) for cn in ("a", "b", "c"))
    validate_signing_chain(a.chain)
    validate_signing_chain(b.chain)
    validate_signing_chain(a.chain)  # a is now the most recently used
    validate_signing_chain(c.chain)
    assert _memoised(a.chain) and _memoised(c.chain) and not _memoised(b.chain)
    assert len(chain_rules._GOOD_CHAINS) == 2


def test_failures_are_not_memoised(ca: tuple[pki.Issued, pki.Issued]) -> None:
    inter = ca[1]
    bad = pki.issue("ca leaf", key=pki.new_key("ec256", cached=False), issuer=inter, ca=True)  # CERT-10
    for _ in range(2):
        with pytest.raises(CertificateError, match="ca field must be set to false"):
            validate_signing_chain(bad.chain)
    assert not chain_rules._GOOD_CHAINS


def test_der_of_is_the_certificate_encoding(ca: tuple[pki.Issued, pki.Issued]) -> None:
    """The memo keys: the same bytes ``public_bytes`` gives (and here, the bytes parsed), computed once per object."""
    for cert in ca[1].chain:
        der = cert.public_bytes(DER)
        parsed = parse_der_certificate(bytearray(der))
        assert der_of(parsed) == der == parsed.public_bytes(DER)
        assert der_of(cert) == der
        assert der_of(parsed) is der_of(parsed)
