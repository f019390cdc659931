"""Amounts as an organization writes them: parsed and formatted with Babel for its locale and currency.

Amounts are whole units of the organization's currency (integers, never floats): a savings
programme plans in euros, not cents. What a person types is read the way a reader of the
organization's locale means it (`de`: `2,5k` = 2.500, `1.250.000`, `1,5 Mio`, `250.000 €`;
`en`: `1,250,000`, `1.5m`, `€250k`), and refused, with the reading shown, when it could be read two
ways, carries cents, or names another currency. Nothing is ever scaled silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_name,
    get_currency_symbol,
    get_decimal_symbol,
    is_currency,
    parse_decimal,
)

from domain.parsing import MAX_AMOUNT, InputError

LOCALES = ("en", "de")
DEFAULT_CURRENCY = "EUR"
DEFAULT_LOCALE = "en"
# Scale words a reader of each locale writes after a number; matched without case and trailing dot.
SCALES: dict[str, dict[str, int]] = {
    "en": {"k": 1_000, "m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000},
    "de": {"k": 1_000, "tsd": 1_000, "mio": 1_000_000, "mrd": 1_000_000_000},
}
_SCALE_EXAMPLE = {"en": "250k or 1.5m", "de": "250k or 1,5 Mio"}
_LANGUAGE = {"en": "English", "de": "German"}
_SYMBOLS = "€$£¥₣"
_SPLIT = re.compile(r"^(?P<number>[\d.,'\s\u00a0\u202f]*\d)\s*(?P<scale>[^\W\d_]+\.?)?$")
_SPACED_GROUPS = re.compile(r"^\d{1,3}([\s\u00a0\u202f']\d{3})+([.,]\d+)?$")


@dataclass(frozen=True)
class MoneyStyle:
    """How one organization writes amounts: its currency (ISO 4217) and locale (`en` or `de`)."""

    currency: str = DEFAULT_CURRENCY
    locale: str = DEFAULT_LOCALE

    def __post_init__(self) -> None:
        if self.locale not in LOCALES:
            raise ValueError(f"locale must be one of {LOCALES}, not {self.locale!r}")
        if not is_currency(self.currency):
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency")


DEFAULT_STYLE = MoneyStyle()


def check_currency(text: str) -> str:
    code = text.strip().upper()
    if not is_currency(code):
        raise InputError(f"“{text.strip()}” is not a currency: use an ISO 4217 code, like EUR, USD or CHF")
    return code


def check_locale(text: str) -> str:
    code = text.strip().lower()
    if code not in LOCALES:
        raise InputError(f"“{text.strip()}” is not a language Pacekeeper writes: use en or de")
    return code


def format_amount(value: int | None, style: MoneyStyle) -> str:
    """`250.000 €` (de) or `€250,000` (en); `—` for no figure."""
    if value is None:
        return "—"
    shown = format_currency(value, style.currency, locale=style.locale, format=_pattern(style), currency_digits=False)
    return str(shown)


def format_signed(value: int | None, style: MoneyStyle) -> str:
    """A change, with its sign: `+12.000 €`, `-3.000 €` (zero plain)."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + format_amount(value, style)


def format_number(value: Decimal | int, locale: str) -> str:
    return str(format_decimal(value, locale=locale, decimal_quantization=False))


def parse_amount(text: str, style: MoneyStyle, *, negative: bool = True) -> int:
    """What a person typed, read as a reader of the organization's locale means it -> whole units."""
    raw = " ".join(text.split())
    if not raw:
        raise InputError("An amount is empty: give a number, like " + _SCALE_EXAMPLE[style.locale])
    if _PLAIN.fullmatch(raw):  # digits alone (an ERP's or a spreadsheet's): the same in every locale
        return _checked(int(raw), raw, negative=negative)
    body, sign = _strip_sign(_strip_currency(raw, style))
    match = _SPLIT.match(body)
    if not match:
        raise InputError(f"“{raw}” is not an amount: use digits, like {_SCALE_EXAMPLE[style.locale]}")
    scale = _scale(match["scale"], raw, style)
    try:
        value = _number(match["number"], raw, style) * scale * sign
    except Ambiguous as two:
        first, second = (format_amount_exact(v * scale * sign, style) for v in (two.reading, two.other))
        doubt = f"“{raw}” could be read as {first} or as {second}"
        raise InputError(f"{doubt}: write it with no doubt, like {second}") from None
    if value != value.to_integral_value():
        reading = format_amount_exact(value, style)
        raise InputError(
            f"“{raw}” reads as {reading}: amounts are whole {_plural(style.currency)} here."
            f" Round it, like {format_amount(int(value), style)}."
        )
    return _checked(int(value), raw, negative=negative)


_PLAIN = re.compile(r"-?[0-9]{1,19}")


def _checked(value: int, raw: str, *, negative: bool) -> int:
    if abs(value) >= MAX_AMOUNT:
        raise InputError(f"“{raw}” is too large for an amount")
    if value < 0 and not negative:
        raise InputError(f"“{raw}” is negative: this amount cannot be below zero")
    return value


def _plural(currency: str) -> str:
    return str(get_currency_name(currency, count=2, locale="en")).lower()


