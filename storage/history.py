"""A measure's history (its audit trail and its check-in answers, newest first) and the search over
measures, a page at a time: what `/measure history` and `/measure search` show."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.enums import CheckinState
from storage.models import AuditLog, CheckIn, Measure, Person

SEARCH_CANDIDATES = 500  # matches ranked in Python; more than anyone pages through


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str  # a Slack user id, or "import" / "system"
    action: str  # an audit action, or "answered" for a check-in answer
    detail: dict[str, Any]


def history_of(*, session: Session, key: str, offset: int, limit: int) -> tuple[list[HistoryEntry], int]:
    """Entries `offset` … `offset + limit` of the measure's history, and how many there are."""
    measure = session.exec(select(Measure).where(Measure.key == key)).first()
    if measure is None:
        return [], 0
    audit = (
        select(AuditLog)
        .where(AuditLog.entity == "measure", AuditLog.entity_key == key, AuditLog.action != "checkin_answered")
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    )
    answers = (
        select(CheckIn)
        .where(CheckIn.measure_id == measure.id, CheckIn.status == CheckinState.ANSWERED)
        .order_by(col(CheckIn.answered_at).desc(), col(CheckIn.id).desc())
    )
    wanted = offset + limit
    entries = [_audit_entry(a) for a in session.exec(audit.limit(wanted)).all()]
    entries += [_answer_entry(c) for c in session.exec(answers.limit(wanted)).all()]
    entries.sort(key=lambda e: e.at, reverse=True)
    total = _count(session, audit) + _count(session, answers)
    return entries[offset:wanted], total


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one())


def _audit_entry(row: AuditLog) -> HistoryEntry:
    try:
        detail = json.loads(row.detail or "{}")
    except ValueError:
        detail = {}
    return HistoryEntry(row.at, row.actor, row.action, detail if isinstance(detail, dict) else {})


def _answer_entry(checkin: CheckIn) -> HistoryEntry:
    detail = {"implementation": checkin.impl_status, "potential": checkin.potential_status,
              "blockers": checkin.blockers, "comment": checkin.comment}  # fmt: skip
    return HistoryEntry(
        checkin.answered_at or checkin.created_at, checkin.answered_by or checkin.owner_id, "answered", detail
    )


@dataclass(frozen=True)
class Found:
    key: str
    title: str
    owner_id: str | None
    owner_name: str
    stage: str


def search_measures(*, session: Session, text: str, offset: int, limit: int) -> tuple[list[Found], int]:
    """Measures whose key, title, description or owner's name holds `text` (any case), best first:
    the key itself, then titles that start with it, titles that hold it, descriptions, owners."""
    needle = text.strip().lower()
    if not needle:
        return [], 0
    owner = aliased(Person)
    like = f"%{_escaped(needle)}%"
    query = (
        select(Measure, owner.name)
        .outerjoin(owner, col(owner.slack_id) == col(Measure.owner_id))
        .where(or_(*(func.lower(c).like(like, escape="\\") for c in
                     (col(Measure.key), col(Measure.title), col(Measure.description), col(owner.name)))))
        .order_by(col(Measure.number))
        .limit(SEARCH_CANDIDATES)
    )  # fmt: skip
    found = [Found(m.key, m.title, m.owner_id, name or "", m.stage) for m, name in session.exec(query).all()]
    found.sort(key=lambda f: _rank(f, needle))
    return found[offset : offset + limit], len(found)


def _rank(found: Found, needle: str) -> int:
    title = found.title.lower()
    if found.key.lower() == needle:
        return 0
    if title.startswith(needle):
        return 1
    if needle in title:
        return 2
    return 4 if needle in found.owner_name.lower() else 3  # else the description held it


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
