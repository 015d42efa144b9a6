"""Notary Project certificate chain rules (signature.md §9, CERT-01..18, ALG-02, ALG-07, DISC-05/06/15).

Hand-written on ``cryptography``: its built-in path verifier applies Web PKI policy, not the Notary rules (no
ordered-chain requirement, different key usage and EKU rules), so every rule here is checked explicitly. Messages
follow notation-core-go's wording.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from notation._internal.x509.keys import der_of
from notation.errors import CertificateError

if TYPE_CHECKING:
    from cryptography import x509

_OID_KEY_USAGE = "2.5.29.15"
_OID_EKU = "2.5.29.37"
_EKU_TIMESTAMPING = "1.3.6.1.5.5.7.3.8"
# CERT-13 with DISC-05: what a code-signing leaf's EKU must not contain, with Go's names.
_FORBIDDEN_CODE_SIGNING_EKUS = {
    "2.5.29.37.0": "Any",
    "1.3.6.1.5.5.7.3.1": "ServerAuth",
    "1.3.6.1.5.5.7.3.2": "ClientAuth",
    "1.3.6.1.5.5.7.3.4": "EmailProtection",
    "1.3.6.1.5.5.7.3.8": "TimeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
}
# ALG-07: signature algorithm OIDs Go refuses as insecure, with Go's names.
_INSECURE_SIGNATURE_ALGORITHMS = {
    "1.2.840.113549.1.1.4": "MD5-RSA",
    "1.2.840.113549.1.1.5": "SHA1-RSA",
    "1.3.14.3.2.29": "SHA1-RSA",
    "1.2.840.10045.4.1": "ECDSA-SHA1",
    "1.2.840.10040.4.3": "DSA-SHA1",
    "1.2.840.113549.1.1.2": "MD2-RSA",
}


class _LinkError(Exception):
    """A certificate signature that does not verify under a candidate issuer (Go's CheckSignatureFrom errors)."""


def subject_dn(cert: x509.Certificate) -> str:
    """The subject as Go's pkix.Name.String() prints it (RFC 4514 order and escaping).

    Cached by subject: the chain rules name certificates in their messages, and verifying many signatures of one
    signer would otherwise render the same names again and again. Keyed by the raw subject bytes, so that the
    ``Name`` object is not even built for a certificate seen before.
    """
    try:
        raw = _raw_names(cert)[1]
    except _LinkError:
        return _name_string(cert.subject)
    found = _SUBJECT_STRINGS.get(raw)
    if found is None:
        found = _name_string(cert.subject)
        if len(_SUBJECT_STRINGS) >= _MEMO_LIMIT:
            _SUBJECT_STRINGS.clear()
        _SUBJECT_STRINGS[raw] = found
    return found


_SUBJECT_STRINGS: dict[bytes, str] = {}


@functools.lru_cache(maxsize=512)
def _name_string(name: x509.Name) -> str:
    from notation._internal.x509.dn import go_name_string

    return go_name_string(name)


def go_time(value: dt.datetime) -> str:
    """A time as Go's time.Time.String() prints a UTC time: ``2026-01-01 00:00:00 +0000 UTC``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


# --- raw DER access: issuer/subject comparison must be on the exact bytes (CERT-03) --------------------------


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, start of value, end of value) for the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


_MEMO_LIMIT = 4096
_RAW_NAMES: dict[bytes, tuple[bytes, bytes]] = {}
_GOOD_SIGNATURES: set[tuple[bytes, bytes]] = set()
"""Memos of pure functions of certificate bytes (issue 15): a verifier that sees the same signing chain on every
image checks each certificate signature once per process, not once per image. Keyed by the exact bytes (the TBS
certificate; the child's whole DER with the issuer's SubjectPublicKeyInfo), holding only successes, bounded
(cleared when full). Validity periods and every other time-dependent check are never memoized."""


_RAW_NAMES_BY_OBJECT: dict[int, tuple[x509.Certificate, tuple[bytes, bytes]]] = {}
"""id(cert) -> (cert, names): ``tbs_certificate_bytes`` re-encodes the TBS on every access, and one chain check
asks for the names of each certificate several times. The entry holds the certificate itself, so its id cannot be
reused by another object while the entry exists; bounded like the others."""


def _raw_names(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """(raw issuer, raw subject) straight from the TBSCertificate bytes."""
    entry = _RAW_NAMES_BY_OBJECT.get(id(cert))
    if entry is not None and entry[0] is cert:
        return entry[1]
    tbs = cert.tbs_certificate_bytes
    found = _RAW_NAMES.get(tbs)
    if found is None:
        found = _raw_names_from_tbs(tbs)
    if len(_RAW_NAMES_BY_OBJECT) >= _MEMO_LIMIT:
        _RAW_NAMES_BY_OBJECT.clear()
    _RAW_NAMES_BY_OBJECT[id(cert)] = (cert, found)
    return found


def _raw_names_from_tbs(tbs: bytes) -> tuple[bytes, bytes]:
    try:
        names = _raw_names_unchecked(tbs)
    except (ValueError, IndexError) as exc:
        raise _LinkError(f"x509: malformed certificate: {exc}") from exc
    if len(_RAW_NAMES) >= _MEMO_LIMIT:
        _RAW_NAMES.clear()
    _RAW_NAMES[tbs] = names
    return names


def _raw_names_unchecked(tbs: bytes) -> tuple[bytes, bytes]:
    _, pos, _ = _tlv(tbs, 0)
    fields: list[bytes] = []
    while pos < len(tbs) and len(fields) < 6:
        tag, _start, end = _tlv(tbs, pos)
        if not (tag == 0xA0 and not fields):  # skip the optional [0] version
            fields.append(tbs[pos:end])
        pos = end
    # serial, signature algorithm, issuer, validity, subject
    return fields[2], fields[4]


# --- primitive checks ---------------------------------------------------------------------------------------


def _check_signature(cert: x509.Certificate, issuer_key: object) -> None:
    """Verify ``cert``'s signature with ``issuer_key`` (Go's checkSignature, with its insecure-algorithm refusal)."""
    key = _signature_memo_key(cert, issuer_key)
    if key is not None and key in _GOOD_SIGNATURES:
        return
    _check_signature_uncached(cert, issuer_key)
    if key is not None:
        if len(_GOOD_SIGNATURES) >= _MEMO_LIMIT:
            _GOOD_SIGNATURES.clear()
        _GOOD_SIGNATURES.add(key)


def _signature_memo_key(cert: x509.Certificate, issuer_key: object) -> tuple[bytes, bytes] | None:
    """(the DER of ``cert``, the issuer key's SubjectPublicKeyInfo) or None."""
    from notation._internal.x509.keys import DER

    try:
        from cryptography.hazmat.primitives._serialization import PublicFormat

        spki = issuer_key.public_bytes(DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]
        signed = der_of(cert)  # the whole certificate: TBS, outer algorithm and its parameters, signature
    except Exception:  # an unusual key or algorithm: just check it every time
        return None
    return signed, bytes(spki)


def _check_signature_uncached(cert: x509.Certificate, issuer_key: object) -> None:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    oid = cert.signature_algorithm_oid.dotted_string
    if oid in _INSECURE_SIGNATURE_ALGORITHMS:
        raise _LinkError(f"x509: cannot verify signature: insecure algorithm {_INSECURE_SIGNATURE_ALGORITHMS[oid]}")
    try:
        params = cert.signature_algorithm_parameters
        hash_alg = cert.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError) as exc:
        raise _LinkError("x509: cannot verify signature: algorithm unimplemented") from exc
    try:
        if isinstance(issuer_key, rsa.RSAPublicKey):
            if not isinstance(params, (padding.PKCS1v15, padding.PSS)) or hash_alg is None:
                raise _LinkError("x509: signature algorithm specifies a different public key type than the issuer's")
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes, params, hash_alg)
        elif isinstance(issuer_key, ec.EllipticCurvePublicKey):
            if not isinstance(params, ec.ECDSA):
                raise _LinkError("x509: signature algorithm specifies a different public key type than the issuer's")
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes, params)
        elif isinstance(issuer_key, ed25519.Ed25519PublicKey):
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            raise _LinkError("x509: cannot verify signature: algorithm unimplemented")
    except InvalidSignature as exc:
        kind = (
            "crypto/rsa: verification error"
            if isinstance(issuer_key, rsa.RSAPublicKey)
            else ("x509: ECDSA verification failure")
        )
        raise _LinkError(kind) from exc


