"""Creating and changing measures: one transaction per change, each with its audit record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, select

from domain.actuals import closed_plan_months, months_asked
from domain.enums import Level, Severity, Stage
from domain.escalation_rules import PortfolioRules
from domain.measure_schema import SCALARS, Key, MeasureDraft
from domain.parsing import RiskLine
from domain.schedule import next_checkin_for
from domain.stage_gates import MeasureFacts, freezes, plan_frozen, stage_for_new
from storage.actuals import closed_through_of
from storage.models import Dependency, Evidence, Measure, MeasureMonth, Person, Risk, Unit
from storage.organization import organization_of, settings_of, style_of
from storage.queries import (
    dependency_keys_of,
    ensure_person_rows,
    evidence_of,
    get_measures_by_keys,
    months_of,
    next_measure_number,
    record_audit,
    risks_of,
    unit_path,
)
from storage.types import now_of


def reference_errors(*, session: Session, draft: MeasureDraft, key: str | None = None) -> dict[str, str]:
    """Problems that need the database: the package, the dependency keys. Keyed by field name."""
    return reference_problems(session=session, package_id=draft.package_id, dependency_keys=draft.dependency_keys or [],
                              key=key)  # fmt: skip


def reference_problems(
    *, session: Session, package_id: int | None, dependency_keys: list[str], key: str | None = None
) -> dict[str, str]:
    """The same from the parts a form gave (so they are reported with the form's own errors)."""
    errors: dict[str, str] = {}
    package = session.get(Unit, package_id) if package_id is not None else None
    if package is None or package.level != Level.PACKAGE:
        errors[Key.PACKAGE] = "Choose a measure package (the lowest level of the structure)."
    if dependency_keys:
        found = get_measures_by_keys(session=session, keys=dependency_keys)
        unknown = [k for k in dependency_keys if k not in found]
        if unknown:
            errors[Key.DEPENDENCIES] = f"No measure {', '.join(unknown)}: list existing keys like M-3."
        elif key is not None and key.upper() in found:
            errors[Key.DEPENDENCIES] = "A measure cannot depend on itself."
    return errors


def draft_from_measure(measure: Measure) -> MeasureDraft:
    """A draft that sets every scalar to what `measure` has now and leaves its children alone."""
    return MeasureDraft(**{name: getattr(measure, name) for name in SCALARS})


def full_draft(*, session: Session, measure: Measure) -> MeasureDraft:
    """Every field of `measure` as it is now, its children (plan, risks, dependencies, evidence)
    included: what the edit modal shows and what the gates check."""
    assert measure.id is not None
    return _full_draft(session, measure, months_of(session=session, measure_id=measure.id))


def _full_draft(session: Session, measure: Measure, months: Sequence[MeasureMonth]) -> MeasureDraft:
    assert measure.id is not None
    draft = draft_from_measure(measure)
    draft.monthly_plan = {m.month: m.plan for m in months if m.plan is not None}
    draft.risks = [
        RiskLine(Severity(r.severity), r.text, r.mitigation) for r in risks_of(session=session, measure_id=measure.id)
    ]
    draft.dependency_keys = dependency_keys_of(session=session, measure_id=measure.id)
    draft.evidence_urls = [e.url for e in evidence_of(session=session, measure_id=measure.id)]
    return draft


def facts_of(*, session: Session, measure: Measure) -> MeasureFacts:
    """What the stage gates look at, as the measure stands in the database."""
    assert measure.id is not None
    months = months_of(session=session, measure_id=measure.id)
    closed = closed_plan_months(
        [m.month for m in months if m.plan is not None],
        closed_through_of(session=session, measure=measure, now=now_of(session)),
    )
    validated = {m.month for m in months if m.actual is not None and m.actual_validated_by is not None}
    policy = portfolio_rules_of(session=session, package_id=measure.package_id).di5_months
    asked = months_asked(closed, policy)
    return MeasureFacts(
        draft=_full_draft(session, measure, months),
        unvalidated_months=tuple(m for m in asked if m not in validated) if asked else None,
        has_actuals=any(m.actual is not None for m in months),
        style=style_of(session=session, unit_id=measure.package_id),
        di5_months=policy,
    )


def portfolio_rules_of(*, session: Session, package_id: int | None) -> PortfolioRules:
    """The rules of the portfolio a package is in (the defaults outside any)."""
    package = session.get(Unit, package_id) if package_id is not None else None
    path = unit_path(session=session, unit=package) if package else []
    portfolio = next((u for u in path if u.level == Level.PORTFOLIO), None)
    return PortfolioRules.parse(portfolio.rules if portfolio else None)


def create_measure(
    *, session: Session, draft: MeasureDraft, actor: str, now: datetime, key: str | None = None,
    reserved: frozenset[str] = frozenset(),
) -> Measure:  # fmt: skip
    """A new measure: `key` (an import that carries the organization's own keys), else the
    organization's prefix and the next number free as a key (OPS-13) and not `reserved` (the keys an
    import names further down its file). `number` orders measures."""
    ensure_person_rows(session=session, slack_ids=[draft.owner_id, draft.sponsor_id, draft.controller_id])
    number = _number_for(session, key)
    if key is None:
        prefix = settings_of(organization_of(session=session, unit_id=draft.package_id)).key_prefix
        while (
            f"{prefix}-{number}" in reserved
            or session.exec(select(Measure.id).where(Measure.key == f"{prefix}-{number}")).first() is not None
        ):
            number += 1  # taken by an imported key
        key = f"{prefix}-{number}"
    stage = draft.stage or stage_for_new(MeasureFacts(draft=draft))
    measure = Measure(number=number, key=key, stage=stage, **_scalars(draft))
    reschedule(session=session, measure=measure, now=now)
    session.add(measure)
    session.flush()
    _replace_children(session=session, measure=measure, draft=draft, actor=actor)
    frozen_from = portfolio_rules_of(session=session, package_id=draft.package_id).plan_frozen_from
    if freezes(None, Stage(stage), frozen_from=frozen_from):  # placed at a decided stage (an import)
        freeze_plan(session=session, measure_id=measure.id or 0)
    record_audit(
        session=session, actor=actor, entity="measure", entity_key=measure.key, action="created",
        detail={"stage": stage, **_scalars(draft), **_children_detail(draft)},
    )  # fmt: skip
    return measure


def _number_for(session: Session, key: str | None) -> int:
    """The measure's number (its order): a key's own number when it ends in one that is free (OPS-12
    is 12), else the next after the highest, so a key made in Slack follows the imported ones."""
    suffix = key.rsplit("-", 1)[1] if key else ""
    taken = select(Measure.id).where(Measure.number == int(suffix)) if suffix.isdigit() else None
    if taken is not None and 0 < int(suffix) < 2**31 and session.exec(taken).first() is None:
        return int(suffix)
    return next_measure_number(session=session)


class PlanFrozen(Exception):
    """The edit changes the plan of a decided measure: that takes a re-baseline request."""

    def __str__(self) -> str:
        key = self.args[0]
        return f"From DI3 the plan is the baseline: ask for a re-baseline with `/measure rebaseline {key}`."


def freeze_plan(*, session: Session, measure_id: int) -> None:
    """The plan as decided: each month's plan copied to `decided_plan` (at DI3, once)."""
    for month in months_of(session=session, measure_id=measure_id):
        if month.decided_plan != month.plan:
            month.decided_plan = month.plan
            session.add(month)


class StaleEdit(Exception):
    """The measure changed after the form was opened (its version is no longer the one edited)."""


def claim_version(*, session: Session, measure: Measure, expected: int) -> None:
    """Move the measure from version `expected` to the next in one conditional UPDATE, or raise
    StaleEdit. On PostgreSQL a concurrent edit waits for this row's lock and then finds the version
    moved on, so of many saves from one form exactly one succeeds; SQLite serializes writers."""
    claimed = session.execute(
        sa.update(Measure)
        .where(col(Measure.id) == measure.id, col(Measure.version) == expected)
        .values(version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit(measure.key)
    set_committed_value(measure, "version", expected + 1)  # the database has it already


def update_measure(
    *,
    session: Session,
    measure: Measure,
    draft: MeasureDraft,
    actor: str,
    now: datetime,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply `draft`; returns {field: [old, new]} of what changed (empty: nothing written). With
    `expected_version` (an edit form's), a measure changed since then raises StaleEdit."""
    ensure_person_rows(session=session, slack_ids=[draft.owner_id, draft.sponsor_id, draft.controller_id])
    changes = {
        name: [getattr(measure, name), value]
        for name, value in _scalars(draft).items()
        if getattr(measure, name) != value
    }
    changes.update(_children_changes(session=session, measure=measure, draft=draft))
    frozen_from = portfolio_rules_of(session=session, package_id=measure.package_id).plan_frozen_from
    if "monthly_plan" in changes and plan_frozen(
        Stage(measure.stage), measure.held_from_stage, frozen_from=frozen_from
    ):
        raise PlanFrozen(measure.key)
    if draft.stage is not None and draft.stage != measure.stage:
        changes["stage"] = [measure.stage, draft.stage]
    if not changes:
        return {}
    if expected_version is not None:
        claim_version(session=session, measure=measure, expected=expected_version)
    for name, value in _scalars(draft).items():
        setattr(measure, name, value)
    if draft.stage is not None:
        measure.stage = draft.stage
    if SCHEDULE_FIELDS & changes.keys():
        reschedule(session=session, measure=measure, now=now)
    if expected_version is None:
        measure.version += 1
    measure.updated_at = now
    session.add(measure)
    _replace_children(session=session, measure=measure, draft=draft, actor=actor)
    if "stage" in changes and freezes(Stage(changes["stage"][0]), Stage(measure.stage), frozen_from=frozen_from):
        freeze_plan(session=session, measure_id=measure.id or 0)
    record_audit(
        session=session,
        actor=actor,
        entity="measure",
        entity_key=measure.key,
        action="edited",
        detail=changes,
    )
    return changes


SCHEDULE_FIELDS = {"owner_id", "cadence", "checkin_weekday", "checkin_time", "stage"}


def reschedule(*, session: Session, measure: Measure, now: datetime) -> None:
    """Recompute when the measure is next checked in (after its schedule, owner or stage changed)."""
    owner = session.get(Person, measure.owner_id) if measure.owner_id else None
    measure.next_checkin_at = next_checkin_for(measure, owner.tz if owner else None, now)


def reschedule_owner(*, session: Session, owner_id: str, now: datetime) -> int:
    """After an owner's timezone changed: move their measures' next check-in to their new 09:00."""
    measures = session.exec(select(Measure).where(Measure.owner_id == owner_id)).all()
    for measure in measures:
        reschedule(session=session, measure=measure, now=now)
        session.add(measure)
    return len(measures)


def _scalars(draft: MeasureDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in SCALARS}


def _children_detail(draft: MeasureDraft) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if draft.monthly_plan:
        detail["monthly_plan"] = {f"{m:%Y-%m}": v for m, v in sorted(draft.monthly_plan.items())}
    if draft.risks:
        detail["risks"] = [f"{r.severity}: {r.text} | {r.mitigation}" for r in draft.risks]
    if draft.dependency_keys:
        detail["dependencies"] = draft.dependency_keys
    if draft.evidence_urls:
        detail["evidence"] = draft.evidence_urls
    return detail


def _children_changes(*, session: Session, measure: Measure, draft: MeasureDraft) -> dict[str, Any]:
    assert measure.id is not None
    changes: dict[str, Any] = {}
    if draft.monthly_plan is not None:
        old = {m.month: m.plan for m in months_of(session=session, measure_id=measure.id) if m.plan is not None}
        if old != draft.monthly_plan:
            changes["monthly_plan"] = [_months(old), _months(draft.monthly_plan)]
    if draft.risks is not None:
        old_risks = [
            RiskLine(Severity(r.severity), r.text, r.mitigation)
            for r in risks_of(session=session, measure_id=measure.id)
        ]
        if old_risks != draft.risks:
            changes["risks"] = [[r.text for r in old_risks], [r.text for r in draft.risks]]
    if draft.dependency_keys is not None:
        old_keys = dependency_keys_of(session=session, measure_id=measure.id)
        if old_keys != draft.dependency_keys:
            changes["dependencies"] = [old_keys, draft.dependency_keys]
    if draft.evidence_urls is not None:
        old_urls = [e.url for e in evidence_of(session=session, measure_id=measure.id)]
        if old_urls != draft.evidence_urls:
            changes["evidence"] = [old_urls, draft.evidence_urls]
    return changes


def _months(plan: dict[date, int]) -> dict[str, int]:
    return {f"{m:%Y-%m}": v for m, v in sorted(plan.items())}


def _replace_children(*, session: Session, measure: Measure, draft: MeasureDraft, actor: str) -> None:
    measure_id = measure.id
    assert measure_id is not None
    if draft.monthly_plan is not None:
        replace_plan(session=session, measure_id=measure_id, plan=draft.monthly_plan)
    if draft.risks is not None:
        session.exec(delete(Risk).where(col(Risk.measure_id) == measure_id))
        for risk in draft.risks:
            session.add(Risk(measure_id=measure_id, text=risk.text, severity=risk.severity, mitigation=risk.mitigation))
    if draft.dependency_keys is not None:
        session.exec(delete(Dependency).where(col(Dependency.measure_id) == measure_id))
        found = get_measures_by_keys(session=session, keys=draft.dependency_keys)
        for key in draft.dependency_keys:
            session.add(Dependency(measure_id=measure_id, depends_on_id=found[key].id or 0))
    if draft.evidence_urls is not None:
        kept = {e.url: e for e in evidence_of(session=session, measure_id=measure_id)}
        for url, evidence in kept.items():
            if url not in draft.evidence_urls:
                session.delete(evidence)
        for url in draft.evidence_urls:
            if url not in kept:
                session.add(Evidence(measure_id=measure_id, url=url, added_by=actor))
    session.flush()


def replace_plan(*, session: Session, measure_id: int, plan: dict[date, int]) -> None:
    """Set the plan of each month in `plan`; months no longer planned keep forecast/actual, and
    months left with nothing in them are removed (through the session, so the money rollup sees it)."""
    rows = {m.month: m for m in session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == measure_id))}
    for month, row in rows.items():
        if month in plan:
            continue
        if row.forecast is None and row.actual is None and row.decided_plan is None:
            session.delete(row)
        elif row.plan is not None:
            row.plan = None
            session.add(row)
    for month, value in plan.items():
        row = rows.get(month) or MeasureMonth(measure_id=measure_id, month=month)
        row.plan = value
        session.add(row)
