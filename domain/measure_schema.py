"""A measure's fields, each declared once, on the draft itself.

Every field of `MeasureDraft` carries a `MeasureField` in its metadata: its key (the modal's
block id, the import column, the error key), the label a person reads (modal and audit), its
kind (which picks the modal element and the parser), its length limit, its import column and
the stage gate that first requires it. The modal, the form parser, the gate criteria, the audit
diff and the importer's columns are all read from `FIELDS`; nothing else lists the fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import Any

from domain.enums import Cadence, Stage
from domain.parsing import RiskLine


class Kind(StrEnum):
    """What a field holds, which decides how it is asked for, parsed and checked."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    PACKAGE = "package"
    PERSON = "person"
    AMOUNT = "amount"
    DATE = "date"
    CADENCE = "cadence"
    WEEKDAY = "weekday"
    TIME = "time"
    PLAN = "plan"
    RISKS = "risks"
    FLAG = "flag"
    KEYS = "keys"
    URLS = "urls"
    STAGE = "stage"


class Key(StrEnum):
    """The public name of each field: modal block id, import column, key of an inline error."""

    TITLE = "title"
    DESCRIPTION = "description"
    PACKAGE = "package"
    OWNER = "owner"
    SPONSOR = "sponsor"
    CONTROLLER = "controller"
    BUSINESS_UNIT = "business_unit"
    FUNCTION = "function"
    BASELINE = "baseline"
    TARGET = "target"
    ONE_TIME_COST = "one_time_cost"
    DUE = "due"
    CADENCE = "cadence"
    WEEKDAY = "weekday"
    CHECKIN_TIME = "checkin_time"
    MONTHLY_PLAN = "monthly_plan"
    RISKS = "risks"
    NO_KNOWN_RISKS = "no_known_risks"
    DEPENDENCIES = "dependencies"
    DEPENDENCIES_STATED = "dependencies_stated"
    EVIDENCE = "evidence"
    STAGE = "stage"


@dataclass(frozen=True)
class MeasureField:
    key: Key
    label: str
    kind: Kind
    name: str = ""  # the draft's attribute (filled in from the dataclass field)
    scalar: bool = True  # a column of the measure row (else rows of a child table)
    limit: int | None = None  # characters, for text
    column: str | None = None  # the import column, when a spreadsheet carries it
    in_form: bool = True  # asked for in the measure modal
    required_at: Stage | None = None  # the first stage whose gate requires it
    missing: str = ""  # what the gate says is missing ("an owner")
    hint: str | None = None
    present: Callable[[MeasureDraft], bool] | None = None  # when "set" is more than "not empty"


