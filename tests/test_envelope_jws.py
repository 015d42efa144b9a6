"""JWS envelope rules (signature.md §7: JWS-01..15) plus SIG-11..17, ALG-04..06 and PAY-08 through the JWS codec.

Envelopes are forged with valid signatures over the bad headers, so each test fails on the rule it names.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from envelope_support import forge
from envelope_support.forge import jws_header
from notation._internal.envelope import jws as jws_codec
from notation._internal.envelope.algorithms import SignatureAlgorithm
from notation._internal.envelope.codec import critical_extended_attribute_keys, parse_envelope, verify_integrity
from notation._internal.envelope.model import ExtendedAttribute, SignRequest
from notation._internal.oci.mediatypes import JWS_ENVELOPE
from notation.errors import EnvelopeError, SignatureIntegrityError, SigningError, UnsupportedSignatureFormatError
from support import pki

RSA = pki.self_signed_leaf("rsa signer", key_kind="rsa2048")
EC = pki.self_signed_leaf("ec signer", key_kind="ec256")
LATER = "2099-01-01T00:00:00Z"


def _verify(doc: dict[str, Any] | bytes) -> Any:
    data = doc if isinstance(doc, bytes) else forge.dump(doc)
    return verify_integrity(JWS_ENVELOPE, data)


def _rejects(doc: dict[str, Any] | bytes, message: str, error: type[Exception] = EnvelopeError) -> None:
    with pytest.raises(error) as err:
        _verify(doc)
    assert str(err.value) == message


def test_valid_forged_envelope_verifies() -> None:
    info = _verify(forge.jws(RSA))
    assert info.signed.signing_scheme == "notary.x509"
    assert _verify(forge.jws(EC)).signature_algorithm is SignatureAlgorithm.ECDSA_SHA256


# --- JWS-01 / structure ---


def test_jws01_general_serialization_rejected() -> None:
    doc = forge.jws(RSA)
    general = {"payload": doc["payload"], "signatures": [{k: doc[k] for k in ("protected", "header", "signature")}]}
    _rejects(general, 'jws envelope has unsupported member "signatures"')


def test_jws01_unknown_and_missing_members() -> None:
    doc = forge.jws(RSA)
    _rejects({**doc, "extra": 1}, 'jws envelope has unsupported member "extra"')
    del doc["header"]
    _rejects(doc, "certificate chain is not present")  # Go's Verify checks the chain first (plugin/sign.go e2e)
    _rejects(b"[]", "jws envelope is not a JSON object")


def test_jws01_compact_serialization_rejected() -> None:
    doc = forge.jws(RSA)
    compact = f"{doc['protected']}.{doc['payload']}.{doc['signature']}".encode()
    with pytest.raises(EnvelopeError, match="jws envelope is not valid JSON"):
        _verify(compact)


def test_duplicate_json_members_rejected() -> None:
    doc = forge.jws(RSA)
    raw = forge.dump(doc)[:-1] + b', "signature": "AAAA"}'
    with pytest.raises(EnvelopeError, match="duplicate JSON member 'signature'"):
        _verify(raw)
    header = json.dumps(jws_header()).encode()[:-1] + b', "alg": "ES256"}'
    with pytest.raises(EnvelopeError, match="protected header can't be decoded: duplicate JSON member 'alg'"):
        _verify(forge.jws(RSA, protected_raw=header))


def test_trailing_bytes_rejected() -> None:
    with pytest.raises(EnvelopeError, match=r"invalid character '\{' after top-level value"):
        _verify(forge.dump(forge.jws(RSA)) + b"{}")


def test_unsupported_media_type() -> None:
    with pytest.raises(UnsupportedSignatureFormatError) as err:
        verify_integrity("application/json", forge.dump(forge.jws(RSA)))
    assert str(err.value) == 'signature envelope format with media type "application/json" is not supported'


# --- JWS-02 / base64 ---


@pytest.mark.parametrize("member", ["payload", "protected", "signature"])
@pytest.mark.parametrize("mangle", ["pad", "std", "junk"])
def test_jws02_strict_base64url(member: str, mangle: str) -> None:
    doc = forge.jws(RSA)
    value = doc[member]
    if mangle == "pad":
        data = forge.b64u_decode(value)
        data += b"\x00" * (1 if len(data) % 3 == 0 else 0)
        value = base64.urlsafe_b64encode(data).decode()  # a length that needs "=" padding
        assert value.endswith("=")
    elif mangle == "std":
        value = base64.b64encode(b"\xfb\xff" + forge.b64u_decode(value)).decode().rstrip("=")
        assert "+" in value or "/" in value
    else:
        value = value[:4] + "!" + value[4:]
    doc[member] = value
    with pytest.raises(EnvelopeError, match="illegal base64url data"):
        _verify(doc)


@pytest.mark.parametrize(
    "text",
    ["QUJD+A", "QUJD/A", "QUJDRA==", "QUJD RA", "QUJDRA\n", "\tQUJDRA", "QUJD\x00A", "QUJDé", "QUJD\u0660A", "QUJDR"],
)
def test_jws02_base64url_refuses_every_character_outside_the_url_alphabet(text: str) -> None:
    """JWS-02: the standard alphabet's ``+ / =``, whitespace anywhere, NUL, non-ASCII (a Unicode digit too) and a
    length of 4n+1 are all illegal; binascii's strict mode does the alphabet check, these pin what it must refuse."""
    from notation._internal.envelope._common import b64url_decode

    with pytest.raises(ValueError, match=r"^illegal base64url data$"):
        b64url_decode(text)


