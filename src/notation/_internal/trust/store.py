"""The X.509 trust store `{CONFIG}/truststore/x509/<type>/<name>/` (trust.md §1, cli.md §12).

Loading follows Go notation 1.3.2 and fails closed: a symlinked store, a sub-directory or symlink inside a store, an
unparsable file or a certificate that may not be a trust anchor makes the whole store unusable (TS-05..09). The
management operations behind `notation certificate` live here too, so the CLI only parses flags and prints.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from notation._internal.trust.policy import STORE_TYPES, is_valid_store_name
from notation._internal.x509.dn import go_name_string, go_quote
from notation.errors import TrustStoreError

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "STORE_TYPES",
    "CertificateFileError",
    "TrustStore",
    "TrustStoreLoadError",
    "parse_certificate_data",
    "validate_trust_anchor",
]

MAX_CERT_FILE_BYTES = 4 * 1024 * 1024
"""Bounded read: a trust store file holds a handful of certificates."""

_NAME_FORMAT_MSG = "named store name needs to follow [a-zA-Z0-9_.-]+ format"
_CERT_ADD_HINT = ". Use command 'notation cert add' to create and add trusted certificates to the trust store"


class TrustStoreLoadError(TrustStoreError):
    """A trust store that cannot be used for verification (TS-07).

    ``detail`` is Go's error text (what a logged authenticity failure shows); ``str()`` is the CLI form of AUTH-05:
    ``<detail>. Use command 'notation cert add' ...`` for the not-exist kind, ``<detail>. <inner>`` otherwise.
    """

    def __init__(self, detail: str, *, inner: str | None = None, not_exist: bool = False) -> None:
        self.detail = detail
        self.inner = inner
        self.not_exist = not_exist
        if not_exist:
            message = detail + _CERT_ADD_HINT
        elif inner:
            message = f"{detail}. {inner}"
        else:
            message = detail
        super().__init__(message)


class CertificateFileError(TrustStoreError):
    """A certificate file that cannot be read or parsed; the message is Go's bare reason."""


# --------------------------------------------------------------------------------------------------------------------
# Certificate files (TS-04) and anchor rules (TS-08, TS-09)
# --------------------------------------------------------------------------------------------------------------------

_PEM_BEGIN = re.compile(rb"-----BEGIN ([^\r\n-]*)-----[ \t]*\r?\n")


def _pem_blocks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of every ``-----BEGIN T-----`` ... ``-----END T-----`` block, in order.

    Linear time: a BEGIN without a matching END is skipped after one lookup per type (a single backreferencing
    regex rescanned the rest of the file for every BEGIN line, quadratic on a 4 MiB file of them; issue 8 fuzzing).
    """
    last_end: dict[bytes, int] = {}
    pos = 0
    while (begin := _PEM_BEGIN.search(data, pos)) is not None:
        block_type = begin.group(1)
        end_marker = b"-----END " + block_type + b"-----"
        if block_type not in last_end:
            last_end[block_type] = data.rfind(end_marker)
        end = data.find(end_marker, begin.end()) if last_end[block_type] >= begin.end() else -1
        if end < 0:
            pos = begin.start() + 1
            continue
        yield block_type, data[begin.end() : end]
        pos = end + len(end_marker)


def _der_element_end(data: bytes, pos: int) -> int:
    if pos + 2 > len(data):
        raise ValueError("truncated")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated")
    return pos + length


def parse_certificate_data(data: bytes) -> list[x509.Certificate]:
    """Go ``ReadCertificateFile`` semantics: every PEM block if there is one (each must be a CERTIFICATE), else a
    sequence of concatenated DER certificates. Empty input gives an empty list; junk raises CertificateFileError."""
    blocks = []
    for raw_type, raw_body in _pem_blocks(data):
        body = b"".join(line for line in raw_body.split() if b":" not in line)
        try:
            blocks.append((raw_type.decode("ascii", "replace"), base64.b64decode(body, validate=True)))
        except ValueError:
            continue  # Go's pem.Decode skips a block whose body does not decode
    certs: list[x509.Certificate] = []
    if blocks:
        for block_type, der in blocks:
            if block_type != "CERTIFICATE":
                raise CertificateFileError(f"unexpected PEM block type: {block_type}")
            certs.append(_load_der(der))
        return certs
    pos = 0
    while pos < len(data):
        try:
            end = _der_element_end(data, pos)
        except ValueError:
            raise CertificateFileError("x509: malformed certificate") from None
        certs.append(_load_der(data[pos:end]))
        pos = end
    return certs


def _load_der(der: bytes) -> x509.Certificate:
    from notation._internal.x509.keys import parse_der_certificate

    try:
        return parse_der_certificate(der)
    except ValueError as exc:  # Go's specific x509 messages pass through; every other problem is its generic one
        message = str(exc) if str(exc).startswith("x509: ") else "x509: malformed certificate"
        raise CertificateFileError(message) from None


def _read_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CERT_FILE_BYTES + 1)
    except OSError as exc:
        raise CertificateFileError(_go_os_error("open", path, exc)) from None
    if len(data) > MAX_CERT_FILE_BYTES:
        raise CertificateFileError(f"certificate file {path} is larger than {MAX_CERT_FILE_BYTES} bytes")
    return data


def _go_os_error(op: str, path: Path | str, exc: OSError) -> str:
    """Go's ``*PathError`` text: ``open /x: no such file or directory``."""
    reason = exc.strerror or str(exc)
    return f"{op} {path}: {reason[:1].lower()}{reason[1:]}"


