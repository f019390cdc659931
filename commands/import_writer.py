"""Writing what `python -m bot import` read (commands/importer.py), in one transaction.

Units are created as needed; each row creates or updates its measure, then its forecasts and
actuals (storage/actuals.py: closed months only, a validated month left alone). A row that places
a measure at a stage (a new measure, or a stage different from the stored one) must meet that
stage's entry criteria under the governance in force (domain/gate_policy.readiness), or the import
is refused whole, naming the line and what is missing. With `--allow-unmet-criteria` (a
migration) such a measure is imported anyway, audited, and flagged on its card: "imported at DI3
without …". Dependencies are set after every row's measure exists, so a row may depend on a
measure further down the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commands.importer import ACTOR, ImportRow
from domain.actuals import closed_plan_months, months_asked
from domain.custom_fields import read_values
from domain.enums import Level, Stage
from domain.gate_policy import GateFacts, readiness
from domain.governance import PortfolioGovernance
from domain.measure_schema import BY_KEY, Key, MeasureDraft
from domain.money import MoneyStyle
from domain.stage_gates import MeasureFacts
from slackkit.people import store_user
from storage.actuals import ActualsRefused, closed_through_at, known_actuals, record_actuals
from storage.custom_values import set_values, values_of
from storage.governance import policy_in_force
from storage.measures import (
    PlanFrozen,
    create_measure,
    full_draft,
    portfolio_rules_of,
    reference_errors,
    update_measure,
)
from storage.models import Measure, Unit
from storage.money import defer_money, finish_deferred_money
from storage.month_writes import record_forecasts
from storage.organization import style_of
from storage.queries import find_measure_by_title, get_child_unit, get_measure, record_audit


@dataclass
class ImportReport:
    units_created: int = 0
    measures_created: int = 0
    measures_updated: int = 0
    measures_unchanged: int = 0
    imported_unmet: int = 0  # placed at a stage without meeting its criteria (--allow-unmet-criteria)
    months_changed: int = 0  # forecasts and actuals

    def summary(self) -> str:
        unmet = f", {self.imported_unmet} below their stage's criteria (flagged)" if self.imported_unmet else ""
        return (
            f"Imported: {self.units_created} units created, {self.measures_created} measures created, "
            f"{self.measures_updated} updated, {self.measures_unchanged} unchanged{unmet}; "
            f"{self.months_changed} forecast and actual months changed."
        )


class RowsRefused(Exception):
    """Raised inside the transaction so that nothing of the file is kept."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class _Run:
    now: datetime
    allow_unmet: bool
    report: ImportReport = field(default_factory=ImportReport)
    errors: list[str] = field(default_factory=list)
    dependencies: list[tuple[ImportRow, Measure]] = field(default_factory=list)
    unchanged: set[int] = field(default_factory=set)  # lines whose measure was left as it was
    keys: frozenset[str] = frozenset()  # the keys the file names: never given to a row without one
    packages: dict[tuple[str, ...], Unit] = field(default_factory=dict)  # each unit path looked up once
    package_rules: dict[int, _PackageRules] = field(default_factory=dict)


def apply_rows(
    *, session: Session, rows: list[ImportRow], users: dict[str, dict[str, Any]], now: datetime,
    allow_unmet: bool = False,
) -> ImportReport:  # fmt: skip
    """Write the rows (already read and their people resolved) in the caller's transaction; any
    error refuses them all (RowsRefused, every bad line named)."""
    run = _Run(now, allow_unmet, keys=frozenset(row.key for row in rows if row.key))
    defer_money(session)  # the rollup is re-summed once per package touched, not moved row by row
    for user in {u["id"]: u for u in users.values()}.values():
        store_user(session=session, user=user, touch=False)
    for row in rows:
        try:
            with session.begin_nested():  # what the database refuses is named with its line, too
                measure = _apply_row(session, row, {name: users[ref]["id"] for name, ref in row.people.items()}, run)
                if measure is not None:
                    _months(session, row, measure, run)
        except IntegrityError as error:
            run.errors.append(f"line {row.line}: the database refused it ({_first_line(error)})")
    for row, measure in run.dependencies:
        _dependencies(session, row, measure, run)
    if run.errors:
        raise RowsRefused(run.errors)
    finish_deferred_money(session)
    return run.report


def _first_line(error: IntegrityError) -> str:
    return str(error.orig).strip().split("\n")[0][:200]


