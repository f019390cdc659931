"""Everything an export holds, loaded in a fixed number of queries whatever the count: the measures
of a unit (or of all), with every field the import reads, their months, risks, dependencies and
evidence; their check-ins; and, for those who may see it, their audit trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.enums import Level
from domain.money import MoneyStyle
from storage.models import AuditLog, CheckIn, Dependency, Evidence, Measure, MeasureMonth, Risk, Unit
from storage.organization import organization_in, settings_of
from storage.tree import UnitTree

CHUNK = 5_000  # ids per IN (…): inside every database's parameter limit


class MonthRow(NamedTuple):
    month: date
    plan: int | None
    forecast: int | None
    actual: int | None


@dataclass
class ExportData:
    style: MoneyStyle  # how the unit's organization writes amounts (the import reads them so)
    units: dict[int, dict[str, str]]  # package id -> {level: name} of its path
    measures: list[Measure]
    months: dict[int, list[MonthRow]] = field(default_factory=lambda: defaultdict(list))
    risks: dict[int, list[Risk]] = field(default_factory=lambda: defaultdict(list))
    dependencies: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    evidence: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    checkins: list[tuple[str, CheckIn]] = field(default_factory=list)  # (key, check-in), oldest first
    audit: list[AuditLog] = field(default_factory=list)


def export_data(*, session: Session, unit: Unit | None, with_audit: bool, only_for: str | None = None) -> ExportData:
    """`only_for`: the measures this person is owner, sponsor or controller of (not an admin)."""
    tree = UnitTree.load(session=session)
    packages = tree.packages_under(unit.id or 0) if unit is not None else [
        u.id or 0 for u in tree.units.values() if u.level == Level.PACKAGE
    ]  # fmt: skip
    style = settings_of(organization_in(tree.units, unit.id) if unit is not None else None).style
    measures = [
        m
        for chunk in _chunks(packages)
        for m in session.exec(select(Measure).where(col(Measure.package_id).in_(chunk))).all()
    ]
    if only_for is not None:
        measures = [m for m in measures if only_for in (m.owner_id, m.sponsor_id, m.controller_id)]
    measures.sort(key=lambda m: m.number)
    paths = {p: {u.level: u.name for u in tree.path(p)} for p in packages}
    data = ExportData(style, paths, measures)
    ids = [m.id or 0 for m in measures]
    keys = {m.id: m.key for m in measures}
    for chunk in _chunks(ids):
        months = sa.select(
            col(MeasureMonth.measure_id), col(MeasureMonth.month), col(MeasureMonth.plan),
            col(MeasureMonth.forecast), col(MeasureMonth.actual),
        ).where(col(MeasureMonth.measure_id).in_(chunk))  # fmt: skip
        for measure_id, month, plan, forecast, actual in session.execute(months).all():  # rows, not objects
            data.months[measure_id].append(MonthRow(month, plan, forecast, actual))
        for risk in session.exec(select(Risk).where(col(Risk.measure_id).in_(chunk)).order_by(col(Risk.id))).all():
            data.risks[risk.measure_id].append(risk)
        for dependency in session.exec(select(Dependency).where(col(Dependency.measure_id).in_(chunk))).all():
            data.dependencies[dependency.measure_id].append(_key_of(session, keys, dependency.depends_on_id))
        for evidence in session.exec(
            select(Evidence).where(col(Evidence.measure_id).in_(chunk)).order_by(col(Evidence.id))
        ).all():
            data.evidence[evidence.measure_id].append(evidence.url)
        checkins = select(CheckIn).where(col(CheckIn.measure_id).in_(chunk)).order_by(col(CheckIn.cycle_end))
        data.checkins += [(keys[c.measure_id], c) for c in session.exec(checkins).all()]
    if with_audit:
        for chunk in _chunks(list(keys.values())):
            query = select(AuditLog).where(AuditLog.entity == "measure", col(AuditLog.entity_key).in_(chunk))
            data.audit += list(session.exec(query).all())
        data.audit.sort(key=lambda a: (a.at, a.id or 0))
    return data


def _key_of(session: Session, keys: dict[int | None, str], measure_id: int) -> str:
    """A dependency's key (one outside the export is looked up)."""
    if measure_id not in keys:
        other = session.get(Measure, measure_id)
        keys[measure_id] = other.key if other else ""
    return keys[measure_id]


def _chunks(values: list[int] | list[str]) -> Iterator[list]:  # type: ignore[type-arg]
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
