"""An organization's settings: how it writes money, when its fiscal year starts, its timezone, and
the working calendar its people keep unless they set their own.

Changed as `key=value` words (`/measure org Acme currency=CHF locale=de`, `python -m bot org Acme
…`): every word is checked before anything is stored, and each bad one is named.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.calendar import DEFAULT_WORKING_DAYS, check_region, parse_working_days, working_days_text
from domain.money import DEFAULT_CURRENCY, DEFAULT_LOCALE, MoneyStyle, check_currency, check_locale
from domain.parsing import InputError, parse_key_prefix


@dataclass(frozen=True)
class OrganizationSettings:
    currency: str = DEFAULT_CURRENCY
    locale: str = DEFAULT_LOCALE
    fiscal_year_start: int = 1  # the month (1-12) the fiscal year begins
    timezone: str = "UTC"
    working_days: str = DEFAULT_WORKING_DAYS  # its people's, unless they set their own (domain/calendar.py)
    holidays: str = ""  # a holiday region (`DE`, `DE-BY`); "" for none
    key_prefix: str = "M"  # keys of measures created in Slack: M-13, or OPS-13

    @property
    def style(self) -> MoneyStyle:
        return MoneyStyle(self.currency, self.locale)

    def shown(self) -> dict[str, str]:
        """The settings under the names people type."""
        return {
            "currency": self.currency,
            "locale": self.locale,
            "fiscal-year-start": str(self.fiscal_year_start),
            "timezone": self.timezone,
            "working-days": self.working_days,
            "holidays": self.holidays or "none",
            "key-prefix": self.key_prefix,
        }


def _month(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 12:
        raise InputError(f"“{text}” is not a month: use 1 (January) to 12 (December)")
    return int(text)


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"“{text}” is not a timezone: use a name like Europe/Berlin") from None
    return text.strip()


SETTERS: dict[str, tuple[str, Any]] = {
    "currency": ("currency", check_currency),
    "locale": ("locale", check_locale),
    "fiscal-year-start": ("fiscal_year_start", _month),
    "timezone": ("timezone", _timezone),
    "working-days": ("working_days", lambda text: working_days_text(parse_working_days(text))),
    "holidays": ("holidays", check_region),
    "key-prefix": ("key_prefix", parse_key_prefix),
}


def parse_changes(words: list[str]) -> tuple[dict[str, Any], list[str]]:
    """`key=value` words -> (changes by field name, one sentence per bad word)."""
    changes: dict[str, Any] = {}
    errors: list[str] = []
    for word in words:
        key, equals, value = word.partition("=")
        setter = SETTERS.get(key.strip().lower())
        if not equals or setter is None:
            known = ", ".join(SETTERS)
            errors.append(f"“{word[:60]}”: write key=value with a key among {known}")
            continue
        field, check = setter
        try:
            changes[field] = check(value)
        except InputError as error:
            errors.append(f"{key}: {error}")
    return changes, errors


def changed(settings: OrganizationSettings, changes: dict[str, Any]) -> OrganizationSettings:
    return replace(settings, **changes)
