"""notation-py: sign and verify OCI artifacts with the Notary Project signature formats.

The public API is small, in the manner of sigstore-python:

* :func:`sign` signs an artifact in a registry or an OCI image layout and pushes the signature next to it;
* :func:`verify` verifies an artifact against a trust policy and trust store;
* :class:`Verifier` is the long-lived verifier behind it: one policy and trust store, shared registry connections,
  many artifacts (``verify``, ``verify_many``, ``resolve``, ``reload``);
* :func:`sign_blob` / :func:`verify_blob` sign and verify any file with a detached signature (``notation blob``),
  streamed in constant memory; :func:`sign_blob_stream` / :func:`verify_blob_stream` do the same over a file object;
* :mod:`notation.models` holds the result types, :mod:`notation.errors` the typed errors
  (every one has a user-facing message).

Signers come from :func:`signer_from_files` (a local key and certificate chain) or :func:`signer_from_plugin`
(a Notation plugin such as ``azure-kv``). Everything under ``notation._internal`` may change without notice.
Heavy modules are imported inside the functions so that ``import notation`` stays cheap: at run time this module
imports nothing at all (not ``typing``, ``pathlib`` or ``datetime``), since every ``notation`` command, even
``--help``, imports it first.
"""

from __future__ import annotations

__version__ = "0.1.0"

_TYPE_CHECKING = False
if _TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable as _Callable
    from collections.abc import Mapping as _Mapping
    from pathlib import Path as _Path
    from typing import Any as _Any
    from typing import BinaryIO as _BinaryIO
    from typing import ParamSpec as _ParamSpec
    from typing import TypeVar as _TypeVar

    from notation._internal.verifier import Verifier, VerifyResult
    from notation.models import BlobSignResult, SignResult, VerificationOutcome

    _P = _ParamSpec("_P")
    _R = _TypeVar("_R")

__all__ = [
    "Verifier",
    "VerifyResult",
    "__version__",
    "sign",
    "sign_blob",
    "sign_blob_stream",
    "signer_from_files",
    "signer_from_plugin",
    "verify",
    "verify_blob",
    "verify_blob_stream",
]


def _one_error(fn: _Callable[_P, _R]) -> _Callable[_P, _R]:
    """A public function raises one typed error (notation.errors): the internal exceptions it was made from are
    not chained to it, since its message already names the cause (no three-exception traceback for one failure)."""

    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        from notation.errors import NotationError

        try:
            return fn(*args, **kwargs)
        except NotationError as exc:
            exc.__cause__ = None
            exc.__suppress_context__ = True
            raise

    # functools.wraps, without importing functools at start-up
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__"):
        setattr(wrapper, attribute, getattr(fn, attribute))
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def __getattr__(name: str) -> _Any:
    """``notation.Verifier`` and ``notation.VerifyResult``, imported on first use (``import notation`` stays cheap)."""
    if name in ("Verifier", "VerifyResult"):
        from notation._internal import verifier

        return getattr(verifier, name)
    raise AttributeError(f"module 'notation' has no attribute {name!r}")


_FORMATS = {"jws": "application/jose+json", "cose": "application/cose"}


@_one_error
def signer_from_files(key_path: str | _Path, cert_path: str | _Path) -> _Any:
    """A signer for a local private key (PEM) and its certificate chain (PEM, leaf first)."""
    from notation._internal.x509.keys import load_local_signer

    return load_local_signer(key_path, cert_path)


@_one_error
def signer_from_plugin(
    plugin_name: str,
    key_id: str,
    plugin_config: _Mapping[str, str] | None = None,
    *,
    libexec_dir: str | _Path | None = None,
) -> _Any:
    """A signer backed by an installed Notation plugin (``{LIBEXEC}/plugins/<name>/notation-<name>``)."""
    from pathlib import Path

    from notation._internal.config import dirs
    from notation._internal.plugin import PluginManager, make_plugin_signer

    manager = PluginManager(Path(libexec_dir) if libexec_dir else dirs.libexec_dir())
    return make_plugin_signer(manager, plugin_name, key_id, dict(plugin_config or {}))


@_one_error
def sign(
    artifact: str,
    signer: _Any,
    *,
    signature_format: str = "jws",
    oci_layout: bool = False,
    expiry: _dt.timedelta | None = None,
    user_metadata: _Mapping[str, str] | None = None,
    username: str | None = None,
    password: str | None = None,
    insecure_registry: bool = False,
) -> SignResult:
    """Sign ``artifact`` (``registry/repo@digest`` or, with ``oci_layout``, ``path@digest``) and push the signature."""
    from notation._internal.stores import RegistryOptions, open_store
    from notation._internal.workflows.sign import sign_artifact
    from notation.errors import SigningError

    media_type = _FORMATS.get(signature_format.lower())
    if media_type is None:
        raise SigningError(
            f'signature format "{signature_format}" not supported\n'
            'Supported signature envelope formats are "jws" and "cose"'
        )
    options = RegistryOptions(username=username, password=password, insecure=insecure_registry)
    store, ref = open_store(artifact, oci_layout=oci_layout, options=options)
    try:
        return sign_artifact(
            store, ref, signer, envelope_media_type=media_type, expiry=expiry, user_metadata=user_metadata
        )
    finally:
        store.close()


