"""The long-lived verifier (public as :class:`notation.Verifier`): the one place verification happens.

Why a long-lived object: CI pipelines verify hundreds of images per call and an admission service verifies on every
Pod creation. Loading the trust policy, parsing the trust store, resolving credentials, the TLS handshake and the
token exchange with each registry are paid once per :class:`Verifier`, not once per image (the manner of
notation-go's ``verifier.New`` + ``notation.Verify``). ``notation verify`` with many references (cli/batch.py), the
admission service and the one-shot :func:`notation.verify` are all thin fronts over it, so no verification logic
lives in a CLI or HTTP layer.

Thread-safety: one instance serves many threads. Registry connections, credentials and tokens are shared per
registry (``RegistryClient``); the policy and trust store are swapped atomically by :meth:`Verifier.reload` (a
verification in flight finishes with the material it started with); certificates of a named trust store are parsed
once per loaded material and reused.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notation._internal.records import dataclass, field
from notation.errors import NotationError, TrustStoreError, VerificationError

if TYPE_CHECKING:
    import datetime as dt
    from concurrent.futures import ThreadPoolExecutor

    from cryptography import x509

    from notation._internal.envelope.model import SignerInfo
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.store import ArtifactStore
    from notation._internal.registry.client import RegistryClient
    from notation._internal.trust.policy import TrustPolicyDocument
    from notation._internal.trust.store import TrustStore
    from notation._internal.workflows.verify import PluginHooks, VerificationCache, VerifyTrace
    from notation.models import SignatureVerification, VerificationOutcome

__all__ = ["DEFAULT_MAX_WORKERS", "Verifier", "VerifyReport", "VerifyResult", "plugin_hooks"]

DEFAULT_MAX_WORKERS = 4


@dataclass(frozen=True)
class VerifyResult:
    """The result for one reference of :meth:`Verifier.verify_many`, in the order the references were given.

    ``digest`` is the resolved subject digest (``None`` when the reference could not be resolved); exactly one of
    ``outcome`` (passed or skipped by policy) and ``error`` is set.
    """

    reference: str
    digest: str | None
    outcome: VerificationOutcome | None = None
    error: NotationError | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Verified, or skipped because the policy says so (``outcome.skipped``)."""
        return self.error is None and self.outcome is not None


@dataclass
class VerifyReport:
    """The detailed result for one reference (or, under ``require_all_platforms``, one platform manifest).

    What ``notation verify`` prints (text or ``-o json``); ``trace`` records what was looked at, also on failure.
    """

    reference: str
    trace: VerifyTrace
    status: str = "failed"
    """verified | skipped | failed"""
    display: str | None = None
    subject: Descriptor | None = None
    error: str | None = None
    """The one-line failure message."""
    warnings: list[str] = field(default_factory=list)
    platform: str | None = None
    platforms: list[VerifyReport] = field(default_factory=list)
    outcome: VerificationOutcome | None = None
    exception: NotationError | None = None
    """The typed error behind ``error`` (an unexpected exception is wrapped in a NotationError: fail closed)."""


@dataclass
class _Opened:
    store: ArtifactStore
    ref: str
    """The tag or digest inside the store."""
    scope: str
    """The trust policy scope (``registry/repo``, or the given scope for layouts)."""


