"""Everything an export holds: the measures of a unit (or of all), with every field the import reads,
their months, risks, dependencies and evidence; their check-ins; and, for those who may see it, their
audit trail. First its scope (the measures' ids and the month columns, in a few queries), then the
measures a chunk at a time (a fixed number of queries each), so the export's memory stays flat."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.enums import Level
from domain.governance import CustomField
from domain.money import MoneyStyle
from storage.governance import policy_in_force
from storage.models import AuditLog, CheckIn, Dependency, Evidence, Measure, MeasureFieldValue, MeasureMonth, Risk, Unit
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
    """One chunk of an export: its measures (by number) and what they carry."""

    measures: list[Measure]
    months: dict[int, list[MonthRow]] = field(default_factory=lambda: defaultdict(list))
    risks: dict[int, list[Risk]] = field(default_factory=lambda: defaultdict(list))
    dependencies: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    evidence: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    checkins: list[tuple[str, CheckIn]] = field(default_factory=list)  # (key, check-in), by measure, oldest first
    audit: list[AuditLog] = field(default_factory=list)
    custom: dict[int, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # custom field values


@dataclass(frozen=True)
class ExportScope:
    """What an export covers, known before its first row is written: the measures' ids (by number),
    the month columns some measure has a figure in, how amounts are written and the unit paths."""

    style: MoneyStyle  # how the unit's organization writes amounts (the import reads them so)
    units: dict[int, dict[str, str]]  # package id -> {level: name} of its path
    ids: list[int]
    month_columns: list[tuple[str, date]]  # (plan|forecast|actual, month), in the sheet's order
    with_audit: bool
    # The custom fields the packages' portfolios declare (docs/governance.md): `field NAME` columns.
    fields: dict[int, tuple[CustomField, ...]] = field(default_factory=dict)  # package id -> its fields
    field_columns: list[str] = field(default_factory=list)  # their names, each once, as declared


KINDS = ("plan", "forecast", "actual")


def export_scope(*, session: Session, unit: Unit | None, with_audit: bool, only_for: str | None = None) -> ExportScope:
    """`only_for`: the measures this person is owner, sponsor or controller of (not an admin)."""
    tree = UnitTree.load(session=session)
    packages = tree.packages_under(unit.id or 0) if unit is not None else [
        u.id or 0 for u in tree.units.values() if u.level == Level.PACKAGE
    ]  # fmt: skip
    style = settings_of(organization_in(tree.units, unit.id) if unit is not None else None).style
    found = []
    for chunk in _chunks(packages):
        query = sa.select(col(Measure.id), col(Measure.number), col(Measure.owner_id), col(Measure.sponsor_id),
                          col(Measure.controller_id)).where(col(Measure.package_id).in_(chunk))  # fmt: skip
        found += [row for row in session.execute(query).all() if only_for is None or only_for in row[2:]]
    ids = [row[0] for row in sorted(found, key=lambda row: row[1])]
    present: set[tuple[str, date]] = set()
    for chunk in _chunks(ids):
        counts = sa.select(col(MeasureMonth.month), *(sa.func.count(getattr(MeasureMonth, k)) for k in KINDS))
        for month, *filled in session.execute(counts.where(col(MeasureMonth.measure_id).in_(chunk)).group_by(
                col(MeasureMonth.month))).all():  # fmt: skip
            present.update((kind, month) for kind, count in zip(KINDS, filled, strict=True) if count)
    columns = sorted(present, key=lambda column: (KINDS.index(column[0]), column[1]))
    paths = {p: {u.level: u.name for u in tree.path(p)} for p in packages}
    fields = {p: _fields(session, p) for p in packages}
    names = list(dict.fromkeys(f.name for declared in fields.values() for f in declared))
    return ExportScope(style, paths, ids, columns, with_audit, fields, names)


def _fields(session: Session, package_id: int) -> tuple[CustomField, ...]:
    policy = policy_in_force(session=session, package_id=package_id).policy
    return policy.fields if policy else ()


def export_chunks(*, session: Session, scope: ExportScope, size: int = 2_000) -> Iterator[ExportData]:
    """The scope's measures `size` at a time, each chunk with what its measures carry: an export's
    memory is one chunk's, whatever the count."""
    for start in range(0, len(scope.ids), size):
        yield _chunk(session, scope.ids[start : start + size], with_audit=scope.with_audit)


def _chunk(session: Session, ids: list[int], *, with_audit: bool) -> ExportData:
    measures = sorted(session.exec(select(Measure).where(col(Measure.id).in_(ids))).all(), key=lambda m: m.number)
    data = ExportData(measures)
    keys = {m.id: m.key for m in measures}
    months = sa.select(
        col(MeasureMonth.measure_id), col(MeasureMonth.month), col(MeasureMonth.plan),
        col(MeasureMonth.forecast), col(MeasureMonth.actual),
    ).where(col(MeasureMonth.measure_id).in_(ids))  # fmt: skip
    for measure_id, month, plan, forecast, actual in session.execute(months).all():  # rows, not objects
        data.months[measure_id].append(MonthRow(month, plan, forecast, actual))
    for risk in session.exec(select(Risk).where(col(Risk.measure_id).in_(ids)).order_by(col(Risk.id))).all():
        data.risks[risk.measure_id].append(risk)
    on = sa.select(col(Dependency.measure_id), col(Measure.key)).join(
        Measure, col(Measure.id) == col(Dependency.depends_on_id)
    )  # the keys of what they depend on, in or outside the export, in one query
    for measure_id, key in session.execute(on.where(col(Dependency.measure_id).in_(ids))).all():
        data.dependencies[measure_id].append(key)
    evidence = select(Evidence).where(col(Evidence.measure_id).in_(ids)).order_by(col(Evidence.id))
    for link in session.exec(evidence).all():
        data.evidence[link.measure_id].append(link.url)
    values = sa.select(col(MeasureFieldValue.measure_id), col(MeasureFieldValue.name), col(MeasureFieldValue.value))
    for measure_id, name, value in session.execute(values.where(col(MeasureFieldValue.measure_id).in_(ids))).all():
        data.custom[measure_id][name] = value
    checkins = select(CheckIn).where(col(CheckIn.measure_id).in_(ids))
    place = {measure.id: n for n, measure in enumerate(measures)}
    by_measure = sorted(session.exec(checkins).all(), key=lambda c: (place[c.measure_id], c.cycle_end))
    data.checkins = [(keys[c.measure_id], c) for c in by_measure]
    if with_audit:
        query = select(AuditLog).where(AuditLog.entity == "measure", col(AuditLog.entity_key).in_(keys.values()))
        data.audit = sorted(session.exec(query).all(), key=lambda a: (a.at, a.id or 0))
    return data


def _chunks(values: list[int] | list[str]) -> Iterator[list]:  # type: ignore[type-arg]
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
