"""Many references in one ``notation verify`` / ``notation sign`` call (notation-py extension, not in Go notation).

Why: CI pipelines and admission checks verify tens or hundreds of images; one process per image pays the Python
start-up, the policy and trust store loading, a TLS handshake and a token exchange every time. Here every reference
shares one ``RegistryClient`` (connection pool, credentials, tokens), one loaded policy and trust store, and runs on a
small thread pool (``--parallel``). Results are printed in the order the references were given, one line each, then a
summary; the exit status is 1 when any reference failed. A single reference without the new flags never comes here:
it takes the Go-compatible path in verify.py / sign.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from notation._internal.cli.common import is_digest, resolve_in_store, tag_warning, take_credentials
from notation._internal.cli.framework import CommandError, Invocation
from notation.errors import NotationError

if TYPE_CHECKING:
    from notation._internal.oci.descriptor import Descriptor
    from notation._internal.oci.store import ArtifactStore
    from notation._internal.registry.client import RegistryClient
    from notation._internal.workflows.verify import VerifyTrace

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PARALLEL = 4
MAX_PARALLEL = 64


def check_parallel(value: int) -> None:
    if value <= 0 or value > MAX_PARALLEL:
        raise CommandError(f"parallel value {value} must be between 1 and {MAX_PARALLEL}")


def one_line(text: str) -> str:
    return " ".join(text.split("\n"))


@dataclass
class Opened:
    store: ArtifactStore
    ref: str
    """The tag or digest inside the store."""
    scope: str
    """The trust policy scope (``registry/repo``, or ``--scope`` for layouts)."""


class StoreOpener:
    """Opens the store of each reference; registry repositories share one RegistryClient for the whole command."""

    def __init__(self, inv: Invocation, *, oci_layout: bool, scope: str = "", force_referrers_tag: bool = True) -> None:
        self._inv = inv
        self._oci_layout = oci_layout
        self._scope = scope
        self._force_referrers_tag = force_referrers_tag
        self._client: RegistryClient | None = None
        self._lock = threading.Lock()

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


def run_ordered(items: Sequence[T], fn: Callable[[T], R], parallel: int) -> Iterator[R]:
    """``fn`` over ``items`` on up to ``parallel`` threads; results in input order, as soon as each is ready."""
    if parallel <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(parallel, len(items)), thread_name_prefix="notation") as pool:
        yield from pool.map(fn, items)


def failure_text(exc: BaseException) -> str:
    """The one-line message of a failure; an unexpected exception still counts as a failure (fail closed)."""
    if isinstance(exc, NotationError):
        return one_line(exc.message)
    return one_line(str(exc) or type(exc).__name__)


# ---------------------------------------------------------------------------------------------------------------
# verify


@dataclass
class VerifyJob:
    """What every reference of one ``notation verify`` call shares."""

    policy: Any
    trust_store: Any
    user_metadata: dict[str, str]
    max_signatures: int
    plugin_hooks: Any
    cache: Any
    require_all_platforms: bool


@dataclass
class VerifyReport:
    """The result for one reference (or, under ``platforms``, one platform manifest of an index)."""

    reference: str
    trace: VerifyTrace
    status: str = "failed"
    """verified | skipped | failed"""
    display: str | None = None
    subject: Descriptor | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    platform: str | None = None
    platforms: list[VerifyReport] = field(default_factory=list)


def verify_one(opener: StoreOpener, job: VerifyJob, reference: str) -> VerifyReport:
    from notation._internal.workflows.multiarch import is_index, platform_manifests
    from notation._internal.workflows.verify import VerifyTrace

    report = VerifyReport(reference, VerifyTrace())
    try:
        opened = opener.open(reference)
        try:
            subject = resolve_in_store(opened.store, opened.ref)
            if not is_digest(opened.ref):
                report.warnings.append(tag_warning("verify", opened.ref))
            _verify_subject(opened, job, subject, report)
            if job.require_all_platforms and report.status == "verified" and is_index(subject):
                for entry in platform_manifests(opened.store, subject):
                    child = VerifyReport(f"{opened.store.display_name}@{entry.descriptor.digest}", VerifyTrace())
                    child.platform = entry.platform
                    try:
                        _verify_subject(opened, job, entry.descriptor, child)
                    except Exception as exc:  # one platform's failure is reported, the others still run
                        child.error = failure_text(exc)
                    report.platforms.append(child)
                failed = [c for c in report.platforms if c.status == "failed"]
                if failed:
                    report.status = "failed"
                    report.error = (
                        f"{len(failed)} of {len(report.platforms)} platform manifests of {report.display} "
                        "failed verification"
                    )
        finally:
            opened.store.close()
    except Exception as exc:  # reported per reference; the other references still run
        report.status = "failed"
        report.error = failure_text(exc)
    return report


def _verify_subject(opened: Opened, job: VerifyJob, subject: Descriptor, report: VerifyReport) -> None:
    from notation._internal.workflows.verify import verify_artifact

    report.subject = subject
    report.display = f"{opened.store.display_name}@{subject.digest}"
    outcome = verify_artifact(
        opened.store,
        subject,
        policy=job.policy,
        trust_store=job.trust_store,
        scope=opened.scope,
        user_metadata=job.user_metadata,
        max_signatures=job.max_signatures,
        plugin_hooks=job.plugin_hooks,
        trace=report.trace,
        cache=job.cache,
    )
    report.warnings.extend(outcome.warnings)
    report.status = "skipped" if outcome.skipped else "verified"


def verify_many(inv: Invocation, references: Sequence[str], opener: StoreOpener, job: VerifyJob, *, parallel: int,
                output: str) -> int:  # fmt: skip
    """Verify every reference; print text lines (or one JSON document); 1 when any failed."""
    reports: list[VerifyReport] = []
    for report in run_ordered(references, lambda ref: verify_one(opener, job, ref), parallel):
        reports.append(report)
        if output == "text":
            _print_verify_text(inv, report)
    counts = {status: sum(r.status == status for r in reports) for status in ("verified", "skipped", "failed")}
    if output == "json":
        from notation._internal.cli.report import verify_document, write_json

        write_json(inv.stdout, verify_document(reports, job.cache))
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
    failed = 0
    total = 0
    for report in run_ordered(references, lambda ref: sign_one(opener, job, ref), parallel):
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
