"""Per-token request budget: a token bucket in memory (a restart refills it, which is harmless).

A misbehaving client loop must not fill the outbox ahead of the town's alerts nor starve the
web pages; the budget is per token, so one system's bug does not lock out another.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests a minute per key, with bursts up to the same number."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def take(self, key: int) -> float:
        """0.0 when a request may go ahead (and is counted), else seconds until one may."""
        if self.per_minute <= 0:
            return 0.0  # 0 in the configuration: no limit
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
        bucket.tokens = min(
            float(self.per_minute), bucket.tokens + (now - bucket.updated) * self._rate
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """The Retry-After header's whole seconds (at least 1)."""
        return max(1, math.ceil(wait_s))
