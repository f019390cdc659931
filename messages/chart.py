"""The digest's chart: plan vs forecast vs actual by month over the fiscal year, drawn to a PNG with
Pillow (pure: figures in, bytes out).

Three distinct lines that stay visible when they coincide: the plan wide and pale underneath, the
forecast dashed on top of it, the actual solid with markers over the closed months only; and,
where a re-baseline moved the plan, a thin dotted line for the plan at the decision. The
y axis has round ticks in the organization's currency and locale (`€250,000`, `250.000 €`,
`1,5 Mio. €`); the closed months are shaded and the fiscal year is named, with its months in order
and the calendar year under its first month and under each January.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache

from babel.numbers import format_compact_currency
from PIL import Image, ImageDraw, ImageFont

from domain.figures import Period, add_months
from domain.money import DEFAULT_STYLE, MoneyStyle, format_amount
from storage.digest_rollup import MonthFigures

WIDTH, HEIGHT = 900, 440
LEFT, RIGHT, TOP, BOTTOM = 110, 30, 70, 70
PLAN, FORECAST, ACTUAL = (150, 180, 235), (220, 120, 20), (30, 130, 60)
DECIDED = (90, 90, 150)  # the plan at the decision, drawn only where a re-baseline moved the plan
GRID, INK, CLOSED = (225, 225, 225), (40, 40, 40), (236, 242, 250)  # closed: a pale blue no text blends into
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Pillow's built-in font has no glyph for these: used only when no DejaVu Sans is installed.
_PLAIN = str.maketrans({"\xa0": " ", "\u202f": " ", "–": "-", "€": "EUR ", "£": "GBP ", "¥": "JPY "})
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
FONT_FILE = "DejaVuSans.ttf"  # found by FreeType in the system's font directories


@lru_cache(maxsize=4)
def _font(size: int) -> tuple[Font, bool]:
    """DejaVu Sans (Debian's fonts-dejavu) when installed, else Pillow's own; and whether it is the
    latter, whose text must be kept to the glyphs it has."""
    try:
        return ImageFont.truetype(FONT_FILE, size), False
    except OSError:
        return ImageFont.load_default(size=size), True


def _text(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, size: int, *, right: bool = False) -> None:
    font, plain = _font(size)
    shown = text.translate(_PLAIN) if plain else text
    left = at[0] - draw.textlength(shown, font=font) if right else at[0]
    draw.text((left, at[1]), shown, fill=INK, font=font)


def nice_ticks(low: int, high: int, *, count: int = 5) -> list[int]:
    """Round tick values from at most `low` (0 or below) to at least `high`: steps of 1, 2, 2.5 or 5
    times a power of ten, about `count` of them."""
    low, high = min(low, 0), max(high, 1)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(int(power * f) for f in (1, 2, 2.5, 5, 10) if power * f >= raw and power * f == int(power * f))
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def tick_label(value: int, style: MoneyStyle) -> str:
    """A tick as the organization writes money: whole below a million, compact above."""
    if abs(value) >= 1_000_000:
        return str(format_compact_currency(value, style.currency, locale=style.locale, fraction_digits=1))
    return format_amount(value, style)


def value_chart(
    months: Sequence[MonthFigures],
    *,
    title: str,
    period: Period,
    closed_through: date | None = None,
    style: MoneyStyle = DEFAULT_STYLE,
) -> bytes:
    """The twelve months of the fiscal year `period`, in their order."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    values = [v for m in months for v in (m.plan, m.forecast, m.actual, m.decided_plan) if v is not None]
    ticks = nice_ticks(min([0, *values]), max([1, *values]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / 12

    def x(month: date) -> float:
        index = (month.year - period.start.year) * 12 + month.month - period.start.month
        return LEFT + slot * index + slot / 2

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * (value - ticks[0]) / (ticks[-1] - ticks[0])

    _frame(draw, period, closed_through, ticks, y, style)
    by_month = sorted(months, key=lambda m: m.month)
    _line(draw, [(x(m.month), y(m.plan)) for m in by_month], PLAN, width=9, marker=0)
    rebaselined = any(m.decided_plan and m.decided_plan != m.plan for m in by_month)
    if rebaselined:
        _line(draw, [(x(m.month), y(m.decided_plan)) for m in by_month], DECIDED, width=1, marker=2, dashed=True)
    _line(draw, [(x(m.month), y(m.forecast)) for m in by_month], FORECAST, width=3, marker=4, dashed=True)
    _line(draw, [(x(m.month), y(m.actual)) for m in by_month if m.actual is not None], ACTUAL, width=3, marker=6)
    _text(draw, (LEFT, 12), title[:90], 16)
    _legend(draw, rebaselined=rebaselined)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _frame(
    draw: ImageDraw.ImageDraw, period: Period, closed: date | None, ticks: list[int], y: Callable[[int], float],
    style: MoneyStyle,
) -> None:  # fmt: skip
    """Shaded closed months, the grid with currency ticks, the month names and the fiscal year."""
    slot = (WIDTH - LEFT - RIGHT) / 12
    first_open = 0 if closed is None else (closed.year - period.start.year) * 12 + closed.month - period.start.month + 1
    if first_open > 0:
        right = LEFT + slot * min(first_open, 12)
        draw.rectangle((LEFT, TOP, right, HEIGHT - BOTTOM), fill=CLOSED)
        _text(draw, (LEFT + 4, TOP + 4), "closed", 12)
    for value in ticks:
        draw.line((LEFT, y(value), WIDTH - RIGHT, y(value)), fill=INK if value == 0 else GRID)
        _text(draw, (LEFT - 8, y(value) - 7), tick_label(value, style), 12, right=True)
    for index in range(12):
        month = add_months(period.start, index)
        left = LEFT + slot * index
        _text(draw, (left + slot / 2 - 10, HEIGHT - BOTTOM + 8), MONTHS[month.month - 1], 12)
        if index == 0 or month.month == 1:
            _text(draw, (left + slot / 2 - 14, HEIGHT - BOTTOM + 24), str(month.year), 12)
            if index:
                draw.line((left, TOP, left, HEIGHT - BOTTOM), fill=GRID, width=1)
    name = f"Fiscal year {period.name}: {period.start:%b %Y} – {period.end:%b %Y}"
    _text(draw, (LEFT, 36), name, 12)


def _line(
    draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], color: tuple[int, int, int], *, width: int,
    marker: int, dashed: bool = False,
) -> None:  # fmt: skip
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if not dashed:
            draw.line((x0, y0, x1, y1), fill=color, width=width)
            continue
        pieces = 8
        for k in range(0, pieces, 2):
            a, b = k / pieces, (k + 1) / pieces
            draw.line((x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                      fill=color, width=width)  # fmt: skip
    for px, py in points:
        if marker:
            draw.ellipse((px - marker, py - marker, px + marker, py + marker), fill=color)
        elif len(points) == 1:
            draw.ellipse((px - width, py - width, px + width, py + width), fill=color)


def _legend(draw: ImageDraw.ImageDraw, *, rebaselined: bool) -> None:
    keys = [(PLAN, "plan", 9), (FORECAST, "forecast", 3), (ACTUAL, "actual", 3)]
    if rebaselined:
        keys.insert(1, (DECIDED, "plan at decision", 1))
    widths = [100] * len(keys) if not rebaselined else [100, 140, 100, 100]
    for index, (color, label, width) in enumerate(keys):
        left = WIDTH - RIGHT - sum(widths) + sum(widths[:index])
        draw.line((left, 45, left + 28, 45), fill=color, width=width)
        _text(draw, (left + 34, 38), label, 12)
