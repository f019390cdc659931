"""Rendering an outbox row from the database as it is when the message goes out."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlmodel import Session, col, select

from reminders.answers import prompt_items
from reminders.planning import Kind
from reminders.render import (
    OverdueItem,
    Rendered,
    delivery_failure_message,
    overdue_message,
    prompt_message,
    reminder_message,
)
from storage.models import CheckIn, Measure, Outbox

Render = Callable[[], Rendered]


def snapshot(session: Session, message: Outbox, now: datetime) -> Render | None:
    """Load what the message shows, as it is now, and return how to render it (pure, to be run
    outside the transaction); None when it is no longer worth sending (everything was answered)."""
    payload = json.loads(message.payload)
    if message.kind == Kind.PROMPT:
        return partial(prompt_message, prompt_items(session=session, prompt=message), now=now)
    if message.kind == Kind.DELIVERY_FAILURE:
        return partial(
            delivery_failure_message, recipient=payload["recipient"], kind=payload["kind"], error=payload["error"]
        )
    rows = session.exec(
        select(CheckIn, Measure)
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .where(col(CheckIn.id).in_(payload["checkin_ids"]), CheckIn.status == "pending")
        .order_by(col(Measure.number))
    ).all()
    if not rows:
        return None
    if message.kind == Kind.REMINDER:
        return partial(reminder_message, [m.key for _, m in rows])
    if message.kind == Kind.OVERDUE:
        return partial(
            overdue_message, [OverdueItem(m.key, m.title, c.owner_id, c.prompted_at or c.cycle_start) for c, m in rows]
        )
    raise ValueError(f"no renderer for outbox kind {message.kind!r}")
