"""Actuals entered by month, validated and locked by the controller (rules: domain/actuals.py).

`record_actuals` is the one write path for the actuals modal and `import-actuals`: it checks every
entry against the stored months, writes them and their validation, and audits the change, all in
the caller's transaction; any refused entry refuses them all (ActualsRefused), nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from domain.actuals import KnownActual, closed_plan_months, entry_errors
from domain.figures import last_closed_month
from domain.money import MoneyStyle
from domain.organization import OrganizationSettings
from domain.schedule import zone
from storage.models import Measure, MeasureMonth
from storage.organization import organization_of, settings_of
from storage.queries import months_of, record_audit


class ActualsRefused(Exception):
    """Entries that cannot be stored, by month, with the reason; raised before anything is written."""

    def __init__(self, errors: dict[date, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class MonthActual:
    month: date
    plan: int | None
    actual: int | None
    validated_by: str | None


@dataclass(frozen=True)
class ActualsSheet:
    """A measure's actuals as the modal shows them: the closed months of its plan."""

    key: str
    title: str
    months: list[MonthActual]  # the closed months of the plan, oldest first
    style: MoneyStyle
    controller_id: str | None


def closed_through_of(*, session: Session, measure: Measure, now: datetime) -> date:
    """The last closed month, by the date of the measure's organization."""
    return closed_through_at(session=session, unit_id=measure.package_id, now=now)


def closed_through_at(*, session: Session, unit_id: int | None, now: datetime) -> date:
    """The last closed month, by the date of the organization the unit is in."""
    return _closed_through(settings_of(organization_of(session=session, unit_id=unit_id)), now)


def _closed_through(settings: OrganizationSettings, now: datetime) -> date:
    return last_closed_month(now.astimezone(zone(settings.timezone)).date())


def actuals_sheet(*, session: Session, measure: Measure, now: datetime) -> ActualsSheet:
    assert measure.id is not None
    rows = {m.month: m for m in months_of(session=session, measure_id=measure.id)}
    settings = settings_of(organization_of(session=session, unit_id=measure.package_id))
    months = closed_plan_months([m for m, row in rows.items() if row.plan is not None], _closed_through(settings, now))
    shown = [
        MonthActual(m, rows[m].plan, rows[m].actual, rows[m].actual_validated_by)
        if m in rows
        else MonthActual(m, None, None, None)
        for m in months
    ]
    return ActualsSheet(measure.key, measure.title, shown, settings.style, measure.controller_id)


def known_actuals(*, session: Session, measure_id: int) -> dict[date, KnownActual]:
    return {
        m.month: KnownActual(m.actual, m.actual_validated_by is not None)
        for m in months_of(session=session, measure_id=measure_id)
    }


def record_actuals(
    *,
    session: Session,
    measure: Measure,
    entries: Mapping[date, int | None],
    actor: str,
    validate: bool,
    reason: str,
    now: datetime,
) -> list[date]:
    """Store `entries` (month -> actual, None to clear) as `actor` enters them; `validate` (the
    controller's tick) validates every entered month that holds an actual. Returns the months that
    changed. Raises ActualsRefused, writing nothing, if any entry may not be stored."""
    assert measure.id is not None
    rows = {m.month: m for m in months_of(session=session, measure_id=measure.id)}
    known = {m: KnownActual(row.actual, row.actual_validated_by is not None) for m, row in rows.items()}
    closed = closed_through_of(session=session, measure=measure, now=now)
    open_to_entry = closed_plan_months([m for m, row in rows.items() if row.plan is not None], closed)
    controller = actor == measure.controller_id
    errors = entry_errors(entries, open_to_entry=open_to_entry, known=known, controller=controller, reason=reason)
    if errors:
        raise ActualsRefused(errors)
    changed: dict[str, list[int | None]] = {}
    validated: list[str] = []
    for month, actual in sorted(entries.items()):
        row = rows.get(month) or MeasureMonth(measure_id=measure.id, month=month)
        if row.actual != actual:
            changed[f"{month:%Y-%m}"] = [row.actual, actual]
            row.actual = actual
            if actual is None or not controller:
                row.actual_validated_by = row.actual_validated_at = None
        if validate and controller and row.actual is not None and row.actual_validated_by is None:
            row.actual_validated_by, row.actual_validated_at = actor, now
            validated.append(f"{month:%Y-%m}")
        session.add(row)
    if changed or validated:
        detail = {"actuals": changed, "validated": validated, **({"reason": reason.strip()} if reason.strip() else {})}
        record_audit(session=session, actor=actor, entity="measure", entity_key=measure.key, action="actuals_entered",
                     detail=detail)  # fmt: skip
    return sorted(date.fromisoformat(f"{m}-01") for m in changed)
