"""How large the database grows: a year of a programme of 1,000 measures, before and after the
retention prunes what is plumbing (docs/retention.md).

    python -m bench.db_size [--measures 1000] [--weeks 52] [--database-url postgresql://…]

The year is bench/digest_scale's: every measure with 36 months of plan, forecast and actual, a
check-in answered each week with its audit record, evidence, open approvals and escalations; plus
what the sweep sent for it — a prompt per owner per week and a reminder for every fifth, with
their payloads. Printed: the size with everything kept, then after `storage/retention.prune_outbox`
(90 days) and a VACUUM, and both per 1,000 measures per year.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.checkin_fanout import fresh_database
from bench.digest_scale import NOW, _bulk, populate
from storage.db import create_db_engine, session_scope, upgrade
from storage.models import Outbox
from storage.retention import prune_outbox


def sent_messages(engine: sa.Engine, *, measures: int, weeks: int) -> int:
    """What a year of sweeps leaves in the outbox: a prompt per owner per week, some reminders."""
    owners = max(1, measures // 5)
    start = NOW - timedelta(weeks=weeks)
    rows = (
        {"kind": kind, "dedupe_key": f"{kind}:{owner}:{week}", "recipient": f"U{owner:06d}",
         "payload": json.dumps({"checkin_ids": list(range(owner * 5, owner * 5 + 5))}), "state": "sent",
         "attempts": 1, "channel": f"D{owner:06d}", "ts": f"{1_700_000_000 + week * 604_800}.{owner:06d}",
         "created_at": start + timedelta(weeks=week), "sent_at": start + timedelta(weeks=week), "urgent": False}
        for week in range(weeks) for owner in range(owners)
        for kind in (("checkin_prompt", "checkin_reminder") if owner % 5 == 0 else ("checkin_prompt",))
    )  # fmt: skip
    with engine.begin() as connection:
        _bulk(connection, Outbox, rows)
        return int(connection.execute(sa.select(sa.func.count()).select_from(Outbox)).scalar_one())


def size_of(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            pages = connection.execute(sa.text("PRAGMA page_count")).scalar_one()
            return int(pages) * int(connection.execute(sa.text("PRAGMA page_size")).scalar_one())
        return int(connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one())


def vacuum(engine: sa.Engine) -> None:
    """VACUUM outside any transaction (the engine's connections begin one themselves)."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if engine.dialect.name == "sqlite":
            driver.execute("VACUUM")  # type: ignore[union-attr]
        else:
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute("VACUUM")  # type: ignore[union-attr]
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measures", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = fresh_database(args.database_url, Path(tempfile.mkdtemp()), "size")
    upgrade(url)
    engine = create_db_engine(url)
    populate(engine, measures=args.measures, weeks=args.weeks)
    messages = sent_messages(engine, measures=args.measures, weeks=args.weeks)
    vacuum(engine)
    kept = size_of(engine)
    pruned = 0
    with session_scope(engine, clock=lambda: NOW) as session:
        while batch := prune_outbox(session=session, now=NOW, keep=timedelta(days=90)):
            pruned += batch
    vacuum(engine)
    after = size_of(engine)
    per = 1000 / args.measures * 52 / args.weeks
    print(f"db size ({engine.dialect.name}), {args.measures} measures, {args.weeks} weeks")
    for label, size in ((f"everything kept ({messages} messages)", kept), (f"after pruning {pruned}", after)):
        print(f"  {label:32} {size / 1e6:8.1f} MB  ({size * per / 1e6:.1f} MB per 1,000 measures per year)")
    engine.dispose()


if __name__ == "__main__":
    main()
