"""A digest's rollups, as plain functions over DigestData (storage/digest_data.py loads it): counts
and targets from the stage groups, money by the definitions of domain/figures.py over the summed
months, the weighted forecasts, the breakdown by child unit and the chart's months."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.enums import Stage
from domain.figures import Figures, MonthTotal, figures
from domain.weights import weighted_total
from storage.digest_data import COMMITTED, IN_PROGRESS, DigestData, PackageMonth, StageForecast, StageGroup


@dataclass(frozen=True)
class MonthFigures:
    month: date
    plan: int
    forecast: int  # by the definitions: settled once the month is closed, else expected
    actual: int | None
    decided_plan: int = 0  # the plan at the decision (DI3)


def months_of(money: list[PackageMonth], *, closed_through: date) -> list[MonthFigures]:
    """Plan, forecast and actual by month (for the chart), summed over packages, by the definitions."""
    months: dict[date, MonthTotal] = {}
    for row in money:
        known = months.get(row.total.month)
        months[row.total.month] = row.total if known is None else known + row.total
    return [
        MonthFigures(
            m,
            total.plan,
            total.forecast(closed_through),
            total.actual if m <= closed_through else None,
            total.decided_plan,
        )
        for m, total in sorted(months.items())
    ]


@dataclass
class Rollup:
    measures: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    value_by_stage: Counter[str] = field(default_factory=Counter)
    impl: Counter[str] = field(default_factory=Counter)
    potential: Counter[str] = field(default_factory=Counter)
    money: Figures = field(default_factory=Figures)  # of the committed measures, in the fiscal year
    weighted: int = 0  # their forecast at their stages' weights (domain/weights.py)
    staged_forecast: int = 0  # the forecast of all measures DI0–DI5, in the fiscal year
    staged_weighted: int = 0  # … at their stages' weights
    blocked: int = 0
    overdue: int = 0
    delivered: int = 0  # implemented or realised

    @property
    def plan(self) -> int:
        return self.money.plan

    @property
    def decided_plan(self) -> int:
        return self.money.decided_plan

    @property
    def forecast(self) -> int:
        return self.money.forecast

    @property
    def actual(self) -> int:
        return self.money.actual

    @property
    def variance(self) -> int:
        return self.money.variance

    @property
    def variance_pct(self) -> Decimal | None:
        return self.money.variance_pct

    @property
    def in_progress(self) -> int:
        return sum(self.stages[s] for s in IN_PROGRESS)


def rollup(
    groups: list[StageGroup],
    money: list[PackageMonth],
    *,
    closed_through: date,
    staged: Iterable[StageForecast] = (),
) -> Rollup:
    """Counts and targets from the stage groups; plan, actual to date and forecast of the committed
    money by the definitions (domain/figures.figures over the summed months); the forecasts at the
    stages' weights, each sum rounded once (domain/weights.weighted_total)."""
    total = Rollup(money=figures((row.total for row in money), closed_through=closed_through))
    parts = [(s.forecast, s.weight, s.stage in COMMITTED) for s in staged]
    total.weighted = weighted_total((forecast, weight) for forecast, weight, committed in parts if committed)
    total.staged_forecast = sum(forecast for forecast, _, _ in parts)
    total.staged_weighted = weighted_total((forecast, weight) for forecast, weight, _ in parts)
    for g in groups:
        total.measures += g.measures
        total.stages[g.stage] += g.measures
        total.value_by_stage[g.stage] += g.target
        if g.in_progress:
            total.impl[g.impl_status] += g.measures
            total.blocked += g.blocked
            total.overdue += g.overdue
        if g.stage in (Stage.DI4, Stage.DI5):
            total.delivered += g.measures
    return total


def unit_rollup(data: DigestData) -> Rollup:
    """The rollup of the whole unit."""
    return rollup(data.groups, data.money, closed_through=data.closed_through, staged=data.staged)


def by_child(data: DigestData) -> list[tuple[str, Rollup]]:
    """The rollup of each of the unit's children that holds measures, in name order."""

    def child(package_id: int) -> str:
        return data.child_of_package.get(package_id, data.unit_name)

    groups: dict[str, list[StageGroup]] = {}
    money: dict[str, list[PackageMonth]] = {}
    staged: dict[str, list[StageForecast]] = {}
    for g in data.groups:
        groups.setdefault(child(g.package_id), []).append(g)
    for row in data.money:
        money.setdefault(child(row.package_id), []).append(row)
    for part in data.staged:
        staged.setdefault(child(part.package_id), []).append(part)
    closed = data.closed_through
    return [
        (name, rollup(groups[name], money.get(name, []), closed_through=closed, staged=staged.get(name, [])))
        for name in sorted(groups)
    ]
