"""A measure month's change to the money rollup as a difference, applied to its cell in O(1).

A flush that changes one month of one measure moves one rollup cell (package, month, stage) by
the difference between the month's old and new contribution: plan, expected (forecast, else
plan), settled (actual, else forecast, else plan), actual, plan at the decision, and the counts
of months and of actuals (so that `actual` turns NULL when the last actual goes, and a cell with
no month left is deleted). The old values come from the ORM's attribute history; a change whose
old value is unknown (an attribute written without being loaded) is re-summed instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from storage.models import Measure, MeasureMonth, MoneyRollup

_SUMMED = ("plan", "forecast", "actual", "decided_plan")


@dataclass(frozen=True)
class Contribution:
    """What one measure month adds to its rollup cell."""

    plan: int = 0
    expected: int = 0
    settled: int = 0
    actual: int = 0
    decided_plan: int = 0
    months: int = 0
    actuals: int = 0

    @classmethod
    def of(cls, plan: int | None, forecast: int | None, actual: int | None, decided: int | None) -> Contribution:
        expected = (plan or 0) if forecast is None else forecast
        settled = expected if actual is None else actual
        return cls(plan or 0, expected, settled, actual or 0, decided or 0, 1, actual is not None)

    def __sub__(self, other: Contribution) -> Contribution:
        return Contribution(*(a - b for a, b in zip(self.values(), other.values(), strict=True)))

    def __add__(self, other: Contribution) -> Contribution:
        return Contribution(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[int, ...]:
        return (self.plan, self.expected, self.settled, self.actual, self.decided_plan, self.months, self.actuals)


NOTHING = Contribution()


def change_of(session: Session, month: MeasureMonth) -> Contribution | None:
    """The month's new contribution minus its old one, or None when the old one is not known."""
    state = sa.inspect(month)
    new = NOTHING if month in session.deleted else Contribution.of(*(getattr(month, a) for a in _SUMMED))
    if month in session.new:
        return new
    old_values = []
    for name in _SUMMED:
        history = state.attrs[name].history
        if history.deleted:
            old_values.append(history.deleted[0])
        elif history.unchanged:
            old_values.append(history.unchanged[0])
        else:  # written (or deleted) without its old value ever loaded
            return None
    return new - Contribution.of(*old_values)


def apply_changes(connection: sa.Connection, changes: dict[tuple[int, date, str], Contribution]) -> None:
    """Move each cell by its difference; a new cell is inserted, a cell left with no month deleted."""
    table = MoneyRollup.__table__  # type: ignore[attr-defined]
    for (package, month, stage), d in sorted(changes.items()):
        if d == NOTHING:
            continue
        where = sa.and_(table.c.package_id == package, table.c.month == month, table.c.stage == stage)
        moved = connection.execute(
            sa.update(table).where(where).values(
                plan=table.c.plan + d.plan, expected=table.c.expected + d.expected,
                settled=table.c.settled + d.settled, decided_plan=table.c.decided_plan + d.decided_plan,
                actual=sa.case((table.c.actuals + d.actuals > 0, sa.func.coalesce(table.c.actual, 0) + d.actual),
                               else_=None),
                months=table.c.months + d.months, actuals=table.c.actuals + d.actuals,
            )
        )  # fmt: skip
        if moved.rowcount == 0:
            connection.execute(sa.insert(table).values(_new_cell(package, month, stage, d)))
        elif d.months < 0:
            connection.execute(sa.delete(table).where(where, table.c.months <= 0))


def _new_cell(package: int, month: date, stage: str, d: Contribution) -> dict[str, Any]:
    return {
        "package_id": package, "month": month, "stage": stage, "plan": d.plan, "expected": d.expected,
        "settled": d.settled, "actual": d.actual if d.actuals > 0 else None, "decided_plan": d.decided_plan,
        "months": d.months, "actuals": d.actuals,
    }  # fmt: skip


def cells_by_measure(
    changes: Iterable[tuple[int, date, Contribution]], placed: dict[int, tuple[int, str]]
) -> dict[tuple[int, date, str], Contribution]:
    """The changes summed per cell, each measure's month in the cell of its package and stage."""
    cells: dict[tuple[int, date, str], Contribution] = {}
    for measure, month, change in changes:
        if measure not in placed:
            continue  # a measure without a package is in no rollup
        package, stage = placed[measure]
        key = (package, month, stage)
        cells[key] = cells.get(key, NOTHING) + change
    return cells


def placement(connection: sa.Connection, measure_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Each measure's package and stage as they are after the flush."""
    ids = sorted(set(measure_ids))
    if not ids:
        return {}
    query = sa.select(col(Measure.id), col(Measure.package_id), col(Measure.stage)).where(col(Measure.id).in_(ids))
    placed: dict[int, tuple[int, str]] = {}
    for mid, package, stage in connection.execute(query).all():
        if mid is not None and package is not None:
            placed[mid] = (package, stage)
    return placed
