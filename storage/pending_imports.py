"""Spreadsheets sent to the bot in a DM, between their dry run and the admin's Import or Cancel."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from storage.models import PendingImport
from storage.queries import record_audit


def hold_import(*, session: Session, user_id: str, filename: str, content: bytes) -> int:
    pending = PendingImport(user_id=user_id, filename=filename[:200], content=content)
    session.add(pending)
    session.flush()
    return pending.id or 0


def take_import(*, session: Session, pending_id: int, user_id: str, state: str) -> PendingImport | None:
    """The pending import, marked `state` (imported or cancelled), if it is this person's and still
    pending (a second click, or someone else's, finds nothing). Audited."""
    pending = session.get(PendingImport, pending_id, with_for_update=True)
    if pending is None or pending.user_id != user_id or pending.state != "pending":
        return None
    pending.state = state
    session.add(pending)
    record_audit(session=session, actor=user_id, entity="import", entity_key=str(pending_id),
                 action=f"import_{state}", detail={"file": pending.filename})  # fmt: skip
    return pending


def forget_imports(*, session: Session, now: datetime, keep: timedelta) -> int:
    """Delete pending imports older than `keep` (their bytes are only needed until Import or Cancel)."""
    result = session.exec(delete(PendingImport).where(col(PendingImport.created_at) < now - keep))
    return int(result.rowcount or 0)
