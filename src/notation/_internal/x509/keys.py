"""Loading certificates and private keys from files (cli.md CLI-22), and certificate thumbprints (MAN-06)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation.errors import CertificateError, KeyError_

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from notation._internal.envelope.local_signer import LocalSigner

MAX_FILE_SIZE = 1024 * 1024


def _der_encoding() -> object:
    """``Encoding.DER`` without importing ``cryptography...serialization`` (which pulls in the SSH key code, bcrypt
    and the cipher modules: ~12 ms of every verification); the public module's enum is the same object."""
    try:
        from cryptography.hazmat.primitives._serialization import Encoding
    except ImportError:  # pragma: no cover - a cryptography that moved it
        from cryptography.hazmat.primitives.serialization import Encoding
    return Encoding.DER


DER: Any = _der_encoding()
"""``cryptography``'s ``Encoding.DER``, for ``cert.public_bytes(DER)``."""
"""Key and certificate files are small; a bigger file is not one (bounded read)."""


def _read_bounded(path: str | Path, what: str, error: type[Exception]) -> bytes:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        raise error(f"failed to read {what} file {p}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_SIZE:
        raise error(f"{what} file {p} is too large (more than {MAX_FILE_SIZE} bytes)")
    return data


def _tlv_end(der: bytes, pos: int) -> tuple[int, int]:
    """(content start, element end) of the DER element at ``pos``; ValueError if truncated."""
    if pos + 2 > len(der):
        raise ValueError("truncated DER")
    length, pos = der[pos + 1], pos + 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4 or pos + n > len(der):
            raise ValueError("bad DER length")
        length, pos = int.from_bytes(der[pos : pos + n], "big"), pos + n
    if pos + length > len(der):
        raise ValueError("truncated DER")
    return pos, pos + length


def _check_signature_bit_string(der: bytes) -> None:
    """The outer signatureValue BIT STRING must have no unused bits.

    cryptography ignores the unused-bits count, so a certificate whose count was changed is a different DER
    certificate (another thumbprint) with the same verifying signature; Go right-aligns the bits and the signature
    then fails. Found by the tamper corpus (issue 8).
    """
    body, _ = _tlv_end(der, 0)
    _, pos = _tlv_end(der, body)  # tbsCertificate
    _, pos = _tlv_end(der, pos)  # signatureAlgorithm
    start, _ = _tlv_end(der, pos)
    if der[pos] != 0x03 or start >= len(der) or der[start] != 0:
        raise ValueError("signature BIT STRING has unused bits")


def check_parsed(cert: x509.Certificate) -> x509.Certificate:
    """Parse now what cryptography parses lazily (names, extensions), raising ValueError if it is malformed.

    Go's ``x509.ParseCertificate`` rejects a certificate whose names or extensions do not decode; cryptography
    loads it and raises ValueError/TypeError later, from whichever property touches the bad part first, which
    would surface as a crash far from the input. Every certificate read from untrusted bytes goes through here.
    """
    der = der_of(cert)
    if der in _PARSED_OK:  # the same bytes checked before in this process (a pure function of them)
        return cert
    _check_parsed(cert, der)
    if len(_PARSED_OK) >= _MEMO_LIMIT:
        _PARSED_OK.clear()
    _PARSED_OK.add(der)
    return cert


_MEMO_LIMIT = 4096
_PARSED_OK: set[bytes] = set()
_DER_BY_OBJECT: dict[int, tuple[x509.Certificate, bytes]] = {}
"""id(cert) -> (cert, its DER). ``public_bytes`` re-encodes the whole certificate on every call (~8 us), and the
DER is what every memo here is keyed by. The entry holds the certificate itself, so its id cannot be reused by
another object while the entry exists; bounded (cleared when full)."""


def der_of(cert: x509.Certificate) -> bytes:
    """``cert.public_bytes(DER)``, computed once per certificate object."""
    entry = _DER_BY_OBJECT.get(id(cert))
    if entry is not None and entry[0] is cert:
        return entry[1]
    der = cert.public_bytes(DER)
    _remember_der(cert, der)
    return der


def _remember_der(cert: x509.Certificate, der: bytes) -> None:
    if len(_DER_BY_OBJECT) >= _MEMO_LIMIT:
        _DER_BY_OBJECT.clear()
    _DER_BY_OBJECT[id(cert)] = (cert, der)


def _check_parsed(cert: x509.Certificate, der: bytes) -> None:
    import warnings

    with _quiet_loading():  # cryptography warns again each time the serial is read
        negative = cert.serial_number < 0
    if negative:  # Go 1.23+ (notation 1.3) refuses these by default; zero it accepts
        raise ValueError("x509: negative serial number")  # Go's own message, kept whole by callers
    try:
        _check_signature_bit_string(der)
        with warnings.catch_warnings():  # e.g. a 7-letter country name: Go accepts it, and stderr stays one line
            warnings.simplefilter("ignore", UserWarning)
            for name in (cert.subject, cert.issuer):
                for attribute in name:
                    _ = attribute.value
        for extension in cert.extensions:
            _ = extension.value
    except Exception as exc:  # ValueError, TypeError, DuplicateExtension, UnsupportedGeneralNameType...: all malformed
        raise ValueError(f"malformed certificate: {exc}") from exc


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """cryptography warns (several lines on stderr) on a zero or negative serial, at load and at every read of it;
    check_parsed decides instead."""
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        yield


_PARSED_DER: dict[bytes, tuple[bytes, x509.Certificate]] = {}
"""Issue 15: DER bytes -> the (immutable) Certificate parsed from them, successes only, bounded (cleared when full),
so verifying many envelopes of one signer parses its chain once and the identity-keyed memos in chain.py hit.
Keyed by the DER's last bytes (the certificate's signature) and holding the whole DER, compared on every hit: the
same answers as a dict keyed by the DER, without hashing each freshly decoded certificate (~0.4 us per KB)."""
_PARSED_KEY = 32


def parse_der_certificate(der: bytes) -> x509.Certificate:
    """One DER certificate, fully parsed (see :func:`check_parsed`); ValueError if malformed."""
    key = bytes(der)
    seen = _PARSED_DER.get(key[-_PARSED_KEY:])
    if seen is not None and seen[0] == key:
        return seen[1]
    from cryptography import x509 as cx509

    try:
        with _quiet_loading():
            cert = cx509.load_der_x509_certificate(key)
    except (ValueError, cx509.InvalidVersion) as exc:  # InvalidVersion is not a ValueError
        raise ValueError(f"malformed certificate: {exc}") from exc
    cert = check_parsed(cert)  # records der_of(cert): the re-encoding, once per distinct certificate
    if len(_PARSED_DER) >= _MEMO_LIMIT:
        _PARSED_DER.clear()
    _PARSED_DER[key[-_PARSED_KEY:]] = (key, cert)
    return cert


def clear_memos() -> None:
    """Forget every parsed certificate and DER (benchmarks measure the first sight of a chain with it; tests prove
    that nothing depends on a memo)."""
    _PARSED_DER.clear()
    _PARSED_OK.clear()
    _DER_BY_OBJECT.clear()


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data``: all PEM ``CERTIFICATE`` blocks in order, or a single DER certificate."""
    from cryptography import x509 as cx509

    try:
        if b"-----BEGIN" in data:
            with _quiet_loading():
                loaded = cx509.load_pem_x509_certificates(data)
            certs = [check_parsed(c) for c in loaded]
        else:
            certs = [parse_der_certificate(data)]
    except cx509.InvalidVersion as exc:
        raise CertificateError(f"failed to parse certificate: {exc}") from exc
    except ValueError as exc:
        raise CertificateError(f"failed to parse certificate: {exc}") from exc
    if not certs:
        raise CertificateError("no certificate found")
    return certs


def load_certificates_file(path: str | Path) -> list[x509.Certificate]:
    data = _read_bounded(path, "certificate", CertificateError)
    try:
        return load_certificates(data)
    except CertificateError as exc:
        raise CertificateError(f"{path}: {exc}") from exc


def load_private_key(data: bytes) -> PrivateKeyTypes:
    """An unencrypted PEM key: PKCS#8 ``PRIVATE KEY``, PKCS#1 ``RSA PRIVATE KEY`` or SEC1 ``EC PRIVATE KEY``."""
    from cryptography.hazmat.primitives import serialization

    if b"ENCRYPTED" in data:
        raise KeyError_("encrypted private keys are not supported")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"failed to parse private key: {exc}") from exc
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for exotic keys
        raise KeyError_(f"unsupported private key: {exc}") from exc


def _public_bytes(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_local_signer(key_path: str | Path, cert_path: str | Path) -> LocalSigner:
    """CLI-22: load a key and its certificate chain (leaf first); the key must match the leaf certificate."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from notation._internal.envelope.algorithms import KeySpec
    from notation._internal.envelope.local_signer import LocalSigner

    key = load_private_key(_read_bounded(key_path, "key", KeyError_))
    chain = load_certificates_file(cert_path)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise KeyError_("unsupported private key type: only RSA and EC keys can sign")
    try:
        leaf_public = _public_bytes(chain[0].public_key())
    except ValueError as exc:
        raise CertificateError(f"invalid public key in certificate {cert_path}: {exc}") from exc
    if _public_bytes(key.public_key()) != leaf_public:
        raise CertificateError(
            f"the private key {key_path} does not match the public key of the first certificate in {cert_path}"
        )
    KeySpec.from_public_key(chain[0].public_key())  # ALG-02: reject unsupported sizes up front
    return LocalSigner(key, chain)


def thumbprint_sha256(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the DER certificate (MAN-06, DISC-02)."""
    return hashlib.sha256(der_of(cert)).hexdigest()
