from __future__ import annotations

import asyncio
import time

from bot.pacing import Pacer


async def releases(pacer: Pacer, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await pacer.wait()
        times.append(time.monotonic())
    return times


async def test_no_one_second_window_holds_more_than_the_rate() -> None:
    pacer = Pacer(rate=100)
    times = await asyncio.gather(*(releases(pacer, 50) for _ in range(5)))
    flat = sorted(t for sender in times for t in sender)
    assert len(flat) == 250
    for i, start in enumerate(flat):
        assert sum(1 for t in flat[i:] if t < start + 1.0) <= 100
    assert 1.95 <= flat[-1] - flat[0] <= 2.3  # 250 sends at 100 a second: two full windows and a bit


async def test_pause_holds_every_sender() -> None:
    pacer = Pacer(rate=50)
    await pacer.wait()
    pacer.pause(0.3)
    started = time.monotonic()
    await asyncio.gather(pacer.wait(), pacer.wait())
    assert time.monotonic() - started >= 0.29
