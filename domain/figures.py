"""A measure's money figures, by one set of definitions (docs/money.md).

Per measure a monthly series of plan, forecast and actual, over as many years as the plan spans.
For any period (the organization's fiscal year, or the whole horizon):

- plan: the sum of the monthly plan;
- actual to date: the sum of the actuals of the closed months (a month is closed once it is over);
- forecast: for each month, its actual when it is closed and has one, else its forecast when one
  was given, else its plan;
- variance: forecast − plan, and as a percentage of the plan (none when the plan is 0);
- plan at decision: the sum of the plan as it was frozen when the measure was decided (DI3); the
  plan itself changes after that only by an approved re-baseline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Month:
    month: date  # its first day
    plan: int | None = None
    forecast: int | None = None
    actual: int | None = None
    decided_plan: int | None = None  # the plan frozen at the decision (DI3)


@dataclass(frozen=True)
class Period:
    """Months from `start` to `end`, both included (first days of months)."""

    start: date
    end: date

    def holds(self, month: date) -> bool:
        return self.start <= month <= self.end

    @property
    def name(self) -> str:
        return f"FY{self.end.year}" if self.start.month != 1 else str(self.start.year)


@dataclass(frozen=True)
class Figures:
    plan: int = 0
    actual: int = 0
    forecast: int = 0
    decided_plan: int = 0  # the plan at the decision (DI3); 0 before it

    @property
    def variance(self) -> int:
        return self.forecast - self.plan

    @property
    def variance_pct(self) -> Decimal | None:
        """The variance in % of the plan, to one decimal (exact arithmetic, rounded half up)."""
        if not self.plan:
            return None
        return (Decimal(100 * self.variance) / Decimal(self.plan)).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.plan + other.plan, self.actual + other.actual, self.forecast + other.forecast,
            self.decided_plan + other.decided_plan,
        )  # fmt: skip


@dataclass(frozen=True)
class MonthTotal:
    """One month of one measure, or of many summed (the digest's rollup sums these columns in SQL):
    all the definitions need of a month."""

    month: date
    plan: int = 0
    expected: int = 0  # its forecast, else its plan: what it brings while it is open
    settled: int = 0  # its actual, else its forecast, else its plan: what it brings once closed
    actual: int | None = None
    decided_plan: int = 0

    @classmethod
    def of(cls, month: Month) -> MonthTotal:
        expected = (month.plan or 0) if month.forecast is None else month.forecast
        settled = expected if month.actual is None else month.actual
        return cls(month.month, month.plan or 0, expected, settled, month.actual, month.decided_plan or 0)

    def forecast(self, closed_through: date) -> int:
        return self.settled if self.month <= closed_through else self.expected

    def __add__(self, other: MonthTotal) -> MonthTotal:
        actual = self.actual if other.actual is None else (self.actual or 0) + other.actual
        plan, expected, settled = self.plan + other.plan, self.expected + other.expected, self.settled + other.settled
        return MonthTotal(self.month, plan, expected, settled, actual, self.decided_plan + other.decided_plan)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def last_closed_month(today: date) -> date:
    """The latest month that is over on `today` (the month before today's)."""
    return add_months(first_of_month(today), -1)


def fiscal_year(today: date, start_month: int = 1) -> Period:
    """The fiscal year holding `today`, for an organization whose year begins in `start_month`."""
    if not 1 <= start_month <= 12:
        raise ValueError(f"a fiscal year starts in month 1 to 12, not {start_month}")
    year = today.year if today.month >= start_month else today.year - 1
    start = date(year, start_month, 1)
    return Period(start, add_months(start, 11))


def horizon(months: Iterable[Month]) -> Period | None:
    dates = [m.month for m in months]
    return Period(min(dates), max(dates)) if dates else None


def month_forecast(month: Month, closed_through: date) -> int:
    """What a month is expected to bring: its actual once closed, else its forecast, else its plan."""
    return MonthTotal.of(month).forecast(closed_through)


def figures(months: Iterable[Month | MonthTotal], *, closed_through: date, period: Period | None = None) -> Figures:
    """Plan, actual to date and forecast of the months in `period` (all of them when None): of one
    measure's months, or of months already summed over many measures."""
    plan = actual = forecast = decided = 0
    for month in months:
        total = month if isinstance(month, MonthTotal) else MonthTotal.of(month)
        if period is not None and not period.holds(total.month):
            continue
        plan += total.plan
        decided += total.decided_plan
        if total.month <= closed_through and total.actual is not None:
            actual += total.actual
        forecast += total.forecast(closed_through)
    return Figures(plan, actual, forecast, decided)


def months_in(period: Period) -> list[date]:
    months, month = [], period.start
    while month <= period.end:
        months.append(month)
        month = add_months(month, 1)
    return months


def spread_year_forecast(
    months: Iterable[Month], *, year_forecast: int, period: Period, closed_through: date
) -> dict[date, int]:
    """A year-end forecast typed at a check-in, as monthly forecasts for the period's open months.

    What the closed months already bring (their actuals, else forecast or plan) is kept; the rest
    of the year forecast is spread over the open months in proportion to their plan (evenly when
    they plan nothing), the remainder of the rounding on the last open month. With no open month
    left, nothing changes (the year is settled by its actuals)."""
    by_month = {m.month: m for m in months}
    opened = [month for month in months_in(period) if month > closed_through]
    if not opened:
        return {}
    settled = sum(month_forecast(m, closed_through) for d, m in by_month.items() if period.holds(d) and d not in opened)
    rest = year_forecast - settled
    weights = [max(by_month[d].plan or 0, 0) if d in by_month else 0 for d in opened]
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(opened), len(opened)
    shares = [rest * weight // total for weight in weights]
    shares[-1] += rest - sum(shares)
    return dict(zip(opened, shares, strict=True))


@dataclass(frozen=True)
class CheckinFigures:
    """The money an owner typed at a check-in (None where left empty)."""

    actual_last_month: int | None = None
    forecast_month: int | None = None
    forecast_year: int | None = None


def answered_months(months: Iterable[Month], typed: CheckinFigures, *, today: date, period: Period) -> list[Month]:
    """The months as a check-in answer leaves them: the actual of the last closed month, this
    month's forecast, and a year-end forecast spread over the fiscal year's open months (a month
    forecast given too keeps this month's figure, and the rest is spread after it)."""
    by_month = {m.month: m for m in months}
    this_month, last_month = first_of_month(today), last_closed_month(today)

    def put(month: date, *, forecast: int | None = None, actual: int | None = None) -> None:
        known = by_month.get(month, Month(month))
        if forecast is not None:
            known = replace(known, forecast=forecast)
        if actual is not None:
            known = replace(known, actual=actual)
        by_month[month] = known

    if typed.actual_last_month is not None:
        put(last_month, actual=typed.actual_last_month)
    if typed.forecast_month is not None:
        put(this_month, forecast=typed.forecast_month)
    if typed.forecast_year is not None:
        closed = this_month if typed.forecast_month is not None else last_month
        spread = spread_year_forecast(
            by_month.values(), year_forecast=typed.forecast_year, period=period, closed_through=closed
        )
        for month, forecast in spread.items():
            put(month, forecast=forecast)
    return [by_month[m] for m in sorted(by_month)]


def forecast_given(months: Iterable[Month], *, period: Period, closed_through: date) -> bool:
    """Whether the owner has said anything about the period's value yet: a forecast for one of its
    months, or an actual for one that is closed. Until then the potential status is unknown."""
    return any(
        period.holds(m.month) and (m.forecast is not None or (m.actual is not None and m.month <= closed_through))
        for m in months
    )
