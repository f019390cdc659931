"""The measure modal (new and edit): a pure view builder and a pure submission parser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from domain.enums import WEEKDAYS, Cadence, Stage
from domain.governance import CustomField
from domain.measure_schema import FORM_FIELDS, Key, Kind, MeasureDraft, MeasureField
from domain.money import MoneyStyle, format_amount, parse_amount, parse_monthly_plan
from domain.parsing import (
    InputError,
    bounded,
    parse_keys,
    parse_risks,
    parse_time,
    parse_urls,
)
from messages.custom_field_inputs import custom_inputs
from messages.ids import INPUT, Callback
from messages.payloads import MeasureFormMeta
from messages.pickers import Choice, choice_select

NO_KNOWN_RISKS = "none"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PackageChoice:
    id: int
    group: str  # "Organization › Portfolio"
    label: str  # "Program › Project › Package"


def measure_modal(
    *,
    packages: Sequence[PackageChoice],
    values: MeasureDraft,
    meta: MeasureFormMeta,
    problems: Mapping[str, str] | None = None,
    custom: Sequence[tuple[CustomField, str]] = (),
) -> View:
    """The form showing `values`; `problems` ({field key: why}) head it when the form comes back after
    its ack (a person the directory did not know turned out not to be one), so nothing typed is lost;
    `custom`: the portfolio's custom fields with their values (an edit's form)."""
    editing = meta.key is not None
    notice: list[Block] = [_problems_block(problems)] if problems else []
    title = f"Edit {meta.key}" if editing else "New measure"
    return View(
        type="modal",
        callback_id=Callback.EDIT_MEASURE if editing else Callback.NEW_MEASURE,
        title=title,
        submit="Save" if editing else "Create",
        close="Cancel",
        private_metadata=meta.dump(),
        blocks=[*notice, *_blocks(packages, values), *custom_inputs(custom)],
    )


def _problems_block(problems: Mapping[str, str]) -> SectionBlock:
    labels: dict[str, str] = {spec.key: spec.label for spec in FORM_FIELDS}
    lines = [f"• *{labels.get(key, key)}*: {why}" for key, why in problems.items()]  # our own words: no user text
    return SectionBlock(text=":warning: *Not saved yet.* Correct this and save again:\n" + "\n".join(lines))


def _blocks(packages: Sequence[PackageChoice], draft: MeasureDraft) -> list[Block]:
    return [_input(spec, packages, draft) for spec in FORM_FIELDS]


def _input(spec: MeasureField, packages: Sequence[PackageChoice], draft: MeasureDraft) -> InputBlock:
    """The modal's input for one field of the schema, showing what `draft` has."""
    value = getattr(draft, spec.name)
    if spec.kind is Kind.PACKAGE:
        return _package_select(packages, value)
    if spec.kind is Kind.PERSON:
        return _user(spec.key, spec.label, value)
    if spec.kind is Kind.DATE:
        element: Any = DatePickerElement(action_id=INPUT, initial_date=value.isoformat() if value else None)
        return InputBlock(block_id=spec.key, label=spec.label, optional=True, element=element)
    if spec.kind is Kind.TIME:
        element = TimePickerElement(action_id=INPUT, initial_time=value.strftime("%H:%M"))
        return InputBlock(block_id=spec.key, label=spec.label, element=element)
    if spec.kind is Kind.CADENCE:
        return _select(spec.key, spec.label, [(c.value, c.value) for c in Cadence], value)
    if spec.kind is Kind.WEEKDAY:
        return _select(spec.key, spec.label, list(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)), WEEKDAYS[value])
    if spec.kind is Kind.FLAG:
        return _flag(spec.key, spec.label, value)
    multiline = spec.kind not in (Kind.TEXT, Kind.AMOUNT, Kind.KEYS)
    optional = spec.required_at is not Stage.DI0
    return _text(
        spec.key, spec.label, _shown(spec, draft), optional=optional, multiline=multiline, max_length=spec.limit,
        hint=spec.hint,
    )  # fmt: skip


