"""The library face of blob signing (``notation.sign_blob``/``verify_blob`` and their ``_stream`` variants).

Thin: argument handling (formats, the trust policy as a path or bytes, the TSA), then ``workflows.blob``. Errors are
the typed :mod:`notation.errors` ones, raised without the internal exceptions chained to them (the message already
names the cause).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from notation.models import BlobSignResult, VerificationOutcome


def _timestamper(url: str | None, root_cert: str | Path | None) -> Callable[[bytes, Any], bytes] | None:
    from notation.errors import TimestampError

    if not url and not root_cert:
        return None
    if not url or not root_cert:
        raise TimestampError("timestamping: both timestamp_url and timestamp_root_cert are required")
    from notation._internal.timestamp import check_tsa_url, load_tsa_root, request_timestamp

    check_tsa_url(url)
    root = load_tsa_root(root_cert)

    def stamp(signature: bytes, algorithm: Any) -> bytes:
        return request_timestamp(url, signature, algorithm.hash_name, root)

    return stamp


def sign_blob_stream(
    reader: BinaryIO,
    signer: Any,
    *,
    signature_format: str = "jws",
    media_type: str = "application/octet-stream",
    expiry: dt.timedelta | None = None,
    user_metadata: Mapping[str, str] | None = None,
    timestamp_url: str | None = None,
    timestamp_root_cert: str | Path | None = None,
) -> BlobSignResult:
    from notation._internal.workflows.blob import envelope_media_type
    from notation._internal.workflows.blob import sign_blob_stream as sign

    return sign(
        reader,
        signer,
        envelope_media_type=envelope_media_type(signature_format),
        content_media_type=media_type,
        expiry=expiry,
        user_metadata=user_metadata,
        timestamper=_timestamper(timestamp_url, timestamp_root_cert),
    )


def sign_blob(
    path: str | Path,
    signer: Any,
    *,
    signature_path: str | Path | None = None,
    signature_format: str = "jws",
    **options: Any,
) -> BlobSignResult:
    """Sign the file, write ``<dir>/<name>.<format>.sig`` (or ``signature_path``) atomically with mode 0600."""
    import os

    from notation._internal.config.fileio import atomic_write
    from notation._internal.records import replace
    from notation.errors import SigningError

    blob = Path(path)
    target = Path(signature_path) if signature_path is not None else blob.parent / f"{blob.name}.{signature_format}.sig"
    try:
        with open(blob, "rb") as fh:
            result = sign_blob_stream(fh, signer, signature_format=signature_format, **options)
    except OSError as exc:
        raise SigningError(f"{os.strerror(exc.errno) if exc.errno else exc}: {blob}") from None
    try:
        atomic_write(target, result.envelope)
    except OSError as exc:
        raise SigningError(f"failed to write signature to file: {exc.strerror or exc}: {target}") from None
    return replace(result, signature_path=str(target))


def _policy(trust_policy: str | Path | bytes | None) -> Any:
    from notation._internal.config import dirs
    from notation._internal.trust.blob_policy import BlobTrustPolicyDocument

    if isinstance(trust_policy, bytes):
        return BlobTrustPolicyDocument.parse(trust_policy)
    if trust_policy is not None:
        return BlobTrustPolicyDocument.parse(Path(trust_policy).read_bytes())
    return BlobTrustPolicyDocument.load(dirs.config_dir())


def verify_blob_stream(
    reader: BinaryIO,
    signature: bytes,
    *,
    signature_format: str = "jws",
    policy_name: str | None = None,
    media_type: str | None = None,
    user_metadata: Mapping[str, str] | None = None,
    trust_policy: str | Path | bytes | None = None,
    trust_store_dir: str | Path | None = None,
    plugin_config: Mapping[str, str] | None = None,
    name: str = "blob",
) -> VerificationOutcome:
    from notation._internal.config import dirs
    from notation._internal.trust.store import TrustStore
    from notation._internal.verifier import plugin_hooks
    from notation._internal.workflows.blob import envelope_media_type
    from notation._internal.workflows.blob import verify_blob_stream as verify

    store_root = Path(trust_store_dir) if trust_store_dir else dirs.config_dir() / "truststore"
    return verify(
        reader,
        signature,
        signature_media_type=envelope_media_type(signature_format),
        policy=_policy(trust_policy),
        trust_store=TrustStore(store_root),
        policy_name=policy_name,
        content_media_type=media_type,
        user_metadata=user_metadata,
        plugin_hooks=plugin_hooks(plugin_config),
        display_name=name,
    )


def verify_blob(path: str | Path, signature_path: str | Path, **options: Any) -> VerificationOutcome:
    """Verify the file against its detached signature; the format comes from the signature's name (BLOB-03)."""
    from notation._internal.workflows.blob import (
        MAX_SIGNATURE_FILE_SIZE,
        SIGNATURE_FORMATS,
        signature_media_type_for_path,
    )
    from notation.errors import VerificationError

    media_type = signature_media_type_for_path(str(signature_path))
    fmt = next(k for k, v in SIGNATURE_FORMATS.items() if v == media_type)
    try:
        with open(signature_path, "rb") as fh:
            signature = fh.read(MAX_SIGNATURE_FILE_SIZE + 1)
        if len(signature) > MAX_SIGNATURE_FILE_SIZE:
            raise VerificationError(f"signature file {signature_path} is larger than {MAX_SIGNATURE_FILE_SIZE} bytes")
        with open(path, "rb") as blob:
            return verify_blob_stream(blob, signature, signature_format=fmt, name=str(path), **options)
    except OSError as exc:
        raise VerificationError(f"{exc.strerror or exc}: {exc.filename}") from None