class Ambiguous(Exception):
    def __init__(self, reading: Decimal, other: Decimal) -> None:
        super().__init__(f"{reading} or {other}")
        self.reading, self.other = reading, other


def format_amount_exact(value: Decimal, style: MoneyStyle) -> str:
    """An amount with whatever fraction it has (for showing how a typed value reads)."""
    if value == value.to_integral_value():
        return format_amount(int(value), style)
    return str(format_currency(value, style.currency, locale=style.locale, currency_digits=False))


def parse_monthly_plan(text: str | None, style: MoneyStyle) -> dict[date, int]:
    """Lines like '2027-01: 10k' -> {date(2027, 1, 1): 10000}, amounts as the organization writes them."""
    plan: dict[date, int] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*[:=]\s*(.+?)\s*", line)
        if not match or not 1 <= int(match[2]) <= 12:
            raise InputError(f"line {number}: write each month as “YYYY-MM: amount”, like “2027-01: 10k”")
        month = date(int(match[1]), int(match[2]), 1)
        if month in plan:
            raise InputError(f"line {number}: {month:%Y-%m} is listed twice")
        try:
            plan[month] = parse_amount(match[3], style)
        except InputError as error:
            raise InputError(f"line {number}: {error}") from None
    return plan


@lru_cache(maxsize=32)
def _pattern(style: MoneyStyle) -> str:
    """The locale's currency pattern without decimals (whole units only)."""
    pattern = Locale.parse(style.locale).currency_formats["standard"].pattern.split(";")[0]
    return re.sub(r"0\.0+", "0", pattern)


def _strip_currency(raw: str, style: MoneyStyle) -> str:
    """The amount without its currency mark; refused when the mark is another currency's."""
    own = {style.currency.lower(), get_currency_symbol(style.currency, locale=style.locale).lower()}
    for mark in re.findall(rf"[{_SYMBOLS}]|\b[A-Za-z]{{3}}\b", raw):
        lowered = mark.lower()
        if lowered in own or (mark in _SYMBOLS and _symbol_is(mark, style.currency)):
            continue
        if mark in _SYMBOLS or is_currency(mark.upper()):
            raise InputError(
                f"“{raw}” is in another currency: amounts here are in {style.currency}. Pacekeeper never converts."
            )
    stripped = re.sub(rf"[{_SYMBOLS}]|\b{style.currency}\b", "", raw, flags=re.IGNORECASE)
    return stripped.strip()


def _symbol_is(mark: str, currency: str) -> bool:
    return any(get_currency_symbol(currency, locale=code) == mark for code in LOCALES)


def _strip_sign(body: str) -> tuple[str, int]:
    if body[:1] in ("-", "\u2212"):
        return body[1:].strip(), -1
    return body, 1


def _scale(word: str | None, raw: str, style: MoneyStyle) -> int:
    if word is None:
        return 1
    key = word.lower().rstrip(".")
    scales = SCALES[style.locale]
    if key in scales:
        return scales[key]
    known = ", ".join(sorted(scales))
    raise InputError(f"“{raw}”: “{word}” is not a scale Pacekeeper reads in {_LANGUAGE[style.locale]}; use {known}")


def _number(digits: str, raw: str, style: MoneyStyle) -> Decimal:
    """The digits read strictly in the locale; a reading that fits only the other locale is refused."""
    compact = digits.replace("\u00a0", " ").replace("\u202f", " ")
    if _SPACED_GROUPS.match(compact):
        compact = re.sub(r"[\s']", "", compact)
    try:
        value = Decimal(parse_decimal(compact, locale=style.locale, strict=True))
    except NumberFormatError as error:
        raise InputError(_misread(raw, compact, style, error)) from None
    decimal_mark = get_decimal_symbol(style.locale)
    if re.fullmatch(rf"\d{{1,3}}{re.escape(decimal_mark)}\d{{3}}", compact):  # 250.000 in en, 250,000 in de
        grouped = Decimal(compact.replace(decimal_mark, ""))
        raise Ambiguous(value, grouped)
    return value


def _misread(raw: str, digits: str, style: MoneyStyle, error: NumberFormatError) -> str:
    suggestions = list(getattr(error, "suggestions", None) or [])
    if len(suggestions) > 1:
        readings = " or ".join(f"“{s}”" for s in suggestions)
        return f"“{raw}” could be read as {readings}: write it unambiguously, like {_SCALE_EXAMPLE[style.locale]}"
    for other in LOCALES:
        if other == style.locale:
            continue
        try:
            reading = Decimal(parse_decimal(digits, locale=other, strict=True))
        except NumberFormatError:
            continue
        return (
            f"“{raw}” is written the {_LANGUAGE[other]} way; this organization writes amounts in"
            f" {_LANGUAGE[style.locale]}: {format_number(reading, style.locale)}"
        )
    return f"“{raw}” is not an amount: use digits, like {_SCALE_EXAMPLE[style.locale]}"


def valid_style(currency: str | None, locale: str | None) -> MoneyStyle:
    """The style of stored settings, falling back to the defaults for what is unset or unknown."""
    try:
        return MoneyStyle(currency or DEFAULT_CURRENCY, locale or DEFAULT_LOCALE)
    except (ValueError, UnknownLocaleError):
        return MoneyStyle()
