"""Loading what the measure listeners render (sync; each runs inside one short transaction)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from domain.enums import Level, Stage
from domain.stage_gates import missing_for, next_stage
from messages.cards import MeasureCard, Totals
from messages.measure_form import PackageChoice
from storage.escalations import open_causes_of
from storage.measures import facts_of
from storage.models import Measure, Unit
from storage.organization import settings_of
from storage.queries import (
    all_units,
    months_of,
    path_in,
    unit_path,
)


def package_choices(*, session: Session) -> list[PackageChoice]:
    units = {u.id: u for u in all_units(session=session)}
    choices = []
    for unit in units.values():
        if unit.level != Level.PACKAGE or unit.id is None:
            continue
        path = path_in(units, unit)
        choices.append(
            PackageChoice(unit.id, " › ".join(u.name for u in path[:2]), " › ".join(u.name for u in path[2:]))
        )
    return sorted(choices, key=lambda c: (c.group, c.label))


def measure_card(
    *, session: Session, measure: Measure, year: int, can_edit: bool, can_request: bool = False
) -> MeasureCard:
    assert measure.id is not None
    package = session.get(Unit, measure.package_id)
    path = unit_path(session=session, unit=package) if package else []
    all_months = months_of(session=session, measure_id=measure.id)
    years = sorted({m.month.year for m in all_months})
    if years and year not in years:  # show the plan's first year until the current year has figures
        year = next((y for y in years if y > year), years[-1])
    months = [m for m in all_months if m.month.year == year]
    upcoming = next_stage(Stage(measure.stage))
    facts = facts_of(session=session, measure=measure)  # the children too, loaded once for the card
    missing = missing_for(upcoming, facts) if upcoming else []
    return MeasureCard(
        measure=measure,
        package_path=" › ".join(u.name for u in path),
        year=year,
        totals=Totals(
            _total([m.plan for m in months]),
            _total([m.forecast for m in months]),
            _total([m.actual for m in months]),
        ),
        risks=[(r.severity, r.text, r.mitigation) for r in facts.draft.risks or []],
        dependency_keys=facts.draft.dependency_keys or [],
        evidence_urls=facts.draft.evidence_urls or [],
        missing_for_next=missing,
        next_stage=upcoming,
        can_edit=can_edit,
        can_request=can_request,
        open_escalations=open_causes_of(session=session, measure_id=measure.id),
        style=settings_of(next((u for u in path if u.level == Level.ORGANIZATION), None)).style,
    )


def _total(values: Sequence[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None
