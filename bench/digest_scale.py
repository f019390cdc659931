"""How long a digest takes to build for a large portfolio, and how many SQL queries it needs.

    python -m bench.digest_scale [--measures 10000] [--weeks 52] [--database-url postgresql://…]

A portfolio (10 programs × 5 projects × 2 packages) holds `--measures` measures at every stage, each
with a monthly plan, forecasts and actuals for the year and `--weeks` weeks of answered check-ins
(with their audit records), plus open approvals and escalations. The digest of the portfolio is
built the way the sweep builds it: loaded in one transaction, rendered to blocks and drawn to PNG.
Printed for a tenth of the size and the full size: load / render / chart / total milliseconds
(median of `--repeat`) and the SQL queries of one build. Goal: <= 200 ms, a constant query count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.checkin_fanout import count_queries, fresh_database
from domain.enums import Level, Stage
from messages.chart import value_chart
from reminders.digest_delivery import build_digest
from slackkit.context import freeze_startup_heap, make_deps
from slackkit.settings import Settings
from storage.db import create_db_engine, upgrade
from storage.digest_data import load_digest, months_of
from storage.models import AuditLog, CheckIn, Escalation, Evidence, GateRequest, Measure, MeasureMonth, Person, Unit
from storage.money import refresh_money

NOW = datetime(2027, 11, 5, 15, 0, tzinfo=UTC)
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
        _bulk(connection, MeasureMonth, [
            {"measure_id": n, "month": date(2027, m, 1), "plan": 1_000, "forecast": 950 if m >= 11 else None,
             "actual": 900 + n % 200 if m < 11 else None}
            for n in range(1, measures + 1) for m in range(1, 13)])  # fmt: skip
        start = NOW - timedelta(weeks=weeks)
        history = [(n, start + timedelta(weeks=w)) for n in range(1, measures + 1) for w in range(weeks)]
        _bulk(connection, CheckIn, [
            {"measure_id": n, "owner_id": owners[n % len(owners)], "cycle_start": at,
             "cycle_end": at + timedelta(weeks=1),
             "status": "answered", "answered_at": at + timedelta(hours=3), "impl_status": STATUSES[(n + w) % 5],
             "potential_status": "on_track", "blockers": "", "comment": "", "created_at": at, "prompted_at": at}
            for w, (n, at) in enumerate(history)])  # fmt: skip
        _bulk(connection, AuditLog, [
            {"at": at + timedelta(hours=3), "actor": owners[n % len(owners)], "entity": "measure",
             "entity_key": f"M-{n}", "action": "checkin_answered", "detail": "{}"} for n, at in history])  # fmt: skip
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


def _bulk(connection: sa.Connection, table: type, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), 10_000):
        connection.execute(sa.insert(table), rows[start : start + 10_000])


async def measure_size(args: argparse.Namespace, directory: Path, size: int) -> None:
    url = fresh_database(args.database_url, directory, f"digest{size}")
    upgrade(url)
    engine = create_db_engine(url)
    started = time.perf_counter()
    portfolio = populate(engine, measures=size, weeks=args.weeks)
    print(f"  populated {size} measures with {size * args.weeks} check-ins in {time.perf_counter() - started:.1f} s")
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
            months_of(data.money, closed_through=data.closed_through), title="chart alone", start=data.period.start
        )
        timings["chart"].append((time.perf_counter() - t3) * 1000)
    await deps.aclose()
    engine.dispose()
    med = {k: statistics.median(v) for k, v in timings.items()}
    print(f"  digest of {size} measures ({engine.dialect.name}): build {med['total']:.0f} ms median "
          f"(load {med['load']:.0f} ms, render + chart {med['render']:.0f} ms, of which chart {med['chart']:.0f} ms); "
          f"{queries} SQL statements; summary {len(built.summary[1])} blocks, "
          f"thread {len(built.thread)} messages")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measures", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        for size in (args.measures // 10, args.measures):
            asyncio.run(measure_size(args, Path(directory), size))


if __name__ == "__main__":
    main()