def _apply_row(session: Session, row: ImportRow, people: dict[str, str], run: _Run) -> Measure | None:
    package = _ensure_units(session=session, names=row.units, run=run)
    existing = _existing(session=session, row=row, package_id=package.id or 0)
    base = full_draft(session=session, measure=existing) if existing else MeasureDraft()
    whole = _overlay(base, row, package.id or 0, people)  # what the measure will be, to check its stage
    stage = whole.stage or (Stage(existing.stage) if existing else Stage.DI0)
    custom = _custom_values(session, row, package.id or 0, run)
    if custom is None:
        return None
    held = values_of(session=session, measure_id=existing.id or 0) if existing else {}
    placed = existing is None or stage != existing.stage
    unmet = _unmet(session, replace(whole, stage=stage), existing, run, {**held, **custom}) if placed else []
    if unmet and not run.allow_unmet:
        run.errors.append(f"line {row.line}: to be placed at {stage}, it still needs: {', '.join(unmet)}")
        return None
    draft = replace(whole, stage=stage, dependency_keys=None)  # set once every row's measure exists
    same_fields = all(held.get(name, "") == value for name, value in custom.items())
    if (
        existing is not None
        and not placed
        and same_fields
        and draft == replace(base, stage=stage, dependency_keys=None)
    ):
        return _unchanged(row, existing, run)  # a re-import: what it says is what is stored (no write)
    try:
        return _write(session, row, existing, draft, unmet, run, custom)
    except PlanFrozen as frozen:
        run.errors.append(f"line {row.line}: plan: {frozen}")
        return None


def _custom_values(session: Session, row: ImportRow, package_id: int, run: _Run) -> dict[str, str] | None:
    """The row's `field NAME` cells read by the types its portfolio's governance gives them; None
    (with the errors noted) when one is not a field there or not of its type."""
    if not row.custom:
        return {}
    rules = _package_rules(session, package_id, run)
    values, errors = read_values(rules.policy.fields if rules.policy else (), row.custom, rules.style)
    run.errors += [f"line {row.line}: field {name}: {why}" for name, why in errors.items()]
    return None if errors else values


def _unchanged(row: ImportRow, measure: Measure, run: _Run) -> Measure:
    run.report.measures_unchanged += 1
    run.unchanged.add(row.line)
    if "dependency_keys" in row.values:
        run.dependencies.append((row, measure))
    return measure


def _write(
    session: Session, row: ImportRow, existing: Measure | None, draft: MeasureDraft, unmet: list[str], run: _Run,
    custom: dict[str, str],
) -> Measure:  # fmt: skip
    stage = draft.stage or Stage.DI0
    if existing is None:
        measure = create_measure(session=session, draft=draft, actor=ACTOR, now=run.now, key=row.key, reserved=run.keys)
        set_values(session=session, measure=measure, values=custom, actor=ACTOR, now=run.now)
        run.report.measures_created += 1
    else:
        edited = update_measure(session=session, measure=existing, draft=draft, actor=ACTOR, now=run.now)
        if not (set_values(session=session, measure=existing, values=custom, actor=ACTOR, now=run.now) or edited):
            return _unchanged(row, existing, run)
        measure, run.report.measures_updated = existing, run.report.measures_updated + 1
    if unmet:
        _flag_unmet(session, measure, stage, unmet, run)
    if "dependency_keys" in row.values:
        run.dependencies.append((row, measure))
    return measure


@dataclass(frozen=True)
class _PackageRules:
    """What the entry criteria read of a measure's package (its organization's last closed month and
    style, its portfolio's DI5 policy): looked up once per package in a run, not once per line."""

    closed: date
    di5_months: int | None
    style: MoneyStyle
    policy: PortfolioGovernance | None  # its portfolio's gates under the governance in force


def _package_rules(session: Session, package_id: int | None, run: _Run) -> _PackageRules:
    key = package_id or 0
    if key not in run.package_rules:
        run.package_rules[key] = _PackageRules(
            closed_through_at(session=session, unit_id=package_id, now=run.now),
            portfolio_rules_of(session=session, package_id=package_id).di5_months,
            style_of(session=session, unit_id=package_id),
            policy_in_force(session=session, package_id=package_id).policy if package_id else None,
        )
    return run.package_rules[key]


