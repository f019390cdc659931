"""Rendering an outbox row from the database as it is when the message goes out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import Session, col, select

from domain.enums import CheckinState
from domain.escalation_rules import Rung
from messages.approval import approval_message, gate_reminder_message, outcome_message
from messages.blockkit import Rendered
from messages.checkin import delivery_failure_message, prompt_message, reminder_message
from messages.escalation import escalation_message
from messages.escalation_batch import escalations_message
from storage.checkins import prompt_items_of
from storage.escalation_views import EscalationView, escalation_views
from storage.gate_views import GateView, gate_view
from storage.models import CheckIn, Measure, Outbox
from storage.outbox import (
    ApprovalPayload,
    EscalationPayload,
    EscalationsPayload,
    FailurePayload,
    GatePayload,
    Kind,
    OutboxPayload,
    ReminderPayload,
    payload_of,
)

Render = Callable[[], Rendered]


def snapshots(
    session: Session, messages: list[Outbox], now: datetime, answer_within: timedelta | None = None
) -> dict[int, Render | None]:
    """Load what each message shows, as it is now (a query per kind, not per message), and return
    how to render it: pure, to be run outside the transaction. None: no longer worth sending
    (everything in it was answered meanwhile)."""
    payloads = {m.id or 0: payload_of(m) for m in messages}
    prompt_ids = [m.id or 0 for m in messages if m.kind == Kind.PROMPT]
    prompts = prompt_items_of(session=session, prompt_ids=prompt_ids, answer_within=answer_within)
    wanted = [i for p in payloads.values() if isinstance(p, ReminderPayload) for i in p.checkin_ids]
    escalations = escalation_views(session=session, escalation_ids=_escalation_ids(payloads.values()))
    pending = {c.id: (c, m) for c, m in _pending(session, wanted)} if wanted else {}
    renders: dict[int, Render | None] = {}
    for message in messages:
        payload = payloads[message.id or 0]
        if message.kind == Kind.PROMPT:
            items = prompts.get(message.id or 0)
            renders[message.id or 0] = partial(prompt_message, items, now=now) if items else None
        elif isinstance(payload, ApprovalPayload | GatePayload):
            view = gate_view(session=session, request_id=payload.request_id)
            renders[message.id or 0] = _gate_render(Kind(message.kind), view, payload) if view else None
        elif isinstance(payload, EscalationPayload):
            escalation = escalations.get(payload.escalation_id)
            renders[message.id or 0] = partial(escalation_message, escalation, payload.rung) if escalation else None
        elif isinstance(payload, EscalationsPayload):
            renders[message.id or 0] = batch_render(message.id or 0, payload, escalations, unsent=True)
        elif isinstance(payload, FailurePayload):
            renders[message.id or 0] = partial(
                delivery_failure_message, recipient=payload.recipient, kind=payload.kind, error=payload.error
            )
        elif isinstance(payload, ReminderPayload):
            rows = sorted((pending[i] for i in payload.checkin_ids if i in pending), key=lambda r: r[1].number)
            renders[message.id or 0] = partial(reminder_message, [m.key for _, m in rows]) if rows else None
    return renders


def _escalation_ids(payloads: Iterable[OutboxPayload]) -> list[int]:
    ids: list[int] = []
    for payload in payloads:
        if isinstance(payload, EscalationPayload):
            ids.append(payload.escalation_id)
        elif isinstance(payload, EscalationsPayload):
            ids += [item.escalation_id for item in payload.items]
    return ids


def batch_render(
    outbox_id: int, payload: EscalationsPayload, views: Mapping[int, EscalationView], *, unsent: bool = False
) -> Render | None:
    """How a message listing several escalations renders now. Not sent yet: the ones resolved
    meanwhile are left out, and None when nothing is left to say."""
    items = [(views[i.escalation_id], i.rung) for i in payload.items if i.escalation_id in views]
    if unsent:
        items = [(view, rung) for view, rung in items if view.state == "open"]
    if not items:
        return None
    to_channel = all(rung == Rung.STEERING for _view, rung in items)
    return partial(escalations_message, items, outbox_id=outbox_id, to_channel=to_channel, part=payload.part)


def _gate_render(kind: Kind, view: GateView, payload: ApprovalPayload | GatePayload) -> Render:
    if isinstance(payload, ApprovalPayload):
        return partial(approval_message, view, payload.step)
    if kind is Kind.GATE_OUTCOME:
        return partial(outcome_message, view)
    return partial(gate_reminder_message, view)


def _pending(session: Session, checkin_ids: list[int]) -> list[tuple[CheckIn, Measure]]:
    query = (
        select(CheckIn, Measure)
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .where(col(CheckIn.id).in_(checkin_ids), CheckIn.status == CheckinState.PENDING)
    )
    return [(c, m) for c, m in session.exec(query).all()]