def test_jws02_base64url_canonical_trailing_bits() -> None:
    from notation._internal.envelope._common import b64url_decode

    assert b64url_decode("QUJDRA") == b"ABCD" and b64url_decode("") == b""
    with pytest.raises(ValueError, match=r"^non-canonical base64url data$"):
        b64url_decode("QUJDRB")  # same bytes with a non-zero unused bit


def test_jws02_x5c_is_padded_standard_base64() -> None:
    doc = forge.jws(RSA)
    doc["header"]["x5c"] = [doc["header"]["x5c"][0].rstrip("=") + "A"]
    _rejects(doc, "malformed leaf certificate")


# --- JWS-03 / JWS-11: signature over the exact bytes ---


def test_jws03_tampered_payload() -> None:
    doc = forge.jws(RSA)
    doc["payload"] = forge.b64u(forge.PAYLOAD.replace(b"401", b"402"))
    _rejects(
        doc,
        "signature is invalid. Error: crypto/rsa: verification error",
        SignatureIntegrityError,
    )


def test_jws03_tampered_protected_header() -> None:
    doc = forge.jws(EC)
    other = forge.jws(EC, jws_header("ES256", io__cncf__notary__signingTime="2030-01-01T00:00:00Z"))
    doc["protected"] = other["protected"]
    _rejects(
        doc,
        "signature is invalid. Error: crypto/ecdsa: verification error",
        SignatureIntegrityError,
    )


def test_jws03_reserialized_payload_is_not_accepted() -> None:
    """SIG-31: the signature covers the received payload string, not a re-serialization."""
    doc = forge.jws(RSA)
    doc["payload"] = forge.b64u(json.dumps(json.loads(forge.PAYLOAD), indent=1).encode())
    with pytest.raises(SignatureIntegrityError):
        _verify(doc)


def test_jws03_tampered_signature() -> None:
    doc = forge.jws(RSA)
    sig = bytearray(forge.b64u_decode(doc["signature"]))
    sig[10] ^= 1
    doc["signature"] = forge.b64u(bytes(sig))
    with pytest.raises(SignatureIntegrityError, match="verification error"):
        _verify(doc)


def test_jws03_missing_signature() -> None:
    doc = forge.jws(RSA)
    doc["signature"] = ""
    _rejects(doc, "signature missing in jws-json envelope")


# --- JWS-04/05, ALG-04..06 ---


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "EdDSA", ""])
def test_jws05_unsupported_algorithms(alg: str) -> None:
    doc = forge.jws(RSA, jws_header(alg), algorithm=SignatureAlgorithm.RSASSA_PSS_SHA256)
    _rejects(doc, f'signature algorithm "{alg}" is not supported')


def test_jws05_missing_alg() -> None:
    header = jws_header()
    del header["alg"]
    doc = forge.jws(RSA, header, algorithm=SignatureAlgorithm.RSASSA_PSS_SHA256)
    _rejects(doc, 'signature algorithm "" is not supported')


