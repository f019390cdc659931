"""The edit form's inputs for a portfolio's custom fields (docs/governance.md): one optional input
per field, showing the value it holds; an emptied input clears it. Pure: fields and values in,
blocks out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)

from domain.custom_fields import TEXT_LIMIT
from domain.governance import CustomField, FieldType
from messages.ids import INPUT
from messages.text import truncate

PREFIX = "custom."  # a custom field's block id: custom.NAME
MAX_INPUTS = 40  # with the form's own inputs, well inside a view's 100 blocks
MAX_OPTIONS = 100  # a static select's limit: a select field with more is typed


def custom_inputs(fields: Sequence[tuple[CustomField, str]]) -> list[InputBlock]:
    """An input per (field, value as a person would type it) pair, at most MAX_INPUTS."""
    return [_input(field, shown) for field, shown in fields[:MAX_INPUTS]]


def typed_values(state: Mapping[str, Any]) -> dict[str, str]:
    """What the form's custom inputs hold ({block id: plain value}, as `read_state` reads them), by field name."""
    return {block[len(PREFIX) :]: str(value or "") for block, value in state.items() if block.startswith(PREFIX)}


def _input(field: CustomField, shown: str) -> InputBlock:
    block_id, label = PREFIX + field.name, truncate(field.label, 150)
    element: Any
    if field.type == FieldType.SELECT and len(field.options) <= MAX_OPTIONS:
        options = [Option(value=option, label=truncate(option, 75)) for option in field.options]
        chosen = next((o for o in options if o.value == shown), None)
        element = StaticSelectElement(action_id=INPUT, options=options, initial_option=chosen, placeholder="Choose")
    elif field.type == FieldType.USER:
        element = UserSelectElement(action_id=INPUT, initial_user=shown or None, placeholder="Choose a person")
    elif field.type == FieldType.DATE:
        element = DatePickerElement(action_id=INPUT, initial_date=shown or None)
    else:
        element = PlainTextInputElement(action_id=INPUT, initial_value=shown or None, max_length=TEXT_LIMIT)
    return InputBlock(block_id=block_id, label=label, element=element, optional=True)
