"""A measure's plan, forecasts and actuals by month, written together under the money rules
(docs/money.md): the plan only before it is frozen (from DI3 it takes a re-baseline), forecasts within
the plan's horizon, actuals through `record_actuals` (closed months of the plan; a validated month only
by its controller). Everything is checked; any refusal refuses all (MonthsRefused) and the caller's
transaction is rolled back, so nothing is half-written. Each kind of change is audited with its actor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlmodel import Session

from storage.actuals import ActualsRefused, record_actuals
from storage.measures import PlanFrozen, full_draft, update_measure
from storage.models import Measure, MeasureMonth
from storage.queries import months_of, record_audit


@dataclass(frozen=True)
class MonthRefusal:
    month: date
    kind: str  # plan | forecast | actual
    reason: str


class MonthsRefused(Exception):
    def __init__(self, refusals: list[MonthRefusal]) -> None:
        super().__init__(refusals)
        self.refusals = refusals


@dataclass
class MonthEntries:
    """What to write, by month; None clears the month's figure."""

    plan: dict[date, int | None] = field(default_factory=dict)
    forecast: dict[date, int | None] = field(default_factory=dict)
    actual: dict[date, int | None] = field(default_factory=dict)


def put_months(*, session: Session, measure: Measure, entries: MonthEntries, actor: str, now: datetime) -> int:
    """Write `entries`; returns how many month figures changed. MonthsRefused on any refusal."""
    assert measure.id is not None
    refusals: list[MonthRefusal] = []
    changed = 0
    plan = {m.month: m.plan for m in months_of(session=session, measure_id=measure.id) if m.plan is not None}
    if entries.plan:
        wanted = {**plan, **entries.plan}
        new_plan = {month: amount for month, amount in wanted.items() if amount is not None}
        try:
            draft = replace(full_draft(session=session, measure=measure), monthly_plan=new_plan)
            if update_measure(session=session, measure=measure, draft=draft, actor=actor, now=now):
                changed += sum(plan.get(m) != new_plan.get(m) for m in plan.keys() | new_plan.keys())
            plan = new_plan
        except PlanFrozen as frozen:
            refusals += [MonthRefusal(m, "plan", str(frozen)) for m in sorted(entries.plan)]
    refusals += _outside(entries.forecast, plan)
    if not refusals:
        changed += record_forecasts(session=session, measure=measure, entries=entries.forecast, actor=actor)
    if entries.actual:
        try:
            changed += len(record_actuals(session=session, measure=measure, entries=entries.actual, actor=actor,
                                          validate=False, reason="", now=now))  # fmt: skip
        except ActualsRefused as refused:
            refusals += [MonthRefusal(m, "actual", reason) for m, reason in sorted(refused.errors.items())]
    if refusals:
        raise MonthsRefused(refusals)
    return changed


def _outside(forecast: Mapping[date, int | None], plan: Mapping[date, int]) -> list[MonthRefusal]:
    if not plan:
        return [MonthRefusal(m, "forecast", "the measure has no monthly plan yet") for m in sorted(forecast)]
    first, last = min(plan), max(plan)
    return [
        MonthRefusal(m, "forecast", f"outside the plan's horizon ({first:%Y-%m} to {last:%Y-%m})")
        for m in sorted(forecast)
        if not first <= m <= last
    ]


def record_forecasts(
    *,
    session: Session,
    measure: Measure,
    entries: Mapping[date, int | None],
    actor: str,
    action: str = "forecasts_entered",
) -> int:
    """Set each month's forecast; audited once with what changed. Returns how many changed."""
    assert measure.id is not None
    changes: dict[str, list[int | None]] = {}
    for month, forecast in sorted(entries.items()):
        stored = session.get(MeasureMonth, (measure.id, month)) or MeasureMonth(measure_id=measure.id, month=month)
        if stored.forecast != forecast:
            changes[f"{month:%Y-%m}"] = [stored.forecast, forecast]
            stored.forecast = forecast
            session.add(stored)
    if changes:
        record_audit(session=session, actor=actor, entity="measure", entity_key=measure.key,
                     action=action, detail=changes)  # fmt: skip
    return len(changes)
