"""Prometheus metrics of one app."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """Per-app registry, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "clustermatch_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.index_size = Gauge(
            "clustermatch_index_vectors",
            "Vectors per facet index",
            ["facet"],
            registry=self.registry,
        )
        self.profiles = Gauge(
            "clustermatch_profiles_indexed", "Indexed profiles", registry=self.registry
        )
        self.index_lag = Gauge(
            "clustermatch_index_lag_profiles",
            "Profiles by which the index differs from the database (0: in step)",
            registry=self.registry,
        )
        self.encoded = Counter(
            "clustermatch_encoded_texts_total",
            "Texts encoded by the model (cache misses)",
            registry=self.registry,
        )
        self._encoded_seen = 0

    def count_encoded(self, total: int) -> None:
        """Advance the encoded-texts counter to the engine's running total."""
        delta = total - self._encoded_seen
        if delta > 0:
            self.encoded.inc(delta)
            self._encoded_seen = total

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
