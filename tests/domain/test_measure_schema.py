"""The measure schema: each field declared once, and everything that lists fields reads it."""

from __future__ import annotations

import dataclasses
from datetime import date

from commands.importer import COLUMNS, read_rows
from domain.enums import Stage
from domain.measure_schema import BY_KEY, FIELDS, FORM_FIELDS, SCALARS, Key, Kind, MeasureDraft, audit_label, missing_at
from domain.money import DEFAULT_STYLE
from messages.measure_form import measure_modal, parse_measure_form
from messages.payloads import MeasureFormMeta
from storage.models import Measure


def test_every_field_of_the_draft_is_declared_with_its_metadata() -> None:
    assert [f.name for f in FIELDS] == [f.name for f in dataclasses.fields(MeasureDraft)]
    assert set(BY_KEY) == set(Key)  # one key per field, no key without a field
    for spec in FIELDS:
        assert spec.label and spec.kind in Kind
        assert (spec.required_at is None) == (not spec.missing), spec.name
    assert all(name in Measure.model_fields for name in SCALARS)  # scalars are columns of the measure row


def test_the_modal_asks_for_each_form_field_once_in_the_schemas_order() -> None:
    view = measure_modal(packages=[], values=MeasureDraft(), meta=MeasureFormMeta()).to_dict()
    assert [block["block_id"] for block in view["blocks"]] == [spec.key for spec in FORM_FIELDS]
    labels = {block["block_id"]: block["label"]["text"] for block in view["blocks"]}
    assert labels[Key.TARGET] == BY_KEY[Key.TARGET].label


def test_the_form_parser_reads_every_field_back_by_its_key() -> None:
    values = {
        Key.TITLE: "Reuse pallets", Key.PACKAGE: "7", Key.OWNER: "U0OWNER", Key.BASELINE: "1.2m", Key.TARGET: "120k",
        Key.DUE: "2027-06-30", Key.CADENCE: "monthly", Key.WEEKDAY: "wed", Key.CHECKIN_TIME: "14:30",
        Key.MONTHLY_PLAN: "2027-01: 120k", Key.DEPENDENCIES: "none", Key.EVIDENCE: "https://example.com/x",
    }  # fmt: skip
    draft, errors = parse_measure_form(values, style=DEFAULT_STYLE)
    assert errors == {} and draft is not None
    assert (draft.package_id, draft.baseline, draft.target, draft.checkin_weekday) == (7, 1_200_000, 120_000, 2)
    assert draft.monthly_plan == {date(2027, 1, 1): 120_000}
    assert (
        draft.dependency_keys == [] and draft.dependencies_stated and draft.evidence_urls == ["https://example.com/x"]
    )
    _, errors = parse_measure_form({Key.TITLE: " ", Key.TARGET: "lots"}, style=DEFAULT_STYLE)
    assert set(errors) == {Key.TITLE, Key.PACKAGE, Key.TARGET}


def test_gate_criteria_come_from_the_fields_required_stage() -> None:
    assert missing_at(Stage.DI0, MeasureDraft()) == ["a title", "a measure package"]
    required_at_di1 = [f.missing for f in FIELDS if f.required_at is Stage.DI1]
    assert missing_at(Stage.DI1, MeasureDraft(title="t", package_id=1)) == required_at_di1
    assert missing_at(Stage.DI3, MeasureDraft()) == []  # DI3 is the sponsor's decision alone


def test_import_columns_are_the_schemas() -> None:
    assert COLUMNS[:6] == ("organization", "portfolio", "program", "project", "package", "key")
    assert COLUMNS[6:] == tuple(f.column for f in FIELDS if f.column)
    cells = {"organization": "A", "portfolio": "B", "program": "C", "project": "D", "package": "E", "key": "M-4",
             "title": "Pallets", "business_unit": "Consumer", "baseline": "250k", "due": "2027-01-31",
             "cadence": "biweekly tue 14:00", "stage": "DI2"}  # fmt: skip
    header = ",".join(COLUMNS)
    rows, errors = read_rows(f"{header}\n" + ",".join(cells.get(column, "") for column in COLUMNS) + "\n")
    assert errors == []
    assert "target" not in rows[0].values  # an empty cell leaves the stored value alone
    assert rows[0].values["baseline"] == 250_000 and rows[0].values["stage"] is Stage.DI2
    assert rows[0].values["checkin_weekday"] == 1 and rows[0].values["business_unit"] == "Consumer"


def test_audit_labels_read_as_words() -> None:
    assert [audit_label(n) for n in ("owner_id", "target", "monthly_plan", "dependencies")] == [
        "owner", "target value", "monthly value plan", "depends on",
    ]  # fmt: skip