def test_alg04_algorithm_must_match_leaf_key() -> None:
    # Signed correctly with PS384 by an RSA-2048 key: the signature is fine, the algorithm is not (substitution).
    doc = forge.jws(RSA, jws_header("PS384"), algorithm=SignatureAlgorithm.RSASSA_PSS_SHA384)
    _rejects(
        doc,
        "mismatch between signature algorithm derived from signing certificate (RSASSA-PSS-SHA-256) and signing "
        "algorithm specified (RSASSA-PSS-SHA-384)",
        SignatureIntegrityError,
    )
    doc = forge.jws(RSA, jws_header("ES256"), algorithm=SignatureAlgorithm.RSASSA_PSS_SHA256)
    with pytest.raises(SignatureIntegrityError, match="mismatch between signature algorithm"):
        _verify(doc)


def test_alg05_jws_accepts_any_pss_salt_length() -> None:
    header = json.dumps(jws_header()).encode()
    prot, pay = forge.b64u(header), forge.b64u(forge.PAYLOAD)
    sig = RSA.key.sign(  # type: ignore[union-attr, call-arg]
        f"{prot}.{pay}".encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=0), hashes.SHA256()
    )
    _verify(forge.jws(RSA, protected_raw=header, signature=sig))


def test_alg06_der_ecdsa_rejected() -> None:
    header = json.dumps(jws_header("ES256")).encode()
    prot, pay = forge.b64u(header), forge.b64u(forge.PAYLOAD)
    der_sig = EC.key.sign(f"{prot}.{pay}".encode(), ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr, call-arg]
    _rejects(
        forge.jws(EC, protected_raw=header, signature=der_sig),
        "signature is invalid. Error: crypto/ecdsa: verification error",
        SignatureIntegrityError,
    )


# --- JWS-06 / PAY-08 ---


def test_jws06_content_type() -> None:
    _rejects(
        forge.jws(RSA, jws_header(cty="application/json")),
        'payload content type "application/json" not supported',
        SignatureIntegrityError,
    )


# --- JWS-07 / JWS-08: crit ---


def test_jws07_missing_or_empty_crit() -> None:
    _rejects(forge.jws(RSA, jws_header(crit=None)), 'missing "crit" header')
    _rejects(forge.jws(RSA, jws_header(crit=[])), 'missing "crit" header')


def test_jws07_expiry_must_be_critical() -> None:
    header = jws_header(io__cncf__notary__expiry=LATER)
    _rejects(forge.jws(RSA, header), "these required headers are not marked as critical: [io.cncf.notary.expiry]")
    header["crit"] = ["io.cncf.notary.expiry"]
    _rejects(
        forge.jws(RSA, header), "these required headers are not marked as critical: [io.cncf.notary.signingScheme]"
    )
    header["crit"] = ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    assert _verify(forge.jws(RSA, header)).signed.expiry is not None


@pytest.mark.parametrize("name", ["alg", "cty", "crit", "io.cncf.notary.signingTime", "io.cncf.notary.expiry", "x"])
def test_jws08_crit_must_name_present_extended_attributes(name: str) -> None:
    header = jws_header(crit=["io.cncf.notary.signingScheme", name])
    _rejects(forge.jws(RSA, header), f'"{name}" header is marked critical but not present')


def test_jws08_crit_must_be_strings() -> None:
    with pytest.raises(EnvelopeError, match='"crit" must be an array of strings'):
        _verify(forge.jws(RSA, jws_header(crit=["io.cncf.notary.signingScheme", 1])))


# --- JWS-09: times ---


def test_jws09_any_offset_and_fraction_accepted() -> None:
    header = jws_header(io__cncf__notary__signingTime="2026-11-28T18:26:04.123456789+08:00")
    info = _verify(forge.jws(RSA, header))
    assert info.signing_time.isoformat() == "2026-11-28T18:26:04.123456+08:00"


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-28",
        "2026-11-28 10:00:00Z",
        "yesterday",
        1795861564,
        "2026-11-28T10:00:00Z\n",
        "\u0662026-11-28T10:00:00Z",
    ],
)
def test_jws09_bad_time_rejected(value: object) -> None:
    with pytest.raises(EnvelopeError, match="protected header can't be decoded"):
        _verify(forge.jws(RSA, jws_header(io__cncf__notary__signingTime=value)))


# --- JWS-10: x5c ---


def test_jws10_certificate_chain_required() -> None:
    _rejects(forge.jws(RSA, chain=[]), "certificate chain is not present")
    doc = forge.jws(RSA)
    del doc["header"]["x5c"]
    _rejects(doc, "certificate chain is not present")
    doc["header"]["x5c"] = [base64.b64encode(b"not a certificate").decode()]
    _rejects(doc, "malformed leaf certificate")


