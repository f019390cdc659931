"""Rendering an outbox row from the database as it is when the message goes out."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlmodel import Session, col, select

from messages.approval import approval_message, gate_reminder_message, outcome_message
from messages.blockkit import Rendered
from messages.checkin import delivery_failure_message, prompt_message, reminder_message
from messages.escalation import escalation_message
from storage.checkins import prompt_items_of
from storage.escalations import ESCALATION_KIND, escalation_views
from storage.gate_requests import GateKind
from storage.gate_views import GateView, gate_view
from storage.models import CheckIn, Measure, Outbox
from storage.outbox import Kind

Render = Callable[[], Rendered]
GATE_RENDERERS: dict[str, Callable[[GateView, dict[str, int]], Render]] = {
    GateKind.APPROVAL: lambda view, payload: partial(approval_message, view, payload["step"]),
    GateKind.OUTCOME: lambda view, _payload: partial(outcome_message, view),
    GateKind.REMINDER: lambda view, _payload: partial(gate_reminder_message, view),
}


def snapshots(session: Session, messages: list[Outbox], now: datetime) -> dict[int, Render | None]:
    """Load what each message shows, as it is now (a query per kind, not per message), and return
    how to render it: pure, to be run outside the transaction. None: no longer worth sending
    (everything in it was answered meanwhile)."""
    prompts = prompt_items_of(session=session, prompt_ids=[m.id or 0 for m in messages if m.kind == Kind.PROMPT])
    wanted = [i for m in messages if m.kind == Kind.REMINDER for i in json.loads(m.payload)["checkin_ids"]]
    escalations = escalation_views(
        session=session,
        escalation_ids=[json.loads(m.payload)["escalation_id"] for m in messages if m.kind == ESCALATION_KIND],
    )
    pending = {c.id: (c, m) for c, m in _pending(session, wanted)} if wanted else {}
    renders: dict[int, Render | None] = {}
    for message in messages:
        payload = json.loads(message.payload)
        if message.kind == Kind.PROMPT:
            items = prompts.get(message.id or 0)
            renders[message.id or 0] = partial(prompt_message, items, now=now) if items else None
        elif message.kind in GATE_RENDERERS:
            view = gate_view(session=session, request_id=payload["request_id"])
            renders[message.id or 0] = GATE_RENDERERS[message.kind](view, payload) if view else None
        elif message.kind == ESCALATION_KIND:
            escalation = escalations.get(payload["escalation_id"])
            renders[message.id or 0] = partial(escalation_message, escalation, payload["rung"]) if escalation else None
        elif message.kind == Kind.DELIVERY_FAILURE:
            renders[message.id or 0] = partial(
                delivery_failure_message, recipient=payload["recipient"], kind=payload["kind"], error=payload["error"]
            )
        else:
            rows = sorted((pending[i] for i in payload["checkin_ids"] if i in pending), key=lambda r: r[1].number)
            keys = [m.key for _, m in rows]
            renders[message.id or 0] = partial(reminder_message, keys) if rows else None
    return renders


def _pending(session: Session, checkin_ids: list[int]) -> list[tuple[CheckIn, Measure]]:
    query = (
        select(CheckIn, Measure)
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .where(col(CheckIn.id).in_(checkin_ids), CheckIn.status == "pending")
    )
    return [(c, m) for c, m in session.exec(query).all()]