def _verify_own_signature(cert: x509.Certificate) -> str | None:
    """Go ``cert.CheckSignature(cert.SignatureAlgorithm, tbs, sig)`` with the cert's own key; None when it verifies."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        key = cert.public_key()
        params = cert.signature_algorithm_parameters
        hash_alg = cert.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        return "x509: cannot verify signature: algorithm unimplemented"
    if isinstance(hash_alg, (hashes.SHA1, hashes.MD5)):
        return f"x509: cannot verify signature: insecure algorithm {hash_alg.name.upper()}"
    try:
        if isinstance(key, rsa.RSAPublicKey) and isinstance(params, (padding.PKCS1v15, padding.PSS)) and hash_alg:
            key.verify(cert.signature, cert.tbs_certificate_bytes, params, hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params)
        elif isinstance(key, ed25519.Ed25519PublicKey) and params is None:
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return "x509: signature algorithm specifies a different public key type"
    except InvalidSignature:
        if isinstance(key, rsa.RSAPublicKey):
            return "crypto/rsa: verification error"
        return (
            "x509: ECDSA verification failure"
            if isinstance(key, ec.EllipticCurvePublicKey)
            else ("x509: Ed25519 verification failure")
        )
    return None


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    from cryptography import x509 as cx509

    try:
        return cert.extensions.get_extension_for_class(cx509.BasicConstraints).value
    except cx509.ExtensionNotFound:
        return None


def _raw_issuer_subject(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """(raw issuer, raw subject) straight from the TBSCertificate bytes (TS-09 compares exact bytes)."""
    tbs = cert.tbs_certificate_bytes
    _der_element_end(tbs, 0)
    pos = 2 + (tbs[1] & 0x7F if tbs[1] & 0x80 else 0)
    fields: list[bytes] = []
    while pos < len(tbs) and len(fields) < 5:
        end = _der_element_end(tbs, pos)
        if not (tbs[pos] == 0xA0 and not fields):  # skip the optional [0] version
            fields.append(tbs[pos:end])
        pos = end
    # serial, signature algorithm, issuer, validity, subject
    return fields[2], fields[4]


def _is_root_ca(cert: x509.Certificate) -> str | None:
    """Go ``isRootCACertificate`` (TS-09): None when ``cert`` is a self-issued, self-signed CA, else the reason."""
    from cryptography import x509 as cx509

    subject = go_quote(go_name_string(cert.subject))
    bc = _basic_constraints(cert)
    ku: cx509.KeyUsage | None
    try:
        ku = cert.extensions.get_extension_for_class(cx509.KeyUsage).value
    except cx509.ExtensionNotFound:
        ku = None
    constraint = "x509: invalid signature: parent certificate cannot sign this kind of certificate"
    if (cert.version is cx509.Version.v3 and bc is None) or (bc is not None and not bc.ca):
        return f"certificate with subject {subject} is not a root CA certificate: {constraint}"
    if ku is not None and not ku.key_cert_sign:
        return f"certificate with subject {subject} is not a root CA certificate: {constraint}"
    problem = _verify_own_signature(cert)
    if problem:
        return f"certificate with subject {subject} is not a root CA certificate: {problem}"
    try:
        raw_issuer, raw_subject = _raw_issuer_subject(cert)
    except (ValueError, IndexError):
        return f"certificate with subject {subject} is not a root CA certificate: x509: malformed certificate"
    if raw_issuer != raw_subject:
        return (
            f"certificate with subject {subject} is not a root CA certificate: issuer "
            f"({go_name_string(cert.issuer)}) and subject ({go_name_string(cert.subject)}) are not the same"
        )
    return None


def validate_trust_anchor(certs: Sequence[x509.Certificate], store_type: str) -> str | None:
    """TS-08 (every certificate a CA or self-signed) and, for `tsa`, TS-09 (a root). None when fine, else the reason.

    The TS-08 reason is Go ``ValidateCertificates``' text; a TS-09 reason starts with `certificate with subject`.
    """
    if not certs:
        return "input certs cannot be empty"
    for cert in certs:
        bc = _basic_constraints(cert)
        if (bc is None or not bc.ca) and _verify_own_signature(cert) is not None:
            return (
                f"certificate with subject {go_quote(go_name_string(cert.subject))} is not a CA certificate or "
                "self-signed signing certificate"
            )
    return None


def _tsa_root_problem(certs: Sequence[x509.Certificate]) -> str | None:
    for cert in certs:
        problem = _is_root_ca(cert)
        if problem:
            return problem
    return None


# --------------------------------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------------------------------


def _check_type_and_name(store_type: str, name: str) -> None:
    """The CLI's argument checks (CLI-120/122/123)."""
    if not store_type:
        raise TrustStoreError("store type cannot be empty")
    if store_type not in STORE_TYPES:
        raise TrustStoreError(f"unsupported store type: {store_type}")
    if not is_valid_store_name(name):
        raise TrustStoreError(_NAME_FORMAT_MSG)


