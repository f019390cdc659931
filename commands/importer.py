"""`python -m bot import FILE.csv`: create or update units and measures from a spreadsheet export.

Every row is validated (and every person resolved) before anything is written; one bad row means
nothing is written and every bad row is reported with its line number. The import runs in one
transaction, so re-importing the same file changes nothing and writes no audit records.

Empty cells: for a new measure they mean "not set" (cadence: weekly, Monday 09:00; stage: DI0);
for an existing measure they leave the stored value as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from domain.enums import Level, Stage
from domain.measure_schema import BY_NAME, IMPORT_FIELDS, Kind, MeasureDraft, MeasureField
from domain.money import DEFAULT_STYLE, MoneyStyle, parse_amount
from domain.parsing import InputError, parse_date, parse_key, parse_schedule
from slackkit.people import is_a_person, store_user
from storage.measures import create_measure, draft_from_measure, update_measure
from storage.models import Measure, Unit
from storage.organization import organizations, settings_of
from storage.queries import find_measure_by_title, get_child_unit, get_measure, record_audit

UNIT_COLUMNS = tuple(level.value for level in Level)  # organization … package: where the measure sits
COLUMNS = (*UNIT_COLUMNS, "key", *(spec.column for spec in IMPORT_FIELDS if spec.column))
REQUIRED = (*UNIT_COLUMNS, "title")
ACTOR = "import"
UNIT_NAME_LIMIT = 200
TEXT_LIMITS = {
    spec.column: spec.limit for spec in IMPORT_FIELDS if spec.column and spec.kind is Kind.TEXT and spec.limit
}
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


@dataclass
class ImportReport:
    errors: list[str] = field(default_factory=list)
    units_created: int = 0
    measures_created: int = 0
    measures_updated: int = 0
    measures_unchanged: int = 0

    def summary(self) -> str:
        if self.errors:
            return "Nothing was imported; fix these rows and run it again:\n" + "\n".join(self.errors)
        return (
            f"Imported: {self.units_created} units created, {self.measures_created} measures created, "
            f"{self.measures_updated} updated, {self.measures_unchanged} unchanged."
        )


def read_rows(text: str, *, styles: Mapping[str, MoneyStyle] | None = None) -> tuple[list[ImportRow], list[str]]:
    """Parse the whole file; return the rows, or the errors of every bad row. Amounts are read the
    way each row's organization writes them (`styles`, by lower-cased name; `organization_styles`),
    an organization the file creates in the default way (docs/money.md)."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [f"line {line}: a NUL byte, which no database column can hold (is this really a CSV file?)"]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if not header or unknown or missing:
        problems = []
        if unknown:
            problems.append(f"unknown columns: {', '.join(unknown)}")
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        return [], [
            f"line 1: {'; '.join(problems) or 'the file has no header row'} (columns are: {', '.join(COLUMNS)})"
        ]
    reader.fieldnames = header
    rows, errors = [], []
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            errors.append(f"line {line}: more cells than columns")
            continue
        cells = {k: (v or "").strip() for k, v in raw.items()}
        if not any(cells.values()):
            continue
        style = (styles or {}).get(cells.get(UNIT_COLUMNS[0], "").lower(), DEFAULT_STYLE)
        row, row_errors = _parse_row(line, cells, style)
        errors += row_errors
        if row is not None:
            rows.append(row)
    errors += _duplicates(rows)
    return rows, errors


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
    return (None, errors) if errors else (row, [])


def _set_cell(row: ImportRow, spec: MeasureField, cell: str, style: MoneyStyle) -> None:
    """What one cell says about the measure, by the kind of its field."""
    if spec.kind is Kind.PERSON:
        if not (_EMAIL.match(cell) or _USER_ID.match(cell)):
            raise InputError(f"“{cell}” is neither a Slack user id (U…) nor an e-mail address")
        row.people[spec.name] = cell
    elif spec.kind is Kind.TEXT:  # its length was checked with the units'
        row.values[spec.name] = cell
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


async def resolve_people(
    client: AsyncWebClient, refs: Iterable[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Slack user objects for each reference (id or e-mail), and the references Slack does not know."""
    users, unknown = {}, {}
    for ref in sorted(set(refs)):
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


def people_errors(rows: list[ImportRow], unknown: dict[str, str]) -> list[str]:
    return [
        f"line {row.line}: {BY_NAME[name].column}: Slack has no user {ref} ({unknown[ref]})"
        for row in rows
        for name, ref in row.people.items()
        if ref in unknown
    ]


def apply_rows(
    *, session: Session, rows: list[ImportRow], users: dict[str, dict[str, Any]], now: datetime
) -> ImportReport:
    """Write the rows (already validated) in the caller's transaction."""
    report = ImportReport()
    for user in {u["id"]: u for u in users.values()}.values():
        store_user(session=session, user=user, touch=False)
    for row in rows:
        package = _ensure_units(session=session, names=row.units, report=report)
        people = {name: users[ref]["id"] for name, ref in row.people.items()}
        existing = _existing(session=session, row=row, package_id=package.id or 0)
        if existing is None:
            _create(session=session, row=row, package_id=package.id or 0, people=people, now=now)
            report.measures_created += 1
            continue
        draft = _overlay(draft_from_measure(existing), row, package.id or 0, people)
        if update_measure(session=session, measure=existing, draft=draft, actor=ACTOR, now=now):
            report.measures_updated += 1
        else:
            report.measures_unchanged += 1
    return report


def _existing(*, session: Session, row: ImportRow, package_id: int) -> Measure | None:
    if row.key:
        return get_measure(session=session, key=row.key)
    return find_measure_by_title(session=session, package_id=package_id, title=row.title)


def _create(*, session: Session, row: ImportRow, package_id: int, people: dict[str, str], now: datetime) -> None:
    draft = _overlay(MeasureDraft(), row, package_id, people)
    create_measure(
        session=session, draft=replace(draft, stage=draft.stage or Stage.DI0), actor=ACTOR, now=now, key=row.key
    )


def _overlay(draft: MeasureDraft, row: ImportRow, package_id: int, people: dict[str, str]) -> MeasureDraft:
    """`draft` with what the row's non-empty cells say (empty cells leave a field as it is)."""
    changes: dict[str, Any] = {**row.values, **people, "package_id": package_id}
    return replace(draft, **changes)


def _ensure_units(*, session: Session, names: tuple[str, ...], report: ImportReport) -> Unit:
    parent: Unit | None = None
    for level, name in zip(Level, names, strict=True):
        parent_id = parent.id if parent else None
        unit = get_child_unit(session=session, parent_id=parent_id, name=name)
        if unit is None:
            unit = Unit(level=level, name=name, parent_id=parent_id)
            session.add(unit)
            session.flush()
            record_audit(
                session=session, actor=ACTOR, entity="unit", entity_key=str(unit.id), action="created",
                detail={"level": level, "name": name, "parent_id": parent_id},
            )  # fmt: skip
            report.units_created += 1
        elif unit.level != level:
            raise InputError(f"“{name}” exists as a {unit.level}, not a {level}")
        parent = unit
    assert parent is not None
    return parent


CELL_PARSERS: dict[Kind, Any] = {Kind.DATE: parse_date, Kind.STAGE: _parse_stage}


def organization_styles(*, session: Session) -> dict[str, MoneyStyle]:
    """How each existing organization writes amounts, by lower-cased name, for `read_rows`."""
    return {unit.name.lower(): settings_of(unit).style for unit in organizations(session=session)}
