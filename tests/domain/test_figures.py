"""The money definitions (domain/figures.py, docs/money.md): a worked example, and properties over
random measures and histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.figures import (
    Figures,
    Month,
    Period,
    add_months,
    figures,
    fiscal_year,
    horizon,
    last_closed_month,
    spread_year_forecast,
)

# The worked example of docs/money.md: plan 10k a month Jan-Jun 2027, 20k Jul-Dec; on 2027-04-15
# March is the last closed month; actuals Jan 8k, Feb 9k, Mar none; a forecast of 12k for May.
EXAMPLE = [Month(date(2027, m, 1), plan=10_000 if m <= 6 else 20_000) for m in range(1, 13)]
EXAMPLE[0] = replace(EXAMPLE[0], actual=8_000)
EXAMPLE[1] = replace(EXAMPLE[1], actual=9_000)
EXAMPLE[4] = replace(EXAMPLE[4], forecast=12_000)
TODAY = date(2027, 4, 15)


def test_the_worked_example() -> None:
    closed = last_closed_month(TODAY)
    assert closed == date(2027, 3, 1)
    year = figures(EXAMPLE, closed_through=closed, period=fiscal_year(TODAY))
    # forecast: 8k + 9k (actuals) + 10k (Mar: plan, no actual) + 10k (Apr) + 12k (May) + 10k + 6 × 20k
    assert year == Figures(plan=180_000, actual=17_000, forecast=179_000)
    assert (year.variance, year.variance_pct) == (-1_000, Decimal("-0.6"))


def test_a_fiscal_year_that_starts_in_april() -> None:
    assert fiscal_year(date(2027, 3, 31), 4) == Period(date(2026, 4, 1), date(2027, 3, 1))
    assert fiscal_year(date(2027, 4, 1), 4) == Period(date(2027, 4, 1), date(2028, 3, 1))
    assert fiscal_year(date(2027, 4, 1), 4).name == "FY2028" and fiscal_year(TODAY).name == "2027"
    with pytest.raises(ValueError):
        fiscal_year(TODAY, 13)
    april_on = figures(EXAMPLE, closed_through=date(2027, 3, 1), period=fiscal_year(TODAY, 4))
    assert april_on.plan == 3 * 10_000 + 6 * 20_000  # Apr-Dec 2027 of this plan


def test_a_year_forecast_becomes_monthly_forecasts_that_sum_to_it() -> None:
    period, closed = fiscal_year(TODAY), last_closed_month(TODAY)
    spread = spread_year_forecast(EXAMPLE, year_forecast=150_000, period=period, closed_through=closed)
    assert sorted(spread) == [date(2027, m, 1) for m in range(4, 13)]
    # closed months keep what they bring (8k + 9k + 10k); 123k over Apr-Dec in proportion to the plan
    assert spread[date(2027, 4, 1)] == 123_000 * 10_000 // 150_000
    months = [replace(m, forecast=spread.get(m.month, m.forecast)) for m in EXAMPLE]
    assert figures(months, closed_through=closed, period=period).forecast == 150_000
    assert spread_year_forecast(EXAMPLE, year_forecast=1, period=Period(date(2026, 1, 1), date(2026, 12, 1)),
                                closed_through=closed) == {}  # fmt: skip


amounts = st.integers(min_value=-(10**7), max_value=10**9)
months_st = st.lists(
    st.tuples(st.integers(0, 47), st.none() | amounts, st.none() | amounts, st.none() | amounts),
    max_size=40,
    unique_by=lambda t: t[0],
)


def series(raw: list[tuple[int, int | None, int | None, int | None]]) -> list[Month]:
    return [Month(add_months(date(2026, 1, 1), i), p, f, a) for i, p, f, a in raw]


@given(months_st, st.integers(0, 60), st.integers(1, 12))
def test_the_fiscal_years_add_up_to_the_horizon(raw: list, today_index: int, start: int) -> None:
    months = series(raw)
    today = add_months(date(2026, 1, 1), today_index)
    closed = last_closed_month(today)
    whole = figures(months, closed_through=closed)
    span = horizon(months)
    parts, year = Figures(), fiscal_year(date(2025, 12, 1), start)
    while span is not None and year.start <= span.end:
        parts = parts + figures(months, closed_through=closed, period=year)
        year = fiscal_year(add_months(year.end, 1), start)
    assert parts == whole
    assert whole.actual == sum(m.actual or 0 for m in months if m.month <= closed)
    assert whole.forecast - whole.actual == sum(
        (m.forecast if m.forecast is not None else m.plan or 0)
        for m in months
        if not (m.month <= closed and m.actual is not None)
    )


@given(months_st, st.integers(0, 60), st.integers(-(10**9), 10**10))
def test_a_spread_year_forecast_always_sums_to_what_was_typed(raw: list, today_index: int, typed: int) -> None:
    months = series(raw)
    today = add_months(date(2026, 1, 1), today_index)
    period, closed = fiscal_year(today), last_closed_month(today)
    spread = spread_year_forecast(months, year_forecast=typed, period=period, closed_through=closed)
    if not spread:
        return
    by_month = {m.month: m for m in months}
    updated = [replace(by_month.get(d, Month(d)), forecast=v) for d, v in spread.items()]
    updated += [m for m in months if m.month not in spread]
    assert figures(updated, closed_through=closed, period=period).forecast == typed
