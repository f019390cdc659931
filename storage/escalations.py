"""Escalations in the database: the rules' sweep (raise, clear, climb) and people's actions on them.

The sweep asks each rule which (measure, cause) pairs hold at `now` — a few indexed queries, not one
per measure — and compares them with the escalations whose cause is still active. New pairs raise an
escalation (a unique `active_key`, so one per measure and cause, also with two processes sweeping);
pairs that no longer hold resolve theirs. Every change is audited and owes its messages through the
outbox in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.enums import ImplStatus, Stage
from domain.escalation_rules import START_RUNG, Cause, Ladder, Rung, climb_to
from domain.policy import Deed, Party, may, who_may
from domain.schedule import ACTIVE_STAGES, away_on
from storage.calendars import calendars_of, is_person_id
from storage.escalation_mail import EscalationMail, behind
from storage.models import (
    Dependency,
    Escalation,
    EscalationCopy,
    EscalationNote,
    Flagged,
    GateRequest,
    Measure,
    Outbox,
    Person,
)
from storage.outbox import EscalationPayload, Kind, payload_of
from storage.queries import record_audit
from storage.tree import UnitTree


class EscalationRefused(Exception):
    """An action someone may not take, or that no longer applies; the message says why."""


@dataclass
class RulesReport:
    raised: int = 0
    resolved: int = 0
    climbed: int = 0
    messages: int = 0  # owed: one per recipient, however many escalations reached them


@dataclass(frozen=True)
class Hit:
    """A cause holding for a measure at `now`."""

    measure_id: int
    cause: Cause
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """One escalation per measure and cause while the cause lasts. Each overdue check-in is an
        occurrence of its own: the next cycle's overdue check-in raises a new escalation, also when
        the last one was resolved by hand while its check-in stayed unanswered."""
        if self.cause == Cause.CHECKIN_OVERDUE:
            return f"{self.measure_id}:{self.cause}:{self.detail.get('checkin_id')}"
        return f"{self.measure_id}:{self.cause}"


# Each rule selects on one indexed column only; the stage is checked here, on the few rows found (a
# stage condition in SQL tempts the planner to read every measure in an active stage instead).
_MEASURE = (
    col(Measure.id),
    col(Measure.key),
    col(Measure.package_id),
    col(Measure.owner_id),
    col(Measure.sponsor_id),
    col(Measure.stage),
)


Row = tuple[Any, ...]  # a measure's id, key, package, owner, sponsor, stage, then what the rule read
Found = list[tuple[Row, Hit]]


def current_hits(*, session: Session, tree: UnitTree, now: datetime, approval_after: timedelta) -> list[Hit]:
    """Every (measure, cause) the enabled rules flag at `now`; owners who are away are left alone."""
    found = [
        *_overdue(session), *_off_track_twice(session), *_shortfalls(session),
        *_approvals_waiting(session, tree, now, approval_after), *_blocked_by_dependencies(session),
    ]  # fmt: skip
    return [hit for row, hit in found if _applies(hit, row, tree, session, now)]


def _active(rows: Any, cause: Cause, detail: Callable[[Row], dict[str, Any]]) -> Found:
    return [(row, Hit(row[0], cause, detail(row))) for row in rows if row[5] in ACTIVE_STAGES]


def _overdue(session: Session) -> Found:
    rows = session.execute(sa.select(*_MEASURE, col(Measure.overdue_checkin_id)).where(sa.text(Flagged.OVERDUE))).all()
    return _active(rows, Cause.CHECKIN_OVERDUE, lambda row: {"checkin_id": row[6]})


def _off_track_twice(session: Session) -> Found:
    rows = session.execute(
        sa.select(*_MEASURE, col(Measure.off_track_streak)).where(sa.text(Flagged.OFF_TRACK_STREAK))
    ).all()
    return _active(rows, Cause.OFF_TRACK_TWICE, lambda row: {"in_a_row": row[6]})


def _shortfalls(session: Session) -> Found:
    query = sa.select(*_MEASURE, col(Measure.potential_status), col(Measure.forecast_year)).where(
        sa.text(Flagged.SHORTFALL)
    )
    rows = session.execute(query).all()
    return _active(rows, Cause.SHORTFALL, lambda row: {"potential_status": row[6], "forecast_year": row[7]})


def _approvals_waiting(session: Session, tree: UnitTree, now: datetime, default: timedelta) -> Found:
    """Open requests waiting on one approver longer than their portfolio allows (any stage)."""
    query = (
        sa.select(*_MEASURE, col(GateRequest.id), col(GateRequest.to_stage), col(GateRequest.step_started_at))
        .join(GateRequest, col(GateRequest.measure_id) == col(Measure.id))
        .where(col(GateRequest.state) == "open")
    )
    found: Found = []
    for row in session.execute(query).all():
        rules, _ = tree.portfolio_rules(row[2])
        limit = timedelta(days=rules.approval_days) if rules.approval_days is not None else default
        if row[8] <= now - limit:
            detail = {"request_id": row[6], "to_stage": row[7], "since": row[8].isoformat()}
            found.append((row, Hit(row[0], Cause.APPROVAL_OVERDUE, detail)))
    return found


def _blocked_by_dependencies(session: Session) -> Found:
    """Measures depending on one that is off track: one hit each, naming every such dependency."""
    blocking = aliased(Measure)
    query = (
        sa.select(*_MEASURE, col(blocking.key))
        .join(Dependency, col(Dependency.measure_id) == col(Measure.id))
        .join(blocking, col(blocking.id) == col(Dependency.depends_on_id))
        .where(col(blocking.impl_status) == ImplStatus.OFF_TRACK, col(blocking.stage) != Stage.CANCELLED)
    )
    rows: dict[int, Row] = {}
    keys: dict[int, list[str]] = {}
    for row in session.execute(query).all():
        if row[5] in ACTIVE_STAGES:
            rows[row[0]] = row
            keys.setdefault(row[0], []).append(row[6])
    return [(rows[mid], Hit(mid, Cause.DEPENDENCY, {"depends_on": sorted(keys[mid])})) for mid in rows]


def _applies(hit: Hit, row: Row, tree: UnitTree, session: Session, now: datetime) -> bool:
    rules, _portfolio = tree.portfolio_rules(row[2])
    if not rules.enabled(hit.cause):
        return False
    if hit.cause == Cause.APPROVAL_OVERDUE or row[3] is None:
        return True
    owner = session.get(Person, row[3])  # identity-mapped: one load per owner
    return owner is None or not away_on(owner.away_until, owner.tz, now)


def sweep_escalations(*, session: Session, now: datetime, approval_after: timedelta) -> RulesReport:
    """Raise what the rules flag, resolve what cleared, climb what waited too long: one transaction."""
    report, mail = RulesReport(), EscalationMail()
    tree = UnitTree.load(session=session)
    hits = {hit.key: hit for hit in current_hits(session=session, tree=tree, now=now, approval_after=approval_after)}
    active = session.exec(select(Escalation).where(col(Escalation.active_key).is_not(None))).all()
    known = {e.active_key for e in active}
    for escalation in active:
        if escalation.active_key not in hits:
            report.resolved += _cause_cleared(session, escalation, now)
    for key, hit in hits.items():
        if key not in known and _raise(session, tree, hit, now, mail):
            report.raised += 1
    report.climbed = _climb(session, tree, now, mail)
    report.messages = mail.owe(session=session, now=now)
    return report


def _ladder(tree: UnitTree, measure: Measure) -> Ladder:
    _rules, portfolio = tree.portfolio_rules(measure.package_id)
    return Ladder(measure.owner_id, measure.sponsor_id, portfolio.steering_channel if portfolio else None)


def _raise(session: Session, tree: UnitTree, hit: Hit, now: datetime, mail: EscalationMail) -> bool:
    measure = session.get(Measure, hit.measure_id)
    assert measure is not None
    ladder = _ladder(tree, measure)
    rung = ladder.first_from(START_RUNG[hit.cause])
    if rung is None:
        return False  # nobody to tell: no owner, sponsor or steering channel
    escalation = Escalation(
        measure_id=hit.measure_id, cause=hit.cause, active_key=hit.key, detail=json.dumps(hit.detail),
        rung=rung, rung_started_at=now, raised_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():  # another process may have raised it a moment ago
            session.add(escalation)
            session.flush()
    except IntegrityError:
        return False
    record_audit(
        session=session, actor="system", entity="measure", entity_key=measure.key, action="escalation_raised",
        detail={"escalation_id": escalation.id, "cause": hit.cause, "rung": Rung(rung).label, **hit.detail},
    )  # fmt: skip
    rules, _portfolio = tree.portfolio_rules(measure.package_id)
    mail.add(escalation, ladder.recipient(rung), urgent=rules.is_urgent(hit.cause))
    return True


def _cause_cleared(session: Session, escalation: Escalation, now: datetime) -> int:
    """Forget the cause; resolve the escalation if nobody did. Returns 1 when it resolved it."""
    escalation.active_key = None
    session.add(escalation)
    if escalation.state != "open":
        return 0
    escalation.state, escalation.resolved_at, escalation.resolved_by = "resolved", now, "system"
    _changed(session, escalation)
    _audit(session, escalation, "system", "escalation_resolved", {"why": "the cause cleared"})
    return 1


def _climb(session: Session, tree: UnitTree, now: datetime, mail: EscalationMail) -> int:
    """Move up a rung what waited its step unacknowledged; the step counts the working time of the
    person it waits on (domain/calendar.py), and a channel's wall-clock time."""
    query = (
        select(Escalation, Measure)
        .join(Measure, col(Measure.id) == col(Escalation.measure_id))
        .where(Escalation.state == "open", col(Escalation.acknowledged_at).is_(None))
        .where(col(Escalation.rung_started_at) <= now - timedelta(hours=1))
        .with_for_update(skip_locked=True, of=Escalation)
    )
    waiting = [(escalation, measure, _ladder(tree, measure)) for escalation, measure in session.exec(query).all()]
    people = {ladder.recipient(e.rung) or "" for e, _m, ladder in waiting}
    calendars = calendars_of(session=session, slack_ids={p for p in people if is_person_id(p)})
    climbed = 0
    for escalation, measure, ladder in waiting:
        rules = tree.portfolio_rules(measure.package_id)[0]
        step = timedelta(hours=rules.step_hours)
        holder = calendars.get(ladder.recipient(escalation.rung) or "")
        if holder is not None and holder.add_working(escalation.rung_started_at, step) > now:
            continue
        rung = climb_to(ladder=ladder, rung=escalation.rung, rung_started_at=escalation.rung_started_at,
                        acknowledged=False, now=now, step=step)  # fmt: skip
        if rung is None:
            continue
        old, escalation.rung, escalation.rung_started_at = escalation.rung, rung, now
        _changed(session, escalation)
        _audit(session, escalation, "system", "escalation_climbed", {"rung": [Rung(old).label, Rung(rung).label]})
        mail.add(escalation, ladder.recipient(rung), urgent=rules.is_urgent(Cause(escalation.cause)))
        climbed += 1
    return climbed


