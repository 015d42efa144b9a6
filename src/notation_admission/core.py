"""Image verdicts for the endpoints: caches, single-flight, the shared Redis cache and the time budget.

No signature logic here: a verdict is ``notation.Verifier.verify``'s outcome (or typed error) translated into
allowed / denied / warnings. What this layer adds is *when* the verifier runs: once per (trust material, repository,
digest) while a pass is cached, once for any number of concurrent reviews naming the same image (single-flight), and
never past the budget a review has (the API server gives a webhook 10 s at most).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from notation_admission.metrics import Metrics
from notation_admission.verifier import TrustVerifier
from notation_admission.workloads import normalize

log = logging.getLogger("notation_admission")

REDIS_PREFIX = "notation-admission:v1:"


@dataclass(frozen=True)
class Verdict:
    """The answer for one image of a review."""

    image: str
    allowed: bool
    reference: str | None = None
    """``registry/repository@digest`` once resolved."""
    digest: str | None = None
    reason: str | None = None
    """Why it was denied (one line)."""
    warnings: tuple[str, ...] = ()
    level: str | None = None
    policy: str | None = None
    source: str = "verifier"
    """verifier | local | redis | none (denied before verifying)"""
    outcome: Any = field(default=None, compare=False)
    error: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class _Entry:
    allowed: bool
    level: str | None
    policy: str | None
    warnings: tuple[str, ...]
    reason: str | None
    expires: float
    """time.time() seconds"""


def one_line(text: str) -> str:
    return " ".join(text.split())


def error_text(exc: BaseException) -> str:
    """The user-facing message of a typed notation error; anything else is still a failure (fail closed)."""
    message = getattr(exc, "message", None)
    return one_line(str(message if isinstance(message, str) else exc) or type(exc).__name__)


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any, now: float) -> Any:
        item = self.data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires <= now:
            del self.data[key]
            return None
        return value

    def put(self, key: Any, value: Any, expires: float) -> None:
        self.data[key] = (value, expires)
        self.data.move_to_end(key)
        while len(self.data) > self.size:
            self.data.popitem(last=False)

    def clear(self) -> None:
        self.data.clear()


class Core:
    def __init__(
        self,
        verifier: TrustVerifier,
        metrics: Metrics,
        *,
        budget: float = 8.0,
        cache_ttl: float = 300.0,
        tag_ttl: float = 10.0,
        max_workers: int = 16,
        cache_size: int = 10_000,
        redis_url: str | None = None,
        redis_timeout: float = 0.25,
        redis_retry_after: float = 5.0,
        redis_secret: bytes | None = None,
    ) -> None:
        self.verifier = verifier
        self.metrics = metrics
        self.budget = budget
        self.cache_ttl = cache_ttl
        self.tag_ttl = tag_ttl
        self._verdicts = _LRU(cache_size)
        self._tags = _LRU(cache_size)
        self._flights: dict[Any, asyncio.Future[Any]] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="verify")
        self._redis_url = redis_url
        self._redis: Any = None
        self._redis_timeout = redis_timeout
        self._redis_retry_after = redis_retry_after
        self._redis_secret = redis_secret
        self._redis_down_until = 0.0
        self._redis_warned = False
        self._fp_seen = verifier.fingerprint

    # -- life cycle ---------------------------------------------------------------------------------------------
    def open_redis(self) -> None:
        if self._redis_url and self._redis is None:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(
                self._redis_url,
                socket_timeout=self._redis_timeout,
                socket_connect_timeout=self._redis_timeout,
                retry_on_timeout=False,
            )
            self.metrics.redis_up.set(1)

    async def aclose(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):  # closing a dead connection
                await self._redis.aclose()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_blocking(self, fn: Callable[[], Any]) -> Awaitable[Any]:
        return asyncio.get_running_loop().run_in_executor(self._pool, fn)

    # -- the entry point ----------------------------------------------------------------------------------------
    async def check(self, images: Sequence[str], *, write_shared: bool = True) -> list[Verdict]:
        """One verdict per image, in order, within the budget (an unfinished image is denied, the work goes on)."""
        fp = self.verifier.fingerprint
        if fp != self._fp_seen:  # new trust material: old verdicts can never be read again, free them
            self._verdicts.clear()
            self._fp_seen = fp
        now = time.time()
        results: list[Verdict | None] = [self._cached(image, fp, now) for image in images]
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            tasks = {i: asyncio.ensure_future(self._lookup(images[i], fp, write_shared)) for i in missing}
            done, _ = await asyncio.wait(tasks.values(), timeout=self.budget)
            for i, task in tasks.items():
                if task in done:
                    results[i] = task.result()
                else:
                    task.cancel()
                    self.metrics.verifications.labels("timeout").inc()
                    results[i] = Verdict(
                        images[i],
                        False,
                        reason=f"verification did not finish within the {self.budget:g}s budget "
                        "(registry slow or unreachable)",
                        source="none",
                    )
        return [r for r in results if r is not None]

    def _cached(self, image: str, fp: str, now: float) -> Verdict | None:
        """The synchronous fast path: tag and verdict both in the local cache."""
        try:
            n = normalize(image)
        except ValueError:
            return None
        digest = n.digest or self._tags.get(n.reference, now)
        if digest is None:
            return None
        entry = self._verdicts.get((fp, n.repository, digest), now)
        if entry is None:
            return None
        self.metrics.cache.labels("local", "hit").inc()
        return self._from_entry(image, f"{n.repository}@{digest}", digest, entry, "local")

    @staticmethod
    def _from_entry(image: str, reference: str, digest: str, e: _Entry, source: str) -> Verdict:
        return Verdict(
            image, e.allowed, reference, digest, e.reason, e.warnings, e.level, e.policy, source
        )

    async def _lookup(self, image: str, fp: str, write_shared: bool) -> Verdict:
        try:
            return await self._lookup_inner(image, fp, write_shared)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # fail closed: an unexpected error denies, with its text
            log.exception("unexpected error verifying %s", image)
            return Verdict(image, False, reason=f"internal error: {error_text(exc)}", source="none")

    async def _lookup_inner(self, image: str, fp: str, write_shared: bool) -> Verdict:
        try:
            n = normalize(image)
        except ValueError as exc:
            return Verdict(image, False, reason=f"invalid image reference: {exc}", source="none")
        digest = n.digest
        if digest is None:
            try:
                digest = await self._flight(("tag", n.reference), lambda: self._resolve(n.reference))
            except Exception as exc:
                return Verdict(image, False, reason=error_text(exc), source="none", error=exc)
        reference = f"{n.repository}@{digest}"
        key = (fp, n.repository, digest)
        now = time.time()
        entry = self._verdicts.get(key, now)
        if entry is not None:
            self.metrics.cache.labels("local", "hit").inc()
            return self._from_entry(image, reference, digest, entry, "local")
        self.metrics.cache.labels("local", "miss").inc()
        entry = await self._redis_get(key)
        if entry is not None:
            self._verdicts.put(key, entry, entry.expires)
            return self._from_entry(image, reference, digest, entry, "redis")
        verdict: Verdict = await self._flight(
            ("verify", *key), lambda: self._verify(image, reference, key, write_shared)
        )
        return replace(verdict, image=image)

    async def _flight(self, key: Any, start: Callable[[], Awaitable[Any]]) -> Any:
        """Single-flight: the first caller starts the work, the others await the same future (shielded: a review
        that runs out of budget does not cancel the work others wait for)."""
        future = self._flights.get(key)
        if future is None:
            future = asyncio.ensure_future(start())
            self._flights[key] = future
            future.add_done_callback(lambda _f: self._flights.pop(key, None))
        else:
            self.metrics.singleflight.inc()
        return await asyncio.shield(future)

    async def _resolve(self, reference: str) -> str:
        digest: str = await self.run_blocking(lambda: self.verifier.resolve(reference))
        if self.tag_ttl > 0:
            self._tags.put(reference, digest, time.time() + self.tag_ttl)
        return digest

    async def _verify(self, image: str, reference: str, key: tuple[str, str, str], write_shared: bool) -> Verdict:
        report = await self.run_blocking(lambda: self.verifier.report(reference))
        now = time.time()
        digest = key[2]
        exc = report.exception
        outcome = report.outcome
        if exc is not None or outcome is None:
            self.metrics.verifications.labels("failed").inc()
            reason = error_text(exc) if exc is not None else "verification failed"
            details = [f"{s.manifest.digest[:19]}: {one_line(s.error)}" for s in report.trace.signatures if s.error]
            if details:
                shown = "; ".join(details[:3]) + (f"; {len(details) - 3} more" if len(details) > 3 else "")
                reason = f"{reason} ({shown})"
            return Verdict(image, False, reference, digest, reason, source="verifier", error=exc)
        level = getattr(outcome, "level", None)
        policy = getattr(outcome, "policy_name", None)
        warnings = tuple(one_line(w) for w in outcome.warnings)
        if outcome.skipped:
            label = "skipped"
        elif outcome.verified is None:  # audit: failures are logged, not enforced
            label = "audit"
            errors = "; ".join(one_line(s.error) for s in outcome.signatures if s.error) or "no valid signature"
            warnings = (f"signature verification failed (audit level, not enforced): {errors}", *warnings)
        else:
            label = "verified"
        self.metrics.verifications.labels(label).inc()
        expires = now + self.cache_ttl
        bound = getattr(outcome, "valid_until", None)
        if bound is not None:  # a signature's expiry, a certificate's notAfter, a CRL's nextUpdate
            expires = min(expires, bound.timestamp())
        entry = _Entry(True, level, policy, warnings, None, expires)
        if expires > now:
            self._verdicts.put(key, entry, expires)
            if write_shared:
                await self._redis_put(key, entry, now)
        return Verdict(image, True, reference, digest, None, warnings, level, policy, "verifier", outcome=outcome)

    # -- shared cache -------------------------------------------------------------------------------------------
    @staticmethod
    def _redis_key(key: tuple[str, str, str]) -> str:
        return REDIS_PREFIX + hashlib.sha256("\0".join(key).encode()).hexdigest()

    def _redis_usable(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        self.metrics.redis_errors.inc()
        self.metrics.redis_up.set(0)
        self._redis_down_until = time.monotonic() + self._redis_retry_after
        if not self._redis_warned:
            log.warning("shared cache unavailable, using the local cache only: %s", one_line(str(exc)))
            self._redis_warned = True

    def _redis_ok(self) -> None:
        if self._redis_warned:
            log.warning("shared cache available again")
        self._redis_warned = False
        self.metrics.redis_up.set(1)

    def _mac(self, rkey: str, body: bytes) -> str:
        import hmac

        assert self._redis_secret is not None
        return hmac.new(self._redis_secret, rkey.encode() + b"\0" + body, "sha256").hexdigest()

    def _seal(self, rkey: str, doc: dict[str, Any]) -> str:
        """An entry admits a digest: with ``--redis-secret-file`` it carries an HMAC over its key and body, so a
        client that can write to Redis but does not hold the secret cannot admit anything."""
        body = json.dumps(doc, sort_keys=True)
        if self._redis_secret is None:
            return body
        return json.dumps({"body": body, "mac": self._mac(rkey, body.encode())})

    def _unseal(self, rkey: str, raw: bytes) -> Any:
        if self._redis_secret is None:
            return json.loads(raw)
        import hmac

        outer = json.loads(raw)
        body = outer["body"]
        if not isinstance(body, str) or not hmac.compare_digest(str(outer["mac"]), self._mac(rkey, body.encode())):
            raise ValueError("entry not sealed with this service's secret")
        return json.loads(body)

    async def _redis_get(self, key: tuple[str, str, str]) -> _Entry | None:
        if not self._redis_usable():
            return None
        try:
            raw = await self._redis.get(self._redis_key(key))
        except Exception as exc:
            self._redis_failed(exc)
            return None
        self._redis_ok()
        if raw is None:
            self.metrics.cache.labels("redis", "miss").inc()
            return None
        try:
            doc = self._unseal(self._redis_key(key), raw)
            entry = _Entry(
                bool(doc["allowed"]), doc["level"], doc["policy"], tuple(doc["warnings"]), None, float(doc["expires"])
            )
        except (ValueError, KeyError, TypeError):
            self.metrics.cache.labels("redis", "invalid").inc()
            return None
        if not entry.allowed or entry.expires <= time.time():
            return None
        self.metrics.cache.labels("redis", "hit").inc()
        return entry

    async def _redis_put(self, key: tuple[str, str, str], entry: _Entry, now: float) -> None:
        if not self._redis_usable():
            return
        doc = {
            "allowed": entry.allowed,
            "level": entry.level,
            "policy": entry.policy,
            "warnings": list(entry.warnings),
            "expires": entry.expires,
        }
        try:
            rkey = self._redis_key(key)
            await self._redis.set(rkey, self._seal(rkey, doc), px=max(1, int((entry.expires - now) * 1000)))
        except Exception as exc:
            self._redis_failed(exc)
            return
        self._redis_ok()
