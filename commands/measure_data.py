"""Loading what the measure listeners render (sync; each runs inside one short transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from domain.custom_fields import show_value
from domain.enums import Level, Stage
from domain.escalation_rules import PortfolioRules
from domain.figures import figures, fiscal_year, horizon, last_closed_month
from domain.gate_policy import GateFacts, readiness
from domain.governance import FieldType
from domain.schedule import zone
from domain.stage_gates import next_stage
from domain.weights import StageWeights
from messages.cards import MeasureCard
from messages.measure_form import PackageChoice
from messages.text import escape
from storage.custom_values import values_of
from storage.escalations import open_causes_of
from storage.governance import policy_in_force
from storage.measures import facts_of
from storage.models import Measure, Unit
from storage.organization import settings_of
from storage.queries import (
    all_units,
    find_units_by_name,
    month_series,
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


def unit_named(session: Session, name: str, *, none_found: str) -> Unit | str:
    """The one unit called `name` (any case), or the sentence to say: the paths of those that share
    the name, or `none_found`."""
    units = find_units_by_name(session=session, name=name)
    if len(units) == 1:
        return units[0]
    paths = [" › ".join(u.name for u in unit_path(session=session, unit=unit)) for unit in units[:10]]
    if paths:
        return f"More than one unit is called “{escape(name)}”: " + "; ".join(map(escape, paths))
    return none_found


def weights_of(path: list[Unit]) -> StageWeights:
    """The stage weights of the portfolio on a package's path (the defaults without one)."""
    portfolio = next((u for u in path if u.level == Level.PORTFOLIO), None)
    return PortfolioRules.parse(portfolio.rules if portfolio else None).weights


def measure_card(
    *, session: Session, measure: Measure, now: datetime, can_edit: bool, can_request: bool = False
) -> MeasureCard:
    assert measure.id is not None
    package = session.get(Unit, measure.package_id)
    path = unit_path(session=session, unit=package) if package else []
    settings = settings_of(next((u for u in path if u.level == Level.ORGANIZATION), None))
    months = month_series(session=session, measure_id=measure.id)
    today = now.astimezone(zone(settings.timezone)).date()  # the organization's date decides its months
    closed, year = last_closed_month(today), fiscal_year(today, settings.fiscal_year_start)
    upcoming = next_stage(Stage(measure.stage))
    facts = facts_of(session=session, measure=measure)  # the children too, loaded once for the card
    policy = policy_in_force(session=session, package_id=measure.package_id).policy  # the gates in force
    custom = values_of(session=session, measure_id=measure.id)
    missing = readiness(policy, upcoming, GateFacts(facts, custom)) if upcoming else []
    shown = [(f.label, show_value(f, custom[f.name], settings.style), f.type == FieldType.USER)
             for f in (policy.fields if policy else ()) if custom.get(f.name)]  # fmt: skip
    return MeasureCard(
        measure=measure,
        package_path=" › ".join(u.name for u in path),
        year=figures(months, closed_through=closed, period=year),
        whole=figures(months, closed_through=closed),
        period=year.name,
        horizon=horizon(months),
        risks=[(r.severity, r.text, r.mitigation) for r in facts.draft.risks or []],
        dependency_keys=facts.draft.dependency_keys or [],
        evidence_urls=facts.draft.evidence_urls or [],
        missing_for_next=missing,
        next_stage=upcoming,
        can_edit=can_edit,
        custom=shown,
        can_request=can_request,
        open_escalations=open_causes_of(session=session, measure_id=measure.id),
        style=settings.style,
        weight=weights_of(path).of(measure.stage),
    )
