"""Measures as a spreadsheet (XLSX, openpyxl's write-only mode: memory stays flat at any count).
Pure: rows in, bytes out. Amounts are whole units of the currency, written as numbers with the
currency in their format, so a spreadsheet sums them exactly."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.enums import ImplStatus, PotentialStatus
from storage.measure_rows import MeasureRows

COLUMNS = ["key", "title", "unit", "stage", "owner", "implementation", "potential", "due"]
AMOUNTS = ["plan", "forecast", "actual", "variance"]
WIDTHS = [12, 48, 32, 16, 24, 16, 16, 12, 16, 16, 16, 16]


def measures_workbook(detail: MeasureRows) -> bytes:
    """One sheet "Measures": a row per measure, its fiscal-year plan, forecast, actual and variance."""
    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = book.create_sheet("Measures")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width  # type: ignore[attr-defined]  # proxied
    year = f" {detail.period}" if detail.period else ""
    header = [*COLUMNS, *(f"{name}{year} ({detail.style.currency})" for name in AMOUNTS)]
    sheet.append([_bold(sheet, name) for name in header])
    money_format = f'#,##0 "{detail.style.currency}";-#,##0 "{detail.style.currency}"'
    for row in detail.rows:
        amounts = [row.plan, row.forecast, row.actual, row.forecast - row.plan]
        sheet.append([
            row.key, row.title, row.unit, row.stage, row.owner,
            ImplStatus(row.implementation).label, PotentialStatus(row.potential).label, row.due,
            *(_amount(sheet, value, money_format) for value in amounts),
        ])  # fmt: skip
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _bold(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    return cell


def _amount(sheet: WriteOnlyWorksheet, value: int, number_format: str) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell
