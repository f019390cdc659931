"""What is only plumbing is pruned; what is history is kept (docs/retention.md).

Pruned, a bounded batch per sweep: messages the outbox sent (or gave up on) longer ago than the
retention (`PACEKEEPER_OUTBOX_DAYS`, default 90) and that nothing can still update — not a message
showing an escalation that is still open, not an approval request still waiting for a decision —
with the links to them (escalation copies; a check-in keeps its answer, only forgets its prompt).
Slack event ids are forgotten after a day (storage/events.py). On SQLite the sweep runs
`PRAGMA optimize` once a day (the query planner's statistics). Kept: measures, their months,
check-ins with their answers and comments, gate requests, escalations, the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, text, update
from sqlmodel import Session, col, select

from storage.escalation_tables import EscalationCopy
from storage.models import CheckIn, Escalation, GateRequest, Outbox
from storage.outbox import Kind
from storage.types import SendState

PRUNE_BATCH = 5_000  # rows per sweep: a short transaction, however much history there is


def prune_outbox(*, session: Session, now: datetime, keep: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` sent or failed outbox rows older than `keep` that no open escalation or
    undecided approval can still update; returns how many."""
    shows_open = exists().where(
        col(EscalationCopy.outbox_id) == col(Outbox.id),
        col(EscalationCopy.escalation_id) == col(Escalation.id),
        col(Escalation.state) == "open",
    )
    old = (
        select(Outbox.id, Outbox.kind, Outbox.dedupe_key)
        .where(col(Outbox.state).in_([SendState.SENT, SendState.FAILED]), col(Outbox.created_at) < now - keep)
        .where(~shows_open)
        .order_by(col(Outbox.id))
        .limit(batch)
    )
    found = session.exec(old).all()
    waiting = _open_requests(session)
    ids = [i for i, kind, key in found if i is not None and not _awaits_decision(kind, key, waiting)]
    if not ids:
        return 0
    session.exec(delete(EscalationCopy).where(col(EscalationCopy.outbox_id).in_(ids)))
    session.exec(update(CheckIn).where(col(CheckIn.prompt_id).in_(ids)).values(prompt_id=None))
    session.exec(update(Outbox).where(col(Outbox.thread_of).in_(ids)).values(thread_of=None))
    session.exec(delete(Outbox).where(col(Outbox.id).in_(ids)))
    return len(ids)


def _open_requests(session: Session) -> set[str]:
    return {str(i) for i in session.exec(select(GateRequest.id).where(GateRequest.state == "open")).all()}


def _awaits_decision(kind: str, dedupe_key: str, open_requests: set[str]) -> bool:
    """An approval request's message (`gate_approval:<request id>:<step>`) is updated when it is
    decided: kept while the request is open."""
    if kind != Kind.GATE_APPROVAL:
        return False
    return dedupe_key.split(":")[1] in open_requests


def optimize_sqlite(*, session: Session) -> None:
    """SQLite's own maintenance: refresh the planner's statistics where they are stale (cheap)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA optimize"))
