"""A portfolio's custom fields (declared in its governance file) and their values: what a person
typed, read by the field's type into one canonical text as stored, and back into text to show.
Pure: no database, no Slack (docs/governance.md, "Custom fields")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal

from domain.governance import CustomField, FieldType
from domain.money import MoneyStyle, format_amount, format_number, parse_amount
from domain.parsing import InputError, parse_date, parse_user_mention

TEXT_LIMIT = 500


def read_value(field: CustomField, typed: str, style: MoneyStyle) -> str:
    """The stored form of a value ("" clears it), or InputError saying what the field takes."""
    raw = typed.strip()
    if not raw:
        return ""
    match field.type:
        case FieldType.TEXT:
            if len(raw) > TEXT_LIMIT:
                raise InputError(f"{field.label} takes at most {TEXT_LIMIT} characters.")
            return raw
        case FieldType.NUMBER:
            return str(_number(field, raw, style))
        case FieldType.MONEY:
            return str(parse_amount(raw, style))
        case FieldType.DATE:
            return parse_date(raw).isoformat()
        case FieldType.SELECT:
            chosen = next((option for option in field.options if option.lower() == raw.lower()), None)
            if chosen is None:
                raise InputError(f"{field.label} is one of {', '.join(field.options)}, not “{raw}”.")
            return chosen
        case FieldType.USER:
            person = parse_user_mention(raw)
            if person is None:
                raise InputError(f"{field.label} is a person: mention them with @.")
            return person
    raise InputError(f"{field.label} has a type this version does not know.")  # pragma: no cover


def _number(field: CustomField, raw: str, style: MoneyStyle) -> Decimal:
    """A number as the organization's locale writes it (Babel: `1.234,5` in German, `1,234.5` in English)."""
    try:
        value = parse_decimal(raw, locale=style.locale, strict=True)
    except NumberFormatError:
        raise InputError(f"{field.label} is a number, not “{raw}”.") from None
    if not value.is_finite():
        raise InputError(f"{field.label} is a number, not “{raw}”.")
    return value


def show_value(field: CustomField, stored: str, style: MoneyStyle) -> str:
    """A stored value as a reader of the organization's locale reads it (Slack mrkdwn for a person)."""
    match field.type:
        case FieldType.NUMBER:
            return format_number(Decimal(stored), style.locale)
        case FieldType.MONEY:
            return format_amount(int(stored), style)
        case FieldType.USER:
            return f"<@{stored}>"
    return stored


def read_values(
    fields: Sequence[CustomField], typed: Mapping[str, str], style: MoneyStyle
) -> tuple[dict[str, str], dict[str, str]]:
    """Each typed value read by its field: (values, errors), both by field name; an unknown name is an error."""
    by_name = {f.name: f for f in fields}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, text in typed.items():
        field = by_name.get(name)
        if field is None:
            known = ", ".join(by_name) or "none"
            errors[name] = f"“{name}” is not a field of this portfolio (its fields: {known})."
            continue
        try:
            values[name] = read_value(field, text, style)
        except InputError as error:
            errors[name] = str(error)
    return values, errors
