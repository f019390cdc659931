"""Slack retries an event it thinks we missed (X-Slack-Retry-Num, same event_id): take each once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import IntegrityError

from slackkit.context import Deps
from storage.events import remember


async def once_per_event(body: dict[str, Any], next: Callable[[], Awaitable[Any]], deps: Deps) -> Any:
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if event_id:
        now = deps.clock()
        try:
            await deps.transaction(lambda s: remember(session=s, event_id=event_id, now=now))
        except IntegrityError:  # seen before (or taken at this moment by another process): ack, drop
            return BoltResponse(status=200, body="")
    return await next()


def register(app: AsyncApp) -> None:
    app.middleware(once_per_event)
