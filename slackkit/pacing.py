"""Keeping fan-outs inside Slack's rate limits: a shared pacer, paused by any 429's Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

from slack_sdk.http_retry.async_handler import RetryState
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse


class Pacer:
    """At most `rate` calls in any one-second window as Slack counts them, on an even schedule.

    Slack counts a call when it arrives, somewhere between our grant and its response. So a slot is
    held from its grant until one second after its response (`async with pacer.slot():` around
    the call): however late a call arrives (a garbage-collection pause, a new connection), the
    calls any window of Slack's holds never exceed `rate`, and `rate` may be Slack's limit itself.
    Within that, slots come one every 1/rate seconds; a sender that resumes late (a busy event loop
    wakes sleepers a millisecond or two after their time) does not push the schedule back: the
    slots it missed, up to `catch_up` seconds of them, are granted at once. `pause` holds every
    sender (after a 429). `clock` and `sleep` are injectable to test the schedule without waiting."""

    def __init__(
        self,
        rate: float,
        *,
        catch_up: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = max(1, int(rate))
        self.interval = 1.0 / self.rate
        self.catch_up = catch_up
        self._clock, self._sleep = clock, sleep
        self._in_flight = 0
        self._answered: deque[float] = deque()  # when each call of the last second was answered
        self._answer = asyncio.Event()
        self._next_slot = float("-inf")
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold a slot for one Web API call; yields the instant (of `clock`) it was granted."""
        granted = await self._grant()
        try:
            yield granted
        finally:
            self._in_flight -= 1
            self._answered.append(self._clock())
            self._answer.set()

    async def _grant(self) -> float:
        async with self._lock:  # senders are granted one at a time, in arrival order
            while True:
                now = self._clock()
                while self._answered and self._answered[0] <= now - 1.0:
                    self._answered.popleft()
                scheduled = max(self._next_slot, now - self.catch_up, self._paused_until)
                if self._in_flight + len(self._answered) < self.rate:
                    if scheduled <= now:
                        self._in_flight += 1
                        self._next_slot = scheduled + self.interval
                        return now
                    await self._sleep(scheduled - now)
                elif self._answered:  # the window is full: the oldest answer leaves it first
                    await self._sleep(max(scheduled, self._answered[0] + 1.0) - now)
                else:  # every slot is in flight: wait for an answer
                    self._answer.clear()
                    await self._answer.wait()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)


class PausingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler (it sleeps Retry-After and retries), which also pauses the pacer so
    the other senders stop hammering Slack while it waits."""

    def __init__(self, pacer: Pacer, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is not None:
            retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
            try:
                self.pacer.pause(float(retry_after[0]))
            except (TypeError, ValueError):
                self.pacer.pause(1.0)
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)