def _spec(default: Any = None, *, factory: Callable[[], Any] | None = None, **spec: Any) -> Any:
    metadata = {"spec": MeasureField(**spec)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _plan_sums_to_target(draft: MeasureDraft) -> bool:
    return bool(draft.monthly_plan) and sum((draft.monthly_plan or {}).values()) == draft.target


def _risks_or_none_known(draft: MeasureDraft) -> bool:
    return bool(draft.risks) or draft.no_known_risks


def _dependencies_stated(draft: MeasureDraft) -> bool:
    return draft.dependencies_stated


AMOUNT_HINT = "Whole currency units: 250000, 250k or 1.5m"


@dataclass
class MeasureDraft:
    """Everything a person can set on a measure, through the modal or an import row."""

    title: str = _spec(
        "", key=Key.TITLE, label="Title", kind=Kind.TEXT, limit=200, column="title",
        required_at=Stage.DI0, missing="a title",
    )  # fmt: skip
    description: str = _spec(
        "", key=Key.DESCRIPTION, label="Description", kind=Kind.LONG_TEXT, limit=3000, column="description"
    )
    package_id: int = _spec(
        0, key=Key.PACKAGE, label="Measure package", kind=Kind.PACKAGE, required_at=Stage.DI0,
        missing="a measure package",
    )  # fmt: skip
    owner_id: str | None = _spec(
        key=Key.OWNER, label="Owner", kind=Kind.PERSON, column="owner", required_at=Stage.DI1, missing="an owner"
    )
    sponsor_id: str | None = _spec(
        key=Key.SPONSOR, label="Sponsor", kind=Kind.PERSON, column="sponsor", required_at=Stage.DI1, missing="a sponsor"
    )
    controller_id: str | None = _spec(
        key=Key.CONTROLLER, label="Controller", kind=Kind.PERSON, column="controller", required_at=Stage.DI1,
        missing="a controller",
    )  # fmt: skip
    business_unit: str = _spec(
        "", key=Key.BUSINESS_UNIT, label="Business unit", kind=Kind.TEXT, limit=100, column="business_unit",
        required_at=Stage.DI1, missing="a business unit",
    )  # fmt: skip
    function: str = _spec(
        "", key=Key.FUNCTION, label="Function", kind=Kind.TEXT, limit=100, column="function",
        required_at=Stage.DI1, missing="a function",
    )  # fmt: skip
    baseline: int | None = _spec(
        key=Key.BASELINE, label="Baseline", kind=Kind.AMOUNT, column="baseline", required_at=Stage.DI1,
        missing="a baseline", hint=AMOUNT_HINT,
    )  # fmt: skip
    target: int | None = _spec(
        key=Key.TARGET, label="Target value (per year)", kind=Kind.AMOUNT, column="target", required_at=Stage.DI1,
        missing="a target value", hint="The yearly value this measure should bring",
    )  # fmt: skip
    one_time_cost: int | None = _spec(
        key=Key.ONE_TIME_COST, label="One-time cost", kind=Kind.AMOUNT, column="one_time_cost"
    )
    due: date | None = _spec(
        key=Key.DUE, label="Due date", kind=Kind.DATE, column="due", required_at=Stage.DI2, missing="a due date"
    )
    cadence: str = _spec(
        Cadence.WEEKLY, key=Key.CADENCE, label="Check-in cadence", kind=Kind.CADENCE, column="cadence"
    )  # the import column holds the whole schedule, like "biweekly tue 14:00"
    checkin_weekday: int = _spec(0, key=Key.WEEKDAY, label="Check-in day", kind=Kind.WEEKDAY)
    checkin_time: time = _spec(
        time(9, 0), key=Key.CHECKIN_TIME, label="Check-in time (the owner's own timezone)", kind=Kind.TIME
    )
    # None for the children: leave them as they are (an import row without such columns). The
    # import's plan comes in one column per month (`plan 2027-01`), read by commands/importer.py.
    monthly_plan: dict[date, int] | None = _spec(
        key=Key.MONTHLY_PLAN, label="Monthly value plan", kind=Kind.PLAN, scalar=False, required_at=Stage.DI2,
        missing="a monthly value plan that sums to the target", present=_plan_sums_to_target,
        hint="One month per line, like “2027-01: 10k”. It should sum to the target.",
    )  # fmt: skip
    risks: list[RiskLine] | None = _spec(
        key=Key.RISKS, label="Risks", kind=Kind.RISKS, scalar=False, required_at=Stage.DI2, column="risks",
        missing="at least one risk, or “no known risks”", present=_risks_or_none_known,
        hint="One per line: “low|medium|high: risk | mitigation”",
    )  # fmt: skip
    no_known_risks: bool = _spec(False, key=Key.NO_KNOWN_RISKS, label="No known risks", kind=Kind.FLAG)
    dependency_keys: list[str] | None = _spec(
        key=Key.DEPENDENCIES, label="Depends on", kind=Kind.KEYS, scalar=False, required_at=Stage.DI2,
        column="dependencies",
        missing="its dependencies stated (or “none”)", present=_dependencies_stated,
        hint="Measure keys like “M-3, M-7”, or “none”",
    )  # fmt: skip
    dependencies_stated: bool = _spec(
        False, key=Key.DEPENDENCIES_STATED, label="Dependencies stated", kind=Kind.FLAG, in_form=False
    )  # set by the "Depends on" input: any answer, "none" included, states them
    evidence_urls: list[str] | None = _spec(
        key=Key.EVIDENCE, label="Evidence links", kind=Kind.URLS, scalar=False, required_at=Stage.DI4,
        column="evidence", missing="evidence that the activities are done (a link)", hint="One http(s) link per line",
    )  # fmt: skip
    stage: Stage | None = _spec(
        key=Key.STAGE, label="Stage", kind=Kind.STAGE, scalar=False, column="stage", in_form=False
    )  # an import's stage for a new measure; stages otherwise move only through the gates


FIELDS: tuple[MeasureField, ...] = tuple(
    dataclasses.replace(f.metadata["spec"], name=f.name) for f in dataclasses.fields(MeasureDraft)
)
BY_KEY: dict[Key, MeasureField] = {f.key: f for f in FIELDS}
BY_NAME: dict[str, MeasureField] = {f.name: f for f in FIELDS}
# The columns of the measure row a draft sets; compared one by one to describe a change.
SCALARS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.scalar)
FORM_FIELDS: tuple[MeasureField, ...] = tuple(f for f in FIELDS if f.in_form)
IMPORT_FIELDS: tuple[MeasureField, ...] = tuple(f for f in FIELDS if f.column)


def is_present(spec: MeasureField, draft: MeasureDraft) -> bool:
    """Whether `draft` has what the gate needs of this field."""
    if spec.present is not None:
        return spec.present(draft)
    value = getattr(draft, spec.name)
    if isinstance(value, str):
        return bool(value.strip())
    if spec.kind is Kind.PACKAGE:
        return bool(value)
    return value is not None and value != []


def missing_at(stage: Stage, draft: MeasureDraft) -> list[str]:
    """What `draft` lacks that the gate into `stage` itself requires (not the earlier gates)."""
    return [f.missing for f in FIELDS if f.required_at is stage and not is_present(f, draft)]


def audit_label(name: str) -> str:
    """The words for a changed field in a confirmation ('owner', 'monthly value plan')."""
    spec = BY_NAME.get(name) or next((f for f in FIELDS if f.key == name), None)
    return spec.label.split(" (")[0].lower() if spec else name.replace("_", " ")
