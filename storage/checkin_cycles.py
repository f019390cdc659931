"""What is due at `now`? The sweep's decisions, as plain database work (no Slack here).

Each step claims the rows it acts on (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite transactions
take the write lock up front), changes them and records the messages owed as outbox rows with
unique keys, all in one transaction. Two processes sweeping the same database therefore split the
work between them and never owe the same message twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from domain.enums import Cadence, CheckinState
from domain.schedule import ACTIVE_STAGES, CheckinSchedule, Cycle, away_on, cycle_at, zone
from storage.models import CheckIn, Measure, Outbox, Person
from storage.outbox import CheckinsPayload, Kind, ReminderPayload, owe
from storage.queries import record_audit
from storage.types import SendState

BATCH = 1000
FIRST_BATCH = 100  # a sweep's first batch is small, so its first prompts go out at once
T = TypeVar("T")


def open_cycles(*, session: Session, now: datetime, limit: int = BATCH) -> tuple[int, int]:
    """Create this cycle's check-in for up to `limit` measures whose next cycle has begun. Returns
    (measures looked at, check-ins created): the sweep calls again while a batch is full."""
    query = (
        sa.select(
            col(Measure.id),
            col(Measure.owner_id),
            col(Measure.stage),
            col(Measure.cadence),
            col(Measure.checkin_weekday),
            col(Measure.checkin_time),
            col(Person.tz),
            col(Person.away_until),
        )
        .outerjoin(Person, col(Person.slack_id) == col(Measure.owner_id))
        .where(col(Measure.next_checkin_at) <= now)
        # Owner by owner; an expression, so the planner finds the due rows through the
        # next_checkin_at index (a plain owner_id would tempt it to walk the owner index: all rows).
        .order_by(sa.func.coalesce(col(Measure.owner_id), ""), col(Measure.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Measure)
    )
    rows = session.execute(query).all()
    fetched = len(rows)
    if fetched == limit and rows[0][1] != rows[-1][1]:
        # Leave the last owner's measures to the next batch: all of an owner's due check-ins are
        # opened together, so the prompt planned after this batch lists every one of them.
        rows = [row for row in rows if row[1] != rows[-1][1]]
    cycles: dict[int, Cycle] = {}
    for measure_id, owner_id, stage, cadence, weekday, at, tz, _away in rows:
        if owner_id is not None and stage in ACTIVE_STAGES:
            cycles[measure_id] = cycle_at(CheckinSchedule(Cadence(cadence), weekday, at), zone(tz), now)
    existing = _existing_cycles(session=session, starts={(mid, c.start) for mid, c in cycles.items()})
    created = now
    new_checkins = []
    for measure_id, owner_id, _stage, _cadence, _weekday, _at, tz, away_until in rows:
        cycle = cycles.get(measure_id)
        if cycle is None or (measure_id, cycle.start) in existing:
            continue
        away = away_on(away_until, tz, cycle.start)
        new_checkins.append(
            {
                "measure_id": measure_id, "owner_id": owner_id, "cycle_start": cycle.start, "cycle_end": cycle.end,
                "status": CheckinState.SKIPPED if away else CheckinState.PENDING,
                "skip_reason": "away" if away else None, "blockers": "", "comment": "", "created_at": created,
            }
        )  # fmt: skip
    if new_checkins:
        session.execute(insert(CheckIn), new_checkins)
    if rows:  # the next cycle's start; None when the measure takes no check-ins any more
        moves = [{"id": row[0], "next_checkin_at": cycles[row[0]].end if row[0] in cycles else None} for row in rows]
        session.execute(update(Measure), moves)
    return fetched, len(new_checkins)


def _existing_cycles(*, session: Session, starts: set[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    if not starts:
        return set()
    ids = {mid for mid, _ in starts}
    query = select(col(CheckIn.measure_id), col(CheckIn.cycle_start)).where(col(CheckIn.measure_id).in_(ids))
    query = query.where(col(CheckIn.cycle_start) >= min(s for _, s in starts))
    return {(mid, start) for mid, start in session.exec(query).all()}


def plan_prompts(*, session: Session, now: datetime, limit: int = BATCH) -> tuple[int, int]:
    """One prompt per owner for up to `limit` of their check-ins not yet prompted (open cycles only).
    Returns (check-ins claimed, prompts owed): the sweep calls again while a batch is full."""
    query = (
        select(col(CheckIn.id), col(CheckIn.owner_id), col(Person.tz), col(Person.away_until))
        .outerjoin(Person, col(Person.slack_id) == col(CheckIn.owner_id))
        .where(CheckIn.status == CheckinState.PENDING, col(CheckIn.prompt_id).is_(None), col(CheckIn.cycle_end) > now)
        .order_by(col(CheckIn.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=CheckIn)
    )
    rows = session.exec(query).all()
    due = [(cid, owner) for cid, owner, tz, away in rows if not away_on(away, tz, now)]  # away: prompted on return
    by_owner = _group(due, key=lambda row: row[1])
    if not by_owner:
        return len(rows), 0
    keys = {owner: f"{Kind.PROMPT}:{owner}:{items[0][0]}" for owner, items in by_owner.items()}
    payloads = {owner: CheckinsPayload(checkin_ids=[c for c, _ in items]) for owner, items in by_owner.items()}
    created = now
    session.execute(
        insert(Outbox),
        [
            {
                "kind": Kind.PROMPT, "dedupe_key": keys[owner], "recipient": owner, "state": SendState.PENDING,
                "attempts": 0, "created_at": created, "payload": payloads[owner].model_dump_json(),
            }
            for owner, items in by_owner.items()
        ],
    )  # fmt: skip
    prompt_ids = dict(
        session.exec(
            select(col(Outbox.dedupe_key), col(Outbox.id)).where(col(Outbox.dedupe_key).in_(keys.values()))
        ).all()
    )
    links = [{"id": cid, "prompt_id": prompt_ids[keys[owner]]} for owner, items in by_owner.items() for cid, _ in items]
    session.execute(update(CheckIn), links)
    return len(rows), len(by_owner)


def plan_reminders(*, session: Session, now: datetime, after: timedelta) -> int:
    """One reminder per owner for check-ins prompted `after` ago and still unanswered."""
    due = _unanswered(session=session, now=now, prompted_before=now - after, column=CheckIn.reminded_at)
    by_owner = _group(due, key=lambda row: row[0].owner_id)
    for owner, rows in by_owner.items():
        checkins = [checkin for checkin, _measure in rows]
        owe(
            session=session, kind=Kind.REMINDER, key=f"{owner}:{checkins[0].id}", recipient=owner,
            payload=ReminderPayload(checkin_ids=[c.id or 0 for c in checkins], prompt_id=checkins[0].prompt_id),
        )  # fmt: skip
        for checkin in checkins:
            checkin.reminded_at = now
            session.add(checkin)
    return len(by_owner)


def plan_overdue(*, session: Session, now: datetime, after: timedelta) -> int:
    """Check-ins unanswered `after` the prompt are overdue: audited, and marked on the measure until
    an answer comes, so the "overdue check-in" rule escalates it to the sponsor (storage/escalations)."""
    due = _unanswered(session=session, now=now, prompted_before=now - after, column=CheckIn.overdue_at)
    for checkin, measure in due:
        checkin.overdue_at = now
        measure.overdue_checkin_id = checkin.id
        session.add(checkin)
        session.add(measure)
        record_audit(
            session=session, actor="system", entity="measure", entity_key=measure.key, action="checkin_overdue",
            detail={"checkin_id": checkin.id, "cycle_start": checkin.cycle_start},
        )  # fmt: skip
    return len(due)


def _unanswered(
    *, session: Session, now: datetime, prompted_before: datetime, column: Any
) -> list[tuple[CheckIn, Measure]]:
    """Pending check-ins prompted before the instant, not yet marked in `column`, owner not away."""
    query = (
        select(CheckIn, Measure, col(Person.tz), col(Person.away_until))
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .outerjoin(Person, col(Person.slack_id) == col(CheckIn.owner_id))
        .where(
            CheckIn.status == CheckinState.PENDING,
            col(CheckIn.prompted_at) <= prompted_before,
            col(column).is_(None),
            col(CheckIn.cycle_end) > now,
        )
        .order_by(col(CheckIn.id))
        .limit(BATCH * 5)
        .with_for_update(skip_locked=True, of=CheckIn)
    )
    return [(c, m) for c, m, tz, away in session.exec(query).all() if not away_on(away, tz, now)]


def _group(items: Iterable[T], *, key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return dict(groups)
