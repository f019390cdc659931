"""The measure modal (new and edit): a pure view builder and a pure submission parser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from domain.enums import WEEKDAYS, Cadence
from domain.parsing import (
    InputError,
    RiskLine,
    bounded,
    parse_amount,
    parse_keys,
    parse_monthly_plan,
    parse_risks,
    parse_time,
    parse_urls,
)
from messages.ids import INPUT, Callback, Field
from messages.payloads import MeasureFormMeta
from storage.measures import MeasureDraft

NO_KNOWN_RISKS = "none"
TITLE_LIMIT = 200
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PackageChoice:
    id: int
    group: str  # "Organization › Portfolio"
    label: str  # "Program › Project › Package"


@dataclass
class FormValues:
    """What the modal shows: empty for a new measure, the measure's values for an edit."""

    title: str = ""
    description: str = ""
    package_id: int | None = None
    owner_id: str | None = None
    sponsor_id: str | None = None
    controller_id: str | None = None
    business_unit: str = ""
    function: str = ""
    baseline: int | None = None
    target: int | None = None
    one_time_cost: int | None = None
    due: date | None = None
    cadence: str = Cadence.WEEKLY
    checkin_weekday: int = 0
    checkin_time: time = time(9, 0)
    monthly_plan: dict[date, int] = field(default_factory=dict)
    risks: list[RiskLine] = field(default_factory=list)
    no_known_risks: bool = False
    dependency_keys: list[str] = field(default_factory=list)
    dependencies_stated: bool = False
    evidence_urls: list[str] = field(default_factory=list)


def measure_modal(*, packages: Sequence[PackageChoice], values: FormValues, meta: MeasureFormMeta) -> View:
    editing = meta.key is not None
    title = f"Edit {meta.key}" if editing else "New measure"
    return View(
        type="modal",
        callback_id=Callback.EDIT_MEASURE if editing else Callback.NEW_MEASURE,
        title=title,
        submit="Save" if editing else "Create",
        close="Cancel",
        private_metadata=meta.dump(),
        blocks=_blocks(packages, values),
    )


def _blocks(packages: Sequence[PackageChoice], v: FormValues) -> list[Block]:
    plan_text = "\n".join(f"{m:%Y-%m}: {amount}" for m, amount in sorted(v.monthly_plan.items()))
    risk_text = "\n".join(f"{r.severity}: {r.text}" + (f" | {r.mitigation}" if r.mitigation else "") for r in v.risks)
    deps_text = ", ".join(v.dependency_keys) or ("none" if v.dependencies_stated else "")
    return [
        _text(Field.TITLE, "Title", v.title, optional=False, max_length=TITLE_LIMIT),
        _text(Field.DESCRIPTION, "Description", v.description, multiline=True, max_length=3000),
        _package_select(packages, v.package_id),
        _user(Field.OWNER, "Owner", v.owner_id),
        _user(Field.SPONSOR, "Sponsor", v.sponsor_id),
        _user(Field.CONTROLLER, "Controller", v.controller_id),
        _text(Field.BUSINESS_UNIT, "Business unit", v.business_unit, max_length=100),
        _text(Field.FUNCTION, "Function", v.function, max_length=100),
        _text(Field.BASELINE, "Baseline", _amount(v.baseline), hint="Whole currency units: 250000, 250k or 1.5m"),
        _text(
            Field.TARGET,
            "Target value (per year)",
            _amount(v.target),
            hint="The yearly value this measure should bring",
        ),
        _text(Field.ONE_TIME_COST, "One-time cost", _amount(v.one_time_cost)),
        InputBlock(
            block_id=Field.DUE,
            label="Due date",
            optional=True,
            element=DatePickerElement(action_id=INPUT, initial_date=v.due.isoformat() if v.due else None),
        ),
        _select(Field.CADENCE, "Check-in cadence", [(c.value, c.value) for c in Cadence], v.cadence),
        _select(
            Field.WEEKDAY, "Check-in day", list(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)), WEEKDAYS[v.checkin_weekday]
        ),
        InputBlock(
            block_id=Field.CHECKIN_TIME,
            label="Check-in time (the owner's own timezone)",
            element=TimePickerElement(action_id=INPUT, initial_time=v.checkin_time.strftime("%H:%M")),
        ),
        _text(
            Field.MONTHLY_PLAN,
            "Monthly value plan",
            plan_text,
            multiline=True,
            hint="One month per line, like “2027-01: 10k”. It should sum to the target.",
        ),
        _text(
            Field.RISKS, "Risks", risk_text, multiline=True, hint="One per line: “low|medium|high: risk | mitigation”"
        ),
        InputBlock(
            block_id=Field.NO_KNOWN_RISKS,
            label="No known risks",
            optional=True,
            element=CheckboxesElement(
                action_id=INPUT,
                options=[Option(value=NO_KNOWN_RISKS, label="There are no known risks")],
                initial_options=[Option(value=NO_KNOWN_RISKS, label="There are no known risks")]
                if v.no_known_risks
                else None,
            ),
        ),
        _text(Field.DEPENDENCIES, "Depends on", deps_text, hint="Measure keys like “M-3, M-7”, or “none”"),
        _text(
            Field.EVIDENCE,
            "Evidence links",
            "\n".join(v.evidence_urls),
            multiline=True,
            hint="One http(s) link per line",
        ),
    ]


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
    groups: dict[str, list[Option]] = {}
    chosen = None
    for package in packages:
        option = Option(value=str(package.id), label=package.label[:75])
        groups.setdefault(package.group[:75], []).append(option)
        if package.id == initial:
            chosen = option
    option_groups = [OptionGroup(label=g, options=opts[:100]) for g, opts in list(groups.items())[:100]]
    element = StaticSelectElement(
        action_id=INPUT,
        option_groups=option_groups,
        initial_option=chosen,
        placeholder="Choose a measure package",
    )
    return InputBlock(block_id=Field.PACKAGE, label="Measure package", element=element)