def _public_key(cert: x509.Certificate) -> object:
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _LinkError(f"x509: cannot parse public key: {exc}") from exc


def _extensions(cert: x509.Certificate) -> x509.Extensions:
    try:
        return cert.extensions
    except ValueError as exc:
        raise CertificateError(f'certificate with subject "{subject_dn(cert)}": malformed extensions: {exc}') from exc


class _Facts(NamedTuple):
    """The three extensions the Notary rules evaluate (CERT-07), each as (value, critical) or None when absent."""

    basic_constraints: tuple[x509.BasicConstraints, bool] | None
    key_usage: tuple[x509.KeyUsage, bool] | None
    eku: tuple[list[str], bool] | None


_FACTS_BY_OBJECT: dict[int, tuple[x509.Certificate, _Facts]] = {}
"""id(cert) -> (cert, facts), held like _RAW_NAMES_BY_OBJECT: one pass over the extensions per certificate object
instead of one ``get_extension_for_class`` scan per rule that asks."""


def _facts(cert: x509.Certificate) -> _Facts:
    entry = _FACTS_BY_OBJECT.get(id(cert))
    if entry is not None and entry[0] is cert:
        return entry[1]
    from cryptography import x509 as cx509

    bc = ku = eku = None
    for ext in _extensions(cert):  # duplicates are refused at parse time (keys.check_parsed): the first is the one
        value = ext.value
        if bc is None and isinstance(value, cx509.BasicConstraints):
            bc = (value, ext.critical)
        elif ku is None and isinstance(value, cx509.KeyUsage):
            ku = (value, ext.critical)
        elif eku is None and isinstance(value, cx509.ExtendedKeyUsage):
            eku = ([oid.dotted_string for oid in value], ext.critical)
    found = _Facts(bc, ku, eku)
    if len(_FACTS_BY_OBJECT) >= _MEMO_LIMIT:
        _FACTS_BY_OBJECT.clear()
    _FACTS_BY_OBJECT[id(cert)] = (cert, found)
    return found


