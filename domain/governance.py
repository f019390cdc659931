"""A programme's own method as configuration (issue 17): per portfolio, the gates' entry criteria and
approvers, custom fields, tolerance, stage weights and from which stage the plan is frozen; and the
organization's KPIs. Pure: a parsed document (a mapping, as from YAML) in, a `Governance` or every
error with its path out (`GovernanceRefused`); nothing is half-accepted.

```yaml
organization: Acme
portfolios:
  Commercial:
    tolerance: 10
    weights: {DI1: 10, DI2: 25, DI3: 50, DI4: 90, DI5: 100}
    plan_frozen_from: DI3
    fields:
      - {name: customer_segment, label: Customer segment, type: select, options: [SMB, Enterprise]}
    gates:
      DI2: {requires: [due, monthly_plan_sums_to_target, risks_or_none, dependencies_stated, customer_segment]}
      DI3: {approvers: [sponsor, {person: U0FINANCE}]}
      DI4: {requires: [{evidence: 2}]}
      DI5: {requires: [actuals_validated], approvers: [controller, sponsor]}
kpis:
  - {name: Client response time, unit: hours, direction: lower, baseline: 48, target: 24, target_date: 2027-12-31}
```

What a portfolio leaves out is today's behaviour (`domain.gate_policy.DEFAULT_GATES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import yaml

from domain.enums import Stage
from domain.weights import DEFAULT_WEIGHTS, WEIGHTED_STAGES

GATED = (Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4, Stage.DI5)
FREEZABLE = GATED[1:]  # a plan exists from DI2 on (today's method asks for it there)
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SUBTEAM_ID = re.compile(r"^S[A-Z0-9]{2,31}$")


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    SELECT = "select"
    USER = "user"


class Rule(StrEnum):
    """The criteria that are more than "this field is set"."""

    MONTHLY_PLAN_SUMS_TO_TARGET = "monthly_plan_sums_to_target"
    RISKS_OR_NONE = "risks_or_none"
    DEPENDENCIES_STATED = "dependencies_stated"
    ACTUALS_VALIDATED = "actuals_validated"
    EVIDENCE = "evidence"  # {evidence: N}: at least N links


# The measure's own fields a gate may require by name (domain.measure_schema's names).
MEASURE_FIELDS = ("title", "package_id", "owner_id", "sponsor_id", "controller_id", "business_unit", "function",
                  "baseline", "target", "due")  # fmt: skip
FIELD_ALIASES = {"package": "package_id", "owner": "owner_id", "sponsor": "sponsor_id", "controller": "controller_id"}


@dataclass(frozen=True)
class Criterion:
    """One entry criterion: a rule, a measure field or a custom field that must be set."""

    name: str  # a Rule's value, a measure field's name, or a custom field's name
    count: int = 1  # for evidence: how many links


@dataclass(frozen=True)
class Approver:
    """One step of a gate's approval: `sponsor` / `controller` (the measure's), a `person`, any one
    member of a `usergroup`, or `all_of` several (each of them decides)."""

    kind: str  # sponsor | controller | person | usergroup | all_of
    id: str = ""  # the person's or the usergroup's
    all_of: tuple[Approver, ...] = ()


@dataclass(frozen=True)
class Gate:
    requires: tuple[Criterion, ...] | None = None  # None: the default criteria of this gate
    approvers: tuple[Approver, ...] | None = None  # None: the default approvers


@dataclass(frozen=True)
class CustomField:
    name: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortfolioGovernance:
    # Set on the portfolio when the file is applied (None: the file leaves it to `/measure rules`).
    tolerance: int | None = None  # percent
    weights: Mapping[Stage, int] | None = None
    plan_frozen_from: Stage | None = None  # the first stage whose plan changes only by a re-baseline
    fields: tuple[CustomField, ...] = ()
    gates: Mapping[Stage, Gate] = field(default_factory=dict)


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    higher_is_better: bool
    baseline: Decimal
    target: Decimal
    target_date: date


@dataclass(frozen=True)
class Governance:
    organization: str
    portfolios: Mapping[str, PortfolioGovernance]
    kpis: tuple[Kpi, ...] = ()


class GovernanceRefused(ValueError):
    """Every error of the document, each with its path (`portfolios.Commercial.gates.DI3.approvers[1]`)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in errors))
        self.errors = errors


class _Errors:
    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.found.append((path, reason))


def governance_from_text(document: str) -> Governance:
    """A governance file's text (YAML) as a Governance; GovernanceRefused with every error."""
    try:
        parsed = yaml.safe_load(document)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f"line {where.line + 1}: " if where is not None else ""
        raise GovernanceRefused([("", f"{line}this is not YAML ({getattr(error, 'problem', error)})")]) from None
    return parse_governance(parsed)


