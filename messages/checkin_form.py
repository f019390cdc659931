"""The check-in Update modal: a pure view builder and a pure submission parser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from domain.enums import ImplStatus
from domain.money import MoneyStyle, parse_amount
from domain.parsing import InputError, bounded, parse_urls
from domain.status import answerable_statuses
from messages.ids import INPUT, Callback, Field
from messages.payloads import CheckinRef
from messages.text import escape, truncate
from storage.checkins import Answer


def checkin_modal(*, checkin_id: int, key: str, title: str, status: str | None, note: str | None = None) -> View:
    options = [Option(value=s.value, label=s.label.capitalize()) for s in answerable_statuses()]
    chosen = next((o for o in options if o.value == status), options[0])
    blocks: list[Any] = []
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks += [
        InputBlock(
            block_id=Field.STATUS, label="Implementation status",
            element=StaticSelectElement(action_id=INPUT, options=options, initial_option=chosen),
        ),
        _text(Field.FORECAST_MONTH, "Forecast for this month", "Whole currency units: 15000 or 15k"),
        _text(Field.FORECAST_YEAR, "Forecast for the year", "What this measure will bring this year"),
        _text(Field.ACTUAL_LAST_MONTH, "Actual for the last closed month"),
        _text(Field.BLOCKERS, "Blockers", multiline=True),
        _text(Field.EVIDENCE_LINK, "Evidence link", "An http(s) link"),
        _text(Field.COMMENT, "Comment", "Required when a status gets worse", multiline=True),
    ]  # fmt: skip
    return View(
        type="modal",
        callback_id=Callback.CHECKIN,
        title=f"Check-in {key}"[:24],
        submit="Record",
        close="Cancel",
        private_metadata=CheckinRef(checkin_id=checkin_id).dump(),
        blocks=[ContextBlock(elements=[MarkdownTextObject(text=truncate(f"*{key}* {escape(title)}", 2000))]), *blocks],
    )


def _text(block_id: str, label: str, hint: str | None = None, *, multiline: bool = False) -> InputBlock:
    element = PlainTextInputElement(action_id=INPUT, multiline=multiline, max_length=2000 if multiline else 200)
    return InputBlock(block_id=block_id, label=label, element=element, optional=True, hint=hint)


def parse_checkin_form(values: Mapping[str, Any], *, style: MoneyStyle) -> tuple[Answer | None, dict[str, str]]:
    errors: dict[str, str] = {}

    def amount(block_id: str) -> int | None:
        raw = (values.get(block_id) or "").strip()
        if not raw:
            return None
        try:
            return parse_amount(raw, style)
        except InputError as error:
            errors[block_id] = str(error)
            return None

    def text(block_id: str, what: str) -> str:
        try:
            return bounded((values.get(block_id) or "").strip(), limit=2000, what=what)
        except InputError as error:
            errors[block_id] = str(error)
            return ""

    try:
        status = ImplStatus(values.get(Field.STATUS) or "")
    except ValueError:
        errors[Field.STATUS] = "Choose a status."
        status = ImplStatus.ON_TRACK
    link = (values.get(Field.EVIDENCE_LINK) or "").strip()
    try:
        urls = parse_urls(link)
    except InputError as error:
        errors[Field.EVIDENCE_LINK] = str(error)
        urls = []
    if len(urls) > 1:
        errors[Field.EVIDENCE_LINK] = "One link here, please."
    answer = Answer(
        impl_status=status,
        forecast_month=amount(Field.FORECAST_MONTH),
        forecast_year=amount(Field.FORECAST_YEAR),
        actual_last_month=amount(Field.ACTUAL_LAST_MONTH),
        blockers=text(Field.BLOCKERS, "The blockers"),
        evidence_url=urls[0] if urls else None,
        comment=text(Field.COMMENT, "The comment"),
    )
    return (None, errors) if errors else (answer, {})
