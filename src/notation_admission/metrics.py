"""Prometheus metrics of one service instance (its own registry, so tests can run several in one process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _RoundTrips(Collector):
    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "notation_admission_registry_requests", "HTTP round trips to registries made by the verifier"
        )
        family.add_metric([], float(self._read()))
        yield family


class Metrics:
    def __init__(self, round_trips: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "notation_admission_requests", "HTTP requests by endpoint and status code", ["endpoint", "code"], registry=r
        )
        self.latency = Histogram(
            "notation_admission_request_seconds", "Request latency by endpoint", ["endpoint"], buckets=_BUCKETS,
            registry=r,
        )
        self.verifications = Counter(
            "notation_admission_verifications",
            "Image verifications run (not cache answers) by outcome: verified, skipped, audit, failed, timeout",
            ["outcome"],
            registry=r,
        )
        self.decisions = Counter(
            "notation_admission_decisions", "Admission decisions by endpoint and verdict", ["endpoint", "allowed"],
            registry=r,
        )
        self.cache = Counter(
            "notation_admission_cache", "Verified-digest cache look-ups by layer and result", ["layer", "result"],
            registry=r,
        )
        self.singleflight = Counter(
            "notation_admission_singleflight_joins", "Look-ups that joined a verification already running", registry=r
        )
        self.redis_errors = Counter(
            "notation_admission_redis_errors", "Shared cache (Redis) failures; the local cache answers alone",
            registry=r,
        )
        self.redis_up = Gauge("notation_admission_redis_up", "1 when the shared cache answered last time", registry=r)
        self.reloads = Counter(
            "notation_admission_trust_reloads", "Trust material reloads by result (ok, refused)", ["result"], registry=r
        )
        self.trust_ok = Gauge(
            "notation_admission_trust_material_current", "0 while the last update of the trust material was refused",
            registry=r,
        )
        self.trust_ok.set(1)
        r.register(_RoundTrips(round_trips))
