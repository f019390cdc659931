"""Answering a check-in: who may, until when, what is recorded (plain database work)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.enums import CheckinState, ImplStatus, Level, PotentialStatus
from domain.figures import (
    CheckinFigures,
    Month,
    Period,
    answered_months,
    figures,
    fiscal_year,
    forecast_given,
    last_closed_month,
)
from domain.policy import Deed, Party, may
from domain.schedule import zone
from domain.status import DEFAULT_TOLERANCE, got_worse, potential_status
from storage.calendars import calendars_of
from storage.checkin_cycles import answer_due
from storage.models import CheckIn, Evidence, Measure, MeasureMonth, Outbox, Person, Unit
from storage.organization import organization_of, settings_of
from storage.queries import month_series, record_audit, unit_path
from storage.types import now_of
from storage.year_figures import YearFigures, year_figures_by_id


@dataclass(frozen=True)
class PromptItem:
    checkin_id: int
    key: str
    title: str
    impl_status: str
    potential_status: str
    status: str  # the check-in's: pending | answered | skipped
    answered_status: str | None
    answered_at: datetime | None
    cycle_end: datetime
    answer_by: datetime | None = None  # then unanswered, it is overdue (storage/checkin_cycles.answer_due)
    year: YearFigures | None = None  # the measure's fiscal-year figures, by the money definitions


class Refused(Exception):
    """The person cannot do this; str() says why, for them."""


class CommentRequired(Exception):
    """A status got worse and no comment explains it."""


class ActualLocked(Exception):
    """The answer changes the actual of a month the controller has validated (domain/actuals.py)."""


@dataclass(frozen=True)
class Answer:
    impl_status: ImplStatus
    forecast_month: int | None = None
    forecast_year: int | None = None
    actual_last_month: int | None = None
    blockers: str = ""
    evidence_url: str | None = None
    comment: str = ""


def answerable(*, session: Session, checkin_id: int, user_id: str, now: datetime) -> tuple[CheckIn, Measure]:
    """The check-in and its measure, when `user_id` may answer it now; else Refused says why."""
    checkin = session.get(CheckIn, checkin_id)
    measure = session.get(Measure, checkin.measure_id) if checkin else None
    if checkin is None or measure is None:
        raise Refused("This check-in no longer exists.")
    if not may(Deed.ANSWER_CHECKIN, user_id, admin=False, party=Party.of(measure)):
        raise Refused(f"Only the owner of {measure.key}, <@{measure.owner_id}>, can answer its check-in.")
    if now >= checkin.cycle_end:
        raise Refused(f"The check-in for {measure.key} has closed; the next one will come at its time.")
    if checkin.status == CheckinState.SKIPPED:
        raise Refused(f"You skipped this cycle's check-in for {measure.key}.")
    return checkin, measure


def previous_statuses(*, session: Session, checkin: CheckIn) -> tuple[str, str]:
    """The statuses recorded at the last answered check-in of an earlier cycle (the baseline for
    "got worse"); not started / unknown when there is none."""
    query = (
        select(col(CheckIn.impl_status), col(CheckIn.potential_status))
        .where(CheckIn.measure_id == checkin.measure_id, CheckIn.status == CheckinState.ANSWERED)
        .where(col(CheckIn.cycle_start) < checkin.cycle_start)
        .order_by(col(CheckIn.cycle_start).desc())
        .limit(1)
    )
    row = session.exec(query).first()
    if row is None:
        return ImplStatus.NOT_STARTED, PotentialStatus.UNKNOWN
    return row[0] or ImplStatus.NOT_STARTED, row[1] or PotentialStatus.UNKNOWN


def tolerance_of(*, session: Session, measure: Measure) -> float:
    package = session.get(Unit, measure.package_id)
    for unit in unit_path(session=session, unit=package) if package else []:
        if unit.level == Level.PORTFOLIO and unit.tolerance_pct is not None:
            return unit.tolerance_pct / 100
    return DEFAULT_TOLERANCE


def _answered(session: Session, measure: Measure, answer: Answer, now: datetime) -> tuple[list[Month], Period, date]:
    """The measure's months as this answer would leave them, the fiscal year and its last closed month
    (by the owner's date)."""
    today = now.astimezone(zone(_owner_tz(session, measure))).date()
    settings = settings_of(organization_of(session=session, unit_id=measure.package_id))
    period = fiscal_year(today, settings.fiscal_year_start)
    typed = CheckinFigures(answer.actual_last_month, answer.forecast_month, answer.forecast_year)
    months = answered_months(
        month_series(session=session, measure_id=measure.id or 0), typed, today=today, period=period
    )
    return months, period, last_closed_month(today)


def would_worsen(*, session: Session, checkin: CheckIn, measure: Measure, answer: Answer, now: datetime) -> bool:
    potential = _potential(session, measure, *_answered(session, measure, answer, now))
    return _worsens(session, checkin, answer, potential)


def _worsens(session: Session, checkin: CheckIn, answer: Answer, potential: PotentialStatus) -> bool:
    before_impl, before_potential = previous_statuses(session=session, checkin=checkin)
    return got_worse(before_impl, answer.impl_status) or got_worse(before_potential, potential)


def _potential(
    session: Session, measure: Measure, months: list[Month], period: Period, closed: date
) -> PotentialStatus:
    """The fiscal year's forecast against its plan, by the definitions (domain/figures.py); unknown
    while the owner has given no forecast or actual for the year, or the year plans nothing."""
    if not forecast_given(months, period=period, closed_through=closed):
        return PotentialStatus.UNKNOWN
    year = figures(months, closed_through=closed, period=period)
    return potential_status(
        forecast=year.forecast, plan=year.plan, tolerance=tolerance_of(session=session, measure=measure)
    )


def _refuse_locked_actual(session: Session, measure: Measure, answer: Answer, closed: date) -> None:
    """The answer's actual for the last closed month may not change a month the controller validated."""
    if answer.actual_last_month is None:
        return
    row = session.get(MeasureMonth, (measure.id, closed))
    if row is not None and row.actual_validated_by is not None and row.actual != answer.actual_last_month:
        command = f"`/measure actuals {measure.key}`"
        raise ActualLocked(f"The controller validated {closed:%Y-%m}'s actual: only they change it now ({command}).")


def record_answer(
    *, session: Session, checkin: CheckIn, measure: Measure, answer: Answer, user_id: str, now: datetime
) -> dict[str, Any]:
    """Store the answer on the check-in and the measure, with its audit record."""
    answered = _answered(session, measure, answer, now)  # once: the lock, the comment rule and the write use it
    _refuse_locked_actual(session, measure, answer, answered[2])
    potential = _potential(session, measure, *answered)
    if _worsens(session, checkin, answer, potential) and not answer.comment:
        raise CommentRequired
    checkin.status, checkin.answered_at, checkin.answered_by = CheckinState.ANSWERED, now, user_id
    checkin.impl_status, checkin.potential_status = answer.impl_status, potential
    checkin.forecast_month, checkin.forecast_year = answer.forecast_month, answer.forecast_year
    checkin.actual_last_month, checkin.blockers = answer.actual_last_month, answer.blockers
    checkin.evidence_url, checkin.comment = answer.evidence_url, answer.comment
    moved = {
        name: [before, after]
        for name, before, after in (
            ("impl_status", measure.impl_status, str(answer.impl_status)),
            ("potential_status", measure.potential_status, str(potential)),
        )
        if before != after
    }
    measure.impl_status, measure.potential_status = answer.impl_status, potential
    # Threshold-rule state: the off-track streak, the overdue flag (any answer clears it), blockers.
    session.add(checkin)
    measure.off_track_streak = off_track_streak(session=session, measure_id=measure.id or 0)
    measure.overdue_checkin_id = None
    measure.blockers = answer.blockers
    if answer.forecast_year is not None:
        measure.forecast_year = answer.forecast_year
    _store_months(session, measure, answered[0])
    if (
        answer.evidence_url
        and not session.exec(
            select(Evidence).where(Evidence.measure_id == measure.id, Evidence.url == answer.evidence_url)
        ).first()
    ):
        session.add(Evidence(measure_id=measure.id or 0, url=answer.evidence_url, added_by=user_id))
    session.add(checkin)
    session.add(measure)
    detail = {
        "checkin_id": checkin.id, "impl_status": answer.impl_status, "potential_status": potential,
        "forecast_month": answer.forecast_month, "forecast_year": answer.forecast_year,
        "actual_last_month": answer.actual_last_month, "blockers": answer.blockers, "comment": answer.comment,
    }  # fmt: skip
    record_audit(
        session=session,
        actor=user_id,
        entity="measure",
        entity_key=measure.key,
        action="checkin_answered",
        detail=detail,
    )
    if moved:
        record_audit(
            session=session, actor=user_id, entity="measure", entity_key=measure.key, action="status_changed",
            detail=moved,
        )  # fmt: skip
    return detail


def off_track_streak(*, session: Session, measure_id: int, window: int = 12) -> int:
    """How many of the measure's latest answered check-ins in a row say "off track"."""
    query = (
        select(col(CheckIn.impl_status))
        .where(CheckIn.measure_id == measure_id, CheckIn.status == CheckinState.ANSWERED)
        .order_by(col(CheckIn.cycle_start).desc())
        .limit(window)
    )
    streak = 0
    for status in session.exec(query).all():
        if status != ImplStatus.OFF_TRACK:
            break
        streak += 1
    return streak


def skip(*, session: Session, checkin: CheckIn, measure: Measure, user_id: str) -> None:
    if checkin.status == CheckinState.ANSWERED:
        raise Refused(f"You already answered this cycle's check-in for {measure.key}; change the answer instead.")
    checkin.status, checkin.skip_reason = CheckinState.SKIPPED, "owner"
    session.add(checkin)
    record_audit(
        session=session, actor=user_id, entity="measure", entity_key=measure.key, action="checkin_skipped",
        detail={"checkin_id": checkin.id},
    )  # fmt: skip


def _owner_tz(session: Session, measure: Measure) -> str | None:
    owner = session.get(Person, measure.owner_id) if measure.owner_id else None
    return owner.tz if owner else None


def _store_months(session: Session, measure: Measure, months: list[Month]) -> None:
    """The months the answer changed, written back."""
    before = {m.month: m for m in month_series(session=session, measure_id=measure.id or 0)}
    for month in months:
        if before.get(month.month) != month:
            row = _month(session, measure, month.month)
            row.plan, row.forecast, row.actual = month.plan, month.forecast, month.actual


def _month(session: Session, measure: Measure, month: date) -> MeasureMonth:
    row = session.get(MeasureMonth, (measure.id, month))
    if row is None:
        row = MeasureMonth(measure_id=measure.id or 0, month=month)
    session.add(row)
    return row


def prompt_items(*, session: Session, prompt: Outbox, answer_within: timedelta | None = None) -> list[PromptItem]:
    """Everything the prompt message shows, as it is now."""
    found = prompt_items_of(session=session, prompt_ids=[prompt.id or 0], answer_within=answer_within)
    return found.get(prompt.id or 0, [])


def prompt_items_of(
    *, session: Session, prompt_ids: list[int], answer_within: timedelta | None = None
) -> dict[int, list[PromptItem]]:
    """The items of many prompts in one query, keyed by prompt (outbox) id, each with its measure's
    fiscal-year figures (one more query for all their months) and, given the overdue delay, when an
    answer is due in its owner's working time (a prompt not sent yet counts from now: it goes now)."""
    rows = session.execute(
        sa.select(
            col(Measure.id),
            col(Measure.package_id),
            col(CheckIn.prompt_id),
            col(CheckIn.id),
            col(Measure.key),
            col(Measure.title),
            col(Measure.impl_status),
            col(Measure.potential_status),
            col(CheckIn.status),
            col(CheckIn.impl_status),
            col(CheckIn.answered_at),
            col(CheckIn.cycle_end),
            col(CheckIn.prompted_at),
            col(CheckIn.owner_id),
        )
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .where(col(CheckIn.prompt_id).in_(prompt_ids))
        .order_by(col(Measure.number))
    ).all()
    years = year_figures_by_id(session=session, placed={row[0]: row[1] for row in rows}, now=now_of(session))
    owners = {row[-1] for row in rows if row[-1]} if answer_within is not None else set()
    calendars = calendars_of(session=session, slack_ids=owners) if owners else {}
    items: dict[int, list[PromptItem]] = {}
    for measure_id, _package, prompt_id, *fields, prompted_at, owner_id in rows:
        due = None
        if answer_within is not None:
            due = answer_due(calendars.get(owner_id or ""), prompted_at or now_of(session), answer_within)
        item = replace(PromptItem(*fields), year=years.get(measure_id), answer_by=due)
        items.setdefault(prompt_id or 0, []).append(item)
    return items