def _basic_constraints(cert: x509.Certificate) -> tuple[x509.BasicConstraints, bool] | None:
    return _facts(cert).basic_constraints


def _key_usage(cert: x509.Certificate) -> tuple[x509.KeyUsage, bool] | None:
    return _facts(cert).key_usage


def _eku(cert: x509.Certificate) -> tuple[list[str], bool] | None:
    return _facts(cert).eku


def _check_issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Go's isIssuedBy: CheckSignatureFrom (parent must be allowed to sign certificates) and raw issuer == subject."""
    from cryptography import x509 as cx509

    bc = _basic_constraints(parent)
    if (parent.version == cx509.Version.v3 and bc is None) or (bc is not None and not bc[0].ca):
        raise _LinkError("x509: invalid signature: parent certificate cannot sign this kind of certificate")
    ku = _key_usage(parent)
    if ku is not None and not ku[0].key_cert_sign:
        raise _LinkError("x509: invalid signature: parent certificate cannot sign this kind of certificate")
    _check_signature(child, _public_key(parent))
    return _raw_names(child)[0] == _raw_names(parent)[1]


def _is_self_signed_strict(cert: x509.Certificate) -> None:
    """CERT-02: the signature verifies with the certificate's own key and raw subject == raw issuer."""
    _check_signature(cert, _public_key(cert))
    issuer, subject = _raw_names(cert)
    if issuer != subject:
        raise _LinkError("issuer and subject are not the same")


