"""Request rate limits: a token bucket per (scope, subject), in this process's memory.

Each subject (an API key, a console user, a client address) has a bucket of `burst`
tokens that refills at `rate` tokens a second; a request takes one, and a request that
finds the bucket empty is refused with the seconds until a token is back (429 with
`Retry-After`, service.ops.guard).

Why per process, not in the database: counting every request in the shared database
would add a write to every match and search, which today do no SQL at all: the very load
the limit is there to bound. So with `serve --workers N` (or N machines) a subject may
reach up to N times the limit, each worker holding its own buckets; the README says so.
What must be shared across workers is the throttle of failed API keys (service.auth):
failures are rare, and those are counted in the database.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """`per_s` requests a second on average, `burst` at once; `per_s` 0 means no limit."""

    per_s: float
    burst: int

    @property
    def off(self) -> bool:
        return self.per_s <= 0


class RateLimiter:
    """Token buckets by (scope, subject). Thread-safe: the guard calls it on the event
    loop, the console's viewer dependency from a worker thread. At most `max_subjects`
    buckets are kept; past that, the full ones (subjects idle long enough to have refilled)
    are dropped, and if none is full, all are (a flood of new subjects must not grow the
    process without bound)."""

    def __init__(
        self,
        rates: dict[str, Rate],
        *,
        max_subjects: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rates = rates
        self.max_subjects = max_subjects
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, at
        self._lock = threading.Lock()

    def take(self, scope: str, subject: str) -> int:
        """Take a token for `subject`: 0 if it may go on, else the whole seconds to wait."""
        rate = self.rates.get(scope)
        if rate is None or rate.off:
            return 0
        now = self._clock()
        key = (scope, subject)
        with self._lock:
            tokens, at = self._buckets.get(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - at) * rate.per_s)
            if tokens >= 1.0:
                if key not in self._buckets and len(self._buckets) >= self.max_subjects:
                    self._prune(now)
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate.per_s))

    def _prune(self, now: float) -> None:
        full = [
            key
            for key, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self.rates[key[0]].per_s >= self.rates[key[0]].burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_subjects:
            self._buckets.clear()
