"""Keeping fan-outs inside Slack's rate limits: a shared pacer, paused by any 429's Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from slack_sdk.http_retry.async_handler import RetryState
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse


class Pacer:
    """At most `rate` sends in any one-second window (a sliding window, as Slack counts), spaced at
    least 0.9 of an interval apart: smooth, yet a late sender's slot is caught up rather than lost.
    Set `rate` a few per cent under Slack's limit. `pause` holds every sender (after a 429)."""

    def __init__(self, rate: float) -> None:
        self.rate = max(1, int(rate))
        self.min_gap = 0.9 / self.rate
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> float:
        """Wait for a slot; returns the instant (time.monotonic) the slot was granted."""
        async with self._lock:  # senders are released one at a time, in arrival order
            while True:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - 1.0:
                    self._sent.popleft()
                window_ready = self._sent[0] + 1.0 if len(self._sent) >= self.rate else now
                spaced = self._sent[-1] + self.min_gap if self._sent else now
                ready = max(self._paused_until, window_ready, spaced)
                if ready <= now:
                    self._sent.append(now)
                    return now
                await asyncio.sleep(ready - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


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
