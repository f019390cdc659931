"""How long a digest takes to build for a large portfolio, how many SQL statements it needs, and
what keeping the money rollup current costs a single change.

    python -m bench.digest_scale [--sizes 1000,10000,100000] [--weeks 52] [--database-url postgresql://…]

A portfolio (10 programs × 5 projects × 2 packages) holds each size of measures at every stage,
each with 36 months (2026–2028) of plan, forecasts and actuals and `--weeks` weeks of answered
check-ins (with their audit records), plus open approvals and escalations. The digest of the
portfolio is built the way the sweep builds it: loaded in one transaction, rendered to blocks and
drawn to PNG. Printed per size: load / render / chart / total milliseconds (median of `--repeat`)
and the SQL statements of one build; then the statement counts side by side, the cost per measure
from the middle size to the largest (goal: grows <= 1.3x), and, at the largest size, the median
time of a transaction that edits one month's plan and of one that enters an actual
(`storage/actuals.record_actuals`), the rollup re-summed in it (goal: <= 5 ms), checked against
the measure months afterwards. Goals: build <= 1 s at 100,000 measures; a constant statement count.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from bench.checkin_fanout import count_queries, fresh_database
from domain.enums import Level, Stage
from domain.stage_gates import DECIDED
from messages.chart import value_chart
from reminders.digest_delivery import build_digest
from slackkit.context import Deps, freeze_startup_heap, make_deps
from slackkit.settings import Settings
from storage import money
from storage.actuals import record_actuals
from storage.db import create_db_engine, upgrade
from storage.digest_data import load_digest
from storage.digest_rollup import months_of
from storage.models import (
    AuditLog,
    CheckIn,
    Escalation,
    Evidence,
    GateRequest,
    Measure,
    MeasureMonth,
    MoneyRollup,
    Person,
    Unit,
)
from storage.money import refresh_money, summed_months

NOW = datetime(2027, 11, 5, 15, 0, tzinfo=UTC)
MONTHS = [date(2026 + i // 12, i % 12 + 1, 1) for i in range(36)]  # 2026-01 … 2028-12
CLOSED_AFTER = date(2027, 11, 1)  # months before November 2027 have actuals
STAGES = [Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI3, Stage.DI4, Stage.DI4, Stage.DI5, Stage.DI0, Stage.ON_HOLD]
STATUSES = ["on_track", "on_track", "on_track", "at_risk", "off_track"]


def populate(engine: sa.Engine, *, measures: int, weeks: int) -> int:
    """The tree and the measures with a year of history, in bulk; returns the portfolio's id."""
    with engine.begin() as connection:
        owners = [f"U{n:06d}" for n in range(max(1, measures // 5))]
        people = [
            {"slack_id": o, "name": o, "tz": "UTC", "is_workspace_admin": False, "refreshed_at": NOW} for o in owners
        ]
        connection.execute(sa.insert(Person), people)
        org = _unit(connection, Level.ORGANIZATION, "Bench org", None)
        portfolio = _unit(connection, Level.PORTFOLIO, "Bench portfolio", org)
        packages = []
        for p in range(10):
            program = _unit(connection, Level.PROGRAM, f"Program {p}", portfolio)
            for j in range(5):
                project = _unit(connection, Level.PROJECT, f"Project {p}.{j}", program)
                packages += [_unit(connection, Level.PACKAGE, f"Package {p}.{j}.{k}", project) for k in range(2)]
        _bulk(connection, Measure, [_measure(n, packages[n % len(packages)], owners[n % len(owners)])
                                    for n in range(1, measures + 1)])  # fmt: skip
        _bulk(connection, MeasureMonth, (
            {"measure_id": n, "month": month, "plan": 1_000, "forecast": 950 if month >= CLOSED_AFTER else None,
             "actual": 900 + n % 200 if month < CLOSED_AFTER else None,
             "decided_plan": 1_000 if STAGES[n % len(STAGES)] in DECIDED else None}
            for n in range(1, measures + 1) for month in MONTHS))  # fmt: skip
        start = NOW - timedelta(weeks=weeks)

        def history() -> Iterator[tuple[int, int, datetime]]:
            return ((w, n, start + timedelta(weeks=w)) for n in range(1, measures + 1) for w in range(weeks))

        _bulk(connection, CheckIn, (
            {"measure_id": n, "owner_id": owners[n % len(owners)], "cycle_start": at,
             "cycle_end": at + timedelta(weeks=1),
             "status": "answered", "answered_at": at + timedelta(hours=3), "impl_status": STATUSES[(n + w) % 5],
             "potential_status": "on_track", "blockers": "", "comment": "", "created_at": at, "prompted_at": at}
            for w, n, at in history()))  # fmt: skip
        _bulk(connection, AuditLog, (
            {"at": at + timedelta(hours=3), "actor": owners[n % len(owners)], "entity": "measure",
             "entity_key": f"M-{n}", "action": "checkin_answered", "detail": "{}"}
            for _w, n, at in history()))  # fmt: skip
        _bulk(connection, Evidence, [{"measure_id": n, "url": f"https://wiki.example/{n}", "added_by": "U000000",
                                      "added_at": NOW} for n in range(1, measures + 1, 3)])  # fmt: skip
        _bulk(connection, GateRequest, [
            {"measure_id": n, "open_for": n, "kind": "advance", "from_stage": "DI2", "to_stage": "DI3",
             "requested_by": owners[0], "requested_at": NOW - timedelta(days=n % 9), "state": "open", "chain": "[]",
             "step": 0, "step_started_at": NOW - timedelta(days=n % 9), "reason": ""}
            for n in range(2, measures + 1, max(1, measures // 50))])  # fmt: skip
        _bulk(connection, Escalation, [
            {"measure_id": n, "cause": "shortfall", "active_key": f"{n}:shortfall", "detail": "{}", "state": "open",
             "rung": 1, "rung_started_at": NOW, "raised_at": NOW - timedelta(days=1), "refresh_pending": False}
            for n in range(5, measures + 1, max(1, measures // 100))])  # fmt: skip
        refresh_money(connection)  # bulk inserts bypass the session that keeps it
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    return portfolio


def _unit(connection: sa.Connection, level: Level, name: str, parent: int | None) -> int:
    return connection.execute(
        sa.insert(Unit).values(level=level, name=name, parent_id=parent, created_at=NOW)
    ).inserted_primary_key[0]


def _measure(n: int, package: int, owner: str) -> dict[str, object]:
    return {
        "id": n, "number": n, "key": f"M-{n}", "title": f"Measure {n} of the bench", "description": "",
        "package_id": package, "owner_id": owner, "sponsor_id": owner, "business_unit": "", "function": "",
        "stage": STAGES[n % len(STAGES)], "impl_status": STATUSES[n % 5], "potential_status": STATUSES[(n // 5) % 5],
        "target": 12_000, "forecast_year": 11_000 + n % 2000, "no_known_risks": True, "dependencies_stated": True,
        "cadence": "weekly", "checkin_weekday": 0, "checkin_time": datetime(2000, 1, 1, 9).time(),
        "version": 1, "created_at": NOW - timedelta(days=n % 400), "updated_at": NOW, "off_track_streak": 0,
        "blockers": "waiting for IT" if n % 17 == 0 else "",
    }  # fmt: skip


def _bulk(connection: sa.Connection, table: type, rows: Iterable[dict[str, object]]) -> None:
    """Insert in chunks of 10,000, never holding more than one chunk of rows in memory."""
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, 10_000)):
        connection.execute(sa.insert(table), chunk)


@dataclass
class Built:
    size: int
    total_ms: float
    statements: int
    upkeep: dict[str, float] = field(default_factory=dict)


async def measure_size(args: argparse.Namespace, directory: Path, size: int, *, upkeep: bool) -> Built:
    url = fresh_database(args.database_url, directory, f"digest{size}")
    upgrade(url)
    engine = create_db_engine(url)
    started = time.perf_counter()
    portfolio = populate(engine, measures=size, weeks=args.weeks)
    print(f"  populated {size} measures × {len(MONTHS)} months with {size * args.weeks} check-ins "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    settings = Settings(bot_token="xoxb-bench", signing_secret="bench", api_url="http://127.0.0.1:9/api/",
                        database_url=url)  # fmt: skip
    deps = make_deps(settings, engine=engine, clock=lambda: NOW)
    freeze_startup_heap()  # as `serve` does once it has started
    counter = count_queries(engine)
    timings: dict[str, list[float]] = {"load": [], "render": [], "chart": [], "total": []}
    queries = 0
    since = NOW - timedelta(days=7)
    for _ in range(args.repeat):
        counter[0] = 0
        t0 = time.perf_counter()
        data = await deps.transaction(lambda s: load_digest(session=s, unit_id=portfolio, now=NOW, since=since))
        t1 = time.perf_counter()
        queries = counter[0]
        built = build_digest(data, "weekly")
        t2 = time.perf_counter()
        timings["load"].append((t1 - t0) * 1000)
        timings["render"].append((t2 - t1) * 1000)
        timings["total"].append((t2 - t0) * 1000)
        t3 = time.perf_counter()
        value_chart(
            months_of(data.money, closed_through=data.closed_through),
            title="chart alone",
            period=data.period,
            closed_through=data.closed_through,
            style=data.style,
        )
        timings["chart"].append((time.perf_counter() - t3) * 1000)
    med = {k: statistics.median(v) for k, v in timings.items()}
    print(f"  digest of {size} measures ({engine.dialect.name}): build {med['total']:.0f} ms median "
          f"(load {med['load']:.0f} ms, render + chart {med['render']:.0f} ms, of which chart {med['chart']:.0f} ms); "
          f"{queries} SQL statements; summary {len(built.summary[1])} blocks, "
          f"thread {len(built.thread)} messages")  # fmt: skip
    result = Built(size, med["total"], queries)
    if upkeep:
        result.upkeep = await rollup_upkeep(deps, engine, size, args.repeat * 4)
    await deps.aclose()
    engine.dispose()
    return result


async def rollup_upkeep(deps: Deps, engine: sa.Engine, size: int, times: int) -> dict[str, float]:
    """Median ms of a transaction that changes one month's plan, and of one that enters an actual,
    and of the rollup upkeep inside each (storage/money.py's after-flush refresh, timed where it
    runs); then the whole rollup is checked against the measure months."""
    spent: list[float] = []
    refresh = money._refresh_touched

    def timed_refresh(session: Session, context: object) -> None:
        t0 = time.perf_counter()
        refresh(session, context)
        spent.append((time.perf_counter() - t0) * 1000)

    money._refresh_touched = timed_refresh  # the listener is bound per session, from the module
    timings: dict[str, list[float]] = {"plan edit": [], "plan edit rollup": [], "actual": [], "actual rollup": []}
    for n in range(times):
        measure_id = 1 + (n * 7919) % size
        for name, work in (("plan edit", _edit_plan(measure_id, n)), ("actual", _enter_actual(measure_id, n))):
            spent.clear()
            t0 = time.perf_counter()
            await deps.transaction(work)
            timings[name].append((time.perf_counter() - t0) * 1000)
            timings[f"{name} rollup"].append(sum(spent))
    money._refresh_touched = refresh
    timings["re-sum"] = _resum_times(engine, size, times)
    with engine.connect() as connection:
        stored = {tuple(row) for row in connection.execute(sa.select(*[MoneyRollup.__table__.c[c] for c in _ROLLUP]))}
        summed = {tuple(row) for row in connection.execute(summed_months())}
    med = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"  keeping the rollup current at {size} measures (median of {times} transactions each): a plan edit "
        f"{med['plan edit']:.1f} ms, of which the rollup {med['plan edit rollup']:.1f} ms; an actual "
        f"{med['actual']:.1f} ms, of which the rollup {med['actual rollup']:.1f} ms (goal <= 5 ms); "
        f"rollup equals the months: {'yes' if stored == summed else 'NO'}"
    )
    print(f"  the same cells re-summed from their months instead (the previous way): {med['re-sum']:.1f} ms, "
          f"{med['re-sum'] / max(med['plan edit rollup'], 1e-6):.1f}x the difference")  # fmt: skip
    return med


def _resum_times(engine: sa.Engine, size: int, times: int) -> list[float]:
    """ms to re-sum one (package, month) cell from its measure months, in a transaction rolled back."""
    spent = []
    with engine.connect() as connection:
        packages = dict(connection.execute(sa.select(Measure.id, Measure.package_id)).all())  # type: ignore[call-overload]
    for n in range(times):
        cell = (packages[1 + (n * 7919) % size], date(2028, 1 + n % 12, 1))
        with engine.connect() as connection, connection.begin() as transaction:
            t0 = time.perf_counter()
            money.refresh_cells(connection, [cell])
            spent.append((time.perf_counter() - t0) * 1000)
            transaction.rollback()
    return spent


def _edit_plan(measure_id: int, n: int) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        row = session.get(MeasureMonth, (measure_id, date(2028, 1 + n % 12, 1)))
        assert row is not None
        row.plan = (row.plan or 0) + 1
        session.add(row)

    return work


def _enter_actual(measure_id: int, n: int) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        measure = session.get(Measure, measure_id)
        assert measure is not None
        record_actuals(session=session, measure=measure, entries={date(2027, 1 + n % 10, 1): 1_000 + n},
                       actor=measure.owner_id or "", validate=False, reason="", now=NOW)  # fmt: skip

    return work


_ROLLUP = [
    "package_id", "month", "stage", "plan", "expected", "settled", "actual", "decided_plan", "months", "actuals",
]  # fmt: skip


def summary(results: list[Built]) -> None:
    smallest, largest = results[0], results[-1]
    counts = ", ".join(f"{r.size}: {r.statements}" for r in results)
    constant = "constant" if len({r.statements for r in results}) == 1 else "NOT constant"
    print(f"SQL statements per digest ({counts}): {constant} from {smallest.size} to {largest.size} measures")
    if len(results) >= 2:
        middle = results[-2]
        ratio = (largest.total_ms / largest.size) / (middle.total_ms / middle.size)
        print(f"cost per measure from {middle.size} to {largest.size} measures: "
              f"{middle.total_ms * 1000 / middle.size:.1f} µs → {largest.total_ms * 1000 / largest.size:.1f} µs, "
              f"{ratio:.2f}x (goal <= 1.3x)")  # fmt: skip
    print(f"digest of {largest.size} measures: {largest.total_ms:.0f} ms (goal <= 1000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="measures per run, comma-separated")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as directory:
        results = [asyncio.run(measure_size(args, Path(directory), size, upkeep=size == sizes[-1])) for size in sizes]
    summary(results)


if __name__ == "__main__":
    main()