def _changed(session: Session, escalation: Escalation) -> None:
    """Every change: its messages are refreshed, and a copy showing an older version is found behind."""
    escalation.refresh_pending, escalation.version = True, escalation.version + 1
    session.add(escalation)


def _audit(session: Session, escalation: Escalation, actor: str, action: str, detail: dict[str, Any]) -> None:
    measure = session.get(Measure, escalation.measure_id)
    record_audit(
        session=session, actor=actor, entity="measure", entity_key=measure.key if measure else "?", action=action,
        detail={"escalation_id": escalation.id, "cause": escalation.cause, **detail},
    )  # fmt: skip


# ---- people's actions ----------------------------------------------------------------------------
class Act(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    RESOLVE = "resolve"


AUDIT_ACTIONS = {
    Act.ACKNOWLEDGE: "escalation_acknowledged",
    Act.RESOLVE: "escalation_resolved",
    Act.NOTE: "escalation_note",
}


DEEDS = {Act.ACKNOWLEDGE: Deed.ACKNOWLEDGE, Act.NOTE: Deed.NOTE, Act.RESOLVE: Deed.RESOLVE}


def may_act(*, measure: Measure, user_id: str, admin: bool, act: Act) -> None:
    """The policy's answer (domain/policy.py); EscalationRefused says who may instead."""
    deed = DEEDS[act]
    if not may(deed, user_id, admin=admin, party=Party.of(measure)):
        what = "resolve" if act == Act.RESOLVE else "act on"
        raise EscalationRefused(f"Only {who_may(deed, of=measure.key)} can {what} this escalation.")


def entitled(
    *, session: Session, escalation_id: int, user_id: str, admin: bool, act: Act, lock: bool = False
) -> tuple[Escalation, Measure]:
    """The escalation and its measure, when the person may `act` on it (EscalationRefused says why not)."""
    query = select(Escalation).where(Escalation.id == escalation_id)
    escalation = session.exec(query.with_for_update() if lock else query).first()
    measure = session.get(Measure, escalation.measure_id) if escalation else None
    if escalation is None or measure is None:
        raise EscalationRefused("That escalation no longer exists.")
    may_act(measure=measure, user_id=user_id, admin=admin, act=act)
    return escalation, measure


def act_on(
    *, session: Session, escalation_id: int, user_id: str, admin: bool, act: Act, now: datetime, note: str = ""
) -> Escalation:
    escalation, measure = entitled(
        session=session, escalation_id=escalation_id, user_id=user_id, admin=admin, act=act, lock=True
    )
    if escalation.state != "open" and act != Act.NOTE:
        raise EscalationRefused(f"This escalation on {measure.key} is already resolved.")
    if act == Act.ACKNOWLEDGE:
        if escalation.acknowledged_at is not None:
            raise EscalationRefused(f"<@{escalation.acknowledged_by}> already acknowledged it.")
        escalation.acknowledged_at, escalation.acknowledged_by = now, user_id
    elif act == Act.RESOLVE:  # the reason is kept as a note, shown on every copy
        escalation.state, escalation.resolved_at, escalation.resolved_by = "resolved", now, user_id
    if note:
        session.add(EscalationNote(escalation_id=escalation_id, author=user_id, text=note, at=now))
    _changed(session, escalation)
    detail = {("reason" if act == Act.RESOLVE else "note"): note} if note else {}
    _audit(session, escalation, user_id, AUDIT_ACTIONS[act], detail)
    return escalation


def acknowledge_listed(
    *, session: Session, outbox_id: int, cause: str, user_id: str, admin: bool, now: datetime
) -> tuple[list[int], int]:
    """ "Acknowledge all" of one cause in one message: every escalation it lists with that cause that
    is open, not acknowledged and the person may act on. Returns (acknowledged ids, how many they may not)."""
    query = (
        select(Escalation)
        .join(EscalationCopy, col(EscalationCopy.escalation_id) == col(Escalation.id))
        .where(EscalationCopy.outbox_id == outbox_id, Escalation.cause == cause, Escalation.state == "open")
        .where(col(Escalation.acknowledged_at).is_(None))
        .with_for_update()
    )
    done, refused = [], 0
    for escalation in session.exec(query).all():
        measure = session.get(Measure, escalation.measure_id)
        try:
            may_act(measure=measure, user_id=user_id, admin=admin, act=Act.ACKNOWLEDGE)  # type: ignore[arg-type]
        except EscalationRefused:
            refused += 1
            continue
        escalation.acknowledged_at, escalation.acknowledged_by = now, user_id
        _changed(session, escalation)
        _audit(session, escalation, user_id, AUDIT_ACTIONS[Act.ACKNOWLEDGE], {"all_of": cause})
        done.append(escalation.id or 0)
    return done, refused


# ---- what the messages and App Home show -------------------------------------------------------
def single_copies(*, session: Session, escalation_ids: list[int]) -> list[tuple[int, str, str, int]]:
    """(escalation id, channel, ts, rung) of every message about one escalation alone: the kind owed
    before messages listed several (none are owed now). One query, whatever the number of ids."""
    wanted = set(escalation_ids)
    rows = session.exec(select(Outbox).where(Outbox.kind == Kind.ESCALATION, col(Outbox.ts).is_not(None))).all()
    found = []
    for row in rows:
        payload = payload_of(row)
        if isinstance(payload, EscalationPayload) and payload.escalation_id in wanted:
            found.append((payload.escalation_id, row.channel or "", row.ts or "", payload.rung))
    return found


def stale_escalation_ids(*, session: Session) -> list[int]:
    """Escalations changed since their messages were refreshed, and those a sent listing shows behind."""
    pending = session.exec(select(col(Escalation.id)).where(Escalation.refresh_pending == sa.true())).all()
    return sorted({i for i in pending if i} | set(behind(session=session)))


def mark_refreshed(*, session: Session, escalation_ids: list[int]) -> None:
    if escalation_ids:
        session.execute(
            sa.update(Escalation).where(col(Escalation.id).in_(escalation_ids)).values(refresh_pending=False)
        )


def open_causes_of(*, session: Session, measure_id: int) -> list[str]:
    """Labels of the causes of the measure's open escalations ("At risk by dependency", …)."""
    causes = session.exec(
        select(col(Escalation.cause)).where(Escalation.measure_id == measure_id, Escalation.state == "open")
    ).all()
    return [Cause(c).label for c in sorted(causes)]