def _shown(spec: MeasureField, draft: MeasureDraft) -> str:
    """A text input's initial value: the field as a person would type it."""
    value = getattr(draft, spec.name)
    if spec.kind is Kind.PLAN:
        return "\n".join(f"{m:%Y-%m}: {amount}" for m, amount in sorted((value or {}).items()))
    if spec.kind is Kind.RISKS:
        return "\n".join(
            f"{r.severity}: {r.text}" + (f" | {r.mitigation}" if r.mitigation else "") for r in value or []
        )
    if spec.kind is Kind.KEYS:
        return ", ".join(value or []) or ("none" if draft.dependencies_stated else "")
    if spec.kind is Kind.URLS:
        return "\n".join(value or [])
    if spec.kind is Kind.AMOUNT:
        return _amount(value)
    return str(value or "")


def _flag(block_id: str, label: str, ticked: bool) -> InputBlock:
    option = Option(value=NO_KNOWN_RISKS, label="There are no known risks")
    element = CheckboxesElement(action_id=INPUT, options=[option], initial_options=[option] if ticked else None)
    return InputBlock(block_id=block_id, label=label, optional=True, element=element)


def _amount(value: int | None) -> str:
    return "" if value is None else str(value)


def _text(
    block_id: str, label: str, initial: str, *, optional: bool = True, multiline: bool = False,
    max_length: int | None = None, hint: str | None = None,
) -> InputBlock:  # fmt: skip
    element = PlainTextInputElement(
        action_id=INPUT, initial_value=initial or None, multiline=multiline, max_length=max_length
    )
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint)


def _user(block_id: str, label: str, initial: str | None) -> InputBlock:
    element = UserSelectElement(action_id=INPUT, initial_user=initial, placeholder="Choose a person")
    return InputBlock(block_id=block_id, label=label, element=element, optional=True)


def _select(block_id: str, label: str, choices: list[tuple[str, str]], initial: str) -> InputBlock:
    options = [Option(value=value, label=text) for value, text in choices]
    chosen = next((o for o in options if o.value == initial), options[0])
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(action_id=INPUT, options=options, initial_option=chosen),
    )


def _package_select(packages: Sequence[PackageChoice], initial: int | None) -> InputBlock:
    return choice_select(
        Key.PACKAGE, "Measure package", package_picks(packages), initial=str(initial) if initial else None,
        placeholder="Choose a measure package",
    )  # fmt: skip


def package_picks(packages: Sequence[PackageChoice]) -> list[Choice]:
    return [Choice(str(p.id), p.label, p.group) for p in packages]


