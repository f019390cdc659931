"""`python -m bot import FILE.csv`: units and measures from a spreadsheet export, read and checked
here; commands/import_writer.py writes them.

Every row is validated (and every person resolved) before anything is written; one bad row means
nothing is written and every bad row is reported with its line number. The import runs in one
transaction, so re-importing the same file changes nothing and writes no audit records. Besides
the measure's fields: `plan YYYY-MM` (one column per month), `forecast YYYY-MM`, `actual YYYY-MM`,
`risks` (`severity: text | mitigation` separated by `;`, or `none`), `dependencies` (keys separated
by `,`, or `none`) and `evidence` (links separated by spaces), amounts in the organization's locale.

Empty cells: for a new measure they mean "not set" (cadence: weekly, Monday 09:00; stage: DI0);
for an existing measure they leave the stored value as it is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from commands.spreadsheet import SpreadsheetError, read_table
from domain.custom_fields import TEXT_LIMIT
from domain.enums import Level, Stage
from domain.measure_schema import BY_NAME, IMPORT_FIELDS, Kind, MeasureField
from domain.money import DEFAULT_STYLE, MoneyStyle, parse_amount
from domain.parsing import InputError, parse_date, parse_key, parse_keys, parse_risks, parse_schedule, parse_urls
from slackkit.people import is_a_person
from storage.organization import organizations, settings_of

UNIT_COLUMNS = tuple(level.value for level in Level)  # organization … package: where the measure sits
COLUMNS = (*UNIT_COLUMNS, "key", *(spec.column for spec in IMPORT_FIELDS if spec.column))
REQUIRED = (*UNIT_COLUMNS, "title")
ACTOR = "import"
UNIT_NAME_LIMIT = 200
TEXT_LIMITS = {
    spec.column: spec.limit
    for spec in IMPORT_FIELDS
    if spec.column and spec.kind in (Kind.TEXT, Kind.LONG_TEXT) and spec.limit
}
MONTH_COLUMN = re.compile(r"^(plan|forecast|actual) (\d{4})-(\d{2})$")  # `plan 2027-01`: one column per month
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


@dataclass
class ImportRow:
    line: int
    units: tuple[str, ...]
    title: str
    key: str | None = None
    people: dict[str, str] = field(default_factory=dict)  # the draft's field (owner_id …) -> id or e-mail
    values: dict[str, Any] = field(default_factory=dict)  # the draft's fields the row's cells set
    forecasts: dict[date, int] = field(default_factory=dict)  # `forecast YYYY-MM` cells
    actuals: dict[date, int] = field(default_factory=dict)  # `actual YYYY-MM` cells
    # `field NAME` cells as typed: read by the type its portfolio's governance gives NAME when written
    custom: dict[str, str] = field(default_factory=dict)


def read_rows(
    source: str | list[list[str]], *, styles: Mapping[str, MoneyStyle] | None = None
) -> tuple[list[ImportRow], list[str]]:
    """Parse the whole file (CSV text, or a table from commands/spreadsheet.read_table, whose lines
    are emptied as they are read: a 50,000-row file is not held twice); return the rows, or the
    errors of every bad row. Amounts are read the way each row's organization writes
    them (`styles`, by lower-cased name; `organization_styles`), an organization the file creates
    in the default way (docs/money.md)."""
    try:
        table = source if isinstance(source, list) else read_table(source.encode("utf-8"), "import.csv")
    except SpreadsheetError as error:
        return [], [str(error)]
    header = [column_name(h) for h in (table[0] if table else [])]
    unknown = [raw.strip() for raw, h in zip(table[0] if table else [], header, strict=True) if h is None and raw]
    missing = [c for c in REQUIRED if c not in header]
    if not any(header) or unknown or missing:
        problems = []
        if unknown:
            problems.append(f"unknown columns: {', '.join(unknown)}")
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        return [], [
            f"line 1: {'; '.join(problems) or 'the file has no header row'} (columns are: {', '.join(COLUMNS)}, "
            "and `field NAME` for a custom field)"
        ]
    rows, errors = [], []
    for line in range(2, len(table) + 1):
        raw, table[line - 1] = table[line - 1], []  # each line's cells let go once read: not held twice
        if any(cell.strip() for cell in raw[len(header) :]):
            errors.append(f"line {line}: more cells than columns")
            continue
        cells = {h: (raw[i] if i < len(raw) else "").strip() for i, h in enumerate(header) if h}
        if not any(cells.values()):
            continue
        style = (styles or {}).get(cells.get(UNIT_COLUMNS[0], "").lower(), DEFAULT_STYLE)
        row, row_errors = _parse_row(line, cells, style)
        errors += row_errors
        if row is not None:
            rows.append(row)
    errors += _duplicates(rows)
    return rows, errors


def _squeezed(header: str) -> str:
    return "".join(header.lower().replace("_", " ").split())


_CANONICAL = {_squeezed(c): c for c in COLUMNS}


CUSTOM_COLUMN = re.compile(r"^\s*field[ _]+([A-Za-z][A-Za-z0-9_]{0,39})\s*$", re.IGNORECASE)


def column_name(header: str) -> str | None:
    """The column a header names, matched ignoring case, spaces and underscores (`Business Unit` is
    `business_unit`, `Plan 2027-01` is `plan 2027-01`, `Field customer_segment` is a custom field's
    `field customer_segment`); None for a column not known."""
    custom = CUSTOM_COLUMN.match(header)
    if custom:
        return f"field {custom[1].lower()}"
    squeezed = _squeezed(header)
    if squeezed in _CANONICAL:
        return _CANONICAL[squeezed]
    month = re.match(r"^(plan|forecast|actual)(\d{4}-\d{2})$", squeezed)
    return f"{month[1]} {month[2]}" if month and _month_column(f"{month[1]} {month[2]}") else None


def _parse_row(line: int, cells: dict[str, str], style: MoneyStyle) -> tuple[ImportRow | None, list[str]]:
    errors = [f"line {line}: {column} is empty" for column in REQUIRED if not cells.get(column)]
    limits = {**dict.fromkeys(UNIT_COLUMNS, UNIT_NAME_LIMIT), **TEXT_LIMITS}
    errors += [
        f"line {line}: {column} can be at most {limit} characters; this one has {len(cells[column]):,}"
        for column, limit in limits.items()
        if len(cells.get(column, "")) > limit
    ]
    row = ImportRow(line=line, units=tuple(cells.get(c, "") for c in UNIT_COLUMNS), title=cells.get("title", ""))
    if cells.get("key"):
        try:
            row.key = parse_key(cells["key"])
        except InputError as error:
            errors.append(f"line {line}: key: {error}")
    for spec in IMPORT_FIELDS:
        cell = cells.get(spec.column or "", "")
        if not cell:
            continue
        try:
            _set_cell(row, spec, cell, style)
        except InputError as error:
            errors.append(f"line {line}: {spec.column}: {error}")
    errors += [f"line {line}: {error}" for error in _set_months(row, cells, style)]
    row.custom = {column.removeprefix("field "): cell for column, cell in cells.items()
                  if column.startswith("field ") and cell}  # fmt: skip
    errors += [f"line {line}: field {name} can be at most {TEXT_LIMIT} characters" for name, cell in row.custom.items()
               if len(cell) > TEXT_LIMIT]  # fmt: skip
    return (None, errors) if errors else (row, [])


@functools.lru_cache(maxsize=1024)
def _month_column(header: str) -> tuple[str, date] | None:
    """`plan 2027-01` -> ("plan", 2027-01-01); None for any other column (or a month 13). Cached:
    asked for every cell, and every row's months then share one date object per column."""
    match = MONTH_COLUMN.match(header)
    if not match or not 1 <= int(match[3]) <= 12:
        return None
    return match[1], date(int(match[2]), int(match[3]), 1)


