from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import random
import time
from collections.abc import Awaitable, Callable

from slackkit.pacing import Pacer


class VirtualTime:
    """A clock and a sleep for the pacer in simulated time: `run` lets every task run until all
    of them sleep, then moves the clock to the earliest wake-up, which comes `late` seconds after
    the time asked for (as a busy event loop wakes sleepers)."""

    def __init__(self, *, late: float = 0.0) -> None:
        self.now = 0.0
        self.late = late
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds) + self.late, next(self._order), future))
        await future

    async def run(self, work: Awaitable[list[float]]) -> list[float]:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # everything runnable runs (lock hand-overs take a few loop turns)
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        return task.result()


def pacer_in(virtual: VirtualTime, rate: int) -> Pacer:
    return Pacer(rate, clock=virtual.clock, sleep=virtual.sleep)


async def calls(pacer: Pacer, count: int, *, senders: int, call: Callable[[float], Awaitable[float]]) -> list[float]:
    """`count` calls from `senders` concurrent senders; returns what each `call` returned."""
    results: list[float] = []
    remaining = itertools.count()

    async def sender() -> None:
        while next(remaining) < count:
            async with pacer.slot() as granted:
                results.append(await call(granted))

    await asyncio.gather(*(sender() for _ in range(senders)))
    return results


def most_in_one_second(instants: list[float]) -> int:
    ordered = sorted(instants)
    return max(bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered))


async def test_slack_never_counts_more_than_the_rate_in_a_second_however_late_calls_arrive() -> None:
    """Slack counts a call when it arrives: anywhere between the grant and the answer. Calls here
    take 1-120 ms and arrive at a random point of that, yet no second of arrivals exceeds the rate."""
    virtual, chance = VirtualTime(late=0.001), random.Random(7)
    pacer = pacer_in(virtual, 100)

    async def call(granted: float) -> float:
        took = chance.choice([0.001, 0.002, 0.005, 0.04, 0.12])
        await virtual.sleep(took - virtual.late)
        return granted + chance.random() * (virtual.now - granted)  # when Slack saw it

    arrivals = await virtual.run(calls(pacer, 600, senders=16, call=call))
    assert len(arrivals) == 600
    assert most_in_one_second(arrivals) <= 100
    assert virtual.now >= 5.0  # 600 calls at 100 a second: never faster


async def test_late_wake_ups_do_not_push_the_schedule_back() -> None:
    """Every sleep ends 2 ms late (20% of the 10 ms interval): the missed slots are caught up, so
    1,000 calls take the 10 s the rate allows, not 12 s."""
    virtual = VirtualTime(late=0.002)
    pacer = pacer_in(virtual, 100)

    async def call(granted: float) -> float:
        await virtual.sleep(0.0)
        return granted

    grants = await virtual.run(calls(pacer, 1000, senders=8, call=call))
    assert most_in_one_second(grants) <= 100
    assert max(grants) < 10.2


async def test_a_full_window_of_calls_in_flight_waits_for_an_answer() -> None:
    pacer = Pacer(rate=3, catch_up=1.0)  # all three slots at once
    answer = asyncio.Event()
    granted: list[int] = []

    async def call(n: int) -> None:
        async with pacer.slot():
            granted.append(n)
            if n < 3:
                await answer.wait()

    tasks = [asyncio.ensure_future(call(n)) for n in range(4)]
    await asyncio.sleep(0.1)
    assert sorted(granted) == [0, 1, 2]  # the fourth waits: three calls are still unanswered
    answer.set()
    await asyncio.gather(*tasks)
    assert sorted(granted) == [0, 1, 2, 3]


async def test_pause_holds_every_sender() -> None:
    pacer = Pacer(rate=50)
    async with pacer.slot():
        pass
    pacer.pause(0.3)
    started = time.monotonic()

    async def one() -> None:
        async with pacer.slot():
            pass

    await asyncio.gather(one(), one())
    assert time.monotonic() - started >= 0.29
