"""A spreadsheet as rows of cells, whatever Excel saved: CSV separated by `,` or `;` (European
Excel's default, found by sniffing), in UTF-8 with or without a byte-order mark or in Windows-1252
(Excel's "CSV" on a German Windows), or an `.xlsx` workbook's first sheet read directly. Cells come
back as text, as a person would have typed them: a whole number without ".0", a date as YYYY-MM-DD."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
SAVE_AS_UTF8 = (
    "the file is neither UTF-8 nor Windows-1252 text. In Excel choose File › Save As › "
    "“CSV UTF-8 (comma delimited)”, or send the .xlsx workbook itself"
)


class SpreadsheetError(Exception):
    """The file cannot be read as a table (the message says why and what to do)."""


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The file's rows (the header first), each a list of cell texts."""
    if Path(filename).suffix.lower() in WORKBOOK_SUFFIXES or data[:2] == b"PK":
        return _workbook_rows(data)
    text = decode(data)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpreadsheetError(f"line {line}: a NUL byte, which no database column can hold (is this a CSV file?)")
    return _shared(csv.reader(io.StringIO(text), delimiter=delimiter_of(text)))


def decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped), else Windows-1252; else a message saying how to save it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise SpreadsheetError(SAVE_AS_UTF8) from None


def delimiter_of(text: str) -> str:
    """`,` or `;` (or a tab), as the header line and the first rows use them."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:  # one column, or nothing to tell by: the header line decides
        first = sample.split("\n", 1)[0]
        return ";" if first.count(";") > first.count(",") else ","


def _workbook_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # only when a workbook is read

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is no workbook
        raise SpreadsheetError(f"this is not an .xlsx workbook Excel can open ({type(error).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        return _shared([cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _shared(rows: Iterable[list[str]]) -> list[list[str]]:
    """The rows as read, each distinct cell text held once: an ERP's file repeats its amounts, units,
    stages and people on every line (50,000 lines of 36 months: 287 MB as read, 137 MB so)."""
    seen: dict[str, str] = {}
    return [[seen.setdefault(cell, cell) for cell in row] for row in rows]


def cell_text(value: object) -> str:
    """A workbook cell as the text a person would type: 12000 (not 12000.0), 2027-03-31, 0.15."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        exact = Decimal(repr(value))
        return str(int(exact)) if exact == exact.to_integral_value() else format(exact.normalize(), "f")
    return str(value).strip()
