"""A measure's money figures, by one set of definitions (docs/money.md).

Per measure a monthly series of plan, forecast and actual, over as many years as the plan spans.
For any period (the organization's fiscal year, or the whole horizon):

- plan: the sum of the monthly plan;
- actual to date: the sum of the actuals of the closed months (a month is closed once it is over);
- forecast: for each month, its actual when it is closed and has one, else its forecast when one
  was given, else its plan;
- variance: forecast − plan, and as a percentage of the plan (none when the plan is 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Month:
    month: date  # its first day
    plan: int | None = None
    forecast: int | None = None
    actual: int | None = None


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
        return Figures(self.plan + other.plan, self.actual + other.actual, self.forecast + other.forecast)


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
    if month.month <= closed_through and month.actual is not None:
        return month.actual
    if month.forecast is not None:
        return month.forecast
    return month.plan or 0


def figures(months: Iterable[Month], *, closed_through: date, period: Period | None = None) -> Figures:
    """Plan, actual to date and forecast of the months in `period` (all of them when None)."""
    plan = actual = forecast = 0
    for month in months:
        if period is not None and not period.holds(month.month):
            continue
        plan += month.plan or 0
        if month.month <= closed_through and month.actual is not None:
            actual += month.actual
        forecast += month_forecast(month, closed_through)
    return Figures(plan, actual, forecast)


def spread_year_forecast(
    months: Iterable[Month], *, year_forecast: int, period: Period, closed_through: date
) -> dict[date, int]:
    """A year-end forecast typed at a check-in, as monthly forecasts for the period's open months.

    What the closed months already bring (their actuals, else forecast or plan) is kept; the rest
    of the year forecast is spread over the open months in proportion to their plan (evenly when
    they plan nothing), the remainder of the rounding on the last open month. With no open month
    left, nothing changes (the year is settled by its actuals)."""
    by_month = {m.month: m for m in months}
    opened: list[date] = []
    month = max(period.start, add_months(closed_through, 1))
    while month <= period.end:
        opened.append(month)
        month = add_months(month, 1)
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