class _MemoTrustStore:
    """A :class:`TrustStore` whose named stores are read and validated once (successes only; errors are re-read).

    Why: the trust store is consulted for every signature; re-reading and re-parsing PEM files per verification
    costs more than the signature check itself. The material is immutable between :meth:`Verifier.reload` calls.
    """

    def __init__(self, store: TrustStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._certs: dict[tuple[str, str], tuple[x509.Certificate, ...]] = {}

    @property
    def root(self) -> Path:
        return self._store.root

    def certificates(self, store_type: str, name: str) -> list[x509.Certificate]:
        key = (store_type, name)
        found = self._certs.get(key)
        if found is None:
            found = tuple(self._store.certificates(store_type, name))
            with self._lock:
                self._certs[key] = found
        return list(found)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _Material:
    """A loaded policy and trust store; the fingerprint is computed on first use (hashing the trust store reads every
    file: a one-shot CLI verification without a cache never needs it)."""

    def __init__(self, policy: TrustPolicyDocument, trust_store: _MemoTrustStore, policy_bytes: bytes) -> None:
        self.policy = policy
        self.trust_store = trust_store
        self._policy_bytes = policy_bytes
        self._fingerprint: str | None = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        with self._lock:
            if self._fingerprint is None:
                self._fingerprint = _fingerprint(self._policy_bytes, self.trust_store.root)
            return self._fingerprint


class _FingerprintedCache:
    """Keys every cache entry by the verifier's trust fingerprint too, so a verdict reached under an older policy or
    trust store is never reused after :meth:`Verifier.reload` (the cache's own digests were taken when it opened)."""

    def __init__(self, cache: VerificationCache, fingerprint: str) -> None:
        self._cache = cache
        self._fingerprint = fingerprint

    def get(
        self, subject: Descriptor, manifest: Descriptor, scope: str, now: dt.datetime
    ) -> SignatureVerification | None:
        return self._cache.get(subject, manifest, f"{scope}\x00{self._fingerprint}", now)

    def put(
        self, subject: Descriptor, scope: str, verdict: SignatureVerification, info: SignerInfo, now: dt.datetime
    ) -> None:
        self._cache.put(subject, f"{scope}\x00{self._fingerprint}", verdict, info, now)


def plugin_hooks(plugin_config: Mapping[str, str] | None = None, libexec_dir: Path | None = None) -> PluginHooks:
    """Verification plugin support (plugins.md §7): plugins are looked up in ``{LIBEXEC}/plugins``.

    The plugin machinery is imported only when a signature names a verification plugin (start-up budget).
    """
    from notation._internal.workflows.verify import PluginHooks

    lock = threading.Lock()
    loaded: list[Any] = []
    config = dict(plugin_config or {})

    def real() -> Any:
        with lock:
            if not loaded:
                from notation._internal.config.dirs import libexec_dir as default_libexec
                from notation._internal.plugin.manager import PluginManager
                from notation._internal.plugin.verifier import make_plugin_hooks

                loaded.append(make_plugin_hooks(PluginManager(libexec_dir or default_libexec()), config))
            return loaded[0]

    return PluginHooks(
        resolve=lambda info: real().resolve(info),
        capabilities=lambda plugin: real().capabilities(plugin),
        verify=lambda plugin, info, statement, capabilities: real().verify(plugin, info, statement, capabilities),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def _as_notation_error(exc: BaseException) -> NotationError:
    if isinstance(exc, NotationError):
        return exc
    wrapped = NotationError(_one_line(str(exc) or type(exc).__name__))
    wrapped.__cause__ = exc
    return wrapped


def failure_text(exc: BaseException) -> str:
    """The one-line message of a failure; an unexpected exception still counts as a failure (fail closed)."""
    if isinstance(exc, NotationError):
        return _one_line(exc.message)
    return _one_line(str(exc) or type(exc).__name__)


def tag_warning(op: str, tag: str) -> str:
    """CLI-31's mutable-tag warning for verify/list/inspect (sign has its own wording)."""
    if op == "sign":
        return (
            f"Always sign the artifact using digest(@sha256:...) rather than a tag(:{tag}) because tags are mutable "
            "and a tag reference can point to a different artifact than the one signed."
        )
    return (
        f"Always {op} the artifact using digest(@sha256:...) rather than a tag(:{tag}) because resolved digest may "
        "not point to the same signed artifact, as tags are mutable."
    )


def _fingerprint(policy_bytes: bytes, trust_store_root: Path) -> str:
    from notation._internal.verifycache import trust_store_root_hash

    h = hashlib.sha256(b"notation-verifier\x00")
    h.update(len(policy_bytes).to_bytes(8, "big"))
    h.update(policy_bytes)
    h.update(trust_store_root_hash(trust_store_root).encode())
    return h.hexdigest()


class Verifier:
    """Verify many artifacts against one trust policy and trust store, sharing registry connections.

    ``config_dir`` holds ``trustpolicy(.oci).json`` and ``truststore/`` (default: the notation config directory);
    ``trust_policy`` (a path or the document's bytes) and ``trust_store_dir`` override them. Registry credentials
    come from ``username``/``password``, else ``registry_config`` (a docker ``config.json``, the format of an
    imagePullSecret's ``.dockerconfigjson``), else the credential helpers and files the CLI honours.
    ``insecure_registries`` are spoken to over plain HTTP (CLI-32). ``max_workers`` bounds :meth:`verify_many`'s
    concurrency (one pool shared by all callers). ``cache`` reuses passed verdicts (``notation._internal
    .verifycache``). ``timeout`` bounds each registry connect and read, and each body read, in seconds.

    The constructor raises the policy's typed error (TrustPolicyError) when it cannot be loaded.
    """

    def __init__(
        self,
        *,
        config_dir: str | Path | None = None,
        trust_policy: str | Path | bytes | None = None,
        trust_store_dir: str | Path | None = None,
        username: str | None = None,
        password: str | None = None,
        registry_config: str | Path | None = None,
        insecure_registries: Iterable[str] = (),
        max_signatures: int = 100,
        max_workers: int = DEFAULT_MAX_WORKERS,
        cache: VerificationCache | None = None,
        timeout: float | None = None,
        plugin_config: Mapping[str, str] | None = None,
        libexec_dir: str | Path | None = None,
        plain_http: bool = False,
        require_all_platforms: bool = False,
    ) -> None:
        """Beyond the agreed contract: ``plugin_config``/``libexec_dir`` for verification plugins, ``plain_http``
        (every registry over plain HTTP: the CLI's ``--insecure-registry``), ``require_all_platforms`` (an image
        index passes only when every platform manifest it lists passes too)."""
        if max_signatures <= 0:
            raise VerificationError(f"max-signatures value {max_signatures} must be a positive number")
        if max_workers <= 0:
            raise ValueError("max_workers must be positive")
        self._config_dir = Path(config_dir) if config_dir is not None else None
        self._trust_policy = trust_policy
        self._trust_store_dir = Path(trust_store_dir) if trust_store_dir is not None else None
        self._username = username
        self._password = password
        self._registry_config = Path(registry_config) if registry_config is not None else None
        self._insecure_registries = tuple(insecure_registries)
        self._plain_http = plain_http
        self.max_signatures = max_signatures
        self.max_workers = max_workers
        self.cache = cache
        self._timeout = timeout
        self.require_all_platforms = require_all_platforms
        self._libexec_dir = Path(libexec_dir) if libexec_dir is not None else None
        self._plugin_config = dict(plugin_config or {})
        self._plugin_hooks = plugin_hooks(self._plugin_config, self._libexec_dir)
        self._lock = threading.Lock()
        self._client: RegistryClient | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._material = self._load()
        if cache is not None:
            _ = self._material.fingerprint  # cache keys name the material as it was when loaded

    # -- trust material ----------------------------------------------------------------------------------------------

    def _resolved_config_dir(self) -> Path:
        if self._config_dir is not None:
            return self._config_dir
        from notation._internal.config import dirs

        return dirs.config_dir()

    def _load(self) -> _Material:
        from notation._internal.trust.policy import TrustPolicyDocument
        from notation._internal.trust.store import TrustStore

        source = self._trust_policy
        if isinstance(source, bytes):
            data = source
            policy = TrustPolicyDocument.parse(data)
        elif source is not None:
            from notation._internal.trust.policy import _read_policy_file

            try:
                data = _read_policy_file(Path(source))
            except FileNotFoundError:
                from notation.errors import TrustPolicyError

                raise TrustPolicyError(f"trust policy {source} does not exist") from None
            policy = TrustPolicyDocument.parse(data)
        else:
            policy, data = TrustPolicyDocument.load_with_bytes(self._resolved_config_dir())
        root = self._trust_store_dir or self._resolved_config_dir() / "truststore"
        return _Material(policy, _MemoTrustStore(TrustStore(root)), data)

    def reload(self) -> None:
        """Re-read the policy and trust store from disk; on an error keep the old material and raise the typed error.

        Every trust store the new policy names is read and validated now: a store that exists but holds a bad
        certificate (TrustStoreError) keeps the old material; a store that does not exist yet is not an error here
        (verifications that need it fail with Go's message, as the CLI's do).
        """
        from notation._internal.trust.store import TrustStoreLoadError

        material = self._load()
        for statement in material.policy.statements:
            if statement.is_skip:
                continue
            for kind, name in statement.trust_stores:
                try:
                    material.trust_store.certificates(kind, name)
                except TrustStoreLoadError as exc:
                    if not exc.not_exist:
                        raise
                except TrustStoreError:
                    raise
        _ = material.fingerprint  # taken now, for the material just read
        self._material = material

    @property
    def trust_fingerprint(self) -> str:
        """sha256 (hex) over the policy bytes and the trust store's paths and contents: a key for caches of verdicts."""
        return self._material.fingerprint

    @property
    def plugin_config(self) -> dict[str, str]:
        """The ``{key}={value}`` pairs handed to verification plugins."""
        return dict(self._plugin_config)

    @plugin_config.setter
    def plugin_config(self, value: Mapping[str, str]) -> None:
        self._plugin_config = dict(value)
        self._plugin_hooks = plugin_hooks(self._plugin_config, self._libexec_dir)

    @property
    def policy(self) -> TrustPolicyDocument:
        return self._material.policy

    # -- registries --------------------------------------------------------------------------------------------------

    def _registry_client(self) -> RegistryClient:
        with self._lock:
            if self._closed:
                raise NotationError("the verifier is closed")
            if self._client is None:
                from notation._internal.registry.client import RegistryClient
                from notation._internal.registry.transport import TransportOptions

                store = None
                if self._registry_config is not None:
                    from notation._internal.config.config_file import load_config_file
                    from notation._internal.registry.credentials import FileStore

                    store = FileStore(load_config_file(self._registry_config))
                options = None
                if self._timeout is not None:
                    t = float(self._timeout)
                    options = TransportOptions(connect_timeout=t, read_timeout=t, body_deadline=t)
                self._client = RegistryClient(
                    username=self._username,
                    password=self._password,
                    insecure=self._plain_http,
                    config_dir=self._resolved_config_dir(),
                    options=options,
                    credential_store=store,
                    insecure_registries=self._insecure_registries,
                )
            return self._client

    @property
    def registry_client(self) -> RegistryClient:
        """The shared client (connection pools, credentials, tokens); created on first use."""
        return self._registry_client()

    @property
    def request_count(self) -> int:
        """Registry requests sent so far (retries included)."""
        client = self._client
        return client.request_count if client is not None else 0

    def _open(self, reference: str, *, oci_layout: bool, scope: str | None) -> _Opened:
        if oci_layout:
            from notation._internal.oci.layout import OCILayout, parse_layout_reference

            if not scope:
                raise VerificationError("a scope is required to verify an artifact in an OCI image layout")
            path, ref = parse_layout_reference(reference)
            return _Opened(OCILayout.open(path), ref, scope)
        from notation._internal.oci.reference import parse_reference

        parsed = parse_reference(reference)
        store = self._registry_client().repository(parsed)
        return _Opened(store, parsed.digest or parsed.tag or "", f"{parsed.registry}/{parsed.repository}")

    def resolve(self, reference: str, *, oci_layout: bool = False) -> Descriptor:
        """The descriptor (digest, media type, size) a tag or digest reference names: pin ``repo:tag`` to
        ``repo@sha256:...`` with the digest that :meth:`verify` verifies."""
        from notation._internal.stores import resolve_in_store

        opened = self._open(reference, oci_layout=oci_layout, scope="resolve")
        try:
            return resolve_in_store(opened.store, opened.ref)
        finally:
            opened.store.close()

    # -- verification ------------------------------------------------------------------------------------------------

    def verify(
        self,
        reference: str,
        *,
        user_metadata: Mapping[str, str] | None = None,
        oci_layout: bool = False,
        scope: str | None = None,
    ) -> VerificationOutcome:
        """Verify one artifact; return the outcome (``outcome.subject`` is the resolved digest), raise on failure.

        The outcome carries the resolved subject descriptor because a tag may move between this call and the use of
        the image: callers (the admission service's ``/mutate``) pin the reference to ``outcome.subject.digest`` so
        that what runs is what was verified. Raises VerificationError (or another typed NotationError: registry,
        policy, trust store) with the message the CLI prints after ``Error: ``.
        """
        report = self.report(reference, user_metadata=user_metadata, oci_layout=oci_layout, scope=scope)
        if report.exception is not None:
            raise report.exception
        assert report.outcome is not None
        return report.outcome

    def verify_many(
        self,
        references: Sequence[str],
        *,
        user_metadata: Mapping[str, str] | None = None,
        parallel: int | None = None,
        oci_layout: bool = False,
        scope: str | None = None,
    ) -> list[VerifyResult]:
        """Verify every reference concurrently (at most ``parallel``, default ``max_workers``); results in order.

        One reference's failure never stops the others; each result carries its typed error.
        """
        results = []
        for report in self.reports(
            references, user_metadata=user_metadata, parallel=parallel, oci_layout=oci_layout, scope=scope
        ):
            results.append(
                VerifyResult(
                    report.reference,
                    report.subject.digest if report.subject is not None else None,
                    report.outcome if report.exception is None else None,
                    report.exception,
                    tuple(report.warnings),
                )
            )
        return results

    def verify_document(
        self,
        references: Sequence[str],
        *,
        user_metadata: Mapping[str, str] | None = None,
        parallel: int | None = None,
    ) -> dict[str, Any]:
        """The report ``notation verify -o json`` prints for these references (docs/verify-output.schema.json)."""
        from notation._internal.verify_report import verify_document

        reports = list(self.reports(references, user_metadata=user_metadata, parallel=parallel))
        return verify_document(reports, self.cache)

    def reports(
        self,
        references: Sequence[str],
        *,
        user_metadata: Mapping[str, str] | None = None,
        parallel: int | None = None,
        oci_layout: bool = False,
        scope: str | None = None,
    ) -> Iterator[VerifyReport]:
        """:meth:`report` over every reference, yielded in input order as soon as each is ready (the CLI streams)."""

        def one(reference: str) -> VerifyReport:
            return self.report(reference, user_metadata=user_metadata, oci_layout=oci_layout, scope=scope)

        if parallel is not None and parallel <= 0:
            raise ValueError("parallel must be positive")
        if len(references) <= 1 or (parallel or self.max_workers) <= 1:
            for reference in references:
                yield one(reference)
            return
        if parallel is None:
            yield from self._shared_pool().map(one, references)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(parallel, len(references)), thread_name_prefix="notation") as pool:
            yield from pool.map(one, references)

    def _shared_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise NotationError("the verifier is closed")
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="notation-verify")
            return self._pool

    def report(
        self,
        reference: str,
        *,
        user_metadata: Mapping[str, str] | None = None,
        oci_layout: bool = False,
        scope: str | None = None,
    ) -> VerifyReport:
        """Verify one reference and describe it (never raises for a failed reference: ``report.exception``)."""
        from notation._internal.workflows.multiarch import is_index, platform_manifests
        from notation._internal.workflows.verify import VerifyTrace

        material = self._material  # one consistent policy + trust store for the whole reference
        report = VerifyReport(reference, VerifyTrace())
        wanted = dict(user_metadata or {})
        try:
            from notation._internal.stores import is_digest, resolve_in_store

            opened = self._open(reference, oci_layout=oci_layout, scope=scope)
            try:
                subject = resolve_in_store(opened.store, opened.ref)
                if not is_digest(opened.ref):
                    report.warnings.append(tag_warning("verify", opened.ref))
                self._verify_subject(material, opened, subject, report, wanted)
                if self.require_all_platforms and report.status == "verified" and is_index(subject):
                    for entry in platform_manifests(opened.store, subject):
                        child = VerifyReport(f"{opened.store.display_name}@{entry.descriptor.digest}", VerifyTrace())
                        child.platform = entry.platform
                        try:
                            self._verify_subject(material, opened, entry.descriptor, child, wanted)
                        except Exception as exc:  # one platform's failure is reported, the others still run
                            child.exception = _as_notation_error(exc)
                            child.error = failure_text(exc)
                        report.platforms.append(child)
                    failed = [c for c in report.platforms if c.status == "failed"]
                    if failed:
                        report.status = "failed"
                        report.error = (
                            f"{len(failed)} of {len(report.platforms)} platform manifests of {report.display} "
                            "failed verification"
                        )
                        report.exception = VerificationError(report.error)
            finally:
                opened.store.close()
        except Exception as exc:  # reported per reference; the other references still run
            report.status = "failed"
            report.error = failure_text(exc)
            report.exception = _as_notation_error(exc)
        return report

    def _verify_subject(
        self, material: _Material, opened: _Opened, subject: Descriptor, report: VerifyReport, wanted: dict[str, str]
    ) -> None:
        from notation._internal.workflows.verify import verify_artifact

        report.subject = subject
        report.display = f"{opened.store.display_name}@{subject.digest}"
        cache = _FingerprintedCache(self.cache, material.fingerprint) if self.cache is not None else None
        outcome = verify_artifact(
            opened.store,
            subject,
            policy=material.policy,
            trust_store=material.trust_store,
            scope=opened.scope,
            user_metadata=wanted,
            max_signatures=self.max_signatures,
            plugin_hooks=self._plugin_hooks,
            trace=report.trace,
            cache=cache,
        )
        report.outcome = outcome
        report.warnings.extend(outcome.warnings)
        report.status = "skipped" if outcome.skipped else "verified"

    # -- life cycle --------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the registry connections and the worker pool; the verifier cannot be used afterwards."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        if client is not None:
            client.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
