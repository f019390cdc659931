"""A token bucket per API token: `burst` requests at once, then `rate` a second. In the process (each
replica counts its own: docs/api.md)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_BUCKETS = 10_000  # beyond this, the buckets of idle tokens (full again) are forgotten


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    def wait_for(self, who: str) -> int:
        """0 if `who` may make a request now (and counts it), else the whole seconds until they may."""
        now = self.clock()
        bucket = self._buckets.get(who)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[who] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < MAX_BUCKETS:
            return
        full = [w for w, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for who in full:
            del self._buckets[who]