def _set_months(row: ImportRow, cells: dict[str, str], style: MoneyStyle) -> list[str]:
    """The monthly plan, forecasts and actuals from their columns, amounts as the organization
    writes them (a plan may be negative: a month that costs; so may an actual)."""
    plan: dict[date, int] = {}
    errors = []
    for column, cell in cells.items():
        kind_month = _month_column(column)
        if kind_month is None or not cell:
            continue
        kind, month = kind_month
        try:
            amount = parse_amount(cell, style)
        except InputError as error:
            errors.append(f"{column}: {error}")
            continue
        {"plan": plan, "forecast": row.forecasts, "actual": row.actuals}[kind][month] = amount
    if plan:
        row.values["monthly_plan"] = plan
    horizon = sorted(plan) if plan else []
    for kind, months in (("forecast", row.forecasts), ("actual", row.actuals)):
        outside = [m for m in months if plan and not horizon[0] <= m <= horizon[-1]]
        errors += [f"{kind} {m:%Y-%m}: outside the plan's horizon ({horizon[0]:%Y-%m} to {horizon[-1]:%Y-%m})"
                   for m in sorted(outside)]  # fmt: skip
    return errors


def _set_cell(row: ImportRow, spec: MeasureField, cell: str, style: MoneyStyle) -> None:
    """What one cell says about the measure, by the kind of its field."""
    if spec.kind is Kind.PERSON:
        if not (_EMAIL.match(cell) or _USER_ID.match(cell)):
            raise InputError(f"“{cell}” is neither a Slack user id (U…) nor an e-mail address")
        row.people[spec.name] = cell
    elif spec.kind in (Kind.TEXT, Kind.LONG_TEXT):  # its length was checked with the units'
        row.values[spec.name] = cell
    elif spec.kind is Kind.RISKS:  # `high: supplier delay | second supplier; low: …`, or `none`
        risks = [] if cell.lower() == "none" else parse_risks(cell.replace(";", "\n"))
        row.values.update(risks=risks, no_known_risks=not risks)
    elif spec.kind is Kind.KEYS:  # `M-3, M-7`, or `none`: either way the dependencies are stated
        row.values.update(dependency_keys=[] if cell.lower() == "none" else parse_keys(cell), dependencies_stated=True)
    elif spec.kind is Kind.URLS:  # separated by spaces
        row.values[spec.name] = parse_urls(cell)
    elif spec.kind is Kind.CADENCE:  # the whole schedule: "biweekly tue 14:00"
        schedule = parse_schedule(cell)
        row.values.update(cadence=schedule.cadence, checkin_weekday=schedule.weekday, checkin_time=schedule.at)
    elif spec.kind is Kind.AMOUNT:
        row.values[spec.name] = parse_amount(cell, style, negative=False)
    else:
        row.values[spec.name] = CELL_PARSERS[spec.kind](cell)


