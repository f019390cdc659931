"""The money rollup: measure months summed per package, kept in step with every change.

A digest of a portfolio of 100,000 measures would otherwise sum 3.6 million measure months each
time. Any flush that changes a measure month, or a measure's stage or package, recomputes the
rollup cells it touched — (package, month) pairs: the changed months of the package the measure
is in (and was in, when it moved) — in the same transaction, so an actual or a plan edit re-sums
one month of one package, however large the package. (A measure is deleted only after its months,
foreign keys first, and those deletions re-sum their cells.) The packages' unit rows are locked
first (PostgreSQL), so two transactions refreshing one package take turns instead of colliding.
Bulk writes that bypass the ORM (the benchmarks' fixtures) call `refresh_money` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col

from storage.models import Measure, MeasureMonth, MoneyRollup, Unit

_MONTHS = "money_months"  # (measure id, month) of the measure months a flush changed
_MOVED = "money_moved"  # (measure id, package id) of measures whose stage or package changed


def track_money(session: Session) -> None:
    """Keep the money rollup in step with what this session writes."""
    event.listen(session, "after_flush", _note_touched)
    event.listen(session, "after_flush_postexec", _refresh_touched)


def summed_months(package_ids: list[int] | None = None) -> sa.Select[*tuple[Any, ...]]:
    """The rollup's rows as the measure months give them (of these packages, or all): the columns
    of domain/figures.MonthTotal, summed in SQL by the same rules."""
    plan, forecast, actual = col(MeasureMonth.plan), col(MeasureMonth.forecast), col(MeasureMonth.actual)
    query = (
        sa.select(
            col(Measure.package_id), col(MeasureMonth.month), col(Measure.stage),
            sa.func.coalesce(sa.func.sum(plan), 0),
            sa.func.coalesce(sa.func.sum(sa.func.coalesce(forecast, plan, 0)), 0),
            sa.func.coalesce(sa.func.sum(sa.func.coalesce(actual, forecast, plan, 0)), 0),
            sa.func.sum(actual),
            sa.func.coalesce(sa.func.sum(col(MeasureMonth.decided_plan)), 0),
        )
        .join(Measure, col(Measure.id) == col(MeasureMonth.measure_id))
        .where(col(Measure.package_id).is_not(None))
        .group_by(col(Measure.package_id), col(MeasureMonth.month), col(Measure.stage))
    )  # fmt: skip
    if package_ids is not None:
        query = query.where(col(Measure.package_id).in_(package_ids))
    return query


def refresh_money(connection: sa.Connection, *, package_ids: Iterable[int] | None = None) -> None:
    """Recompute the rollup of these packages (of all, when None) from their measure months."""
    ids = None if package_ids is None else sorted(set(package_ids))
    if ids == []:
        return
    stale = sa.delete(MoneyRollup)
    if ids is not None:
        _lock(connection, ids)
        stale = stale.where(col(MoneyRollup.package_id).in_(ids))
    connection.execute(stale)
    connection.execute(sa.insert(MoneyRollup).from_select(_COLUMNS, summed_months(ids)))


def refresh_cells(connection: sa.Connection, cells: Iterable[tuple[int, date]]) -> None:
    """Recompute the rollup rows of these (package, month) cells only: a changed month of one
    measure re-sums one month of its package, not the package's whole horizon."""
    pairs = sorted(set(cells))
    if not pairs:
        return
    _lock(connection, sorted({package for package, _ in pairs}))
    for start in range(0, len(pairs), 500):  # bounded statements, whatever a transaction touched
        chunk = pairs[start : start + 500]
        in_rollup = sa.tuple_(col(MoneyRollup.package_id), col(MoneyRollup.month)).in_(chunk)
        connection.execute(sa.delete(MoneyRollup).where(in_rollup))
        packages, months = sorted({p for p, _ in chunk}), sorted({m for _, m in chunk})
        summed = summed_months(packages).where(  # plain IN lists first, so both databases use their indexes
            col(MeasureMonth.month).in_(months), sa.tuple_(col(Measure.package_id), col(MeasureMonth.month)).in_(chunk)
        )
        connection.execute(sa.insert(MoneyRollup).from_select(_COLUMNS, summed))


_COLUMNS = ["package_id", "month", "stage", "plan", "expected", "settled", "actual", "decided_plan"]


def _lock(connection: sa.Connection, package_ids: list[int]) -> None:
    """Take the packages' unit rows (PostgreSQL), so two refreshes of one package take turns."""
    locks = sa.select(col(Unit.id)).where(col(Unit.id).in_(package_ids)).order_by(col(Unit.id))
    connection.execute(locks.with_for_update(key_share=True))


def _note_touched(session: Session, _context: Any) -> None:
    """Remember what this flush changed that the rollup sums: measure months, and measures that
    appeared, went, or changed stage or package (any other change of a measure sums the same)."""
    months: set[tuple[int, date]] = session.info.setdefault(_MONTHS, set())
    moved: set[tuple[int, int]] = session.info.setdefault(_MOVED, set())
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, MeasureMonth):
            months.add((instance.measure_id, instance.month))
        elif isinstance(instance, Measure) and instance.id is not None:
            state = sa.inspect(instance)
            changed = instance in session.new or instance in session.deleted
            changed = changed or state.attrs.stage.history.has_changes()
            old_packages = state.attrs.package_id.history.deleted
            if changed or old_packages:
                moved.update((instance.id, p) for p in (instance.package_id, *old_packages) if p is not None)


def _refresh_touched(session: Session, _context: Any) -> None:
    months: set[tuple[int, date]] = session.info.pop(_MONTHS, set())
    moved: set[tuple[int, int]] = session.info.pop(_MOVED, set())
    if not months and not moved:
        return
    connection = session.connection()
    cells: set[tuple[int, date]] = set()
    if months:
        ids = sorted({measure for measure, _ in months})
        package_of = dict(
            connection.execute(
                sa.select(col(Measure.id), col(Measure.package_id)).where(col(Measure.id).in_(ids))
            ).all()
        )
        cells.update((package_of[m], month) for m, month in months if package_of.get(m) is not None)
    if moved:
        ids = sorted({measure for measure, _ in moved})
        query = sa.select(col(MeasureMonth.measure_id), col(MeasureMonth.month)).where(
            col(MeasureMonth.measure_id).in_(ids)
        )
        months_of_measure: dict[int, list[date]] = {}
        for measure, month in connection.execute(query).all():
            months_of_measure.setdefault(measure, []).append(month)
        cells.update((package, month) for measure, package in moved for month in months_of_measure.get(measure, []))
    refresh_cells(connection, cells)
