"""The fiscal-year figures of many measures at once, for lists (App Home, `/measure list`): one query
for their months, each measure's figures by the money definitions (domain/figures.py) for its
organization's fiscal year and date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from domain.figures import Figures, Month, figures, fiscal_year, last_closed_month
from domain.money import MoneyStyle
from domain.schedule import zone
from storage.models import Measure, MeasureMonth
from storage.organization import organization_in, settings_of
from storage.queries import all_units


@dataclass(frozen=True)
class YearFigures:
    period: str  # the fiscal year's name
    figures: Figures
    style: MoneyStyle


def year_figures_of(*, session: Session, measures: Sequence[Measure], now: datetime) -> dict[int, YearFigures]:
    placed = {m.id: m.package_id for m in measures if m.id is not None}
    return year_figures_by_id(session=session, placed=placed, now=now)


def year_figures_by_id(*, session: Session, placed: Mapping[int, int | None], now: datetime) -> dict[int, YearFigures]:
    """Each measure's (id -> its package) fiscal-year figures."""
    ids = sorted(placed)
    if not ids:
        return {}
    months: dict[int, list[Month]] = {}
    query = select(MeasureMonth).where(col(MeasureMonth.measure_id).in_(ids))
    for m in session.exec(query).all():
        months.setdefault(m.measure_id, []).append(Month(m.month, m.plan, m.forecast, m.actual, m.decided_plan))
    units = {u.id: u for u in all_units(session=session)}
    shown: dict[int, YearFigures] = {}
    for measure_id in ids:
        settings = settings_of(organization_in(units, placed[measure_id]))
        today = now.astimezone(zone(settings.timezone)).date()
        period = fiscal_year(today, settings.fiscal_year_start)
        year = figures(months.get(measure_id, []), closed_through=last_closed_month(today), period=period)
        shown[measure_id] = YearFigures(period.name, year, settings.style)
    return shown