def test_jws10_chain_rules_apply() -> None:
    root, inter, leaf = pki.chain3(leaf_kind="ec256", ca_kind="ec256")
    assert _verify(forge.jws(leaf)).certificate_chain == (leaf.cert, inter.cert, root.cert)
    with pytest.raises(SignatureIntegrityError, match=r"^certificate-chain is invalid, root certificate with subject"):
        _verify(forge.jws(leaf, chain=[leaf.cert, inter.cert]))  # truncated
    with pytest.raises(SignatureIntegrityError, match=r"^certificate-chain is invalid, invalid certificates or cert"):
        _verify(forge.jws(leaf, chain=[leaf.cert, root.cert]))  # intermediate missing
    with pytest.raises(SignatureIntegrityError, match="is not issued by"):
        _verify(forge.jws(leaf, chain=[leaf.cert, root.cert, inter.cert]))  # reordered


def test_swapped_leaf_fails_signature() -> None:
    """The unsigned x5c is not trusted: a different leaf does not verify the signature."""
    other = pki.self_signed_leaf("other", key_kind="ec256")
    with pytest.raises(SignatureIntegrityError, match=r"mismatch between signature algorithm|verification error"):
        _verify(forge.jws(RSA, chain=other.chain))
    ec_doc = forge.jws(EC, chain=other.chain)
    _rejects(
        ec_doc,
        "signature is invalid. Error: crypto/ecdsa: verification error",
        SignatureIntegrityError,
    )


# --- JWS-11: payload must be a JSON object ---


@pytest.mark.parametrize("payload", [b"[1,2]", b"not json", b'"x"'])
def test_jws11_payload_must_be_json_object(payload: bytes) -> None:
    with pytest.raises(EnvelopeError, match="jws envelope payload is not"):
        _verify(forge.jws(RSA, payload=payload))


# --- JWS-12, SIG-16, SIG-17: extended attributes ---


def test_jws12_non_critical_extended_attribute_kept() -> None:
    info = _verify(forge.jws(RSA, jws_header(com__example__build="42")))
    assert info.signed.extended == (ExtendedAttribute("com.example.build", "42", False),)


def test_sig16_unknown_critical_attribute_fails_closed() -> None:
    header = jws_header(com__example__policy="x", crit=["io.cncf.notary.signingScheme", "com.example.policy"])
    _rejects(
        forge.jws(RSA, header),
        'signature has unknown critical extended attribute "com.example.policy" and names no verification plugin to '
        "process it",
        SignatureIntegrityError,
    )
    # With a verification plugin named, the attribute is left for the plugin to process.
    header["io.cncf.notary.verificationPlugin"] = "com.example.plugin"
    header["crit"].append("io.cncf.notary.verificationPlugin")
    info = _verify(forge.jws(RSA, header))
    assert critical_extended_attribute_keys(info) == ["com.example.policy"]


@pytest.mark.parametrize(
    ("key", "value", "critical", "message"),
    [
        ("io.cncf.notary.verificationPlugin", "p", False, "{k} is not a critical Extended attribute"),
        ("io.cncf.notary.verificationPlugin", 3, True, "{k} from extended attribute is not a string"),
        ("io.cncf.notary.verificationPlugin", "  ", True, "{k} from extended attribute is an empty string"),
        (
            "io.cncf.notary.verificationPluginMinVersion",
            "1.0",
            True,
            "{k} from extended attribute is not a valid SemVer",
        ),
        ("io.cncf.notary.verificationPluginMinVersion", "", True, "{k} from extended attribute is an empty string"),
    ],
)
def test_sig17_verification_plugin_attributes(key: str, value: object, critical: bool, message: str) -> None:
    header = jws_header(io__cncf__notary__verificationPlugin="com.example.plugin")
    header["crit"] = ["io.cncf.notary.signingScheme", "io.cncf.notary.verificationPlugin"]
    header[key] = value
    if not critical:
        header["crit"].remove(key)
    elif key not in header["crit"]:
        header["crit"].append(key)
    _rejects(forge.jws(RSA, header), message.format(k=key), SignatureIntegrityError)


