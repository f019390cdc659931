"""The digest's chart: plan vs forecast vs actual by month, drawn to a PNG with Pillow (pure: figures
in, bytes out). Plan and forecast are lines, actuals are bars, so the gap is seen at a glance."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from storage.digest_data import MonthFigures

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 50, 60
PLAN, FORECAST, ACTUAL = (60, 110, 200), (230, 140, 30), (90, 170, 90)
GRID, INK = (225, 225, 225), (40, 40, 40)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def value_chart(months: Sequence[MonthFigures], *, title: str, start: date) -> bytes:
    """The twelve months from `start` (the fiscal year's first), in their order."""

    def slot_of(month: date) -> int:
        return (month.year - start.year) * 12 + month.month - start.month

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=16), ImageFont.load_default(size=12)
    draw.text((LEFT, 14), title[:90], fill=INK, font=font)
    top = max([1, *(max(m.plan, m.forecast, m.actual or 0) for m in months)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / 12

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / (top * 1.1)

    for step in range(6):  # grid and axis labels
        value = int(top * 1.1 * step / 5)
        draw.line((LEFT, y(value), WIDTH - RIGHT, y(value)), fill=GRID)
        draw.text((8, y(value) - 7), _short(value), fill=INK, font=small)
    for index in range(12):
        name = MONTHS[(start.month - 1 + index) % 12]
        draw.text((LEFT + slot * index + slot / 2 - 10, HEIGHT - BOTTOM + 8), name, fill=INK, font=small)
    for m in months:
        x = LEFT + slot * slot_of(m.month) + slot / 2
        if m.actual is not None:
            draw.rectangle((x - slot * 0.3, y(m.actual), x + slot * 0.3, y(0)), fill=ACTUAL)
    for color, values in ((PLAN, [(slot_of(m.month), m.plan) for m in months]),
                          (FORECAST, [(slot_of(m.month), m.forecast) for m in months])):  # fmt: skip
        points = [(LEFT + slot * index + slot / 2, y(value)) for index, value in values]
        if len(points) > 1:
            draw.line(points, fill=color, width=3)
        for px, py in points:
            draw.ellipse((px - 4, py - 4, px + 4, py + 4), fill=color)
    for index, (color, label) in enumerate(((PLAN, "plan"), (FORECAST, "forecast"), (ACTUAL, "actual"))):
        x = WIDTH - RIGHT - 270 + index * 90
        draw.rectangle((x, 20, x + 14, 34), fill=color)
        draw.text((x + 20, 20), label, fill=INK, font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _short(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.0f}k"
    return str(value)
