"""Many references in one ``notation verify`` / ``notation sign`` call (notation-py extension, not in Go notation).

Why: CI pipelines and admission checks verify tens or hundreds of images; one process per image pays the Python
start-up, the policy and trust store loading, a TLS handshake and a token exchange every time. Here every reference
shares one ``RegistryClient`` (connection pool, credentials, tokens), one loaded policy and trust store, and runs on a
small thread pool (``--parallel``). Results are printed in the order the references were given, one line each, then a
summary; the exit status is 1 when any reference failed. A single reference without the new flags never comes here:
it takes the Go-compatible path in verify.py / sign.py.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from notation._internal.cli.common import take_credentials
from notation._internal.cli.framework import CommandError, Invocation
from notation._internal.records import dataclass, field
from notation._internal.stores import is_digest, resolve_in_store
from notation._internal.verifier import failure_text, tag_warning

if TYPE_CHECKING:
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.store import ArtifactStore
    from notation._internal.registry.client import RegistryClient
    from notation._internal.verifier import Verifier, VerifyReport

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PARALLEL = 4
MAX_PARALLEL = 64


def check_parallel(value: int) -> None:
    if value <= 0 or value > MAX_PARALLEL:
        raise CommandError(f"parallel value {value} must be between 1 and {MAX_PARALLEL}")


@dataclass
class Opened:
    store: ArtifactStore
    ref: str
    """The tag or digest inside the store."""
    scope: str
    """The trust policy scope (``registry/repo``, or ``--scope`` for layouts)."""


class StoreOpener:
    """Opens the store of each reference for ``notation sign``; registry repositories share one RegistryClient."""

    def __init__(self, inv: Invocation, *, oci_layout: bool, scope: str = "", force_referrers_tag: bool = True) -> None:
        self._inv = inv
        self._oci_layout = oci_layout
        self._scope = scope
        self._force_referrers_tag = force_referrers_tag
        self._client: RegistryClient | None = None
        self._lock = threading.Lock()
        self.pause: Callable[[float], None] | None = None
        """Given to the RegistryClient when it is made (see :class:`Slots`)."""

    def _registry_client(self) -> RegistryClient:
        with self._lock:
            if self._client is None:
                from notation._internal.config.dirs import config_dir
                from notation._internal.registry.client import RegistryClient

                creds = take_credentials(self._inv)
                self._client = RegistryClient(
                    username=creds.username,
                    password=creds.password,
                    insecure=bool(self._inv.values.get("insecure-registry")),
                    config_dir=config_dir(),
                )
                if self.pause is not None:
                    self._client.pause = self.pause
            return self._client

    @property
    def request_count(self) -> int:
        return self._client.request_count if self._client is not None else 0

    def open(self, reference: str) -> Opened:
        if self._oci_layout:
            from notation._internal.oci.layout import OCILayout, parse_layout_reference

            path, ref = parse_layout_reference(reference)
            return Opened(OCILayout.open(path), ref, self._scope)
        from notation._internal.oci.reference import parse_reference

        parsed = parse_reference(reference)
        store = self._registry_client().repository(parsed, force_referrers_tag=self._force_referrers_tag)
        return Opened(store, parsed.digest or parsed.tag or "", f"{parsed.registry}/{parsed.repository}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class Slots:
    """At most ``n`` references at work at once; one that only waits gives its slot to another meanwhile.

    Why: on a registry that ignores ``If-Match`` (distribution 2.x, Debian's docker-registry), each signature waits
    about one read-modify-write after its tag-index PUT and re-reads the index, so that a concurrent signer's entry
    is never lost (repository.py). That wait is idle time, longer than the work of a signature: holding one of the
    ``--parallel`` slots through it made a call over 200 images mostly sleep. Threads beyond the slots let other
    references work while some wait; the registry still sees at most ``n`` references' requests at once.
    """

    def __init__(self, n: int) -> None:
        self._slots = threading.BoundedSemaphore(n)
        self._local = threading.local()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._slots:
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False

    def pause(self, seconds: float) -> None:
        """Sleep; a thread holding a slot gives it up meanwhile and takes one back before it goes on."""
        if not getattr(self._local, "held", False):
            time.sleep(seconds)
            return
        self._local.held = False
        self._slots.release()
        try:
            time.sleep(seconds)
        finally:
            self._slots.acquire()
            self._local.held = True


WAITERS_PER_SLOT = 8
"""Threads per ``--parallel`` slot in a signing batch: the tag-schema settle wait is several times a signature's
work, so this many keep the slots busy (bounded by MAX_PARALLEL threads in all)."""


def run_ordered(items: Sequence[T], fn: Callable[[T], R], parallel: int) -> Iterator[R]:
    """``fn`` over ``items`` on up to ``parallel`` threads; results in input order, as soon as each is ready."""
    if parallel <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(parallel, len(items)), thread_name_prefix="notation") as pool:
        yield from pool.map(fn, items)


# ---------------------------------------------------------------------------------------------------------------
# verify: a thin front end over notation.Verifier (the library holds every verification step)


def verify_many(inv: Invocation, references: Sequence[str], verifier: Verifier, *, oci_layout: bool, scope: str,
                user_metadata: dict[str, str], parallel: int, output: str) -> int:  # fmt: skip
    """Verify every reference; print text lines (or one JSON document); 1 when any failed."""
    reports: list[VerifyReport] = []
    for report in verifier.reports(
        references, user_metadata=user_metadata, parallel=parallel, oci_layout=oci_layout, scope=scope
    ):
        reports.append(report)
        if output == "text":
            _print_verify_text(inv, report)
    counts = {status: sum(r.status == status for r in reports) for status in ("verified", "skipped", "failed")}
    if output == "json":
        from notation._internal.cli.report import verify_document, write_json

        write_json(inv.stdout, verify_document(reports, verifier.cache))
    else:
        inv.out(
            f"{len(reports)} reference{'s' if len(reports) != 1 else ''}: {counts['verified']} verified, "
            f"{counts['skipped']} skipped, {counts['failed']} failed"
        )
    return 1 if counts["failed"] else 0


def _print_verify_text(inv: Invocation, report: VerifyReport) -> None:
    for warning in report.warnings:
        inv.warn(warning)
    if report.status == "skipped":
        inv.out(f"Trust policy is configured to skip signature verification for {report.display}")
        return
    if report.status == "verified" or report.platforms:
        inv.out(f"Successfully verified signature for {report.display}")
    for child in report.platforms:
        for warning in child.warnings:
            inv.warn(warning)
        label = f"{child.display} ({child.platform or 'unknown platform'})"
        if child.status == "failed":
            inv.out(f"Failed to verify {label}: {child.error}")
        elif child.status == "skipped":
            inv.out(f"Trust policy is configured to skip signature verification for {label}")
        else:
            inv.out(f"Successfully verified signature for {label}")
    if report.status == "failed":
        inv.out(f"Failed to verify {report.reference}: {report.error}")


# ---------------------------------------------------------------------------------------------------------------
# sign


@dataclass
class SignJob:
    """What every reference of one ``notation sign`` call shares."""

    signer: Any
    envelope_media_type: str
    expiry: Any
    user_metadata: dict[str, str] | None
    timestamper: Any
    recursive: bool


@dataclass
class SignReport:
    reference: str
    signed: list[str] = field(default_factory=list)
    """``store@digest`` of every manifest signed (platform manifests first, then the index)."""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def sign_one(opener: StoreOpener, job: SignJob, reference: str) -> SignReport:
    from notation._internal.workflows.multiarch import is_index, platform_manifests
    from notation._internal.workflows.sign import sign_artifact

    report = SignReport(reference)
    try:
        opened = opener.open(reference)
        try:
            subject = resolve_in_store(opened.store, opened.ref)
            if not is_digest(opened.ref):
                report.warnings.append(tag_warning("sign", opened.ref))
            targets: list[tuple[Descriptor, str | None]] = []
            if job.recursive and is_index(subject):
                targets.extend((e.descriptor, e.platform) for e in platform_manifests(opened.store, subject))
            targets.append((subject, None))
            for target, platform in targets:
                result = sign_artifact(
                    opened.store,
                    target,
                    job.signer,
                    envelope_media_type=job.envelope_media_type,
                    expiry=job.expiry,
                    user_metadata=job.user_metadata,
                    timestamper=job.timestamper,
                )
                report.warnings.extend(result.warnings)
                report.signed.append(result.reference + (f" ({platform})" if platform else ""))
        finally:
            opened.store.close()
    except Exception as exc:  # reported per reference; the other references still run
        report.error = failure_text(exc)
    return report


def sign_many(inv: Invocation, references: Sequence[str], opener: StoreOpener, job: SignJob, *, parallel: int) -> int:
    slots = Slots(parallel)
    opener.pause = slots.pause

    def one(reference: str) -> SignReport:
        with slots.held():
            return sign_one(opener, job, reference)

    threads = min(MAX_PARALLEL, parallel * WAITERS_PER_SLOT)
    failed = 0
    total = 0
    for report in run_ordered(references, one, threads):
        total += 1
        for warning in report.warnings:
            inv.warn(warning)
        for line in report.signed:
            inv.out(f"Successfully signed {line}")
        if report.error is not None:
            failed += 1
            inv.out(f"Failed to sign {report.reference}: {report.error}")
    inv.out(f"{total} reference{'s' if total != 1 else ''}: {total - failed} signed, {failed} failed")
    return 1 if failed else 0
