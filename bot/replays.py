"""Slack retries an event it thinks we missed (X-Slack-Retry-Num, same event_id): take each once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.app import PacekeeperApp
from storage.models import ProcessedEvent

KEEP = timedelta(days=1)  # Slack retries within minutes; a day is plenty


def remember(*, session: Session, event_id: str, now: datetime) -> None:
    """Record the event; IntegrityError (raised out of the transaction) when it was seen before."""
    session.add(ProcessedEvent(event_id=event_id[:64], received_at=now))
    session.flush()


def forget_old_events(*, session: Session, now: datetime) -> None:
    session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < now - KEEP))  # type: ignore[call-overload]


def register(app: PacekeeperApp) -> None:
    deps = app.deps

    @app.middleware
    async def once_per_event(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            now = deps.clock()
            try:
                await deps.transaction(lambda s: remember(session=s, event_id=event_id, now=now))
            except IntegrityError:  # seen before (or taken at this moment by another process): ack, drop
                return BoltResponse(status=200, body="")
        return await next()
