"""The edit form's custom fields: what the form shows of a measure's values, and what a submitted
form's custom inputs mean (read by type in the organization's locale; errors by block id)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from domain.custom_fields import read_values, show_value
from domain.governance import CustomField, FieldType
from messages.custom_field_inputs import PREFIX, typed_values
from storage.custom_values import fields_of, values_of
from storage.models import Measure
from storage.organization import style_of


@dataclass(frozen=True)
class CustomInput:
    """A submitted form's custom fields: the portfolio's fields, what was typed and what it reads as."""

    fields: tuple[CustomField, ...] = ()
    typed: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    def shown(self) -> list[tuple[CustomField, str]]:
        """The inputs again, as typed (a form brought back after its ack loses nothing)."""
        return [(f, self.typed.get(f.name, "")) for f in self.fields]


def form_fields(session: Session, measure: Measure) -> list[tuple[CustomField, str]]:
    """Each custom field of the measure's portfolio with its value as a person would type it."""
    held = values_of(session=session, measure_id=measure.id or 0)
    style = style_of(session=session, unit_id=measure.package_id)
    plain = (FieldType.NUMBER, FieldType.MONEY)
    return [
        (f, show_value(f, held[f.name], style) if f.type in plain and held.get(f.name) else held.get(f.name, ""))
        for f in fields_of(session=session, package_id=measure.package_id)
    ]


def read_form(session: Session, package_id: int | None, state: Mapping[str, Any]) -> tuple[CustomInput, dict[str, str]]:
    """The form's custom inputs read by the package's fields: (input, errors by block id)."""
    typed = typed_values(state)
    if not typed or package_id is None:
        return CustomInput(typed=typed), {}
    fields = fields_of(session=session, package_id=package_id)
    declared = {f.name for f in fields}  # a measure moved to another portfolio keeps what it had of the old one's
    typed = {name: text for name, text in typed.items() if name in declared}
    values, errors = read_values(fields, typed, style_of(session=session, unit_id=package_id))
    return CustomInput(fields, typed, values), {PREFIX + name: why for name, why in errors.items()}