def _is_plain_file_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\x00" not in name


class TrustStore:
    """`{CONFIG}/truststore` (``root``); certificates live under ``root/x509/<type>/<name>/``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def x509_dir(self) -> Path:
        return self.root / "x509"

    def store_dir(self, store_type: str, name: str) -> Path:
        return self.x509_dir / store_type / name

    # -- verification (TS-05..10) ------------------------------------------------------------------------------------

    def certificates(self, store_type: str, name: str) -> builtins.list[x509.Certificate]:
        """All certificates of a named store, validated as trust anchors; TrustStoreLoadError with Go's words."""
        if store_type not in STORE_TYPES:
            raise TrustStoreLoadError(f"unsupported trust store type: {store_type}")
        if not is_valid_store_name(name):
            raise TrustStoreLoadError(f"trust store name needs to follow [a-zA-Z0-9_.-]+ format, {name} is invalid")
        path = self.store_dir(store_type, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError as exc:
            raise TrustStoreLoadError(
                f"the trust store {go_quote(name)} of type {go_quote(store_type)} does not exist",
                inner=_go_os_error("lstat", path, exc),
                not_exist=True,
            ) from None
        except OSError as exc:
            raise TrustStoreLoadError(
                f"failed to access the trust store {go_quote(name)} of type {go_quote(store_type)}",
                inner=_go_os_error("lstat", path, exc),
            ) from None
        if not stat.S_ISDIR(st.st_mode):
            raise TrustStoreLoadError(
                f"the trust store {name} of type {store_type} with path {path} is not a regular directory "
                "(symlinks are not supported)"
            )
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            raise TrustStoreLoadError(
                f"failed to access the trust store {go_quote(name)} of type {go_quote(store_type)}",
                inner=_go_os_error("open", path, exc),
            ) from None
        certificates: builtins.list[x509.Certificate] = []
        for entry in entries:
            where = f"{entry.name} in trust store {name} of type {store_type}"
            if not entry.is_file(follow_symlinks=False):
                # Go refuses directories and symlinks; FIFOs and devices are refused too (reading one could hang).
                raise TrustStoreLoadError(
                    f"trusted certificate {where} is not a regular file (directories or symlinks are not supported)"
                )
            try:
                certs = parse_certificate_data(_read_file(Path(entry.path)))
            except CertificateFileError as exc:
                raise TrustStoreLoadError(f"failed to read the trusted certificate {where}", inner=str(exc)) from None
            problem = validate_trust_anchor(certs, store_type)
            if problem:
                raise TrustStoreLoadError(f"failed to validate the trusted certificate {where}", inner=problem)
            if store_type == "tsa":
                problem = _tsa_root_problem(certs)
                if problem:
                    raise TrustStoreLoadError(f"trusted certificate {where} is invalid: {problem}", inner=problem)
            certificates.extend(certs)
        if not certificates:
            raise TrustStoreLoadError(
                f"no x509 certificates were found in trust store {go_quote(name)} of type {go_quote(store_type)}",
                not_exist=True,
            )
        return certificates

    # -- `notation certificate add` (TS-11, CLI-120) -----------------------------------------------------------------

    def add(self, store_type: str, name: str, path: Path | str) -> Path:
        """Copy a certificate file unchanged into the store; return the stored path. TrustStoreError(<Go reason>)."""
        _check_type_and_name(store_type, name)
        source = Path(os.path.abspath(path))
        try:
            data = _read_file(source)
            certs = parse_certificate_data(data)
        except CertificateFileError as exc:
            raise TrustStoreError(str(exc)) from None
        if not certs:
            raise TrustStoreError("no valid certificate found in the file")
        problem = validate_trust_anchor(certs, store_type)  # DISC-T2 / DISC-C7: refuse at add time
        if problem is None and store_type == "tsa":
            problem = _tsa_root_problem(certs)
        if problem:
            raise TrustStoreError(problem)
        if not _is_plain_file_name(source.name):
            raise TrustStoreError(f"invalid certificate file name {go_quote(source.name)}")
        dest_dir = self.store_dir(store_type, name)
        dest = dest_dir / source.name
        if os.path.lexists(dest):
            raise TrustStoreError("certificate already exists in the Trust Store")
        self._make_store_dir(dest_dir, store_type, name)
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".notation-", dir=dest_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, dest)  # atomic and exclusive: never replaces a file that appeared meanwhile
            except FileExistsError:
                raise TrustStoreError("certificate already exists in the Trust Store") from None
            except OSError:
                if os.path.lexists(dest):
                    raise TrustStoreError("certificate already exists in the Trust Store") from None
                os.replace(tmp, dest)  # filesystems without hard links
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return dest

    def _make_store_dir(self, dest_dir: Path, store_type: str, name: str) -> None:
        try:
            os.makedirs(dest_dir, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise TrustStoreError(_go_os_error("mkdir", dest_dir, exc)) from None
        if os.path.islink(dest_dir) or not dest_dir.is_dir():
            raise TrustStoreError(
                f"the trust store {name} of type {store_type} with path {dest_dir} is not a regular directory "
                "(symlinks are not supported)"
            )

    # -- `notation certificate list` (CLI-121) -----------------------------------------------------------------------

    def list(self, store_type: str | None = None, name: str | None = None) -> builtins.list[tuple[str, str, Path]]:
        """(type, store, path) of every regular file with ≥ 1 certificate, in CLI-121 order.

        An unknown type lists nothing. A file that does not parse raises TrustStoreError with the full CLI message
        (`failed to list all certificates stored ...`), worded after the filter given.
        """
        if store_type and name:
            prefix = f"failed to list all certificates stored in the named store {name} of type {store_type}"
        elif store_type:
            prefix = f"failed to list all certificates stored of type {store_type}"
        elif name:
            prefix = f"failed to list all certificates stored in the named store {name}"
        else:
            prefix = "failed to list all certificates stored in the trust store"
        if store_type and store_type not in STORE_TYPES:
            return []
        if name is not None and name and not is_valid_store_name(name):
            raise TrustStoreError(_NAME_FORMAT_MSG)
        types = [store_type] if store_type else list(STORE_TYPES)
        result: builtins.list[tuple[str, str, Path]] = []
        try:
            for t in types:
                names = [name] if name else self._subdirs(self.x509_dir / t)
                for n in names:
                    store = self.x509_dir / t / n
                    if not _is_real_dir(store):
                        continue
                    for file_name in sorted(os.listdir(store)):
                        path = store / file_name
                        if not stat.S_ISREG(os.lstat(path).st_mode):
                            continue
                        if parse_certificate_data(_read_file(path)):
                            result.append((t, n, path))
        except CertificateFileError as exc:
            raise TrustStoreError(f"{prefix}, with error: {exc}") from None
        except OSError as exc:
            raise TrustStoreError(f"{prefix}, with error: {_go_os_error('open', exc.filename or '', exc)}") from None
        return result

    @staticmethod
    def _subdirs(path: Path) -> builtins.list[str]:
        if not _is_real_dir(path):
            return []
        return sorted(entry for entry in os.listdir(path) if _is_real_dir(path / entry))

    # -- `notation certificate show` (CLI-122) -----------------------------------------------------------------------

    def show(self, store_type: str, name: str, file: str) -> builtins.list[x509.Certificate]:
        """The certificates of one stored file, in file order; TrustStoreError with the full CLI message."""
        _check_type_and_name(store_type, name)
        prefix = f"failed to show details of certificate {file}, with error: "
        if not _is_plain_file_name(file):
            raise TrustStoreError(prefix + f"invalid certificate file name {go_quote(file)}")
        path = self.store_dir(store_type, name) / file
        if _is_real_dir(path.parent) and os.path.islink(path):
            raise TrustStoreError(prefix + f"{path} is a symlink (symlinks are not supported)")
        try:
            certs = parse_certificate_data(_read_file(path))
        except CertificateFileError as exc:
            raise TrustStoreError(prefix + str(exc)) from None
        if not certs:
            raise TrustStoreError(prefix + "no valid certificate found in the file")
        return certs

    # -- `notation certificate delete` (CLI-123) ---------------------------------------------------------------------

    def delete(
        self, store_type: str, name: str, file: str, *, confirm: Callable[[], bool] | None = None
    ) -> Path | None:
        """Remove one certificate file; None if ``confirm`` (asked after the file is found) said no."""
        _check_type_and_name(store_type, name)
        prefix = "failed to delete the certificate file: "
        if not _is_plain_file_name(file):
            raise TrustStoreError(prefix + f"invalid certificate file name {go_quote(file)}")
        path = self.store_dir(store_type, name) / file
        try:
            os.lstat(path)
        except OSError as exc:
            raise TrustStoreError(prefix + _go_os_error("stat", path, exc)) from None
        if confirm is not None and not confirm():
            return None
        try:
            os.remove(path)
        except OSError as exc:
            raise TrustStoreError(prefix + _go_os_error("remove", path, exc)) from None
        return path

    def delete_store(self, store_type: str, name: str, *, confirm: Callable[[], bool] | None = None) -> Path | None:
        """Remove a named store directory with everything in it; returns its absolute path (None if not confirmed)."""
        _check_type_and_name(store_type, name)
        prefix = "failed to delete the named trust store: "
        path = Path(os.path.abspath(self.store_dir(store_type, name)))
        try:
            st = os.lstat(path)
        except OSError as exc:
            raise TrustStoreError(prefix + _go_os_error("stat", path, exc)) from None
        if confirm is not None and not confirm():
            return None
        try:
            if stat.S_ISDIR(st.st_mode):
                import shutil

                shutil.rmtree(path)
            else:
                os.unlink(path)  # a symlink (or file) in place of the store: remove the link, never its target
        except OSError as exc:
            raise TrustStoreError(prefix + _go_os_error("unlinkat", path, exc)) from None
        return path


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
