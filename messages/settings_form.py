"""`/measure settings`: a person's own working calendar (working days, holiday region, quiet hours)
and the language of their messages.
A pure view builder and a pure parser; every error of the form is reported at once, inline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from domain.calendar import DAY_NAMES, check_region, working_days_text
from domain.organization import OrganizationSettings
from domain.parsing import InputError
from messages.ids import INPUT, Callback, Field

DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PersonalCalendar:
    """What a person set; None: their organization's."""

    working_days: frozenset[int] | None = None
    holidays: str | None = None  # a region, "" for none
    quiet_start: time | None = None
    quiet_end: time | None = None
    language: str | None = None  # "en", "de"


LANGUAGES = {"en": "English", "de": "Deutsch"}
ORGANIZATION = "organization"  # the language option that follows the organization's


def settings_modal(current: PersonalCalendar, organization: OrganizationSettings, days: frozenset[int]) -> View:
    """The form with the person's values; `days` are the working days in force for them now."""
    region = organization.holidays or "none"
    explain = (
        "Nothing reaches you outside your working time: check-ins due on a day off move to your next working "
        "day, reminders and overdue count working days only. Left empty, you keep your organization's: "
        f"{organization.working_days}, public holidays {region}."
    )
    options = [Option(value=name, label=label) for name, label in zip(DAY_NAMES, DAY_LABELS, strict=True)]
    chosen = [options[d] for d in sorted(days)]
    holidays = PlainTextInputElement(action_id=INPUT, max_length=16, placeholder="e.g. DE-BY, or none")
    if current.holidays is not None:
        holidays.initial_value = current.holidays or "none"
    blocks = [
        ContextBlock(elements=[MarkdownTextObject(text=explain)]),
        InputBlock(
            block_id=Field.WORKING_DAYS,
            label="Working days",
            element=CheckboxesElement(action_id=INPUT, options=options, initial_options=chosen or None),
        ),
        InputBlock(
            block_id=Field.HOLIDAYS,
            label="Public holidays of (country or region code)",
            optional=True,
            element=holidays,
            hint=f"Empty: your organization's ({region}).",
        ),
        _time(Field.QUIET_START, "Quiet from", current.quiet_start),
        _time(Field.QUIET_END, "Quiet until", current.quiet_end),
        _language(current.language, organization.locale),
    ]
    return View(type="modal", callback_id=Callback.PERSON_SETTINGS, title="Your settings", submit="Save",
                close="Cancel", blocks=blocks)  # fmt: skip


def _language(chosen: str | None, organization_locale: str) -> InputBlock:
    theirs = Option(value=ORGANIZATION, label=f"Your organization's ({LANGUAGES[organization_locale]})")
    options = [theirs, *(Option(value=code, label=label) for code, label in LANGUAGES.items())]
    initial = next((o for o in options if o.value == chosen), theirs)
    element = StaticSelectElement(action_id=INPUT, options=options, initial_option=initial)
    return InputBlock(block_id=Field.LANGUAGE, label="Language of my messages", element=element)


def _time(block_id: str, label: str, value: time | None) -> InputBlock:
    initial = value.strftime("%H:%M") if value else None
    return InputBlock(block_id=block_id, label=label, optional=True,
                      element=TimePickerElement(action_id=INPUT, initial_time=initial))  # fmt: skip


def parse_settings_form(
    values: Mapping[str, Any], organization: OrganizationSettings, organization_days: frozenset[int]
) -> tuple[PersonalCalendar | None, dict[str, str]]:
    """The calendar typed, or every error at once. Days equal to the organization's, or an empty
    region, follow the organization (so a later change of the organization's reaches them)."""
    errors: dict[str, str] = {}
    picked = frozenset(DAY_NAMES.index(d) for d in values.get(Field.WORKING_DAYS) or [] if d in DAY_NAMES)
    if not picked:
        errors[Field.WORKING_DAYS] = "Choose at least one working day."
    region: str | None = None
    typed = (values.get(Field.HOLIDAYS) or "").strip()
    if typed:
        try:
            region = check_region(typed)
        except InputError as error:
            errors[Field.HOLIDAYS] = str(error)
    start, end = (_parsed_time(values.get(f)) for f in (Field.QUIET_START, Field.QUIET_END))
    if (start is None) != (end is None):
        errors[Field.QUIET_END if end is None else Field.QUIET_START] = "Give both ends of the quiet hours, or neither."
    elif start is not None and start == end:
        errors[Field.QUIET_END] = "The quiet hours end when they start: choose another time, or clear both."
    language = values.get(Field.LANGUAGE)
    if language not in (None, ORGANIZATION, *LANGUAGES):
        errors[Field.LANGUAGE] = "Choose one of the languages listed."
    if errors:
        return None, errors
    days = None if picked == organization_days else picked
    chosen = language if language in LANGUAGES else None
    return PersonalCalendar(working_days=days, holidays=region, quiet_start=start, quiet_end=end, language=chosen), {}


def _parsed_time(raw: Any) -> time | None:
    if not raw:
        return None
    hours, _colon, minutes = str(raw).partition(":")
    return time(int(hours), int(minutes or 0))


def settings_text(calendar: PersonalCalendar, organization: OrganizationSettings) -> str:
    """The confirmation, in the words the form uses."""
    theirs = " (your organization's)"
    days = working_days_text(calendar.working_days) if calendar.working_days else organization.working_days + theirs
    region = calendar.holidays if calendar.holidays is not None else (organization.holidays or "none") + theirs
    quiet = "none"
    if calendar.quiet_start is not None and calendar.quiet_end is not None:
        quiet = f"{calendar.quiet_start:%H:%M}–{calendar.quiet_end:%H:%M}"
    language = LANGUAGES[calendar.language or organization.locale] + ("" if calendar.language else theirs)
    return (
        f":white_check_mark: Saved. Working days: {days} · public holidays: {region or 'none'} · quiet hours: {quiet}"
        f" · language: {language}."
    )
