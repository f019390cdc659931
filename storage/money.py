"""The money rollup: measure months summed per package, kept in step with every change.

A digest of a portfolio of 10,000 measures would otherwise sum 120,000 measure months each time.
Any flush that touches a measure or a measure month recomputes the rollup of the packages
concerned (the old and the new one when a measure moves), in the same transaction: a package's
few hundred months are summed in a millisecond or two. The packages' unit rows are locked first
(PostgreSQL), so two transactions refreshing one package take turns instead of colliding.
Bulk writes that bypass the ORM (the benchmarks' fixtures) call `refresh_money` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col

from storage.models import Measure, MeasureMonth, MoneyRollup, Unit

_PACKAGES = "money_packages"
_MEASURES = "money_measures"


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
        locks = sa.select(col(Unit.id)).where(col(Unit.id).in_(ids)).order_by(col(Unit.id))
        connection.execute(locks.with_for_update(key_share=True))
        stale = stale.where(col(MoneyRollup.package_id).in_(ids))
    connection.execute(stale)
    columns = ["package_id", "month", "stage", "plan", "expected", "settled", "actual"]
    connection.execute(sa.insert(MoneyRollup).from_select(columns, summed_months(ids)))


def _note_touched(session: Session, _context: Any) -> None:
    packages: set[int] = session.info.setdefault(_PACKAGES, set())
    measures: set[int] = session.info.setdefault(_MEASURES, set())
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, Measure):
            moved_from = sa.inspect(instance).attrs.package_id.history.deleted
            packages.update(p for p in (instance.package_id, *moved_from) if p is not None)
        elif isinstance(instance, MeasureMonth):
            measures.add(instance.measure_id)


def _refresh_touched(session: Session, _context: Any) -> None:
    packages: set[int] = session.info.pop(_PACKAGES, set())
    measures: set[int] = session.info.pop(_MEASURES, set())
    if not packages and not measures:
        return
    connection = session.connection()
    if measures:
        of_measures = sa.select(col(Measure.package_id)).where(col(Measure.id).in_(sorted(measures)))
        packages.update(p for p in connection.execute(of_measures).scalars() if p is not None)
    refresh_money(connection, package_ids=packages)