# ---- submission -------------------------------------------------------------------------------
def read_state(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{block_id: the plain value} from a view_submission's state.values."""
    plain: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        element = actions.get(INPUT) or {}
        kind = element.get("type")
        if kind in ("plain_text_input", "url_text_input"):
            plain[block_id] = element.get("value")
        elif kind in ("static_select", "external_select", "radio_buttons"):
            plain[block_id] = (element.get("selected_option") or {}).get("value")
        elif kind == "users_select":
            plain[block_id] = element.get("selected_user")
        elif kind == "datepicker":
            plain[block_id] = element.get("selected_date")
        elif kind == "timepicker":
            plain[block_id] = element.get("selected_time")
        elif kind == "checkboxes":
            plain[block_id] = [o.get("value") for o in element.get("selected_options") or []]
    return plain


def parse_measure_form(
    values: Mapping[str, Any],
    *,
    style: MoneyStyle,
    today: date | None = None,
    current_due: date | None = None,
    plan_frozen: bool = False,
) -> tuple[MeasureDraft | None, dict[str, str]]:
    """A draft, or None and inline errors keyed by block id (every field's problem at once); amounts
    as the organization of the chosen package writes them. With `today`: a due date in the past is
    refused unless it is the one the measure has already (`current_due`); a monthly plan and a target
    that are both given must agree — unless the plan is frozen at the decision (a change to it is then
    refused as a re-baseline, which is the reason that matters)."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for spec in FORM_FIELDS:
        try:
            parsed[spec.name] = _parse(spec, values.get(spec.key), style)
        except InputError as error:
            errors[spec.key] = str(error)
    parsed["dependencies_stated"] = bool((values.get(Key.DEPENDENCIES) or "").strip())
    if parsed.get("risks") and parsed.get("no_known_risks"):
        errors[Key.NO_KNOWN_RISKS] = "Untick “no known risks” or remove the risks listed above."
    due = parsed.get("due")
    if today is not None and due is not None and due < today and due != current_due:
        errors[Key.DUE] = f"{due:%Y-%m-%d} has passed: choose today or a later day."
    plan, target = parsed.get("monthly_plan"), parsed.get("target")
    if plan and target is not None and sum(plan.values()) != target and not plan_frozen:
        errors[Key.MONTHLY_PLAN] = (
            f"The monthly plan sums to {format_amount(sum(plan.values()), style)} of the "
            f"{format_amount(target, style)} target: make them agree, or leave the plan empty for now."
        )
    return (None, errors) if errors else (MeasureDraft(**parsed), {})


_EMPTY: dict[Kind, Any] = {
    Kind.CADENCE: Cadence.WEEKLY, Kind.WEEKDAY: 0, Kind.TIME: time(9, 0), Kind.PLAN: {}, Kind.RISKS: [],
    Kind.KEYS: [], Kind.URLS: [], Kind.FLAG: False, Kind.TEXT: "", Kind.LONG_TEXT: "",
}  # fmt: skip


def package_in(values: Mapping[str, Any]) -> int | None:
    """The package the form names, to know whose way of writing amounts applies before parsing."""
    raw = values.get(Key.PACKAGE)
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _parse(spec: MeasureField, raw: Any, style: MoneyStyle) -> Any:
    """One field's value from what the modal sent, or InputError with the sentence to show."""
    text = raw.strip() if isinstance(raw, str) else raw
    if text is None or text in ("", []):
        if spec.required_at is Stage.DI0:
            raise InputError(
                f"Choose {spec.missing}." if spec.kind is Kind.PACKAGE else f"Give the measure {spec.missing}."
            )
        return _EMPTY.get(spec.kind)
    if spec.kind in (Kind.TEXT, Kind.LONG_TEXT):
        return bounded(text, limit=spec.limit or 3000, what=f"The {spec.label.lower()}")
    if spec.kind is Kind.PACKAGE:
        if not str(text).isdigit():
            raise InputError(f"Choose {spec.missing}.")
        return int(text)
    if spec.kind is Kind.CADENCE:
        if text not in set(Cadence):
            raise InputError("Choose weekly, biweekly or monthly.")
        return text
    if spec.kind is Kind.WEEKDAY:
        if text not in WEEKDAYS:
            raise InputError("Choose a weekday.")
        return WEEKDAYS.index(text)
    if spec.kind is Kind.KEYS and str(text).lower() == "none":
        return []
    if spec.kind is Kind.FLAG:
        return NO_KNOWN_RISKS in text
    if spec.kind is Kind.AMOUNT:
        return parse_amount(text, style, negative=False)
    if spec.kind is Kind.PLAN:
        return parse_monthly_plan(text, style)
    return PARSERS.get(spec.kind, lambda value: value)(text)


PARSERS: dict[Kind, Any] = {
    Kind.DATE: lambda raw: _parse_picked_date(raw), Kind.TIME: parse_time,
    Kind.RISKS: parse_risks, Kind.KEYS: parse_keys, Kind.URLS: parse_urls,
}  # fmt: skip


def _parse_picked_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError("Pick a date from the calendar.") from None
