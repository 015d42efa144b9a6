"""Certificate chain rules (signature.md §9: CERT-01..18, ALG-02, ALG-07, DISC-05, DISC-06, DISC-15)."""

from __future__ import annotations

import base64
import datetime as dt
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from notation._internal.x509.chain import validate_signing_chain, validate_timestamping_chain
from notation.errors import CertificateError
from support import pki

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
LEAF_DN = "CN=leaf,O=Notary,L=Seattle,ST=WA,C=US"
INTER_DN = "CN=Test Intermediate,O=Notary,L=Seattle,ST=WA,C=US"
ROOT_DN = "CN=Test Root,O=Notary,L=Seattle,ST=WA,C=US"


@pytest.fixture(scope="module")
def ca() -> tuple[pki.Issued, pki.Issued]:
    root = pki.root_ca("Test Root", key_kind="ec256")
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, path_length=0)
    return root, inter


def _leaf(inter: pki.Issued, **kw: object) -> pki.Issued:
    return pki.issue("leaf", key_kind=str(kw.pop("key_kind", "ec256")), issuer=inter, **kw)  # type: ignore[arg-type]


def _fails(chain: list[x509.Certificate], message: str, **kw: object) -> None:
    with pytest.raises(CertificateError) as err:
        validate_signing_chain(chain, **kw)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_valid_chains(ca: tuple[pki.Issued, pki.Issued]) -> None:
    root, inter = ca
    leaf = _leaf(inter)
    validate_signing_chain(leaf.chain)
    validate_signing_chain(leaf.chain, at=NOW)
    with pytest.raises(CertificateError, match="the ca field must be set to false"):
        validate_signing_chain([root.cert])  # a lone certificate must satisfy the leaf rules (CERT-02)
    validate_signing_chain(pki.self_signed_leaf(key_kind="ec256").chain)  # CERT-20


def test_cert01_empty_chain() -> None:
    _fails([], "certificate chain must contain at least one certificate")


def test_cert02_self_signed_leaf_must_follow_leaf_rules() -> None:
    leaf = pki.self_signed_leaf(key_kind="ec256", key_usage="digital_signature,key_cert_sign")
    _fails(
        leaf.chain,
        'the certificate with subject "CN=test,O=Notary,L=Seattle,ST=WA,C=US" is invalid. The key usage must be '
        '"Digital Signature" only, but found "CertSign"',
    )


