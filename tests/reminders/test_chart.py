"""The value chart (pure: figures in, PNG out): round currency ticks, the fiscal year in order, and
plan, forecast and actual each visible even where they coincide."""

from __future__ import annotations

import io
import itertools
from datetime import date

import pytest
from PIL import Image

from domain.figures import Period
from domain.money import MoneyStyle
from messages.chart import ACTUAL, CLOSED, DECIDED, FORECAST, PLAN, nice_ticks, tick_label, value_chart
from storage.digest_rollup import MonthFigures

FY2028 = Period(date(2027, 4, 1), date(2028, 3, 1))


def colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _count, colour in image.getcolors(maxcolors=1 << 20) or []}


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 37_000, [0, 10_000, 20_000, 30_000, 40_000]),
        (0, 250_000, [0, 50_000, 100_000, 150_000, 200_000, 250_000]),
        (0, 1_234_567, [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]),
        (-5_000, 50_000, [-20_000, 0, 20_000, 40_000, 60_000]),
        (0, 0, [0, 1]),
    ],
)
def test_ticks_are_round_and_cover_every_value(low: int, high: int, expected: list[int]) -> None:
    ticks = nice_ticks(low, high)
    assert ticks == expected and ticks[0] <= min(low, 0) and ticks[-1] >= high
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1


def test_tick_labels_carry_the_currency_in_the_locale() -> None:
    assert tick_label(250_000, MoneyStyle("EUR", "de")) == "250.000\xa0€"
    assert tick_label(250_000, MoneyStyle("EUR", "en")) == "€250,000"
    assert tick_label(1_500_000, MoneyStyle("EUR", "de")) == "1,5\xa0Mio.\xa0€"
    assert tick_label(-5_000, MoneyStyle("USD", "en")) == "-$5,000"


def test_coinciding_lines_all_stay_visible_and_closed_months_are_shaded() -> None:
    months = [
        MonthFigures(date(2027 + (m < 4), m, 1), 10_000, 10_000, 10_000 if m in (4, 5, 6) else None)
        for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
    ]  # the forecast and the actual sit exactly on the plan
    png = value_chart(months, title="Ops", period=FY2028, closed_through=date(2027, 6, 1))
    assert png.startswith(b"\x89PNG")
    assert {PLAN, FORECAST, ACTUAL, CLOSED} <= colours(png)
    open_year = value_chart(months, title="Ops", period=FY2028, closed_through=date(2027, 3, 1))
    assert CLOSED not in colours(open_year)  # nothing of the fiscal year is closed yet


def test_without_an_installed_font_the_text_keeps_to_the_builtin_glyphs(monkeypatch: pytest.MonkeyPatch) -> None:
    from messages import chart

    monkeypatch.setattr(chart, "FONT_FILE", "no-such-font.ttf")
    chart._font.cache_clear()
    try:
        assert chart._font(12)[1] is True
        png = value_chart([MonthFigures(date(2027, 4, 1), 1, 1, None)], title="Ops – €", period=FY2028,
                          style=MoneyStyle("EUR", "de"))  # fmt: skip
        assert png.startswith(b"\x89PNG")
    finally:
        chart._font.cache_clear()


def test_the_plan_at_the_decision_is_drawn_only_where_a_rebaseline_moved_the_plan() -> None:
    def months(decided: int) -> list[MonthFigures]:
        return [MonthFigures(date(2027 + (m < 4), m, 1), 11_000, 11_000, None, decided) for m in (4, 5, 6, 7, 1, 2, 3)]

    assert DECIDED in colours(value_chart(months(10_000), title="Ops", period=FY2028))
    assert DECIDED not in colours(value_chart(months(11_000), title="Ops", period=FY2028))