def test_sig17_valid_plugin_attributes() -> None:
    header = jws_header(
        io__cncf__notary__verificationPlugin="com.example.plugin",
        io__cncf__notary__verificationPluginMinVersion="1.2.3-rc.1",
    )
    header["crit"] += ["io.cncf.notary.verificationPlugin", "io.cncf.notary.verificationPluginMinVersion"]
    info = _verify(forge.jws(RSA, header))
    assert info.signed.extended_value("io.cncf.notary.verificationPluginMinVersion") is not None


# --- SIG-11..15 ---


def test_sig11_scheme_time_headers() -> None:
    h = jws_header(io__cncf__notary__authenticSigningTime=LATER)
    _rejects(
        forge.jws(RSA, h),
        '"io.cncf.notary.authenticSigningTime" header must not be present for notary.x509 signing scheme',
    )
    h = jws_header(io__cncf__notary__signingScheme="notary.x509.signingAuthority")
    _rejects(
        forge.jws(RSA, h),
        '"io.cncf.notary.signingTime" header must not be present for notary.x509.signingAuthority signing scheme',
    )
    h = jws_header(io__cncf__notary__signingScheme="notary.x509.signingAuthority", io__cncf__notary__signingTime=None)
    _rejects(
        forge.jws(RSA, h), '"io.cncf.notary.authenticSigningTime" header must be present for notary.x509 signing scheme'
    )


def test_sig11_signing_authority_envelope() -> None:
    h = jws_header(
        io__cncf__notary__signingScheme="notary.x509.signingAuthority",
        io__cncf__notary__signingTime=None,
        io__cncf__notary__authenticSigningTime="2026-01-02T03:04:05Z",
    )
    _rejects(
        forge.jws(RSA, h), "these required headers are not marked as critical: [io.cncf.notary.authenticSigningTime]"
    )
    h["crit"].append("io.cncf.notary.authenticSigningTime")
    info = _verify(forge.jws(RSA, h))
    assert info.signing_time.isoformat() == "2026-01-02T03:04:05+00:00"
    assert info.signed.signing_time is None


def test_sig12_missing_signing_time() -> None:
    _rejects(forge.jws(RSA, jws_header(io__cncf__notary__signingTime=None)), "signing-time not present")


def test_sig13_expiry_after_signing_time() -> None:
    h = jws_header(io__cncf__notary__expiry=jws_header()["io.cncf.notary.signingTime"])
    h["crit"].append("io.cncf.notary.expiry")
    _rejects(forge.jws(RSA, h), "expiry cannot be equal or before the signing time", SignatureIntegrityError)


@pytest.mark.parametrize("scheme", ["notary.x509.foo", "", 7])
def test_sig15_unknown_scheme(scheme: object) -> None:
    doc = forge.jws(RSA, jws_header(io__cncf__notary__signingScheme=scheme))
    if isinstance(scheme, str):
        _rejects(doc, f"unsupported SigningScheme: `{scheme}`")
    else:
        with pytest.raises(EnvelopeError, match="must be a string"):
            _verify(doc)


# --- JWS-13, JWS-15, unsigned attributes ---


def test_jws13_repeated_extended_attribute_at_signing() -> None:
    import datetime as dt

    request = SignRequest(
        payload=forge.PAYLOAD,
        payload_content_type=forge.CTY,
        signing_time=dt.datetime.now(dt.UTC),
        extended=(ExtendedAttribute("cty", "x", False),),
    )
    with pytest.raises(SigningError, match=r"^attribute key:cty repeated$"):
        jws_codec.prepare(request, SignatureAlgorithm.ECDSA_SHA256)


def test_jws15_timestamp_member_names() -> None:
    token = base64.b64encode(b"\x30\x03\x02\x01\x01").decode()
    info = parse_envelope(JWS_ENVELOPE, forge.dump(forge.jws(RSA, unprotected={"io.cncf.notary.timestamp": token})))
    assert info.unsigned.timestamp_signature is None
    info = parse_envelope(
        JWS_ENVELOPE,
        forge.dump(
            forge.jws(
                RSA, unprotected={"io.cncf.notary.timestampSignature": token, "io.cncf.notary.signingAgent": "x/1"}
            )
        ),
    )
    assert info.unsigned.timestamp_signature == b"\x30\x03\x02\x01\x01"
    assert info.unsigned.signing_agent == "x/1"
    with pytest.raises(EnvelopeError, match="can't be decoded"):
        parse_envelope(JWS_ENVELOPE, forge.dump(forge.jws(RSA, unprotected={"io.cncf.notary.timestampSignature": "@"})))
