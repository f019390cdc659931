"""An export as a spreadsheet: sheet Measures under the import's own column names (so importing it
back changes nothing), `plan|forecast|actual YYYY-MM` columns, then Risks, Check-ins and, for
those who may see it, Audit. Pure: data in, bytes out (openpyxl's write-only mode, memory flat).
`measures_csv` is the Measures sheet alone, as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from openpyxl import Workbook

from domain.enums import WEEKDAYS, Level
from domain.governance import FieldType
from domain.measure_schema import IMPORT_FIELDS, Kind, MeasureField
from domain.money import format_number
from storage.export_data import ExportData, ExportScope
from storage.models import Measure

UNIT_COLUMNS = [level.value for level in Level]


def measures_workbook_full(scope: ExportScope, chunks: Iterable[ExportData]) -> bytes:
    """Every sheet, written chunk by chunk (openpyxl's write-only sheets each stream to a file)."""
    book = Workbook(write_only=True)
    sheets = {title: book.create_sheet(title) for title in ("Measures", "Risks", "Check-ins")}
    sheets["Measures"].append(measures_header(scope))
    sheets["Risks"].append(["key", "severity", "risk", "mitigation"])
    sheets["Check-ins"].append(["key", "cycle end", "state", "answered at", "answered by", "implementation",
                                "potential", "blockers", "comment"])  # fmt: skip
    if scope.with_audit:
        sheets["Audit"] = book.create_sheet("Audit")
        sheets["Audit"].append(["at", "actor", "key", "action", "detail"])
    for data in chunks:
        for title, rows in (("Measures", measure_rows(scope, data)), ("Risks", _risk_rows(data)),
                            ("Check-ins", _checkin_rows(data)), ("Audit", _audit_rows(data))):  # fmt: skip
            for row in rows:
                sheets[title].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measures_csv(scope: ExportScope, chunks: Iterable[ExportData]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(measures_header(scope))
    for data in chunks:
        writer.writerows(measure_rows(scope, data))
    return out.getvalue().encode("utf-8-sig")  # with a byte-order mark: Excel then reads it as UTF-8


def measures_header(scope: ExportScope) -> list[str]:
    return [*UNIT_COLUMNS, "key", *(spec.column or "" for spec in IMPORT_FIELDS),
            *(f"{kind} {month:%Y-%m}" for kind, month in scope.month_columns),
            *(f"field {name}" for name in scope.field_columns)]  # fmt: skip


def measure_rows(scope: ExportScope, data: ExportData) -> Iterator[list[str]]:
    """A row per measure of the chunk: every cell as the import reads it back."""
    for measure in data.measures:
        path = scope.units.get(measure.package_id, {})
        by_month = {m.month: m for m in data.months.get(measure.id or 0, [])}
        amounts = []
        for kind, month in scope.month_columns:
            value = _amount_of(by_month[month], kind) if month in by_month else None
            amounts.append("" if value is None else str(value))
        cells = [_cell(spec, measure, data) for spec in IMPORT_FIELDS]
        custom = _custom_cells(scope, measure, data)
        yield [*(path.get(level, "") for level in UNIT_COLUMNS), measure.key, *cells, *amounts, *custom]


def _custom_cells(scope: ExportScope, measure: Measure, data: ExportData) -> list[str]:
    """Each `field NAME` cell as the import reads it back: a number in the organization's way of
    writing it, anything else as stored (an amount in whole units, a date as YYYY-MM-DD, a user id)."""
    held = data.custom.get(measure.id or 0, {})
    numbers = {f.name for f in scope.fields.get(measure.package_id, ()) if f.type == FieldType.NUMBER}
    return [
        format_number(Decimal(held[name]), scope.style.locale) if name in numbers and held.get(name) else
        held.get(name, "")
        for name in scope.field_columns
    ]  # fmt: skip


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
    for measure in data.measures:
        for risk in data.risks.get(measure.id or 0, []):
            yield [measure.key, risk.severity, risk.text, risk.mitigation]


def _checkin_rows(data: ExportData) -> Iterator[list[object]]:
    for key, checkin in data.checkins:
        answered = checkin.answered_at.replace(tzinfo=None) if checkin.answered_at else None
        yield [
            key, checkin.cycle_end.replace(tzinfo=None), checkin.status, answered, checkin.answered_by or "",
            checkin.impl_status or "", checkin.potential_status or "", checkin.blockers, checkin.comment,
        ]  # fmt: skip


def _audit_rows(data: ExportData) -> Iterator[list[object]]:
    for entry in data.audit:
        yield [entry.at.replace(tzinfo=None), entry.actor, entry.entity_key, entry.action, entry.detail]