def _parse_stage(text: str) -> Stage:
    raw = text.strip().lower().replace(" ", "_").replace("-", "_")
    for stage in Stage:
        if raw in (stage.value.lower(), stage.label.lower().replace(" ", "_")):
            return stage
    raise InputError(f"“{text}” is not a stage: use DI0 to DI5, on hold or cancelled")


def _duplicates(rows: list[ImportRow]) -> list[str]:
    errors: list[str] = []
    seen: dict[tuple[object, ...], int] = {}
    for row in rows:
        identity = ("key", row.key) if row.key else ("title", row.units, row.title)
        if identity in seen:
            errors.append(f"line {row.line}: the same measure as line {seen[identity]}")
        seen[identity] = row.line
    return errors


INDIVIDUALLY = 20  # people looked up one by one (users.info, users.lookupByEmail); more: users.list


async def resolve_people(
    client: AsyncWebClient, refs: Iterable[str], *, known: Mapping[str, dict[str, Any]] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Slack user objects for each reference (id or e-mail), and the references Slack does not know.
    `known`: those the stored directory already has (no call). The rest are looked up one by one
    when they are few, else found in one paged pass of users.list (200 a page): 2,000 people cost
    about ten calls instead of 2,000, which Slack's rate limits would stretch over many minutes."""
    users = {ref: user for ref, user in (known or {}).items()}
    rest = sorted(set(refs) - set(users))
    found, unknown = await (_one_by_one(client, rest) if len(rest) <= INDIVIDUALLY else _listed(client, rest))
    return {**users, **found}, unknown


async def _one_by_one(client: AsyncWebClient, refs: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    users, unknown = {}, {}
    for ref in refs:
        try:
            if "@" in ref:
                response = await client.users_lookupByEmail(email=ref)
            else:
                response = await client.users_info(user=ref)
        except SlackApiError as error:
            unknown[ref] = str(error.response.get("error"))
            continue
        if not is_a_person(response["user"]):
            unknown[ref] = "a bot or a deactivated account, not a person"
            continue
        users[ref] = response["user"]
    return users, unknown


async def _listed(client: AsyncWebClient, refs: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    by_ref: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        page = await client.users_list(limit=200, cursor=cursor)
        members: list[dict[str, Any]] = page.get("members", [])
        for member in members:
            by_ref[member["id"]] = member
            email = (member.get("profile") or {}).get("email")
            if email:
                by_ref[email.lower()] = member
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    users, unknown = {}, {}
    for ref in refs:
        found = by_ref.get(ref.lower() if "@" in ref else ref)
        if found is None:
            unknown[ref] = "users_not_found" if "@" in ref else "user_not_found"
        elif not is_a_person(found):
            unknown[ref] = "a bot or a deactivated account, not a person"
        else:
            users[ref] = found
    return users, unknown


def people_errors(rows: list[ImportRow], unknown: dict[str, str]) -> list[str]:
    return [
        f"line {row.line}: {BY_NAME[name].column}: Slack has no user {ref} ({unknown[ref]})"
        for row in rows
        for name, ref in row.people.items()
        if ref in unknown
    ]


CELL_PARSERS: dict[Kind, Any] = {Kind.DATE: parse_date, Kind.STAGE: _parse_stage}


def organization_styles(*, session: Session) -> dict[str, MoneyStyle]:
    """How each existing organization writes amounts, by lower-cased name, for `read_rows`."""
    return {unit.name.lower(): settings_of(unit).style for unit in organizations(session=session)}
