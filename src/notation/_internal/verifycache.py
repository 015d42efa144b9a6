"""A verification cache (notation-py extension): passed signature verdicts in ``{CACHE}/verify/``.

Why: CI jobs and admission controllers verify the same images again and again; the expensive part is fetching the
signature manifest and envelope and checking the chain. A verdict is reused only when everything it depended on is
unchanged, so the key is (artifact digest, signature manifest digest, trust policy scope, trust policy content hash,
trust store content hash, notation-py version). An entry is used only before its ``notAfter``, which is the earliest
of: now + TTL, the signature's expiry, the earliest certificate expiry of the chain, and -- when revocation was
really checked (policy does not skip it and the chain names OCSP/CRL endpoints) -- now + a short revocation TTL and
the earliest ``nextUpdate`` of the CRLs cached for that chain. Only passing verdicts of signatures that need no
verification plugin are stored: failures are always re-checked. Off unless ``--cache`` or NOTATION_VERIFY_CACHE=1.

Entries are written atomically (temp file + rename) with mode 0600; a corrupt, oversized or foreign entry is a miss.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation._internal.oci.descriptor import Descriptor
from notation.errors import NotationError
from notation.models import SignatureVerification, ValidationAction, ValidationResult, ValidationType

if TYPE_CHECKING:
    from notation._internal.envelope.model import SignerInfo

ENV_ENABLE = "NOTATION_VERIFY_CACHE"
ENV_TTL = "NOTATION_VERIFY_CACHE_TTL"
DEFAULT_TTL = dt.timedelta(hours=1)
REVOCATION_TTL = dt.timedelta(minutes=5)
"""Longest reuse of a verdict whose revocation status was checked when no CRL nextUpdate is known (OCSP)."""
MAX_ENTRY_BYTES = 256 * 1024
MAX_TRUST_STORE_FILES = 10_000
MAX_HASHED_FILE_BYTES = 4 * 1024 * 1024
FORMAT_VERSION = 1


def enabled_by_env() -> bool:
    return os.environ.get(ENV_ENABLE, "") == "1"


def ttl_from_env() -> dt.timedelta:
    """NOTATION_VERIFY_CACHE_TTL as a Go duration (``30m``, ``2h``); the default when unset or invalid."""
    raw = os.environ.get(ENV_TTL, "")
    if not raw:
        return DEFAULT_TTL
    from notation._internal.cli.framework import parse_go_duration

    try:
        ns = parse_go_duration(raw)
    except ValueError:
        return DEFAULT_TTL
    return dt.timedelta(microseconds=ns // 1000) if ns > 0 else DEFAULT_TTL


def _hash_file(h: Any, path: Path) -> None:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_HASHED_FILE_BYTES + 1)
    except FileNotFoundError:
        h.update(b"\x00absent")
        return
    except OSError as exc:
        raise NotationError(f"verification cache: cannot read {path}: {exc.strerror}") from None
    h.update(len(data).to_bytes(8, "big"))
    h.update(data)


def policy_hash(config_dir: Path) -> str:
    """Both trust policy files (the OCI one shadows the other; hashing both is simpler and never wrong)."""
    h = hashlib.sha256(b"policy\x00")
    for name in ("trustpolicy.oci.json", "trustpolicy.json"):
        h.update(name.encode() + b"\x00")
        _hash_file(h, config_dir / name)
    return h.hexdigest()


def trust_store_hash(config_dir: Path) -> str:
    """Every path (type, name, file) and file content below ``{CONFIG}/truststore/x509``; symlinks by target."""
    return trust_store_root_hash(config_dir / "truststore")


def trust_store_root_hash(trust_store_root: Path) -> str:
    """:func:`trust_store_hash` of a trust store directory given by itself (``<root>/x509/...``)."""
    root = trust_store_root / "x509"
    h = hashlib.sha256(b"truststore\x00")
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        h.update(b"d" + str(base.relative_to(root)).encode() + b"\x00")
        for name in sorted(filenames + [d for d in dirnames if (base / d).is_symlink()]):
            count += 1
            if count > MAX_TRUST_STORE_FILES:
                raise NotationError(f"verification cache: more than {MAX_TRUST_STORE_FILES} files in the trust store")
            path = base / name
            h.update(b"f" + name.encode() + b"\x00")
            if path.is_symlink():
                h.update(b"l" + os.readlink(path).encode() + b"\x00")
            else:
                _hash_file(h, path)
    return h.hexdigest()


class VerificationCache:
    """The ``VerificationCache`` the verify workflow accepts; thread-safe (one instance serves a whole command)."""

    def __init__(
        self,
        directory: Path,
        *,
        policy_digest: str,
        trust_store_digest: str,
        ttl: dt.timedelta = DEFAULT_TTL,
        revocation_ttl: dt.timedelta = REVOCATION_TTL,
        crl_cache_root: Path | None = None,
    ) -> None:
        self.directory = directory
        self.policy_digest = policy_digest
        self.trust_store_digest = trust_store_digest
        self.ttl = ttl
        self.revocation_ttl = revocation_ttl
        self.crl_cache_root = crl_cache_root
        self._lock = threading.Lock()
        self.hits: set[tuple[str, str]] = set()
        """(artifact digest, signature manifest digest) answered from the cache in this process."""
        self.stores = 0

    @classmethod
    def open(cls, cache_root: Path, config_dir: Path, *, ttl: dt.timedelta | None = None) -> VerificationCache:
        """Hash the policy and trust store now: a change during the command is seen by the next one."""
        return cls(
            cache_root / "verify",
            policy_digest=policy_hash(config_dir),
            trust_store_digest=trust_store_hash(config_dir),
            ttl=ttl or ttl_from_env(),
            crl_cache_root=cache_root,
        )

    def _key(self, subject_digest: str, manifest_digest: str, scope: str) -> str:
        from notation import __version__

        doc = [FORMAT_VERSION, __version__, subject_digest, manifest_digest, scope, self.policy_digest,
               self.trust_store_digest]  # fmt: skip
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    # -- read -------------------------------------------------------------------------------------------------------

    def get(
        self, subject: Descriptor, manifest: Descriptor, scope: str, now: dt.datetime
    ) -> SignatureVerification | None:
        key = self._key(subject.digest, manifest.digest, scope)
        try:
            with self._path(key).open("rb") as fh:
                raw = fh.read(MAX_ENTRY_BYTES + 1)
            if len(raw) > MAX_ENTRY_BYTES:
                return None
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION or doc.get("key") != key:
                return None
            not_after = dt.datetime.fromisoformat(str(doc["notAfter"]))
            if not_after.tzinfo is None or now >= not_after:
                return None
            verdict = _verdict_from_json(doc["verdict"])
        except (OSError, ValueError, KeyError, TypeError, NotationError):
            return None
        if verdict.manifest.digest != manifest.digest or not verdict.passed:
            return None
        with self._lock:
            self.hits.add((subject.digest, manifest.digest))
        return verdict

    # -- write ------------------------------------------------------------------------------------------------------

    def put(
        self, subject: Descriptor, scope: str, verdict: SignatureVerification, info: SignerInfo, now: dt.datetime
    ) -> None:
        if not verdict.passed:
            return
        not_after = self.not_after(verdict, info, now)
        if not_after <= now:
            return
        key = self._key(subject.digest, verdict.manifest.digest, scope)
        doc = {"version": FORMAT_VERSION, "key": key, "notAfter": not_after.isoformat(),
               "verdict": _verdict_to_json(verdict)}  # fmt: skip
        self._write(self._path(key), json.dumps(doc).encode())
        with self._lock:
            self.stores += 1

    def not_after(self, verdict: SignatureVerification, info: SignerInfo, now: dt.datetime) -> dt.datetime:
        """The earliest moment the verdict may no longer hold (see the module docstring)."""
        return min(
            now + self.ttl,
            verdict_bound(verdict, info, now, revocation_ttl=self.revocation_ttl, crl_cache_root=self.crl_cache_root),
        )

    def _write(self, path: Path, data: bytes) -> None:
        """Atomic: a temp file in the same directory, fsync, rename. A failure only loses the entry."""
        tmp: str | None = None
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            import tempfile

            fd, tmp = tempfile.mkstemp(prefix=".notation-", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def _revocation_checked(verdict: SignatureVerification, info: SignerInfo) -> bool:
    ran = any(r.type is ValidationType.REVOCATION and r.action is not ValidationAction.SKIP for r in verdict.results)
    if not ran:
        return False
    from notation._internal.trust.evaluate import _revocation_endpoint_holder

    return _revocation_endpoint_holder(info.certificate_chain) is not None


def _verdict_to_json(v: SignatureVerification) -> dict[str, Any]:
    return {
        "manifest": v.manifest.to_dict(),
        "envelopeMediaType": v.envelope_media_type,
        "results": [{"type": r.type.value, "action": r.action.value, "error": r.error} for r in v.results],
        "userMetadata": dict(v.user_metadata),
        "signerSubject": v.signer_subject,
        "signingTime": v.signing_time,
    }


def _opt_str(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _verdict_from_json(doc: Any) -> SignatureVerification:
    if not isinstance(doc, dict):
        raise ValueError("verdict is not an object")
    results = []
    for item in doc["results"]:
        results.append(
            ValidationResult(ValidationType(item["type"]), ValidationAction(item["action"]), _opt_str(item["error"]))
        )
    metadata = doc["userMetadata"]
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError("userMetadata")
    return SignatureVerification(
        manifest=Descriptor.from_dict(doc["manifest"]),
        envelope_media_type=_opt_str(doc["envelopeMediaType"]),
        results=tuple(results),
        error=None,
        user_metadata=metadata,
        signer_subject=_opt_str(doc["signerSubject"]),
        signing_time=_opt_str(doc["signingTime"]),
    )


def verdict_bound(
    verdict: SignatureVerification,
    info: SignerInfo,
    now: dt.datetime,
    *,
    revocation_ttl: dt.timedelta = REVOCATION_TTL,
    crl_cache_root: Path | None = None,
) -> dt.datetime:
    """The earliest moment a passed verdict may stop holding, without any TTL of a cache: the signature's expiry,
    every chain certificate's notAfter and, when revocation was really checked, ``now + revocation_ttl`` and the
    cached CRLs' nextUpdate. Also what :attr:`SignatureVerification.valid_until` reports."""
    limits: list[dt.datetime] = []
    if info.signed.expiry is not None:
        limits.append(info.signed.expiry)
    for cert in info.certificate_chain:
        limits.append(cert.not_valid_after_utc)
    if _revocation_checked(verdict, info):
        limits.append(now + revocation_ttl)
        limits.extend(_crl_next_updates(info, crl_cache_root))
    return min(limits) if limits else dt.datetime.max.replace(tzinfo=dt.UTC)


def _crl_next_updates(info: SignerInfo, crl_cache_root: Path | None) -> list[dt.datetime]:
    """nextUpdate of every CRL cached for the chain's distribution points (revocation/cache.py)."""
    if crl_cache_root is None:
        return []
    from cryptography import x509

    from notation._internal.revocation.cache import CRLCache
    from notation._internal.revocation.crl import distribution_points

    crl_dir = crl_cache_root / "crl"
    if not crl_dir.is_dir():
        return []
    cache = CRLCache(crl_dir, warn=lambda _message: None)
    out: list[dt.datetime] = []
    for cert in info.certificate_chain:
        for url in distribution_points(cert):
            bundle = cache.get(url)
            if bundle is None:
                continue
            for der in (bundle.base, bundle.delta):
                if der is None:
                    continue
                try:
                    crl = x509.load_der_x509_crl(der)
                except ValueError:
                    out.append(dt.datetime.min.replace(tzinfo=dt.UTC))  # unreadable: do not cache
                    continue
                next_update = crl.next_update_utc
                out.append(next_update if next_update is not None else dt.datetime.min.replace(tzinfo=dt.UTC))
    return out