def _unmet(
    session: Session, draft: MeasureDraft, existing: Measure | None, run: _Run, custom: dict[str, str]
) -> list[str]:
    """What `draft` lacks for its stage's entry criteria (imported actuals are never validated)."""
    validated: set[date] = set()
    if existing is not None and existing.id is not None:
        known = known_actuals(session=session, measure_id=existing.id)
        validated = {m for m, k in known.items() if k.validated and k.actual is not None}
    rules = _package_rules(session, draft.package_id, run)
    months = months_asked(closed_plan_months(list(draft.monthly_plan or {}), rules.closed), rules.di5_months)
    unvalidated = tuple(m for m in months if m not in validated) if months else None
    facts = MeasureFacts(draft=draft, unvalidated_months=unvalidated, style=rules.style, di5_months=rules.di5_months)
    return readiness(rules.policy, draft.stage or Stage.DI0, GateFacts(facts, custom))


def _flag_unmet(session: Session, measure: Measure, stage: Stage, unmet: list[str], run: _Run) -> None:
    flag = json.dumps({"stage": str(stage), "missing": unmet})
    if measure.unmet_at_import == flag:
        return
    measure.unmet_at_import = flag
    session.add(measure)
    record_audit(session=session, actor=ACTOR, entity="measure", entity_key=measure.key,
                 action="imported_unmet_criteria", detail={"stage": stage, "missing": unmet})  # fmt: skip
    run.report.imported_unmet += 1


def _months(session: Session, row: ImportRow, measure: Measure, run: _Run) -> None:
    """The row's forecasts (any month of the plan) and actuals (its closed months)."""
    assert measure.id is not None
    run.report.months_changed += record_forecasts(session=session, measure=measure, entries=row.forecasts,
                                                  actor=ACTOR, action="forecasts_imported")  # fmt: skip
    if not row.actuals:
        return
    try:
        changed = record_actuals(session=session, measure=measure, entries=row.actuals, actor=ACTOR, validate=False,
                                 reason="", now=run.now)  # fmt: skip
    except ActualsRefused as refused:
        run.errors += [f"line {row.line}: actual {m:%Y-%m}: {text}" for m, text in sorted(refused.errors.items())]
        return
    run.report.months_changed += len(changed)


def _dependencies(session: Session, row: ImportRow, measure: Measure, run: _Run) -> None:
    draft = replace(full_draft(session=session, measure=measure), dependency_keys=row.values["dependency_keys"])
    problems = reference_errors(session=session, draft=draft, key=measure.key)
    if problems:
        run.errors += [f"line {row.line}: {BY_KEY[Key(key)].column or key}: {text}" for key, text in problems.items()]
        return
    if update_measure(session=session, measure=measure, draft=draft, actor=ACTOR, now=run.now) and (
        row.line in run.unchanged
    ):  # only its dependencies changed: an update after all
        run.report.measures_unchanged -= 1
        run.report.measures_updated += 1


def _existing(*, session: Session, row: ImportRow, package_id: int) -> Measure | None:
    if row.key:
        return get_measure(session=session, key=row.key)
    return find_measure_by_title(session=session, package_id=package_id, title=row.title)


def _overlay(draft: MeasureDraft, row: ImportRow, package_id: int, people: dict[str, str]) -> MeasureDraft:
    """`draft` with what the row's non-empty cells say (empty cells leave a field as it is)."""
    changes: dict[str, Any] = {**row.values, **people, "package_id": package_id}
    return replace(draft, **changes)


def _ensure_units(*, session: Session, names: tuple[str, ...], run: _Run) -> Unit:
    """The row's package, its units created as needed (looked up once per path in a run)."""
    if names in run.packages:
        return run.packages[names]
    run.packages[names] = _find_or_create_units(session=session, names=names, report=run.report)
    return run.packages[names]


def _find_or_create_units(*, session: Session, names: tuple[str, ...], report: ImportReport) -> Unit:
    parent: Unit | None = None
    for level, name in zip(Level, names, strict=True):
        parent_id = parent.id if parent else None
        unit = get_child_unit(session=session, parent_id=parent_id, name=name)
        if unit is None:
            unit = Unit(level=level, name=name, parent_id=parent_id)
            session.add(unit)
            session.flush()
            record_audit(
                session=session, actor=ACTOR, entity="unit", entity_key=str(unit.id), action="created",
                detail={"level": level, "name": name, "parent_id": parent_id},
            )  # fmt: skip
            report.units_created += 1
        elif unit.level != level:
            raise RowsRefused([f"“{name}” exists as a {unit.level}, not a {level}"])
        parent = unit
    assert parent is not None
    return parent
