"""The actuals modal of `/measure actuals KEY`: a pure view builder and a pure submission parser.

One input per closed month of the plan (the latest MAX_MONTHS when the plan has more; older ones
go through `python -m bot import-actuals`). A validated month is shown locked to anyone but the
controller; the controller also sees “validate” and a reason for changing a validated month.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from domain.money import MoneyStyle, format_number, parse_amount
from domain.parsing import InputError, bounded
from messages.ids import ACTUAL_MONTH, INPUT, Callback, Field
from messages.payloads import ActualsMeta
from messages.text import escape, money, truncate
from storage.actuals import ActualsSheet, MonthActual

MAX_MONTHS = 90  # a view holds 100 blocks


def actuals_modal(sheet: ActualsSheet, *, controller: bool) -> View:
    months = sheet.months[-MAX_MONTHS:]
    intro = (
        f"*{sheet.key}* {escape(sheet.title)}\nThe actual of each closed month of the plan, in "
        f"{sheet.style.currency} as {sheet.style.locale} writes it; leave a month empty while it is not known."
    )
    blocks: list[Block] = [SectionBlock(text=truncate(intro))]
    if len(sheet.months) > MAX_MONTHS:
        older = len(sheet.months) - MAX_MONTHS
        note = f"{older} older months are not shown: use `python -m bot import-actuals` for them."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks += [_month_block(m, sheet.style, controller=controller) for m in months]
    if controller:
        validate = Option(value="yes", label="Validate the actuals entered (they are locked for everyone else)")
        blocks += [
            InputBlock(block_id=Field.VALIDATE, label="Validation", optional=True,
                       element=CheckboxesElement(action_id=INPUT, options=[validate])),
            InputBlock(block_id=Field.REASON, label="Reason", optional=True, hint="Needed to change a validated month",
                       element=PlainTextInputElement(action_id=INPUT, max_length=500)),
        ]  # fmt: skip
    return View(
        type="modal",
        callback_id=Callback.ACTUALS,
        title=f"Actuals {sheet.key}"[:24],
        submit="Save",
        close="Cancel",
        private_metadata=ActualsMeta(key=sheet.key).dump(),
        blocks=blocks,
    )


def _month_block(month: MonthActual, style: MoneyStyle, *, controller: bool) -> Block:
    plan = f"plan {money(month.plan, style)}" if month.plan is not None else "no plan"
    if month.validated_by and not controller:
        locked = f":lock: validated by <@{month.validated_by}>"
        return SectionBlock(text=f"*{month.month:%Y-%m}* · {plan} · actual {money(month.actual, style)} {locked}")
    initial = format_number(month.actual, style.locale) if month.actual is not None else None
    label = f"{month.month:%Y-%m} · {plan}" + (" · validated" if month.validated_by else "")
    element = PlainTextInputElement(action_id=INPUT, initial_value=initial, max_length=40)
    return InputBlock(block_id=f"{ACTUAL_MONTH}{month.month:%Y-%m}", label=label, element=element, optional=True)


def parse_actuals(
    values: Mapping[str, Any], *, style: MoneyStyle
) -> tuple[dict[date, int | None], bool, str, dict[str, str]]:
    """(month -> actual or None, validate ticked, reason, inline errors by block id)."""
    entries: dict[date, int | None] = {}
    errors: dict[str, str] = {}
    for block_id, raw in values.items():
        if not block_id.startswith(ACTUAL_MONTH):
            continue
        try:
            month = date.fromisoformat(block_id.removeprefix(ACTUAL_MONTH) + "-01")
        except ValueError:
            continue  # not an input of ours: the month check of the storage refuses nothing it never sees
        text = (raw or "").strip()
        try:
            entries[month] = parse_amount(text, style) if text else None
        except InputError as error:
            errors[block_id] = str(error)
    try:
        reason = bounded((values.get(Field.REASON) or "").strip(), limit=500, what="The reason")
    except InputError as error:
        errors[Field.REASON], reason = str(error), ""
    return entries, "yes" in (values.get(Field.VALIDATE) or []), reason, errors