def _check_validity(cert: x509.Certificate, at: dt.datetime | None) -> None:
    """CERT-06 (only when a signing time is given)."""
    if at is None:
        return
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < nb or at > na:
        raise CertificateError(
            f'certificate with subject "{subject_dn(cert)}" was invalid at signing time of {go_time(at)}. '
            f"Certificate is valid from [{go_time(nb)}] to [{go_time(na)}]"
        )


# --- per-role rules ---------------------------------------------------------------------------------------


def _check_key_usage_present(cert: x509.Certificate, *, critical: bool) -> x509.KeyUsage:
    dn = subject_dn(cert)
    ku = _key_usage(cert)
    if ku is None:
        raise CertificateError(f'certificate with subject "{dn}": key usage extension must be present')
    if critical and not ku[1]:
        raise CertificateError(f'certificate with subject "{dn}": key usage extension must be marked critical')
    return ku[0]


def _check_leaf_key_usage(cert: x509.Certificate, *, critical: bool) -> None:
    """CERT-11/12: digitalSignature set, nothing but digitalSignature (nonRepudiation tolerated)."""
    dn = subject_dn(cert)
    ku = _check_key_usage_present(cert, critical=critical)
    if not ku.digital_signature:
        raise CertificateError(
            f'the certificate with subject "{dn}" is invalid. '
            'The key usage must have the bit positions for "Digital Signature" set'
        )
    bad = []
    if ku.key_encipherment:
        bad.append('"KeyEncipherment"')
    if ku.data_encipherment:
        bad.append('"DataEncipherment"')
    if ku.key_agreement:
        bad.append('"KeyAgreement"')
    if ku.key_cert_sign:
        bad.append('"CertSign"')
    if ku.crl_sign:
        bad.append('"CRLSign"')
    if ku.key_agreement and ku.encipher_only:
        bad.append('"EncipherOnly"')
    if ku.key_agreement and ku.decipher_only:
        bad.append('"DecipherOnly"')
    if bad:
        raise CertificateError(
            f'the certificate with subject "{dn}" is invalid. '
            f'The key usage must be "Digital Signature" only, but found {", ".join(bad)}'
        )


def _check_leaf_basic_constraints(cert: x509.Certificate) -> None:
    """CERT-10."""
    bc = _basic_constraints(cert)
    if bc is not None and bc[0].ca:
        raise CertificateError(
            f'certificate with subject "{subject_dn(cert)}": '
            "if the basic constraints extension is present, the ca field must be set to false"
        )


def _check_leaf_key(cert: x509.Certificate) -> None:
    """CERT-14 / ALG-02: the leaf key must be one of the six supported key types."""
    from cryptography.exceptions import UnsupportedAlgorithm

    from notation._internal.envelope.algorithms import KeySpec

    try:
        KeySpec.from_public_key(cert.public_key())
    except CertificateError as exc:
        raise CertificateError(f'certificate with subject "{subject_dn(cert)}": {exc}') from exc
    except (ValueError, UnsupportedAlgorithm) as exc:  # unparseable public key
        raise CertificateError(f'certificate with subject "{subject_dn(cert)}": invalid public key: {exc}') from exc


