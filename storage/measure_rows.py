"""Every measure under a unit as one row each, with its fiscal-year figures: what a spreadsheet of
them holds (the digest's attached detail). Three queries, whatever the count: the measures with
their owners, their months, the unit tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.enums import Stage
from domain.money import MoneyStyle
from storage.models import Measure, Person
from storage.organization import organization_in, settings_of
from storage.tree import UnitTree
from storage.year_figures import year_figures_by_id


@dataclass(frozen=True)
class MeasureRow:
    key: str
    title: str
    unit: str  # the package's path under the unit the rows are for
    stage: str
    owner: str
    implementation: str
    potential: str
    due: date | None
    plan: int
    forecast: int
    actual: int


@dataclass(frozen=True)
class MeasureRows:
    unit_name: str
    period: str  # the fiscal year the figures are for
    style: MoneyStyle
    rows: list[MeasureRow]


def measure_rows(*, session: Session, unit_id: int, now: datetime) -> MeasureRows:
    """The unit's measures by key order, cancelled ones included (their stage says so)."""
    tree = UnitTree.load(session=session)
    packages = tree.packages_under(unit_id)
    owner = aliased(Person)
    query = (
        select(Measure, owner.name)
        .outerjoin(owner, col(owner.slack_id) == col(Measure.owner_id))
        .where(col(Measure.package_id).in_(packages))
        .order_by(col(Measure.number))
    )
    found = list(session.exec(query).all()) if packages else []
    figures = year_figures_by_id(session=session, placed={m.id or 0: m.package_id for m, _ in found}, now=now)
    style = settings_of(organization_in(tree.units, unit_id)).style
    below = len(tree.path(unit_id))
    rows = []
    period = ""
    for measure, owner_name in found:
        year = figures.get(measure.id or 0)
        period = period or (year.period if year else "")
        place = " › ".join(u.name for u in tree.path(measure.package_id)[below:]) or tree.units[unit_id].name
        rows.append(MeasureRow(
            measure.key, measure.title, place, Stage(measure.stage).label, owner_name or measure.owner_id or "",
            measure.impl_status, measure.potential_status, measure.due,
            year.figures.plan if year else 0, year.figures.forecast if year else 0, year.figures.actual if year else 0,
        ))  # fmt: skip
    return MeasureRows(tree.units[unit_id].name, period, style, rows)