def parse_governance(document: object) -> Governance:
    """The document as a Governance; GovernanceRefused naming every error (nothing is taken)."""
    errors = _Errors()
    if not isinstance(document, Mapping):
        raise GovernanceRefused([("", "the file is a mapping with `organization` and `portfolios`")])
    _unknown_keys(document, {"organization", "portfolios", "kpis"}, "", errors)
    organization = document.get("organization")
    if not isinstance(organization, str) or not organization.strip():
        errors.add("organization", "the organization's name is required")
    portfolios_doc = document.get("portfolios") or {}
    portfolios: dict[str, PortfolioGovernance] = {}
    if not isinstance(portfolios_doc, Mapping):
        errors.add("portfolios", "a mapping of portfolio names to their rules")
    else:
        for name, body in portfolios_doc.items():
            portfolios[str(name)] = _portfolio(body, f"portfolios.{name}", errors)
    kpis = _kpis(document.get("kpis") or [], errors)
    if errors.found:
        raise GovernanceRefused(errors.found)
    return Governance(str(organization).strip(), portfolios, kpis)


def _unknown_keys(body: Mapping[Any, Any], known: set[str], path: str, errors: _Errors) -> None:
    for key in body:
        if key not in known:
            errors.add(f"{path}.{key}".lstrip("."), f"unknown setting (known: {', '.join(sorted(known))})")


def _stage(value: object, path: str, errors: _Errors, *, among: tuple[Stage, ...] = GATED) -> Stage | None:
    if isinstance(value, str) and value in {s.value for s in among}:
        return Stage(value)
    errors.add(path, f"“{value}” is not a stage (one of {', '.join(s.value for s in among)})")
    return None


def _portfolio(body: object, path: str, errors: _Errors) -> PortfolioGovernance:
    if not isinstance(body, Mapping):
        errors.add(path, "a mapping of the portfolio's rules")
        return PortfolioGovernance()
    _unknown_keys(body, {"tolerance", "weights", "plan_frozen_from", "fields", "gates"}, path, errors)
    tolerance = body.get("tolerance")
    if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, int)
                                  or not 0 < tolerance <= 100):  # fmt: skip
        errors.add(f"{path}.tolerance", "a whole percentage from 1 to 100")
        tolerance = None
    frozen = None
    if "plan_frozen_from" in body:
        frozen = _stage(body["plan_frozen_from"], f"{path}.plan_frozen_from", errors, among=FREEZABLE)
    fields = _fields(body.get("fields") or [], f"{path}.fields", errors)
    known = {f.name for f in fields}
    gates_doc = body.get("gates") or {}
    gates: dict[Stage, Gate] = {}
    if not isinstance(gates_doc, Mapping):
        errors.add(f"{path}.gates", "a mapping of stages (DI1…DI5) to their gate")
    else:
        for stage_name, gate in gates_doc.items():
            stage = _stage(stage_name, f"{path}.gates.{stage_name}", errors)
            if stage is not None:
                gates[stage] = _gate(gate, f"{path}.gates.{stage_name}", known, errors)
    weights = _weights(body["weights"], f"{path}.weights", errors) if "weights" in body else None
    return PortfolioGovernance(tolerance, weights, frozen, fields, gates)


def _weights(body: object, path: str, errors: _Errors) -> dict[Stage, int]:
    weights = dict(DEFAULT_WEIGHTS)
    if not isinstance(body, Mapping):
        errors.add(path, "a mapping of stages to percentages")
        return weights
    for name, value in body.items():
        stage = _stage(name, f"{path}.{name}", errors, among=WEIGHTED_STAGES)
        if stage is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors.add(f"{path}.{name}", "a whole percentage from 0 to 100")
            continue
        weights[stage] = value
    ordered = [weights[s] for s in WEIGHTED_STAGES]
    if ordered != sorted(ordered):
        errors.add(path, "a later stage may not weigh less than an earlier one")
    return weights


def _fields(body: object, path: str, errors: _Errors) -> tuple[CustomField, ...]:
    if not isinstance(body, list):
        errors.add(path, "a list of fields")
        return ()
    found: list[CustomField] = []
    for index, item in enumerate(body):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            errors.add(where, "a field is {name, label, type[, options]}")
            continue
        _unknown_keys(item, {"name", "label", "type", "options"}, where, errors)
        name, label, kind = item.get("name"), item.get("label"), item.get("type")
        if not isinstance(name, str) or not FIELD_NAME.match(name) or name in MEASURE_FIELDS or name in set(Rule):
            errors.add(f"{where}.name", "a new lower-case name of letters, digits and _ (not a measure's own field)")
            continue
        if name in {f.name for f in found}:
            errors.add(f"{where}.name", f"“{name}” is declared twice")
        if kind not in set(FieldType):
            errors.add(f"{where}.type", f"“{kind}” is not a field type ({', '.join(FieldType)})")
            continue
        options = item.get("options") or []
        if kind == FieldType.SELECT and (not isinstance(options, list) or not options
                                         or not all(isinstance(o, str) and o for o in options)):  # fmt: skip
            errors.add(f"{where}.options", "a select field lists its options")
            continue
        found.append(CustomField(name, str(label or name), FieldType(kind), tuple(options)))
    return tuple(found)


