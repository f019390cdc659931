"""Reading the API's JSON bodies and query parameters into the domain's values, or an ApiError
saying what is wrong where. Amounts are JSON integers (whole units of the organization's currency):
a number with a fraction or in quotes is refused, so no amount is ever rounded."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from commands.actuals_import import ActualRow
from commands.api.errors import ApiError, invalid
from storage.month_writes import MonthEntries

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_AMOUNT = 10**15  # far beyond any measure; inside every database's BIGINT
MAX_ITEMS = 10_000
KINDS = ("plan", "forecast", "actual")


def json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "bad_json", "The body is not JSON (UTF-8).") from None


def month_of(text: object, where: str) -> date:
    match = MONTH.match(text) if isinstance(text, str) else None
    if match is None:
        raise invalid(f"{where}: a month is written YYYY-MM (for example 2027-01).")
    return date(int(match[1]), int(match[2]), 1)


def amount_of(value: object, where: str, *, nullable: bool) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{where}: an amount is a whole number of the currency (a JSON integer{', or null' * nullable}).")
    if abs(value) > MAX_AMOUNT:
        raise invalid(f"{where}: {value} is beyond {MAX_AMOUNT:,}.")
    return value


def month_entries(body: Any) -> MonthEntries:
    """`{"months": {"2027-01": {"plan": 1000, "forecast": 900, "actual": null}, …}}`."""
    months = body.get("months") if isinstance(body, dict) else None
    if not isinstance(months, dict) or not months:
        raise invalid('The body is {"months": {"YYYY-MM": {"plan": …, "forecast": …, "actual": …}}}.')
    if len(months) > MAX_ITEMS:
        raise invalid(f"At most {MAX_ITEMS:,} months at once.")
    entries = MonthEntries()
    for text, figures in months.items():
        month = month_of(text, f"months.{text}")
        if not isinstance(figures, dict) or not figures or set(figures) - set(KINDS):
            raise invalid(f"months.{text}: give any of plan, forecast and actual (and nothing else).")
        for kind, value in figures.items():
            getattr(entries, kind)[month] = amount_of(value, f"months.{text}.{kind}", nullable=True)
    return entries


def actual_rows(body: Any) -> list[ActualRow]:
    """`{"actuals": [{"key": "M-1", "month": "2027-01", "actual": 1200}, …]}`; an item's place in the
    list (from 1) stands where a file's line would."""
    items = body.get("actuals") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid('The body is {"actuals": [{"key": …, "month": "YYYY-MM", "actual": …}, …]}.')
    if len(items) > MAX_ITEMS:
        raise invalid(f"At most {MAX_ITEMS:,} actuals at once.")
    rows = []
    for place, item in enumerate(items, start=1):
        where = f"actuals[{place}]"
        if not isinstance(item, dict) or set(item) != {"key", "month", "actual"} or not isinstance(item["key"], str):
            raise invalid(f'{where}: an item is {{"key": …, "month": "YYYY-MM", "actual": …}}.')
        amount = amount_of(item["actual"], f"{where}.actual", nullable=False)
        assert amount is not None
        rows.append(ActualRow(place, item["key"].strip().upper(), month_of(item["month"], f"{where}.month"), amount))
    return rows


def whole_number(text: str | None, name: str, *, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise invalid(f"{name} is a whole number from {low} to {high}.")
    return int(text)


MAX_FIELDS = 100


def field_entries(body: Any) -> dict[str, str]:
    """`{"fields": {"customer_segment": "Enterprise", "capex": 1200000, "contract_ref": null}}`: each
    value as typed (a whole number as its digits; null clears it, as an empty text does)."""
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, dict) or not fields:
        raise invalid('The body is {"fields": {"NAME": "value" or a whole number or null, …}}.')
    if len(fields) > MAX_FIELDS:
        raise invalid(f"At most {MAX_FIELDS} fields at once.")
    typed: dict[str, str] = {}
    for name, value in fields.items():
        if value is None or isinstance(value, str):
            typed[name] = value or ""
        elif isinstance(value, int) and not isinstance(value, bool):
            typed[name] = str(value)
        else:
            raise invalid(f"fields.{name[:40]}: a text, a whole number or null (a fraction goes in quotes).")
    return typed
