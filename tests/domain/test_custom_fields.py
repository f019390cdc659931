"""Custom field values: read by the field's type in the organization's locale, stored in one
canonical text, shown back in that locale; a bad value says what the field takes."""

from __future__ import annotations

import pytest

from domain.custom_fields import read_value, read_values, show_value
from domain.governance import CustomField, FieldType
from domain.money import MoneyStyle
from domain.parsing import InputError

EN, DE = MoneyStyle("EUR", "en"), MoneyStyle("EUR", "de")
SEGMENT = CustomField("customer_segment", "Customer segment", FieldType.SELECT, ("SMB", "Enterprise"))
FIELDS = (
    SEGMENT,
    CustomField("contract_ref", "Contract reference", FieldType.TEXT),
    CustomField("headcount", "Headcount", FieldType.NUMBER),
    CustomField("capex", "Capex", FieldType.MONEY),
    CustomField("signed", "Signed on", FieldType.DATE),
    CustomField("buyer", "Buyer", FieldType.USER),
)


@pytest.mark.parametrize(
    ("name", "typed", "style", "stored", "shown"),
    [
        ("customer_segment", "enterprise", EN, "Enterprise", "Enterprise"),
        ("contract_ref", "  C-2027/114 ", EN, "C-2027/114", "C-2027/114"),
        ("headcount", "1,234.5", EN, "1234.5", "1,234.5"),
        ("headcount", "1.234,5", DE, "1234.5", "1.234,5"),
        ("capex", "€1.2m", EN, "1200000", "€1,200,000"),
        ("signed", "2027-03-31", DE, "2027-03-31", "2027-03-31"),
        ("buyer", "<@U0BUYER|bea>", EN, "U0BUYER", "<@U0BUYER>"),
        ("contract_ref", "", EN, "", ""),  # cleared
    ],
)
def test_a_value_is_read_by_its_type_and_shown_in_the_locale(
    name: str, typed: str, style: MoneyStyle, stored: str, shown: str
) -> None:
    field = next(f for f in FIELDS if f.name == name)
    assert read_value(field, typed, style) == stored
    if stored:
        assert show_value(field, stored, style) == shown


@pytest.mark.parametrize(
    ("name", "typed", "says"),
    [
        ("customer_segment", "Mid-market", "is one of SMB, Enterprise"),
        ("headcount", "twelve", "is a number"),
        ("headcount", "1.234,5", "is a number"),  # a German number, read in English
        ("capex", "lots", "not an amount"),
        ("signed", "31.03.2027", "YYYY-MM-DD"),
        ("buyer", "bea", "mention them with @"),
        ("contract_ref", "x" * 501, "at most 500 characters"),
    ],
)
def test_a_bad_value_says_what_the_field_takes(name: str, typed: str, says: str) -> None:
    field = next(f for f in FIELDS if f.name == name)
    with pytest.raises(InputError, match=says):
        read_value(field, typed, EN)


def test_values_are_read_together_and_every_error_is_named() -> None:
    values, errors = read_values(FIELDS, {"customer_segment": "SMB", "headcount": "x", "colour": "red"}, EN)
    assert values == {"customer_segment": "SMB"}
    assert set(errors) == {"headcount", "colour"} and "its fields: customer_segment" in errors["colour"]
