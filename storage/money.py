"""The money rollup: measure months summed per package, kept in step with every change.

A digest of a portfolio of 100,000 measures would otherwise sum 3.6 million measure months each
time. The rollup is kept in the same transaction as every change: a changed measure month moves
its cell (package, month, stage) by its difference (storage/money_delta.py), in constant time
however large the package; a measure that changes stage or package re-sums the (package, month)
cells of its months in the package it left and the one it is in. (A measure is deleted only after
its months, foreign keys first, and those deletions move their cells.) The packages' unit rows are
locked first (PostgreSQL), so two transactions changing one package take turns instead of colliding.
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
from storage.money_delta import Contribution, apply_changes, cells_by_measure, change_of, placement

_MONTHS = "money_months"  # (measure id, month) of measure months whose old values are not known
_DELTAS = "money_deltas"  # (measure id, month, difference) of the measure months a flush changed
_MOVED = "money_moved"  # (measure id, package id) of measures whose stage or package changed
_DEFERRED = "money_deferred"  # packages touched while the rollup waits for `finish_deferred_money`


def track_money(session: Session) -> None:
    """Keep the money rollup in step with what this session writes."""
    event.listen(session, "after_flush", _note_touched)
    event.listen(session, "after_flush_postexec", _refresh_touched)


def defer_money(session: Session) -> None:
    """A bulk write (an import of thousands of rows): the rollup is not moved cell by cell at each
    flush, only the packages touched are noted; `finish_deferred_money` re-sums them once."""
    session.info[_DEFERRED] = set()


def finish_deferred_money(session: Session) -> None:
    """Re-sum, in one statement, every package touched since `defer_money`."""
    session.flush()
    packages: set[int] = session.info.pop(_DEFERRED, set())
    refresh_money(session.connection(), package_ids=packages)


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
            sa.func.count(), sa.func.count(actual),
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


def refresh_cells(connection: sa.Connection, cells: Iterable[tuple[int, date]], *, locked: bool = False) -> None:
    """Recompute the rollup rows of these (package, month) cells only, from their measure months."""
    pairs = sorted(set(cells))
    if not pairs:
        return
    if not locked:
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


_COLUMNS = [
    "package_id",
    "month",
    "stage",
    "plan",
    "expected",
    "settled",
    "actual",
    "decided_plan",
    "months",
    "actuals",
]


def _lock(connection: sa.Connection, package_ids: list[int]) -> None:
    """Take the packages' unit rows (PostgreSQL), so two refreshes of one package take turns."""
    if not package_ids:
        return
    locks = sa.select(col(Unit.id)).where(col(Unit.id).in_(package_ids)).order_by(col(Unit.id))
    connection.execute(locks.with_for_update(key_share=True))


def _note_touched(session: Session, _context: Any) -> None:
    """Remember what this flush changed that the rollup sums: each measure month's difference (or,
    when its old values are unknown, the month to re-sum), and measures that appeared, went, or
    changed stage or package (any other change of a measure sums the same)."""
    months: set[tuple[int, date]] = session.info.setdefault(_MONTHS, set())
    deltas: list[tuple[int, date, Contribution]] = session.info.setdefault(_DELTAS, [])
    moved: set[tuple[int, int]] = session.info.setdefault(_MOVED, set())
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, MeasureMonth):
            change = change_of(session, instance)
            if change is None:
                months.add((instance.measure_id, instance.month))
            else:
                deltas.append((instance.measure_id, instance.month, change))
        elif isinstance(instance, Measure) and instance.id is not None:
            state = sa.inspect(instance)
            changed = instance in session.new or instance in session.deleted
            changed = changed or state.attrs.stage.history.has_changes()
            old_packages = state.attrs.package_id.history.deleted
            if changed or old_packages:
                moved.update((instance.id, p) for p in (instance.package_id, *old_packages) if p is not None)


def _refresh_touched(session: Session, _context: Any) -> None:
    months: set[tuple[int, date]] = session.info.pop(_MONTHS, set())
    deltas: list[tuple[int, date, Contribution]] = session.info.pop(_DELTAS, [])
    moved: set[tuple[int, int]] = session.info.pop(_MOVED, set())
    if not months and not moved and not deltas:
        return
    connection = session.connection()
    if _DEFERRED in session.info:  # a bulk write: only note the packages, re-summed once at its end
        touched = {m for m, _ in months} | {m for m, _, _ in deltas}
        session.info[_DEFERRED].update(package for package, _stage in placement(connection, touched).values())
        session.info[_DEFERRED].update(package for _measure, package in moved)
        return
    moved_ids = {measure for measure, _ in moved}
    months |= {(measure, month) for measure, month, _ in deltas if measure in moved_ids}  # re-summed with it
    placed = placement(connection, {m for m, _ in months} | {m for m, _, _ in deltas})
    cells = {(placed[m][0], month) for m, month in months if m in placed}
    if moved:
        query = sa.select(col(MeasureMonth.measure_id), col(MeasureMonth.month)).where(
            col(MeasureMonth.measure_id).in_(sorted(moved_ids))
        )
        months_of_measure: dict[int, list[date]] = {}
        for measure, month in connection.execute(query).all():
            months_of_measure.setdefault(measure, []).append(month)
        cells.update((package, month) for measure, package in moved for month in months_of_measure.get(measure, []))
        cells.update((package, month) for measure, package in moved for m, month in months if m == measure)
    changes = cells_by_measure(((m, month, d) for m, month, d in deltas if m not in moved_ids), placed)
    changes = {cell: d for cell, d in changes.items() if cell[:2] not in cells}
    _lock(connection, sorted({package for package, _ in cells} | {package for package, _, _ in changes}))
    refresh_cells(connection, cells, locked=True)
    apply_changes(connection, changes)
