"""Check-in fan-out through the Slack stand-in under a rate limit, and the cost of an idle sweep.

    python -m bench.checkin_fanout [--owners 2000] [--per-owner 5] [--limit 200] [--idle 100000]
                                   [--database-url sqlite:///… | postgresql://…]

Part 1: 10,000 due measures across 2,000 owners are swept once. The stand-in answers 429 with
Retry-After beyond `--limit` chat.postMessage calls per second. Printed: prompts sent, duplicates,
lost, Web API calls per prompt (429 retries counted separately), wall time, and the ratio of wall
time to the lower bound the rate limit sets (prompts / limit). Goal: 0, 0, 1.0, ratio <= 1.1.
The bot paces itself at the limit: its pacer counts a call against the window until one second
after Slack answered it, so no window of Slack's can hold more than the limit (bot/pacing.py).
Part 2: a sweep with nothing due over `--idle` measures: its time and its number of SQL queries,
also at a tenth of the size to show the count does not grow. Goal: <= 50 ms, constant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from domain.enums import Level, Stage
from reminders.sweep import SweepReport, sweep
from slackkit.context import freeze_startup_heap, make_deps
from slackkit.settings import Settings
from storage.db import create_db_engine, upgrade
from storage.models import Measure, Person, Unit

ROOT = Path(__file__).resolve().parents[1]


TOKEN = "xoxb-bench"
NOW = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)


def fresh_database(url: str | None, directory: Path, name: str) -> str:
    if url is None:
        return f"sqlite:///{directory / name}.db"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    db = f"pacekeeper_bench_{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return str(admin.url.set(database=db).render_as_string(hide_password=False))


def populate(engine: sa.Engine, *, owners: int, per_owner: int, next_checkin_at: datetime) -> list[str]:
    """People, a five-level tree and owners × per_owner measures at DI3, inserted in bulk."""
    owner_ids = [f"U{n:08d}" for n in range(owners)]
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Person),
            [
                {"slack_id": o, "name": o, "tz": "UTC", "is_workspace_admin": False, "refreshed_at": NOW}
                for o in owner_ids
            ],
        )
        parent = None
        for level in Level:
            parent = connection.execute(
                sa.insert(Unit).values(level=level, name=f"bench {level}", parent_id=parent, created_at=NOW)
            ).inserted_primary_key[0]
        rows, number = [], 0
        for owner in owner_ids:
            for _ in range(per_owner):
                number += 1
                rows.append(
                    {
                        "number": number, "key": f"M-{number}", "title": f"Measure {number}", "description": "",
                        "package_id": parent, "owner_id": owner, "business_unit": "", "function": "",
                        "stage": Stage.DI3, "impl_status": "on_track", "potential_status": "on_track",
                        "no_known_risks": True, "dependencies_stated": True, "cadence": "weekly",
                        "checkin_weekday": 0, "checkin_time": datetime(2000, 1, 1, 9).time(),
                        "next_checkin_at": next_checkin_at, "version": 1, "created_at": NOW, "updated_at": NOW,
                    }
                )  # fmt: skip
        for start in range(0, len(rows), 5000):
            connection.execute(sa.insert(Measure), rows[start : start + 5000])
    with engine.begin() as connection:  # statistics, as autovacuum keeps them on a live database
        connection.execute(sa.text("ANALYZE"))
    return owner_ids


def start_standin(limit: int) -> tuple[subprocess.Popen[str], str]:
    """The stand-in in its own process, as Slack is: its work does not slow the bot down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.standin", "--port", str(port), "--token", TOKEN, "--auto-users",
         "--rate-limit", f"chat.postMessage={limit}"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    process.stdout.readline()
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_calls", timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