@_one_error
def verify(
    artifact: str,
    *,
    oci_layout: bool = False,
    scope: str | None = None,
    trust_policy: str | _Path | bytes | None = None,
    trust_store_dir: str | _Path | None = None,
    user_metadata: _Mapping[str, str] | None = None,
    max_signatures: int = 100,
    username: str | None = None,
    password: str | None = None,
    insecure_registry: bool = False,
) -> VerificationOutcome:
    """Verify ``artifact`` and return the outcome; raise :class:`notation.errors.VerificationError` if it fails.

    A one-shot :class:`Verifier`: to verify many artifacts, keep one ``Verifier`` (connections, credentials and the
    parsed trust material are reused). The trust policy defaults to the notation config directory's
    ``trustpolicy.json`` (a path or the document's bytes may be given), the trust store to ``{CONFIG}/truststore``.
    """
    from notation._internal.verifier import Verifier as _Verifier
    from notation.errors import VerificationError

    if oci_layout and not scope:
        raise VerificationError("a scope is required to verify an artifact in an OCI image layout")
    with _Verifier(
        trust_policy=trust_policy,
        trust_store_dir=trust_store_dir,
        max_signatures=max_signatures,
        username=username,
        password=password,
        plain_http=insecure_registry,
    ) as verifier:
        return verifier.verify(artifact, user_metadata=user_metadata, oci_layout=oci_layout, scope=scope)


@_one_error
def sign_blob(
    path: str | _Path,
    signer: _Any,
    *,
    signature_path: str | _Path | None = None,
    signature_format: str = "jws",
    media_type: str = "application/octet-stream",
    expiry: _dt.timedelta | None = None,
    user_metadata: _Mapping[str, str] | None = None,
    timestamp_url: str | None = None,
    timestamp_root_cert: str | _Path | None = None,
) -> BlobSignResult:
    """Sign a file with a detached signature (``notation blob sign``) and write it atomically (mode 0600) to
    ``signature_path``, by default ``<blob dir>/<blob name>.<jws|cose>.sig`` (an existing file is replaced).

    The file is read once, in chunks, through the hash of the signer's key (sha256/384/512): any size works in
    constant memory. Raises :class:`notation.errors.SigningError` (and the signer's typed errors).
    """
    from notation._internal import blob_api

    return blob_api.sign_blob(
        path,
        signer,
        signature_path=signature_path,
        signature_format=signature_format,
        media_type=media_type,
        expiry=expiry,
        user_metadata=user_metadata,
        timestamp_url=timestamp_url,
        timestamp_root_cert=timestamp_root_cert,
    )


@_one_error
def sign_blob_stream(
    reader: _BinaryIO,
    signer: _Any,
    *,
    signature_format: str = "jws",
    media_type: str = "application/octet-stream",
    expiry: _dt.timedelta | None = None,
    user_metadata: _Mapping[str, str] | None = None,
    timestamp_url: str | None = None,
    timestamp_root_cert: str | _Path | None = None,
) -> BlobSignResult:
    """Like :func:`sign_blob` over a binary file object (read to its end); nothing is written: the envelope is in
    the result's ``envelope``."""
    from notation._internal import blob_api

    return blob_api.sign_blob_stream(
        reader,
        signer,
        signature_format=signature_format,
        media_type=media_type,
        expiry=expiry,
        user_metadata=user_metadata,
        timestamp_url=timestamp_url,
        timestamp_root_cert=timestamp_root_cert,
    )


@_one_error
def verify_blob(
    path: str | _Path,
    signature_path: str | _Path,
    *,
    policy_name: str | None = None,
    media_type: str | None = None,
    user_metadata: _Mapping[str, str] | None = None,
    trust_policy: str | _Path | bytes | None = None,
    trust_store_dir: str | _Path | None = None,
    plugin_config: _Mapping[str, str] | None = None,
) -> VerificationOutcome:
    """Verify a file against its detached signature (``notation blob verify``).

    The statement is ``policy_name``'s, else the blob policy's global one (trust.md TP-40..42); the trust policy
    defaults to ``{CONFIG}/trustpolicy.blob.json`` (a path or the document's bytes may be given), the trust store to
    ``{CONFIG}/truststore``. The envelope format comes from the signature file's name (``*.jws.sig``,
    ``*.cose.sig``). Raises :class:`notation.errors.VerificationError` (:class:`notation.errors.BlobIntegrityError`
    when the file is not the one signed) or :class:`notation.errors.TrustPolicyError`.
    """
    from notation._internal import blob_api

    return blob_api.verify_blob(
        path,
        signature_path,
        policy_name=policy_name,
        media_type=media_type,
        user_metadata=user_metadata,
        trust_policy=trust_policy,
        trust_store_dir=trust_store_dir,
        plugin_config=plugin_config,
    )


@_one_error
def verify_blob_stream(
    reader: _BinaryIO,
    signature: bytes,
    *,
    signature_format: str = "jws",
    policy_name: str | None = None,
    media_type: str | None = None,
    user_metadata: _Mapping[str, str] | None = None,
    trust_policy: str | _Path | bytes | None = None,
    trust_store_dir: str | _Path | None = None,
    plugin_config: _Mapping[str, str] | None = None,
) -> VerificationOutcome:
    """Like :func:`verify_blob` over a binary file object and the envelope's bytes (``signature_format`` says
    which envelope); the object is read once, after the signature's trust checks passed."""
    from notation._internal import blob_api

    return blob_api.verify_blob_stream(
        reader,
        signature,
        signature_format=signature_format,
        policy_name=policy_name,
        media_type=media_type,
        user_metadata=user_metadata,
        trust_policy=trust_policy,
        trust_store_dir=trust_store_dir,
        plugin_config=plugin_config,
    )