# ---- submission -------------------------------------------------------------------------------
def read_state(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{block_id: the plain value} from a view_submission's state.values."""
    plain: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        element = actions.get(INPUT) or {}
        kind = element.get("type")
        if kind in ("plain_text_input", "url_text_input"):
            plain[block_id] = element.get("value")
        elif kind in ("static_select", "radio_buttons"):
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


def parse_measure_form(values: Mapping[str, Any]) -> tuple[MeasureDraft | None, dict[str, str]]:
    """A draft, or None and inline errors keyed by block id."""
    errors: dict[str, str] = {}

    def attempt(block_id: str, parse: Any, raw: Any, default: Any = None) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return default
        try:
            return parse(raw)
        except InputError as error:
            errors[block_id] = str(error)
            return default

    def text(block_id: str, limit: int, what: str) -> str:
        raw = (values.get(block_id) or "").strip()
        try:
            return bounded(raw, limit=limit, what=what)
        except InputError as error:
            errors[block_id] = str(error)
            return ""

    title = text(Field.TITLE, TITLE_LIMIT, "The title")
    if not title and Field.TITLE not in errors:
        errors[Field.TITLE] = "Give the measure a title."
    package_raw = values.get(Field.PACKAGE)
    if not package_raw or not str(package_raw).isdigit():
        errors[Field.PACKAGE] = "Choose a measure package."
    cadence = values.get(Field.CADENCE) or Cadence.WEEKLY
    if cadence not in set(Cadence):
        errors[Field.CADENCE] = "Choose weekly, biweekly or monthly."
    weekday = values.get(Field.WEEKDAY) or "mon"
    if weekday not in WEEKDAYS:
        errors[Field.WEEKDAY] = "Choose a weekday."
    deps_raw = (values.get(Field.DEPENDENCIES) or "").strip()
    stated_none = deps_raw.lower() == "none"
    draft = MeasureDraft(
        title=title,
        package_id=int(package_raw) if package_raw and str(package_raw).isdigit() else 0,
        description=text(Field.DESCRIPTION, 3000, "The description"),
        owner_id=values.get(Field.OWNER),
        sponsor_id=values.get(Field.SPONSOR),
        controller_id=values.get(Field.CONTROLLER),
        business_unit=text(Field.BUSINESS_UNIT, 100, "The business unit"),
        function=text(Field.FUNCTION, 100, "The function"),
        baseline=attempt(Field.BASELINE, parse_amount, values.get(Field.BASELINE)),
        target=attempt(Field.TARGET, parse_amount, values.get(Field.TARGET)),
        one_time_cost=attempt(Field.ONE_TIME_COST, parse_amount, values.get(Field.ONE_TIME_COST)),
        due=attempt(Field.DUE, _parse_picked_date, values.get(Field.DUE)),
        cadence=cadence,
        checkin_weekday=WEEKDAYS.index(weekday) if weekday in WEEKDAYS else 0,
        checkin_time=attempt(Field.CHECKIN_TIME, parse_time, values.get(Field.CHECKIN_TIME), time(9, 0)),
        monthly_plan=attempt(Field.MONTHLY_PLAN, parse_monthly_plan, values.get(Field.MONTHLY_PLAN), {}),
        risks=attempt(Field.RISKS, parse_risks, values.get(Field.RISKS), []),
        no_known_risks=NO_KNOWN_RISKS in (values.get(Field.NO_KNOWN_RISKS) or []),
        dependency_keys=[] if stated_none else attempt(Field.DEPENDENCIES, parse_keys, deps_raw, []),
        dependencies_stated=bool(deps_raw),
        evidence_urls=attempt(Field.EVIDENCE, parse_urls, values.get(Field.EVIDENCE), []),
    )
    if draft.risks and draft.no_known_risks:
        errors[Field.NO_KNOWN_RISKS] = "Untick “no known risks” or remove the risks listed above."
    return (None, errors) if errors else (draft, {})


def _parse_picked_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError("Pick a date from the calendar.") from None
