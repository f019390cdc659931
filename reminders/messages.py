"""Rendering an outbox row from the database as it is when the message goes out."""

from __future__ import annotations

import json
from collections.abc import Callable

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

Renderer = Callable[[Session, Outbox, object], Rendered | None]


def render(session: Session, message: Outbox, now: object) -> Rendered | None:
    """The message, or None when it is no longer worth sending (everything in it was answered)."""
    payload = json.loads(message.payload)
    if message.kind == Kind.PROMPT:
        return prompt_message(prompt_items(session=session, prompt=message), now=now)  # type: ignore[arg-type]
    if message.kind == Kind.DELIVERY_FAILURE:
        return delivery_failure_message(recipient=payload["recipient"], kind=payload["kind"], error=payload["error"])
    rows = session.exec(
        select(CheckIn, Measure)
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .where(col(CheckIn.id).in_(payload["checkin_ids"]), CheckIn.status == "pending")
        .order_by(col(Measure.number))
    ).all()
    if not rows:
        return None
    if message.kind == Kind.REMINDER:
        return reminder_message([m.key for _, m in rows])
    if message.kind == Kind.OVERDUE:
        return overdue_message(
            [OverdueItem(m.key, m.title, c.owner_id, c.prompted_at or c.cycle_start) for c, m in rows]
        )
    raise ValueError(f"no renderer for outbox kind {message.kind!r}")
