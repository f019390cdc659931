from __future__ import annotations

import asyncio
import itertools
import time

from bot.pacing import Pacer


async def releases(pacer: Pacer, count: int) -> list[float]:
    times = []
    for _ in range(count):
        times.append(await pacer.wait())  # the instant the pacer granted, not when this task resumed
    return times


async def test_no_one_second_window_holds_more_than_the_rate() -> None:
    pacer = Pacer(rate=100)
    per_sender = await asyncio.gather(*(releases(pacer, 50) for _ in range(5)))
    times = sorted(t for sender in per_sender for t in sender)
    assert len(times) == 250
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 1.0) <= 100
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.9 / 100 - 0.001  # spaced, never a burst
    assert times[-1] - times[0] >= 2.0  # 250 grants at 100/s: never faster (how fast is bench/'s business)


async def test_pause_holds_every_sender() -> None:
    pacer = Pacer(rate=50)
    await pacer.wait()
    pacer.pause(0.3)
    started = time.monotonic()
    await asyncio.gather(pacer.wait(), pacer.wait())
    assert time.monotonic() - started >= 0.29
