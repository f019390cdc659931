"""`python -m bot import-actuals FILE`: actuals in bulk from the ERP, as CSV or XLSX.

Columns `key, month, actual` (month as `YYYY-MM`; the amount as the measure's organization writes
it, or a number cell in XLSX). The whole file or nothing: every line is checked (the key exists,
the month is a closed month of the plan, given once, the amount reads one way, a month validated
by the controller is not changed), and any error refuses the file, naming each line. The same file
twice changes nothing the second time. Imported actuals are entered, not validated: the controller
validates them in `/measure actuals` (docs/money.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session

from commands.spreadsheet import SpreadsheetError, decode, delimiter_of
from domain.money import MoneyStyle, parse_amount
from domain.parsing import InputError
from storage.actuals import ActualsRefused, record_actuals
from storage.models import Measure
from storage.organization import style_of
from storage.queries import get_measures_by_keys

COLUMNS = ("key", "month", "actual")
ACTOR = "import"


@dataclass(frozen=True)
class ActualRow:
    line: int
    key: str
    month: date
    actual: int | str  # a number cell as it is, text to be read in the measure's organization's locale


@dataclass
class ActualsReport:
    changed: int = 0  # months whose actual changed
    measures: int = 0  # measures with a change
    unchanged: int = 0  # lines that repeat what is stored
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Imported actuals: {self.changed} month{'s' if self.changed != 1 else ''} changed on {self.measures} "
            f"measure{'s' if self.measures != 1 else ''}; {self.unchanged} line{'s' if self.unchanged != 1 else ''} "
            "already as stored."
        )


class ImportRefused(Exception):
    """Raised inside the transaction so that nothing of the file is kept."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors)
        self.errors = errors


def read_actuals_file(path: Path) -> tuple[list[ActualRow], list[str]]:
    """The file's rows, or the errors of every bad line (nothing is looked up in the database yet)."""
    try:
        table = _xlsx_cells(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_cells(path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, SpreadsheetError) as error:
        return [], [f"cannot read {path.name}: {error}"]
    if not table:
        return [], ["line 1: the file is empty (columns are: key, month, actual)"]
    header = [str(cell or "").strip().lower() for cell in table[0]]
    if sorted(h for h in header if h) != sorted(COLUMNS):
        return [], [
            f"line 1: the columns are {', '.join(h for h in header if h) or 'missing'}; they must be key, month, actual"
        ]
    at = {name: header.index(name) for name in COLUMNS}
    rows, errors = [], []
    for line, cells in enumerate(table[1:], start=2):
        padded = list(cells) + [None] * len(header)
        key, month, actual = (padded[at[name]] for name in COLUMNS)
        if all(_blank(c) for c in (key, month, actual)):
            continue
        try:
            rows.append(ActualRow(line, _key(key), _month(month), _actual(actual)))
        except InputError as error:
            errors.append(f"line {line}: {error}")
    return rows, errors


def apply_actual_rows(
    *, session: Session, rows: list[ActualRow], now: datetime, read_errors: Iterable[str] = (), actor: str = ACTOR
) -> ActualsReport:
    """Store the rows' actuals in the caller's transaction as `actor` (the import, or an API token);
    ImportRefused (nothing kept) on any error, with the lines that could not even be read
    (`read_errors`), so that one run names every bad line."""
    errors = [*read_errors, *_duplicates(rows)]
    measures = get_measures_by_keys(session=session, keys={row.key for row in rows})
    by_measure: dict[str, dict[date, tuple[int, int]]] = {}  # key -> month -> (actual, line)
    styles: dict[int | None, MoneyStyle] = {}
    for row in rows:
        measure = measures.get(row.key)
        if measure is None:
            errors.append(f"line {row.line}: there is no measure {row.key}")
            continue
        if measure.package_id not in styles:
            styles[measure.package_id] = style_of(session=session, unit_id=measure.package_id)
        try:
            amount = row.actual if isinstance(row.actual, int) else parse_amount(row.actual, styles[measure.package_id])
        except InputError as error:
            errors.append(f"line {row.line}: {error}")
            continue
        by_measure.setdefault(row.key, {})[row.month] = (amount, row.line)
    report = ActualsReport()
    for key, months in sorted(by_measure.items()):
        report = _store(session, measures[key], months, (actor, now), report, errors)
    if errors:
        raise ImportRefused(sorted(errors, key=_line_number))
    return report


def _store(
    session: Session, measure: Measure, months: dict[date, tuple[int, int]], by: tuple[str, datetime],
    report: ActualsReport, errors: list[str],
) -> ActualsReport:  # fmt: skip
    entries = {month: actual for month, (actual, _line) in months.items()}
    actor, now = by
    try:
        changed = record_actuals(session=session, measure=measure, entries=entries, actor=actor, validate=False,
                                 reason="", now=now)  # fmt: skip
    except ActualsRefused as refused:
        errors += [f"line {months[m][1]}: {measure.key} {text}" for m, text in refused.errors.items()]
        return report
    report.changed += len(changed)
    report.measures += bool(changed)
    report.unchanged += len(entries) - len(changed)
    return report


def _duplicates(rows: Iterable[ActualRow]) -> list[str]:
    first: dict[tuple[str, date], int] = {}
    errors = []
    for row in rows:
        seen = first.setdefault((row.key, row.month), row.line)
        if seen != row.line:
            errors.append(f"line {row.line}: {row.key} {row.month:%Y-%m} is given twice (first on line {seen})")
    return errors


def _line_number(error: str) -> int:
    head = error.removeprefix("line ").split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def _blank(cell: object) -> bool:
    return cell is None or str(cell).strip() == ""


def _key(cell: object) -> str:
    if _blank(cell):
        raise InputError("no key")
    return str(cell).strip().upper()


def _month(cell: object) -> date:
    if isinstance(cell, datetime | date):
        if cell.day != 1:
            raise InputError(f"the month {cell:%Y-%m-%d} is a day: give the month as YYYY-MM")
        return date(cell.year, cell.month, 1)
    text = str(cell or "").strip()
    try:
        if len(text) != 7:
            raise ValueError(text)
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InputError(f"the month “{text}” is not YYYY-MM (for example 2027-01)") from None


def _actual(cell: object) -> int | str:
    if isinstance(cell, bool) or _blank(cell):
        raise InputError("no actual (a line gives the actual of one month)")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        exact = Decimal(repr(cell))
        if exact != exact.to_integral_value():
            raise InputError(f"the actual {exact} has cents: amounts are whole units of the currency")
        return int(exact)
    return str(cell).strip()


def _csv_cells(path: Path) -> list[list[object]]:
    """`,` or `;`, UTF-8 or Windows-1252, as commands/spreadsheet.py reads any CSV."""
    text = decode(path.read_bytes())
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter_of(text))]


def _xlsx_cells(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook  # only when a workbook is imported

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
