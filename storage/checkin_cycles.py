"""What is due at `now`? The sweep's decisions, as plain database work (no Slack here).

Each step claims the rows it acts on (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite transactions
take the write lock up front), changes them and records the messages owed as outbox rows with
unique keys, all in one transaction. Two processes sweeping the same database therefore split the
work between them and never owe the same message twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from domain.calendar import WorkingCalendar
from domain.enums import Cadence, CheckinState
from domain.schedule import ACTIVE_STAGES, CheckinSchedule, Cycle, away_on, cycle_at, zone
from storage.calendars import calendars_of
from storage.models import CheckIn, Measure, Outbox, Person
from storage.outbox import CheckinsPayload, Kind, ReminderPayload, owe
from storage.queries import record_audit
from storage.types import SendState

BATCH = 1000
FIRST_BATCH = 100  # a sweep's first batch is small, so its first prompts go out at once
# The most measures one prompt holds: each has a line and a row of buttons (two blocks), inside Slack's
# 50 blocks a message; an owner with more due gets several prompts, so every one can be answered.
PER_PROMPT = 23
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
    calendars = calendars_of(session=session, slack_ids={row[1] for row in rows if row[1]}) if rows else {}
    cycles, later = _due_cycles(rows, calendars, now)
    existing = _existing_cycles(session=session, starts={(mid, c.start) for mid, c in cycles.items()})
    created = now
    new_checkins = []
    for measure_id, owner_id, _stage, _cadence, _weekday, _at, tz, away_until in rows:
        opened = cycles.get(measure_id)
        if opened is None or (measure_id, opened.start) in existing:
            continue
        away = away_on(away_until, tz, opened.start)
        new_checkins.append(
            {
                "measure_id": measure_id, "owner_id": owner_id, "cycle_start": opened.start, "cycle_end": opened.end,
                "status": CheckinState.SKIPPED if away else CheckinState.PENDING,
                "skip_reason": "away" if away else None, "blockers": "", "comment": "", "created_at": created,
            }
        )  # fmt: skip
    if new_checkins:
        session.execute(insert(CheckIn), new_checkins)
    if rows:  # the next cycle's start (or this one's, shifted); None when the measure takes no check-ins
        moves = [{"id": row[0], "next_checkin_at": _next_at(row[0], cycles, later)} for row in rows]
        session.execute(update(Measure), moves)
    return fetched, len(new_checkins)


def _due_cycles(
    rows: Sequence[Any], calendars: dict[str, WorkingCalendar], now: datetime
) -> tuple[dict[int, Cycle], dict[int, datetime]]:
    """The cycles to open now, and the measures due on a day their owner does not work: those go out
    on the next working day at the same local time (their next_checkin_at moves there)."""
    cycles: dict[int, Cycle] = {}
    later: dict[int, datetime] = {}
    for measure_id, owner_id, stage, cadence, weekday, at, tz, _away in rows:
        if owner_id is not None and stage in ACTIVE_STAGES:
            cycle = cycle_at(CheckinSchedule(Cadence(cadence), weekday, at), zone(tz), now)
            shifted = calendars[owner_id].same_time_next_working_day(cycle.start)
            if shifted > now:
                later[measure_id] = shifted
            else:
                cycles[measure_id] = cycle
    return cycles, later


def _next_at(measure_id: int, cycles: dict[int, Cycle], later: dict[int, datetime]) -> datetime | None:
    if measure_id in later:
        return later[measure_id]
    return cycles[measure_id].end if measure_id in cycles else None


def _existing_cycles(*, session: Session, starts: set[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    if not starts:
        return set()
    ids = {mid for mid, _ in starts}
    query = select(col(CheckIn.measure_id), col(CheckIn.cycle_start)).where(col(CheckIn.measure_id).in_(ids))
    query = query.where(col(CheckIn.cycle_start) >= min(s for _, s in starts))
    return {(mid, start) for mid, start in session.exec(query).all()}


def plan_prompts(*, session: Session, now: datetime, limit: int = BATCH) -> tuple[int, int]:
    """One prompt per owner for up to `limit` of their check-ins not yet prompted (open cycles only),
    or one per PER_PROMPT of them when there are more: every check-in gets its buttons in a message.
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
    by_owner = {
        (owner, start): items[start : start + PER_PROMPT]
        for owner, items in _group(due, key=lambda row: row[1]).items()
        for start in range(0, len(items), PER_PROMPT)
    }
    if not by_owner:
        return len(rows), 0
    keys = {part: f"{Kind.PROMPT}:{part[0]}:{items[0][0]}" for part, items in by_owner.items()}
    payloads = {part: CheckinsPayload(checkin_ids=[c for c, _ in items]) for part, items in by_owner.items()}
    created = now
    session.execute(
        insert(Outbox),
        [
            {
                "kind": Kind.PROMPT, "dedupe_key": keys[part], "recipient": part[0], "state": SendState.PENDING,
                "attempts": 0, "created_at": created, "payload": payloads[part].model_dump_json(),
            }
            for part in by_owner
        ],
    )  # fmt: skip
    prompt_ids = dict(
        session.exec(
            select(col(Outbox.dedupe_key), col(Outbox.id)).where(col(Outbox.dedupe_key).in_(keys.values()))
        ).all()
    )
    links = [{"id": cid, "prompt_id": prompt_ids[keys[part]]} for part, items in by_owner.items() for cid, _ in items]
    session.execute(update(CheckIn), links)
    return len(rows), len(by_owner)


def plan_reminders(*, session: Session, now: datetime, after: timedelta) -> int:
    """One reminder per owner for check-ins prompted `after` ago and still unanswered."""
    due = _unanswered(session=session, now=now, after=after, column=CheckIn.reminded_at)
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
    due = _unanswered(session=session, now=now, after=after, column=CheckIn.overdue_at)
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


def _unanswered(*, session: Session, now: datetime, after: timedelta, column: Any) -> list[tuple[CheckIn, Measure]]:
    """Pending check-ins prompted `after` ago in their owner's working time (domain/calendar.py), not
    yet marked in `column`, owner not away. Working time is never more than wall time, so SQL takes
    those prompted `after` ago by the wall clock, and the owners' calendars decide among them."""
    prompted_before = now - after
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
    found = [(c, m) for c, m, tz, away in session.exec(query).all() if not away_on(away, tz, now)]
    calendars = calendars_of(session=session, slack_ids={c.owner_id for c, _m in found if c.owner_id})
    return [(c, m) for c, m in found if answer_due(calendars.get(c.owner_id or ""), c.prompted_at, after) <= now]


def answer_due(calendar: WorkingCalendar | None, prompted_at: datetime | None, after: timedelta) -> datetime:
    """When an answer is due: `after` of the owner's working time past the prompt. The prompt says
    this instant, and the sweep marks the check-in overdue at it (with `after` = the overdue delay)."""
    start = prompted_at or datetime.min.replace(tzinfo=UTC)
    return calendar.add_working(start, after) if calendar is not None else start + after


def _group(items: Iterable[T], *, key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return dict(groups)