def test_cert02_single_certificate_not_self_signed(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    leaf = _leaf(inter)
    with pytest.raises(CertificateError, match=f'^invalid self-signed certificate. subject: "{LEAF_DN}". Error: '):
        validate_signing_chain([leaf.cert])


def test_cert02_self_signed_needs_equal_raw_names() -> None:
    """Signature verifies with its own key, but issuer != subject: not self-signed."""
    key = pki.new_key("ec256")
    fake_issuer = pki.Issued(key=key, cert=pki.self_signed_leaf("someone else", key=key).cert)
    cert = pki.issue("loner", key=key, issuer=fake_issuer, basic_constraints=False)
    with pytest.raises(CertificateError, match="Error: issuer and subject are not the same"):
        validate_signing_chain([cert.cert])


def test_cert03_chain_must_end_in_root(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    leaf = _leaf(inter)
    with pytest.raises(
        CertificateError, match=f'^root certificate with subject "{INTER_DN}" is invalid or not self-signed'
    ):
        validate_signing_chain(leaf.chain[:2])


def test_cert03_reordered_chain(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    leaf = _leaf(inter)
    _fails(
        list(reversed(leaf.chain)),
        f'leaf certificate with subject "{ROOT_DN}" is self-signed. Certificate chain must not contain self-signed '
        "leaf certificate",
    )


def test_cert03_self_signed_intermediate(ca: tuple[pki.Issued, pki.Issued]) -> None:
    root, _inter = ca
    leaf = pki.issue("leaf", key_kind="ec256", issuer=root)
    _fails(
        [leaf.cert, root.cert, root.cert],
        f'intermediate certificate with subject "{ROOT_DN}" is self-signed. Certificate chain must not contain '
        "self-signed intermediate certificate",
    )


def test_cert03_wrong_issuer(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _root, inter = ca
    leaf = _leaf(inter)
    other = pki.root_ca("Other Root", key_kind="ec256")
    with pytest.raises(
        CertificateError,
        match=f'^invalid certificates or certificate with subject "{LEAF_DN}" is not issued by '
        '"CN=Other Root,O=Notary,L=Seattle,ST=WA,C=US". Error: x509: ECDSA verification failure$',
    ):
        validate_signing_chain([leaf.cert, other.cert])


def test_cert03_issuer_name_mismatch_with_valid_signature(ca: tuple[pki.Issued, pki.Issued]) -> None:
    root, inter = ca
    leaf = pki.issue("leaf", key_kind="ec256", issuer=inter, issuer_name=pki.name("Somebody"))
    _fails([leaf.cert, inter.cert, root.cert], f'certificate with subject "{LEAF_DN}" is not issued by "{INTER_DN}"')


def test_cert05_validity_nesting_not_enforced(ca: tuple[pki.Issued, pki.Issued]) -> None:
    root, _ = ca
    inter = pki.issue(
        "Short Intermediate", key_kind="ec256", issuer=root, ca=True, not_after=NOW + dt.timedelta(days=1)
    )
    leaf = pki.issue("leaf", key_kind="ec256", issuer=inter, not_after=NOW + dt.timedelta(days=300))
    validate_signing_chain(leaf.chain, at=NOW)


def test_cert06_validity_at_signing_time(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    nb = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    na = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    leaf = _leaf(inter, not_before=nb, not_after=na)
    validate_signing_chain(leaf.chain)  # not checked without a time (verification, CERT-06)
    _fails(
        leaf.chain,
        f'certificate with subject "{LEAF_DN}" was invalid at signing time of 2022-03-04 05:06:07 +0000 UTC. '
        "Certificate is valid from [2020-01-01 00:00:00 +0000 UTC] to [2021-01-01 00:00:00 +0000 UTC]",
        at=dt.datetime(2022, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
    )


def test_cert07_unknown_critical_extension_ignored(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    ext = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    validate_signing_chain(_leaf(inter, extra_extensions=[(ext, True)]).chain)


def test_cert10_leaf_must_not_be_ca(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _root, inter = ca
    leaf = pki.issue("leaf", key_kind="ec256", issuer=inter, ca=True, key_usage="digital_signature")
    _fails(
        leaf.chain,
        f'certificate with subject "{LEAF_DN}": if the basic constraints extension is present, the ca field must '
        "be set to false",
    )


def test_cert11_key_usage_present_and_critical(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    _fails(
        _leaf(inter, key_usage="none").chain,
        f'certificate with subject "{LEAF_DN}": key usage extension must be present',
    )
    _fails(
        _leaf(inter, ku_critical=False).chain,
        f'certificate with subject "{LEAF_DN}": key usage extension must be marked critical',
    )


def test_cert12_key_usage_bits(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    _fails(
        _leaf(inter, key_usage="key_encipherment").chain,
        f'the certificate with subject "{LEAF_DN}" is invalid. The key usage must have the bit positions for '
        '"Digital Signature" set',
    )
    _fails(
        _leaf(inter, key_usage="digital_signature,data_encipherment,crl_sign").chain,
        f'the certificate with subject "{LEAF_DN}" is invalid. The key usage must be "Digital Signature" only, but '
        'found "DataEncipherment", "CRLSign"',
    )
    validate_signing_chain(_leaf(inter, key_usage="digital_signature,content_commitment").chain)


@pytest.mark.parametrize(
    ("oid", "name"),
    [
        (ExtendedKeyUsageOID.SERVER_AUTH, "ServerAuth"),
        (ExtendedKeyUsageOID.CLIENT_AUTH, "ClientAuth"),
        (ExtendedKeyUsageOID.EMAIL_PROTECTION, "EmailProtection"),
        (ExtendedKeyUsageOID.TIME_STAMPING, "TimeStamping"),
        (ExtendedKeyUsageOID.OCSP_SIGNING, "OCSPSigning"),
        (ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE, "Any"),  # DISC-05: Go accepts it, we do not
    ],
)
def test_cert13_forbidden_eku(ca: tuple[pki.Issued, pki.Issued], oid: ObjectIdentifier, name: str) -> None:
    _, inter = ca
    _fails(
        _leaf(inter, eku=[ExtendedKeyUsageOID.CODE_SIGNING, oid]).chain,
        f'certificate with subject "{LEAF_DN}": extended key usage must not contain {name} eku',
    )


def test_cert13_eku_optional_and_may_be_critical(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    validate_signing_chain(_leaf(inter, eku=[]).chain)
    validate_signing_chain(_leaf(inter, eku_critical=True).chain)
    validate_signing_chain(_leaf(inter, eku=[ObjectIdentifier("1.3.6.1.4.1.311.10.3.13")]).chain)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("rsa1024", "rsa key size 1024 bits is not supported"),
        ("ec224", "ecdsa key size 224 bits is not supported"),
        ("ed25519", "unsupported public key type"),
    ],
)
def test_cert14_alg02_leaf_key(kind: str, message: str) -> None:
    leaf = pki.self_signed_leaf(key_kind=kind)
    _fails(leaf.chain, f'certificate with subject "CN=test,O=Notary,L=Seattle,ST=WA,C=US": {message}')


def test_cert15_ca_basic_constraints() -> None:
    root = pki.root_ca("Test Root", key_kind="ec256")
    msg = f'certificate with subject "{INTER_DN}": ca field in basic constraints must be present, critical, and set to '
    msg += "true"
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, bc_critical=False)
    _fails(pki.issue("leaf", key_kind="ec256", issuer=inter).chain, msg)  # DISC-06


def test_cert15_parent_without_basic_constraints_cannot_sign() -> None:
    root = pki.root_ca("Test Root", key_kind="ec256")
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, basic_constraints=False)
    with pytest.raises(CertificateError, match="parent certificate cannot sign this kind of certificate"):
        validate_signing_chain(pki.issue("leaf", key_kind="ec256", issuer=inter).chain)


def test_cert16_path_length() -> None:
    root = pki.root_ca("Test Root", key_kind="ec256", path_length=0)
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, path_length=0)
    _fails(
        pki.issue("leaf", key_kind="ec256", issuer=inter).chain,
        f'certificate with subject "{ROOT_DN}": expected path length of 1 but certificate has path length 0 instead',
    )
    root1 = pki.root_ca("Test Root", key_kind="ec256", path_length=1)
    inter1 = pki.issue("Test Intermediate", key_kind="ec256", issuer=root1, ca=True, path_length=0)
    validate_signing_chain(pki.issue("leaf", key_kind="ec256", issuer=inter1).chain)


def test_cert17_ca_key_usage() -> None:
    root = pki.root_ca("Test Root", key_kind="ec256")
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, key_usage="none")
    _fails(
        pki.issue("leaf", key_kind="ec256", issuer=inter).chain,
        f'certificate with subject "{INTER_DN}": key usage extension must be present',
    )
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, ku_critical=False)
    _fails(
        pki.issue("leaf", key_kind="ec256", issuer=inter).chain,
        f'certificate with subject "{INTER_DN}": key usage extension must be marked critical',
    )
    inter = pki.issue("Test Intermediate", key_kind="ec256", issuer=root, ca=True, key_usage="digital_signature")
    with pytest.raises(CertificateError, match="parent certificate cannot sign this kind of certificate"):
        validate_signing_chain(pki.issue("leaf", key_kind="ec256", issuer=inter).chain)


_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("06092a864886f70d0101050500")


def _resign_sha1(cert: x509.Certificate, key: object) -> x509.Certificate:
    """cryptography refuses to issue SHA-1 certificates, so swap the algorithm OID and re-sign the TBS by hand."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    der = cert.public_bytes(serialization.Encoding.DER).replace(_SHA256_RSA, _SHA1_RSA)
    tbs = cert.tbs_certificate_bytes.replace(_SHA256_RSA, _SHA1_RSA)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # type: ignore[attr-defined]
    assert len(signature) == len(cert.signature)
    return x509.load_der_x509_certificate(der[: -len(signature)] + signature)


def test_alg07_sha1_link_rejected() -> None:
    root = pki.root_ca("Test Root", key_kind="rsa2048")
    leaf = pki.issue("leaf", key_kind="ec256", issuer=root)
    sha1_leaf = _resign_sha1(leaf.cert, root.key)
    assert sha1_leaf.signature_hash_algorithm.name == "sha1"  # type: ignore[union-attr]
    with pytest.raises(CertificateError, match=r"Error: x509: cannot verify signature: insecure algorithm SHA1-RSA$"):
        validate_signing_chain([sha1_leaf, root.cert])


def test_disc15_lone_sha1_self_signed_rejected() -> None:
    leaf = pki.self_signed_leaf(key_kind="rsa2048")
    with pytest.raises(CertificateError, match=r"insecure algorithm SHA1-RSA$"):
        validate_signing_chain([_resign_sha1(leaf.cert, leaf.key)])


def test_ca_weak_key_rejected() -> None:
    root = pki.root_ca("Test Root", key_kind="rsa1024")
    leaf = pki.issue("leaf", key_kind="ec256", issuer=root)
    _fails(leaf.chain, f'certificate with subject "{ROOT_DN}": rsa key size 1024 bits is not supported')


# --- CERT-18: timestamping chains -------------------------------------------------------------------------------


def _tsa_leaf(inter: pki.Issued, **kw: object) -> pki.Issued:
    kw.setdefault("eku", [ExtendedKeyUsageOID.TIME_STAMPING])
    kw.setdefault("eku_critical", True)
    return pki.issue("tsa", key_kind="ec256", issuer=inter, **kw)  # type: ignore[arg-type]


def test_cert18_timestamping_chain(ca: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ca
    validate_timestamping_chain(_tsa_leaf(inter).chain, at=NOW)
    validate_timestamping_chain(_tsa_leaf(inter, ku_critical=False).chain)  # criticality only SHOULD
    dn = "CN=tsa,O=Notary,L=Seattle,ST=WA,C=US"
    with pytest.raises(CertificateError) as err:
        validate_timestamping_chain(_tsa_leaf(inter, eku_critical=False).chain)
    assert str(err.value) == (
        f'timestamp signing certificate with subject "{dn}" must have extended key usage extension marked as critical'
    )
    for eku in (
        [ExtendedKeyUsageOID.CODE_SIGNING],
        [ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING],
    ):
        with pytest.raises(CertificateError) as err:
            validate_timestamping_chain(_tsa_leaf(inter, eku=eku).chain)
        assert str(err.value) == (
            f'timestamp signing certificate with subject "{dn}" must have and only have Timestamping as extended key '
            "usage"
        )
    # a code-signing leaf is not a TSA leaf, and vice versa
    with pytest.raises(CertificateError, match="extended key usage must not contain TimeStamping eku"):
        validate_signing_chain(_tsa_leaf(inter).chain)


def test_long_country_name_parses_quietly_like_go() -> None:
    """Go accepts a 7-letter C= value; cryptography accepts it with a UserWarning meant for the CLI's stderr."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    from notation._internal.x509.keys import parse_der_certificate

    with warnings.catch_warnings():  # building it warns too
        warnings.simplefilter("ignore", UserWarning)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "Germany", _validate=False),
                x509.NameAttribute(NameOID.COMMON_NAME, "long country"),
            ]
        )
    der = pki.self_signed_leaf(subject=subject).cert.public_bytes(Encoding.DER)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cert = parse_der_certificate(der)
    assert [str(w.message) for w in seen] == []
    assert cert.subject.rfc4514_string() == "CN=long country,C=Germany"


@pytest.mark.parametrize("loader", ["der", "pem"])
def test_non_positive_serials_as_go_1_23_parses_them(loader: str) -> None:
    """Go 1.23+ (notation 1.3) refuses a negative serial ("x509: negative serial number") and accepts zero;
    cryptography accepts both with a multi-line deprecation warning on stderr, which must not reach the CLI."""
    from notation._internal.x509.keys import load_certificates

    cert = pki.self_signed_leaf("serials", key_kind="ec256").cert

    def load(data: bytes) -> list[x509.Certificate]:
        if loader == "der":
            return load_certificates(data)
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(data) + b"-----END CERTIFICATE-----\n"
        return load_certificates(pem)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        zero = load(pki.with_serial(cert, 0))[0]
        with pytest.raises(CertificateError, match=r"^failed to parse certificate: .*x509: negative serial number$"):
            load(pki.with_serial(cert, -1))
    assert [str(w.message) for w in seen] == []
    with warnings.catch_warnings(record=True) as seen:  # reading it warns each time, unless the CLI is running
        warnings.simplefilter("always")
        assert zero.serial_number == 0
        assert len(seen) == 1
        from notation._internal.cli.main import main

        assert main(["version"]) == 0  # never reads a certificate: no filter (it would import re at start-up)
        assert zero.serial_number == 0
        assert len(seen) == 2
        assert main(["certificate", "--help"]) == 0  # loading a command that reads certificates sets it
        assert zero.serial_number == 0
        assert len(seen) == 2


def test_cert_memo_keeps_failing_closed_after_a_good_chain() -> None:
    """Issue 15 memoizes certificate signature checks by the exact bytes: a good chain checked (twice, so the memo
    answers) leaves an impostor intermediate -- same names, another key -- and a leaf it signed refused."""
    root, inter, leaf = pki.chain3()
    validate_signing_chain(leaf.chain)
    validate_signing_chain(leaf.chain)
    impostor = pki.issue("Test Intermediate", key=pki.new_key("ec256", cached=False), ca=True, path_length=0,
                         issuer_name=inter.cert.issuer)  # fmt: skip  # self-signed, claims the root as issuer
    forged = pki.issue("leaf", issuer=impostor)
    with pytest.raises(CertificateError):
        validate_signing_chain([forged.cert, impostor.cert, root.cert])
    with pytest.raises(CertificateError):
        validate_signing_chain([forged.cert, inter.cert, root.cert])  # signed by another key than inter's
