"""Escalations climbing at once: one message per recipient per sweep, through the rate-limited stand-in.

    python -m bench.escalations [--escalations 10000] [--people 500] [--portfolios 20] [--limit 20]
                                [--database-url postgresql://…]

10,000 open escalations (potential shortfalls, which hold at the sweep) across 500 sponsors and 20
portfolios, each with its steering channel, all waiting longer than their step: half climb from the
owner to the sponsor, half from the sponsor to the steering channel, in one sweep. The stand-in
answers 429 with Retry-After beyond `--limit` chat.postMessage calls a second.
Printed: escalations climbed, messages owed, Web API calls (chat.postMessage accepted, 429s), the
goal (one per recipient: sponsors plus channels), wall time of the sweep and its ratio to the lower
bound the rate limit sets (messages / limit); and the largest message's blocks and characters.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.checkin_fanout import NOW, TOKEN, fresh_database, start_standin, timed_sweep
from domain.enums import Level, Stage
from domain.escalation_rules import Cause, PortfolioRules, Rung
from slackkit.settings import Settings
from storage.db import create_db_engine, upgrade
from storage.models import DirectorySync, Escalation, Measure, Person, Unit

# NOW is Monday 09:00 UTC: since Friday 09:00 the people waited on have had 24 working hours (Friday's
# 15 and Monday's 9; the weekend does not count, docs/checkins.md#working-calendars), the default step.
WAITED = NOW - timedelta(days=3)


def populate(engine: sa.Engine, *, escalations: int, people: int, portfolios: int) -> None:
    sponsors = [f"U{n:08d}" for n in range(people)]
    owners = [f"U9{n:07d}" for n in range(people)]
    with engine.begin() as connection:
        connection.execute(sa.insert(Person), [
            {"slack_id": p, "name": p, "tz": "UTC", "is_workspace_admin": False, "refreshed_at": NOW}
            for p in sponsors + owners
        ])  # fmt: skip
        connection.execute(sa.insert(DirectorySync).values(workspace="", synced_at=NOW))  # listed just now
        organization = _unit(connection, Level.ORGANIZATION, "Bench", None)
        packages = []
        for number in range(portfolios):
            rules = PortfolioRules().model_dump_json()
            portfolio = _unit(connection, Level.PORTFOLIO, f"P{number}", organization, f"C{number:08d}", rules)
            program = _unit(connection, Level.PROGRAM, "program", portfolio)
            project = _unit(connection, Level.PROJECT, "project", program)
            packages.append(_unit(connection, Level.PACKAGE, "package", project))
        measures, raised = [], []
        for number in range(1, escalations + 1):
            pair = number // 2  # each pair: one climbing to a sponsor, one to a steering channel
            person = pair % people
            measures.append({
                "id": number, "number": number, "key": f"M-{number}", "title": f"Measure {number}",
                "description": "", "package_id": packages[pair % portfolios], "owner_id": owners[person],
                "sponsor_id": sponsors[person], "business_unit": "", "function": "", "stage": Stage.DI3,
                "impl_status": "on_track", "potential_status": "off_track", "no_known_risks": True,
                "dependencies_stated": True, "cadence": "weekly", "checkin_weekday": 0,
                "checkin_time": NOW.time(), "next_checkin_at": NOW + timedelta(days=3), "version": 1,
                "created_at": NOW, "updated_at": NOW,
            })  # fmt: skip
            rung = Rung.OWNER if number % 2 else Rung.SPONSOR  # half to sponsors, half to channels
            raised.append({
                "measure_id": number, "cause": Cause.SHORTFALL, "active_key": f"{number}:{Cause.SHORTFALL}",
                "detail": json.dumps({"potential_status": "off_track"}), "state": "open", "rung": rung,
                "rung_started_at": WAITED, "raised_at": WAITED, "refresh_pending": False,
            })  # fmt: skip
        for start in range(0, escalations, 5000):
            connection.execute(sa.insert(Measure), measures[start : start + 5000])
            connection.execute(sa.insert(Escalation), raised[start : start + 5000])
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))


def _unit(connection: sa.Connection, level: Level, name: str, parent: int | None, channel: str | None = None,
          rules: str | None = None) -> int:  # fmt: skip
    values = {"level": level, "name": name, "parent_id": parent, "steering_channel": channel, "rules": rules}
    return int(connection.execute(sa.insert(Unit).values(**values, created_at=NOW)).inserted_primary_key[0])


async def climb(args: argparse.Namespace, directory: Path) -> None:
    url = fresh_database(args.database_url, directory, "escalations")
    upgrade(url)
    engine = create_db_engine(url)
    populate(engine, escalations=args.escalations, people=args.people, portfolios=args.portfolios)
    standin, standin_url = start_standin(args.limit)
    settings = Settings(bot_token=TOKEN, signing_secret="bench", api_url=f"{standin_url}/api/", database_url=url,
                        send_rate=args.limit)  # fmt: skip
    report, calls, wall, started_at = await timed_sweep(settings, engine, standin, standin_url)
    _print(args, engine.dialect.name, report, calls, wall, started_at)


def _print(
    args: argparse.Namespace, backend: str, report: object, calls: list[dict], wall: float, started_at: float
) -> None:
    posts = [c for c in calls if c["method"] == "chat.postMessage"]
    accepted = [c for c in posts if c["status"] == 200]
    per_recipient = Counter(c["channel"] for c in accepted)
    goal = args.people + args.portfolios
    largest = max(accepted, key=lambda c: c["characters"], default=None)
    print(f"escalations: {args.escalations} climbing at once, {args.people} sponsors, {args.portfolios} portfolios, "
          f"limit {args.limit}/s ({backend})")  # fmt: skip
    print(f"  climbed              {report.escalations.climbed} ({report.escalations.messages} messages owed)")  # type: ignore[attr-defined]
    print(f"  chat.postMessage     {len(accepted)} accepted (+ {len(posts) - len(accepted)} answered 429)")
    print(f"  goal                 <= {goal} (one per recipient: {args.people} sponsors + {args.portfolios} channels)")
    print(f"  most to one          {max(per_recipient.values(), default=0)} message(s)")
    other = Counter(c["method"] for c in calls if c["method"] != "chat.postMessage")
    print(f"  other Web API calls  {dict(other) or 0}")
    bound = len(accepted) / args.limit
    print(f"  wall time            {wall:.2f} s for the whole sweep")
    if accepted:
        first, last = min(c["at"] for c in accepted), max(c["at"] for c in accepted)
        sending = last - first + 1 / args.limit
        print(f"    of which planning  {first - started_at:.2f} s before the first call; sending {sending:.2f} s "
              f"(ratio {sending / (len(accepted) / args.limit):.3f})")  # fmt: skip
    ratio = f"{wall / bound:.3f}" if bound else "—"
    print(f"  lower bound          {bound:.2f} s (messages / limit); ratio {ratio}")
    if largest is not None:
        print(f"  largest message      {largest['blocks']} blocks, {largest['characters']} characters of block text")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--escalations", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--portfolios", type=int, default=20)
    parser.add_argument("--limit", type=int, default=20, help="chat.postMessage per second the stand-in allows")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(climb(args, Path(directory)))


if __name__ == "__main__":
    main()
