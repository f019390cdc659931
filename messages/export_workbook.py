"""An export as a spreadsheet: sheet Measures under the import's own column names (so importing it
back changes nothing), `plan|forecast|actual YYYY-MM` columns, then Risks, Check-ins and, for
those who may see it, Audit. Pure: data in, bytes out (openpyxl's write-only mode, memory flat).
`measures_csv` is the Measures sheet alone, as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from openpyxl import Workbook

from domain.enums import WEEKDAYS, Level
from domain.measure_schema import IMPORT_FIELDS, Kind, MeasureField
from storage.export_data import ExportData
from storage.models import Measure

UNIT_COLUMNS = [level.value for level in Level]
KINDS = ("plan", "forecast", "actual")


def measures_workbook_full(data: ExportData, *, with_audit: bool) -> bytes:
    book = Workbook(write_only=True)
    for title, rows in (("Measures", measure_rows(data)), ("Risks", _risk_rows(data)),
                        ("Check-ins", _checkin_rows(data))):  # fmt: skip
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if with_audit:
        sheet = book.create_sheet("Audit")
        sheet.append(["at", "actor", "key", "action", "detail"])
        for entry in data.audit:
            sheet.append([entry.at.replace(tzinfo=None), entry.actor, entry.entity_key, entry.action, entry.detail])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measures_csv(data: ExportData) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in measure_rows(data):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")  # with a byte-order mark: Excel then reads it as UTF-8


def measure_rows(data: ExportData) -> Iterator[list[str]]:
    """The header, then a row per measure: every cell as the import reads it back."""
    present: set[tuple[str, date]] = set()  # the (kind, month) columns some measure has a figure in
    for rows in data.months.values():
        present.update((kind, m.month) for m in rows for kind in KINDS if getattr(m, kind) is not None)
    month_columns = sorted(present, key=lambda column: (KINDS.index(column[0]), column[1]))
    yield [*UNIT_COLUMNS, "key", *(spec.column or "" for spec in IMPORT_FIELDS),
           *(f"{kind} {month:%Y-%m}" for kind, month in month_columns)]  # fmt: skip
    for measure in data.measures:
        path = data.units.get(measure.package_id, {})
        by_month = {m.month: m for m in data.months.get(measure.id or 0, [])}
        amounts = []
        for kind, month in month_columns:
            value = _amount_of(by_month[month], kind) if month in by_month else None
            amounts.append("" if value is None else str(value))
        cells = [_cell(spec, measure, data) for spec in IMPORT_FIELDS]
        yield [*(path.get(level, "") for level in UNIT_COLUMNS), measure.key, *cells, *amounts]


def _amount_of(month: object, kind: str) -> int | None:
    value = getattr(month, kind)
    return None if value is None else int(value)


def _cell(spec: MeasureField, measure: Measure, data: ExportData) -> str:
    measure_id = measure.id or 0
    if spec.kind is Kind.RISKS:
        risks = data.risks.get(measure_id, [])
        text = "; ".join(f"{r.severity}: {r.text}" + (f" | {r.mitigation}" if r.mitigation else "") for r in risks)
        return text or ("none" if measure.no_known_risks else "")
    if spec.kind is Kind.KEYS:
        keys = data.dependencies.get(measure_id, [])
        return ", ".join(keys) or ("none" if measure.dependencies_stated else "")
    if spec.kind is Kind.URLS:
        return " ".join(data.evidence.get(measure_id, []))
    if spec.kind is Kind.CADENCE:
        return f"{measure.cadence} {WEEKDAYS[measure.checkin_weekday]} {measure.checkin_time:%H:%M}"
    value = getattr(measure, spec.name)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _risk_rows(data: ExportData) -> Iterator[list[str]]:
    yield ["key", "severity", "risk", "mitigation"]
    for measure in data.measures:
        for risk in data.risks.get(measure.id or 0, []):
            yield [measure.key, risk.severity, risk.text, risk.mitigation]


def _checkin_rows(data: ExportData) -> Iterator[list[object]]:
    yield ["key", "cycle end", "state", "answered at", "answered by", "implementation", "potential", "blockers",
           "comment"]  # fmt: skip
    for key, checkin in data.checkins:
        answered = checkin.answered_at.replace(tzinfo=None) if checkin.answered_at else None
        yield [
            key, checkin.cycle_end.replace(tzinfo=None), checkin.status, answered, checkin.answered_by or "",
            checkin.impl_status or "", checkin.potential_status or "", checkin.blockers, checkin.comment,
        ]  # fmt: skip