def _gate(body: object, path: str, custom: set[str], errors: _Errors) -> Gate:
    if not isinstance(body, Mapping):
        errors.add(path, "a gate is {requires: […], approvers: […]}")
        return Gate()
    _unknown_keys(body, {"requires", "approvers"}, path, errors)
    requires = None
    if "requires" in body:
        items = body["requires"]
        if not isinstance(items, list):
            errors.add(f"{path}.requires", "a list of criteria")
        else:
            requires = tuple(c for i, item in enumerate(items)
                             if (c := _criterion(item, f"{path}.requires[{i}]", custom, errors)))  # fmt: skip
    approvers = None
    if "approvers" in body:
        items = body["approvers"]
        if not isinstance(items, list) or not items:
            errors.add(f"{path}.approvers", "a gate needs at least one approver")
        else:
            approvers = tuple(a for i, item in enumerate(items)
                              if (a := _approver(item, f"{path}.approvers[{i}]", errors)))  # fmt: skip
    return Gate(requires, approvers)


def _criterion(item: object, path: str, custom: set[str], errors: _Errors) -> Criterion | None:
    if isinstance(item, Mapping) and set(item) == {Rule.EVIDENCE.value}:
        count = item[Rule.EVIDENCE.value]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50:
            errors.add(path, "evidence: a number of links from 1 to 50")
            return None
        return Criterion(Rule.EVIDENCE, count)
    name = FIELD_ALIASES.get(str(item), str(item)) if isinstance(item, str) else None
    if name is None or not (name in set(Rule) or name in MEASURE_FIELDS or name in custom):
        errors.add(path, f"“{item}” is no criterion: a rule ({', '.join(Rule)}), a measure field or a declared field")
        return None
    return Criterion(name)


def _approver(item: object, path: str, errors: _Errors) -> Approver | None:
    if item in ("sponsor", "controller"):
        return Approver(str(item))
    if isinstance(item, Mapping) and len(item) == 1:
        (kind, value), = item.items()  # fmt: skip
        if kind == "person" and isinstance(value, str) and USER_ID.match(value):
            return Approver("person", value)
        if kind == "usergroup" and isinstance(value, str) and SUBTEAM_ID.match(value):
            return Approver("usergroup", value)
        if kind == "all_of" and isinstance(value, list) and len(value) >= 2:
            steps = tuple(a for i, v in enumerate(value) if (a := _approver(v, f"{path}.all_of[{i}]", errors)))
            return Approver("all_of", all_of=steps) if len(steps) == len(value) else None
    errors.add(path, "an approver is sponsor, controller, {person: U…}, {usergroup: S…} or {all_of: [two or more]}")
    return None


def _kpis(body: object, errors: _Errors) -> tuple[Kpi, ...]:
    if not isinstance(body, list):
        errors.add("kpis", "a list of KPIs")
        return ()
    found = []
    for index, item in enumerate(body):
        where = f"kpis[{index}]"
        if not isinstance(item, Mapping):
            errors.add(where, "a KPI is {name, unit, direction, baseline, target, target_date}")
            continue
        _unknown_keys(item, {"name", "unit", "direction", "baseline", "target", "target_date"}, where, errors)
        missing = [k for k in ("name", "unit", "direction", "baseline", "target", "target_date") if item.get(k) is None]
        for key in missing:
            errors.add(f"{where}.{key}", "required")
        direction = item.get("direction")
        if direction is not None and direction not in ("higher", "lower"):
            errors.add(f"{where}.direction", "higher or lower (which is better)")
        numbers = [item.get(k) for k in ("baseline", "target")]
        if any(n is not None and (isinstance(n, bool) or not isinstance(n, int | float)) for n in numbers):
            errors.add(where, "baseline and target are numbers")
            continue
        when = item.get("target_date")
        if when is not None and not isinstance(when, date):
            try:
                when = date.fromisoformat(str(when))
            except ValueError:
                errors.add(f"{where}.target_date", "a date, YYYY-MM-DD")
                continue
        if not missing and direction in ("higher", "lower") and isinstance(when, date):
            baseline, target = (Decimal(str(n)) for n in numbers)  # exact, as written
            found.append(Kpi(str(item["name"]), str(item["unit"]), direction == "higher", baseline, target, when))
    return tuple(found)
