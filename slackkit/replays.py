"""Slack retries an event it thinks we missed (X-Slack-Retry-Num, same event_id): take each once.

Checked after the ack, by the event's listener: remembering the event is a write, and a burst of
events (everyone opening App Home on a Monday) must not queue their acks behind the writer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from slackkit.context import Deps
from storage.events import remember


async def first_delivery(deps: Deps, body: dict[str, Any]) -> bool:
    """True the first time an event_id is seen (by any process); False for a retry or a duplicate."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not event_id:
        return True
    now = deps.clock()
    try:
        await deps.transaction(lambda s: remember(session=s, event_id=event_id, now=now))
    except IntegrityError:  # seen before (or taken at this moment by another process)
        return False
    return True