def _check_ca_key(cert: x509.Certificate) -> None:
    """Fail closed on weak CA keys (spec: RSA >= 2048, EC >= 256), beyond Go which checks only the leaf."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    dn = subject_dn(cert)
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateError(f'certificate with subject "{dn}": invalid public key: {exc}') from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise CertificateError(f'certificate with subject "{dn}": rsa key size {key.key_size} bits is not supported')
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 256:
        raise CertificateError(
            f'certificate with subject "{dn}": ecdsa key size {key.curve.key_size} bits is not supported'
        )
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)):
        raise CertificateError(f'certificate with subject "{dn}": unsupported public key type')


def _check_code_signing_eku(cert: x509.Certificate) -> None:
    """CERT-13 with DISC-05 (anyExtendedKeyUsage and OCSPSigning rejected too)."""
    eku = _eku(cert)
    if eku is None:
        return
    for oid in eku[0]:
        if oid in _FORBIDDEN_CODE_SIGNING_EKUS:
            raise CertificateError(
                f'certificate with subject "{subject_dn(cert)}": extended key usage must not contain '
                f"{_FORBIDDEN_CODE_SIGNING_EKUS[oid]} eku"
            )


def _check_timestamping_eku(cert: x509.Certificate) -> None:
    """CERT-18: EKU present, critical, exactly id-kp-timeStamping."""
    dn = subject_dn(cert)
    eku = _eku(cert)
    if eku is None or eku[0] != [_EKU_TIMESTAMPING]:
        raise CertificateError(
            f'timestamp signing certificate with subject "{dn}" must have and only have Timestamping as '
            "extended key usage"
        )
    if not eku[1]:
        raise CertificateError(
            f'timestamp signing certificate with subject "{dn}" must have extended key usage extension marked as '
            "critical"
        )


def _check_ca(cert: x509.Certificate, expected_path_len: int, *, ku_critical: bool) -> None:
    """CERT-15..17 (DISC-06: basicConstraints must be critical)."""
    dn = subject_dn(cert)
    bc = _basic_constraints(cert)
    if bc is None or not bc[0].ca or not bc[1]:
        raise CertificateError(
            f'certificate with subject "{dn}": ca field in basic constraints must be present, critical, and set to true'
        )
    path_len = bc[0].path_length
    if path_len is not None and path_len < expected_path_len:
        raise CertificateError(
            f'certificate with subject "{dn}": expected path length of {expected_path_len} but certificate has path '
            f"length {path_len} instead"
        )
    ku = _check_key_usage_present(cert, critical=ku_critical)
    if not ku.key_cert_sign:
        raise CertificateError(
            f'certificate with subject "{dn}": key usage must have the bit positions for key cert sign set'
        )
    _check_ca_key(cert)


_CHAIN_MEMO_LIMIT = 1024
_GOOD_CHAINS: OrderedDict[tuple[bool, tuple[bytes, ...]], None] = OrderedDict()
"""Chains (code signing or timestamping, the exact DER of every certificate in order) that passed every rule that
does not depend on the time: certificate signatures along the chain, names, basic constraints, key usage, EKU, key
types. A verifier sees the same signing chain on every image; with this its rules cost one lookup after the first
image, not three signature checks. Successes only, least recently used dropped beyond the limit. Validity periods
(CERT-06) are never memoized: they are checked at every call that gives a time. A chain that differs in one byte, in
one certificate or in order is another key; the envelope signature is not part of this (codec checks it each time)."""
_GOOD_CHAINS_LOCK = threading.Lock()


def clear_memos() -> None:
    """Forget every memoized verdict and parse (benchmarks measure the first sight of a chain with it)."""
    from notation._internal.x509 import keys

    with _GOOD_CHAINS_LOCK:
        _GOOD_CHAINS.clear()
    for memo in (_SUBJECT_STRINGS, _RAW_NAMES, _GOOD_SIGNATURES, _RAW_NAMES_BY_OBJECT, _FACTS_BY_OBJECT):
        memo.clear()
    keys.clear_memos()


def _validate_chain(chain: Sequence[x509.Certificate], at: dt.datetime | None, *, timestamping: bool) -> None:
    if len(chain) < 1:
        raise CertificateError("certificate chain must contain at least one certificate")
    if at is not None and at.tzinfo is None:
        raise ValueError("validity time must be timezone-aware")
    key = (timestamping, tuple(map(der_of, chain)))
    with _GOOD_CHAINS_LOCK:
        known = key in _GOOD_CHAINS
        if known:
            _GOOD_CHAINS.move_to_end(key)
    if known:
        # Every other rule passed for these exact bytes; the full check's first failure could only be a validity
        # period, and it checks them in this order.
        if at is not None:
            for cert in chain:
                _check_validity(cert, at)
        return
    _validate_chain_uncached(chain, at, timestamping=timestamping)
    with _GOOD_CHAINS_LOCK:
        _GOOD_CHAINS[key] = None
        if len(_GOOD_CHAINS) > _CHAIN_MEMO_LIMIT:
            _GOOD_CHAINS.popitem(last=False)


def _validate_chain_uncached(chain: Sequence[x509.Certificate], at: dt.datetime | None, *, timestamping: bool) -> None:
    def check_leaf(cert: x509.Certificate) -> None:
        _check_leaf_basic_constraints(cert)
        _check_leaf_key_usage(cert, critical=not timestamping)
        if timestamping:
            _check_timestamping_eku(cert)
        else:
            _check_code_signing_eku(cert)
        _check_leaf_key(cert)

    if len(chain) == 1:
        cert = chain[0]
        _check_validity(cert, at)
        try:
            _is_self_signed_strict(cert)
        except _LinkError as exc:
            raise CertificateError(
                f'invalid self-signed certificate. subject: "{subject_dn(cert)}". Error: {exc}'
            ) from exc
        check_leaf(cert)
        return
    last = len(chain) - 1
    for i, cert in enumerate(chain):
        _check_validity(cert, at)
        dn = subject_dn(cert)
        if i == last:
            try:
                self_signed = _check_issued_by(cert, cert)
            except _LinkError as exc:
                raise CertificateError(
                    f'root certificate with subject "{dn}" is invalid or not self-signed. Certificate chain must end '
                    f"with a valid self-signed root certificate. Error: {exc}"
                ) from exc
            if not self_signed:
                raise CertificateError(
                    f'root certificate with subject "{dn}" is not self-signed. Certificate chain must end with a '
                    "valid self-signed root certificate"
                )
        else:
            # Go's isSelfSigned: the signature verifies with the certificate's own key AND raw issuer == raw subject,
            # any error meaning "no". When the names differ the answer is "no" whatever the signature says, so the
            # (failing, uncacheable) signature check is skipped: same verdict, one public-key operation less.
            try:
                issuer, subject = _raw_names(cert)
                self_signed = issuer == subject and _check_issued_by(cert, cert)
            except _LinkError:
                self_signed = False
            if self_signed:
                role = "leaf" if i == 0 else "intermediate"
                raise CertificateError(
                    f'{role} certificate with subject "{dn}" is self-signed. Certificate chain must not contain '
                    f"self-signed {role} certificate"
                )
            parent = chain[i + 1]
            try:
                issued = _check_issued_by(cert, parent)
            except _LinkError as exc:
                raise CertificateError(
                    f'invalid certificates or certificate with subject "{dn}" is not issued by "{subject_dn(parent)}". '
                    f"Error: {exc}"
                ) from exc
            if not issued:
                raise CertificateError(f'certificate with subject "{dn}" is not issued by "{subject_dn(parent)}"')
        if i == 0:
            check_leaf(cert)
        else:
            _check_ca(cert, i - 1, ku_critical=not timestamping)


def validate_signing_chain(chain: Sequence[x509.Certificate], *, at: dt.datetime | None = None) -> None:
    """CERT-01..17 for a code-signing chain (leaf first); ``at`` = signing time to apply CERT-06, else skipped."""
    _validate_chain(chain, at, timestamping=False)


def validate_timestamping_chain(chain: Sequence[x509.Certificate], *, at: dt.datetime | None = None) -> None:
    """CERT-18 for a TSA chain (leaf first)."""
    _validate_chain(chain, at, timestamping=True)
