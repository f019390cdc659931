"""Text helpers for Slack: escaping user data, truncating within Block Kit limits, dates, money, statuses."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal, format_percent
from slack_sdk.models.blocks import (
    SectionBlock,
)

from domain.enums import ImplStatus, PotentialStatus
from domain.figures import Figures
from domain.money import MoneyStyle, format_amount, format_signed

MAX_TEXT = 3000


MAX_MESSAGE_BLOCKS = 50


STATUS_EMOJI = {
    "on_track": ":large_green_circle:",
    "at_risk": ":large_yellow_circle:",
    "off_track": ":red_circle:",
}


def slack_date(day: date) -> str:
    """A `<!date^…>` token: each reader sees the date in their own locale and timezone."""
    stamp = int(datetime.combine(day, time(12, 0), tzinfo=UTC).timestamp())
    return f"<!date^{stamp}^{{date_short}}|{day.isoformat()}>"


def slack_time(instant: datetime) -> str:
    return f"<!date^{int(instant.timestamp())}^{{date_short}} {{time}}|{instant.astimezone(UTC):%Y-%m-%d %H:%M} UTC>"


def money(value: int | None, style: MoneyStyle) -> str:
    """An amount with its currency, as the organization writes it (`—` for none)."""
    return format_amount(value, style)


def percent(value: Decimal, style: MoneyStyle) -> str:
    """A signed percentage to one decimal, in the organization's locale: `+3.6%` in en, `+3,6 %` in de
    (the locale's own spacing before the sign, from its CLDR percent pattern)."""
    gap = "\xa0" if "\xa0%" in Locale.parse(style.locale).percent_formats[None].pattern else ""
    return f"{format_decimal(value, format='+#,##0.0;-#,##0.0', locale=style.locale)}{gap}%"


def weight_text(percent: int, style: MoneyStyle) -> str:
    """A stage weight, as the locale writes a percentage: `50%` in en, `50 %` in de."""
    return format_percent(Decimal(percent) / 100, locale=style.locale)


def year_text(period: str, shown: Figures, style: MoneyStyle) -> str:
    """One line of a measure's fiscal year for lists and prompts: `2027: forecast €118,000 of €120,000 plan`."""
    return f"{period}: forecast {money(shown.forecast, style)} of {money(shown.plan, style)} plan"


def figures_text(shown: Figures, style: MoneyStyle) -> str:
    """plan · forecast · actual to date · variance (%), one definition everywhere (domain/figures.py)."""
    pct = "" if shown.variance_pct is None else f" ({percent(shown.variance_pct, style)})"
    return (
        f"plan {money(shown.plan, style)} · forecast {money(shown.forecast, style)} · actual to date"
        f" {money(shown.actual, style)} · variance {format_signed(shown.variance, style)}{pct}"
    )


def status_text(value: str, *, potential: bool = False) -> str:
    label = PotentialStatus(value).label if potential else ImplStatus(value).label
    return f"{STATUS_EMOJI.get(value, ':white_circle:')} {label}"


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BROADCAST_WORD = re.compile(r"@(?=(?:channel|everyone|here)\b)", re.IGNORECASE)


def escape(text: str) -> str:
    """User data made safe for Slack text (mrkdwn and every `text` fallback): `&`, `<` and `>` escaped
    as Slack documents, so `<!channel>`, `<@U…>` and `<https://…|…>` show as typed and never ping or
    link; a bare `@channel`/`@here`/`@everyone` gets a word joiner after its `@` so nothing reads it as
    a broadcast. The one function for every piece of user data placed in Slack text."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST_WORD.sub("@\u2060", escaped)


def pack_lines(lines: Iterable[str], *, max_sections: int) -> list[SectionBlock]:
    """Lines packed into as few sections as Slack's 3000-character text limit allows, at most
    `max_sections` of them (lines beyond that are left out: callers say how many were shown)."""
    sections: list[SectionBlock] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) > MAX_TEXT - 10:
            sections.append(SectionBlock(text="\n".join(chunk)))
            chunk, size = [], 0
            if len(sections) == max_sections:
                return sections
        chunk.append(line)
        size += len(line) + 1
    if chunk and len(sections) < max_sections:
        sections.append(SectionBlock(text="\n".join(chunk)))
    return sections