async def fanout(args: argparse.Namespace, directory: Path) -> None:
    url = fresh_database(args.database_url, directory, "fanout")
    upgrade(url)
    engine = create_db_engine(url)
    owners = populate(engine, owners=args.owners, per_owner=args.per_owner, next_checkin_at=NOW - timedelta(minutes=1))
    standin, standin_url = start_standin(args.limit)
    settings = Settings(
        bot_token=TOKEN, signing_secret="bench", api_url=f"{standin_url}/api/", database_url=url,
        send_rate=args.send_rate or args.limit, send_concurrency=args.concurrency,
    )  # fmt: skip
    report, posts, wall, started_at = await timed_sweep(
        settings, engine, standin, standin_url, method="chat.postMessage"
    )

    accepted = [c for c in posts if c["status"] == 200]
    per_owner = Counter(c["channel"] for c in accepted)
    prompts = len(accepted)
    lower_bound = prompts / args.limit
    print(f"fan-out: {args.owners * args.per_owner} due measures, {args.owners} owners, limit {args.limit}/s "
          f"({engine.dialect.name})")  # fmt: skip
    print(f"  prompts sent         {prompts}")
    print(f"  duplicates           {sum(n - 1 for n in per_owner.values() if n > 1)}")
    print(f"  lost                 {len(set(owners) - set(per_owner))}")
    retries = len(posts) - len(accepted)
    print(f"  Web API calls/prompt {prompts and len(accepted) / prompts:.2f} (+ {retries} retries after 429)")
    first, last = min(c["at"] for c in posts), max(c["at"] for c in posts)
    sending = last - first + 1 / args.limit  # the span of the calls, counting the last one's slot
    print(f"  wall time            {wall:.2f} s for the whole sweep ({report.summary()})")
    print(f"    of which planning  {first - started_at:.2f} s before the first call; sending {sending:.2f} s")
    print(f"  lower bound          {lower_bound:.2f} s (prompts / limit)")
    print(f"  ratio                {wall / lower_bound:.3f} whole sweep, {sending / lower_bound:.3f} sending")


async def timed_sweep(
    settings: Settings, engine: sa.Engine, standin: subprocess.Popen[str], standin_url: str, *, method: str = ""
) -> tuple[SweepReport, list[dict[str, Any]], float, float]:
    """One sweep at NOW, timed as production runs it (the worker process up, the start-up heap frozen),
    then the stand-in's record of the calls (of `method`, or all) and the stand-in stopped. Returns the
    report, the calls, the sweep's wall time and when it started (epoch seconds, as the calls' `at`)."""
    deps = make_deps(settings, engine=engine, clock=lambda: NOW)
    deps.start_workers()  # as `serve` does at start-up (and `tick` before its sweep)
    freeze_startup_heap()  # as they do too
    await deps.offload(int)  # wait until the worker is up: the sweep is timed, not the start-up
    started, started_at = time.perf_counter(), time.time()
    report = await sweep(deps, now=NOW)
    wall = time.perf_counter() - started
    await deps.aclose()
    engine.dispose()
    query = f"?method={method}" if method else ""
    with urllib.request.urlopen(f"{standin_url}/_calls{query}") as response:
        calls = json.load(response)
    standin.terminate()
    standin.wait()
    return report, calls, wall, started_at


def count_queries(engine: sa.Engine) -> list[int]:
    counter = [0]
    sa.event.listen(engine, "before_cursor_execute", lambda *_a, **_k: counter.__setitem__(0, counter[0] + 1))
    return counter


async def idle(args: argparse.Namespace, directory: Path) -> None:
    for size in (args.idle // 10, args.idle):
        url = fresh_database(args.database_url, directory, f"idle{size}")
        upgrade(url)
        engine = create_db_engine(url)
        populate(engine, owners=size // 5, per_owner=5, next_checkin_at=NOW + timedelta(days=3))
        settings = Settings(
            bot_token=TOKEN, signing_secret="bench", api_url="http://127.0.0.1:9/api/", database_url=url
        )
        deps = make_deps(settings, engine=engine, clock=lambda: NOW)
        await sweep(deps, now=NOW)  # warm up connections and caches
        counter = count_queries(engine)
        times = []
        for _ in range(args.repeat):
            counter[0] = 0
            started = time.perf_counter()
            report = await sweep(deps, now=NOW)
            times.append((time.perf_counter() - started) * 1000)
            assert report.cycles_opened == 0 and report.delivery.sent == 0
        await deps.aclose()
        engine.dispose()
        print(f"idle sweep over {size} measures ({engine.dialect.name}): median {statistics.median(times):.1f} ms, "
              f"max {max(times):.1f} ms, {counter[0]} SQL queries per sweep")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--owners", type=int, default=2000)
    parser.add_argument("--per-owner", type=int, default=5)
    parser.add_argument("--limit", type=int, default=200, help="chat.postMessage per second the stand-in allows")
    parser.add_argument(
        "--send-rate", type=float, default=None,
        help="the bot's pace (default: --limit itself; its pacer holds a slot until a second after the answer)",
    )  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--idle", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite files)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        await fanout(args, Path(directory))
        await idle(args, Path(directory))


if __name__ == "__main__":
    asyncio.run(main())
