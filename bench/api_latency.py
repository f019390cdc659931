"""The API under load: `GET /api/v1/measures/{key}` from many clients at once, against the bot and a
bare aiohttp handler side by side.

    python -m bench.api_latency [--levels 50,200,400] [--rounds 5] [--database-url postgresql://…]

The bot (`python -m bot serve` on SQLite or PostgreSQL, 1,000 measures of 36 months each, a read
token), a bare aiohttp handler answering a fixed measure of 36 months (bench/bare_aiohttp.py) and the
Slack stand-in each run in their own process. Each round sends `level` requests at once to the bare
handler, then to the bot (each for a different measure). Printed per level: the p50/p99 of both
over all rounds, the median of the rounds' p99 ratios and the slowest answer. Goal: p99 at 200
concurrent <= 2 x the bare handler's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from bench.approval_clicks import SECRET, TOKEN, free_port, percentile, wait_http
from bench.checkin_fanout import fresh_database
from domain.enums import Level
from domain.policy import TokenScope
from storage.api_tokens import create_token
from storage.db import create_db_engine, session_scope, upgrade
from storage.models import Measure, MeasureMonth, Person, Unit
from storage.types import utcnow

ROOT = Path(__file__).resolve().parents[1]
MEASURES, MONTHS = 1_000, 36


def populate(url: str) -> str:
    """1,000 measures with 36 months of plan and forecast; returns a read token."""
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(sa.insert(Person).values(slack_id="U0BENCH", name="bench", tz="UTC", refreshed_at=now))
        parent = None
        for level in Level:
            unit = sa.insert(Unit).values(level=level, name=f"bench {level}", parent_id=parent, created_at=now)
            parent = connection.execute(unit.returning(Unit.id)).scalar_one()
        connection.execute(sa.insert(Measure), [
            {"number": n, "key": f"M-{n}", "title": f"Measure {n}", "package_id": parent, "owner_id": "U0BENCH",
             "created_at": now, "updated_at": now} for n in range(1, MEASURES + 1)])  # fmt: skip
        ids = connection.execute(sa.select(Measure.id)).scalars().all()
        connection.execute(sa.insert(MeasureMonth), [
            {"measure_id": i, "month": date(2026 + m // 12, m % 12 + 1, 1), "plan": 10_000, "forecast": 9_000}
            for i in ids for m in range(MONTHS)])  # fmt: skip
    with session_scope(engine, clock=utcnow) as session:
        secret = create_token(session=session, name="bench", scope=TokenScope.READ, actor="U0BENCH", now=now)
    engine.dispose()
    assert secret is not None
    return secret


async def burst(url: str, level: int, token: str, first: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(number: int) -> float:
            started = time.perf_counter()
            async with session.get(f"{url}/api/v1/measures/M-{number}", headers=headers) as response:
                await response.read()
                assert response.status == 200, (response.status, await response.text())
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(one(1 + (first + i) % MEASURES) for i in range(level))))


def start(url: str, *, standin_port: int, bot_port: int, bare_port: int) -> list[subprocess.Popen[bytes]]:
    api = f"http://127.0.0.1:{standin_port}/api/"
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api,
           "DATABASE_URL": url, "PORT": str(bot_port), "API_RATE": "1000000", "API_BURST": "1000000"}  # fmt: skip
    return [
        subprocess.Popen([sys.executable, "-m", "bot.standin", "--port", str(standin_port), "--token", TOKEN,
                          "--auto-users"], cwd=ROOT, stdout=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "bench/bare_aiohttp.py", "--port", str(bare_port)], cwd=ROOT),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="50,200,400")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = fresh_database(args.database_url, Path(tempfile.mkdtemp()), "api")
    upgrade(url)
    token = populate(url)
    ports = {"standin_port": free_port(), "bot_port": free_port(), "bare_port": free_port()}
    processes = start(url, **ports)
    bot_url, bare_url = f"http://127.0.0.1:{ports['bot_port']}", f"http://127.0.0.1:{ports['bare_port']}"
    try:
        wait_http(f"{bot_url}/healthz")
        wait_http(f"{bare_url}/api/v1/measures/M-1")
        time.sleep(2.0)  # the bot's first sweep
        asyncio.run(burst(bot_url, 10, token, 0))  # warm up both
        asyncio.run(burst(bare_url, 10, token, 0))
        backend = "postgresql" if args.database_url else "sqlite"
        print(f"api latency ({backend}): GET /api/v1/measures/{{key}}, 36 months, ms over {args.rounds} rounds")
        print(f"  {'at once':>7}  {'bare p50':>8} {'bare p99':>8}  {'bot p50':>8} {'bot p99':>8}  "
              f"{'p99 ratio (median of rounds)':>28}  {'bot max':>7}")  # fmt: skip
        first = 0
        for level in (int(x) for x in args.levels.split(",")):
            bare_all, bot_all, ratios = [], [], []
            for _ in range(args.rounds):
                bare = asyncio.run(burst(bare_url, level, token, first))
                time.sleep(0.3)
                bot = asyncio.run(burst(bot_url, level, token, first))
                time.sleep(0.3)
                first += level
                bare_all += bare
                bot_all += bot
                ratios.append(percentile(bot, 99) / percentile(bare, 99))
            print(f"  {level:7}  {percentile(bare_all, 50):8.1f} {percentile(bare_all, 99):8.1f}  "
                  f"{percentile(bot_all, 50):8.1f} {percentile(bot_all, 99):8.1f}  "
                  f"{statistics.median(ratios):28.2f}  {max(bot_all):7.0f}", flush=True)  # fmt: skip
    finally:
        for process in processes:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
