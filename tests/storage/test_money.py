"""The money rollup stays equal to the measure months it sums, whatever changes them (both databases)."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import date

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.enums import Stage
from storage.db import session_scope
from storage.measures import draft_from_measure, replace_plan, update_measure
from storage.models import Dependency, Evidence, Measure, MeasureMonth, MoneyRollup, Risk
from storage.money import summed_months
from storage.types import utcnow
from tests.conftest import OWNER
from tests.factories import make_measure, make_tree

_runs = itertools.count(1)
Row = tuple[int, date, str, int, int, int, int | None, int, int, int]


def rollup_rows(engine: Engine) -> set[Row]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                MoneyRollup.package_id, MoneyRollup.month, MoneyRollup.stage,
                MoneyRollup.plan, MoneyRollup.expected, MoneyRollup.settled, MoneyRollup.actual,
                MoneyRollup.decided_plan, MoneyRollup.months, MoneyRollup.actuals,
            )
        ).all()  # fmt: skip
    return {tuple(row) for row in rows}  # type: ignore[misc]


def summed_now(engine: Engine) -> set[Row]:
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(summed_months()).all()}  # type: ignore[misc]


def assert_in_step(engine: Engine) -> None:
    assert rollup_rows(engine) == summed_now(engine)


def test_every_kind_of_change_keeps_the_rollup_in_step(engine: Engine) -> None:
    with session_scope(engine, clock=utcnow) as session:
        package = make_tree(session)
        other = make_tree(session, names=("Acme", "Ops", "Logistics", "Fleet", "Trucks"))
        first = make_measure(session, package=package, stage=Stage.DI3)
        second = make_measure(session, package=package, stage=Stage.DI4, title="Second")
        ids = (first.id, second.id, package.id, other.id)
    assert_in_step(engine)
    assert {(row[0], row[2]) for row in rollup_rows(engine)} == {(ids[2], "DI3"), (ids[2], "DI4")}

    with session_scope(engine, clock=utcnow) as session:  # an owner's forecasts and actuals
        measure = session.get(Measure, ids[0])
        assert measure is not None
        measure.forecast_year = 90_000
        january = session.get(MeasureMonth, (ids[0], date(2027, 1, 1)))
        assert january is not None
        january.forecast, january.actual = 7_000, 6_500
        session.add_all([measure, january, MeasureMonth(measure_id=ids[0], month=date(2028, 1, 1), plan=5)])
    assert_in_step(engine)

    with session_scope(engine, clock=utcnow) as session:  # a gate passed, a re-baseline, a move to another package
        measure = session.get(Measure, ids[1])
        assert measure is not None
        measure.stage = Stage.DI5
        replace_plan(session=session, measure_id=ids[1] or 0, plan={date(2027, m, 1): 2_000 for m in range(1, 7)})
        draft = replace(draft_from_measure(measure), package_id=ids[3])
        update_measure(session=session, measure=measure, draft=draft, actor=OWNER, now=utcnow())
    assert_in_step(engine)
    packages = {row[0] for row in rollup_rows(engine)}
    assert packages == {ids[2], ids[3]}

    with session_scope(engine, clock=utcnow) as session:  # months removed, then the measure itself
        for month in session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == ids[1])).all():
            session.delete(month)
    assert_in_step(engine)
    assert {row[0] for row in rollup_rows(engine)} == {ids[2]}

    with session_scope(engine, clock=utcnow) as session:  # only the stage changes: every month moves with it
        measure = session.get(Measure, ids[0])
        assert measure is not None
        measure.stage = Stage.DI4
        session.add(measure)
    assert_in_step(engine)
    assert {row[2] for row in rollup_rows(engine)} == {"DI4"}

    with session_scope(engine, clock=utcnow) as session:  # a measure deleted, its months first (foreign keys)
        for child in (MeasureMonth, Risk, Evidence, Dependency):
            for row in session.exec(select(child).where(child.measure_id == ids[0])).all():  # type: ignore[attr-defined]
                session.delete(row)
        session.flush()
        session.delete(session.get(Measure, ids[0]))
    assert_in_step(engine)
    assert rollup_rows(engine) == set()


def test_two_transactions_changing_one_package_at_once_both_land(engine: Engine) -> None:
    """Each refresh locks its packages first: the second waits for the first and sums what it wrote,
    instead of colliding with its rows (PostgreSQL; SQLite takes turns at BEGIN anyway)."""
    with session_scope(engine, clock=utcnow) as session:
        package = make_tree(session)
        ids = [make_measure(session, package=package, title=f"M {n}", stage=Stage.DI3).id for n in range(2)]
    first_flushed, errors = threading.Event(), []

    def change(measure_id: int | None, actual: int, *, first: bool) -> None:
        try:
            with session_scope(engine, clock=utcnow) as session:
                month = session.get(MeasureMonth, (measure_id, date(2027, 2, 1)))
                assert month is not None
                month.actual = actual
                session.add(month)
                session.flush()
                if first:
                    first_flushed.set()
                    threading.Event().wait(0.3)  # hold the package while the other one tries
        except Exception as error:  # reported below: a thread's exception would be lost
            errors.append(error)

    one = threading.Thread(target=change, args=(ids[0], 100), kwargs={"first": True})
    one.start()
    first_flushed.wait(5)
    two = threading.Thread(target=change, args=(ids[1], 200), kwargs={"first": False})
    two.start()
    one.join(10)
    two.join(10)
    assert errors == []
    assert_in_step(engine)
    february = [row for row in rollup_rows(engine) if row[1] == date(2027, 2, 1)]
    assert [row[6] for row in february] == [300]


_value = st.one_of(st.none(), st.integers(-1_000, 50_000))
_operation = st.one_of(
    st.tuples(
        st.just("set"), st.integers(0, 2), st.integers(1, 4), st.sampled_from(["plan", "forecast", "actual"]), _value
    ),
    st.tuples(st.just("drop"), st.integers(0, 2), st.integers(1, 4), st.sampled_from(["", "blind"]), st.none()),
    st.tuples(st.just("stage"), st.integers(0, 2), st.just(1), st.sampled_from(["DI2", "DI3", "DI4"]), st.none()),
    st.tuples(st.just("blind"), st.integers(0, 2), st.integers(1, 4), st.just("actual"), _value),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_operation, min_size=1, max_size=4), min_size=1, max_size=4))
def test_any_sequence_of_changes_keeps_every_cell_equal_to_a_full_re_sum(engine: Engine, batches: list) -> None:
    """Each transaction moves cells by their differences (or re-sums them); after each one the
    rollup equals the measure months summed afresh."""
    with session_scope(engine, clock=utcnow) as session:
        package = make_tree(session, names=("Acme", "Ops", "P", "Q", f"K{next(_runs)}"))
        ids = [make_measure(session, package=package, title=f"M {n}", stage=Stage.DI3).id or 0 for n in range(3)]
    for batch in batches:
        with session_scope(engine, clock=utcnow) as session:
            for kind, which, month_number, name, value in batch:
                _change(session, kind, ids[which], date(2027, month_number, 1), name, value)
        assert_in_step(engine)


def _change(session: Session, kind: str, measure_id: int, month: date, name: str, value: int | None) -> None:
    if kind == "stage":
        measure = session.get(Measure, measure_id)
        assert measure is not None
        measure.stage = name
        session.add(measure)
        return
    row = session.get(MeasureMonth, (measure_id, month))
    if kind == "drop":
        if row is not None:
            if name == "blind":
                session.expire(row)  # deleted without its values loaded: the cell is re-summed instead
            session.delete(row)
        return
    row = row or MeasureMonth(measure_id=measure_id, month=month)
    if kind == "blind" and sa.inspect(row).persistent:
        session.expire(row)  # written without its old value loaded: the cell is re-summed instead
    setattr(row, name, value)
    session.add(row)
    session.flush()
