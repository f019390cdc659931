"""The API's token bucket, on a hand-moved clock: a burst, then the rate; the wait it tells; idle
buckets forgotten when there are many."""

from __future__ import annotations

from commands.api import limits
from commands.api.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_and_the_wait_is_told_in_whole_seconds() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=0.5, burst=3, clock=clock)
    assert [limiter.wait_for("a") for _ in range(4)] == [0, 0, 0, 2]  # one more every 2 s
    assert limiter.wait_for("b") == 0  # each token its own bucket
    clock.now += 1.0
    assert limiter.wait_for("a") == 1  # half a request earned: 1 s to go
    clock.now += 1.0
    assert limiter.wait_for("a") == 0 and limiter.wait_for("a") == 2
    clock.now += 3600
    assert [limiter.wait_for("a") for _ in range(4)] == [0, 0, 0, 2]  # refilled to the burst, not beyond


def test_idle_buckets_are_forgotten_when_there_are_many(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(limits, "MAX_BUCKETS", 3)
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    for who in ("a", "b", "c"):
        limiter.wait_for(who)
    clock.now += 10  # all three full again
    limiter.wait_for("d")
    assert set(limiter._buckets) == {"d"}
