"""Bursts: many signed requests at once against the bot and a bare Bolt app, side by side.

    python -m bench.bursts [--levels 50,200,400] [--rounds 5] [--database-url postgresql://…]

The bot (`python -m bot serve` on its default SQLite, or PostgreSQL), a bare Bolt AsyncApp that
only acks (bench/bare_bolt.py) and the Slack stand-in each run in their own process. For each
kind — `/measure help`, `/measure list mine` (an owner with 40 measures), `app_home_opened` and an
Approve click (each on its own open request) — and each level, this process sends that many
signed requests at once, first to the bare app then to the bot, and times each HTTP answer.
Each row is `--rounds` bursts (5); printed per row: p50/p99 of both over all its bursts, the median
of the bursts' p99 ratios and the worst burst's, and the slowest answer. On this shared 2-core
machine one burst's ratio for the same row varied from 1.0 to 2.1 between runs, so the goal is
read on the median (as bench/api_latency.py does): p99 ratio <= 2 at 200 and 400 on both
databases, p99 growing no faster than the load, nothing over 3 s.

`BENCH_PROFILE=/tmp/bot.prof` runs the bot under cProfile (read it with `pstats`);
`BENCH_BOT_LOG=/tmp/bot.log` keeps its log (a row that measured error paths shows there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from bench.approval_clicks import (
    SECRET,
    SPONSOR,
    click_body,
    free_port,
    percentile,
    populate,
    start_processes,
    wait_http,
)
from bench.checkin_fanout import fresh_database
from storage.db import create_db_engine, upgrade
from storage.models import Measure, Person

ROOT = Path(__file__).resolve().parents[1]
OWNER = "U0BENCHOWNER"
ELSEWHERE = "U0BENCHOTHER"
MINE = 40
FORM = "application/x-www-form-urlencoded"
Body = tuple[str, str]  # (content type, body)


def command(text: str, user: str, number: int, api: str) -> Body:
    return FORM, urlencode({
        "command": "/measure", "text": text, "user_id": user, "user_name": user, "team_id": "T0BENCH",
        "channel_id": "C0BENCH", "trigger_id": f"{number}.1.bench",
        "response_url": f"{api.removesuffix('/api/')}/response/R{number:08d}",
    })  # fmt: skip


def home_opened(user: str, number: int) -> Body:
    return "application/json", json.dumps({
        "type": "event_callback", "team_id": "T0BENCH", "api_app_id": "A0BENCH", "event_id": f"Ev{number:08d}",
        "event_time": int(time.time()), "event": {"type": "app_home_opened", "user": user, "tab": "home",
                                                   "channel": "D0BENCH", "event_ts": "1.1"},
    })  # fmt: skip


async def burst(url: str, bodies: list[Body]) -> list[float]:
    signer = SignatureVerifier(SECRET)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(content_type: str, body: str) -> float:
            stamp = str(int(time.time()))
            headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                       "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=body)}  # fmt: skip
            started = time.perf_counter()
            async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, (response.status, await response.text())
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(one(*body) for body in bodies)))


def settle(calls_url: str) -> None:
    """Wait until the bot has made no Web API call for a second (its replies after the acks)."""
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        with urllib.request.urlopen(f"{calls_url}?count=1", timeout=10) as answer:
            count = json.load(answer)["count"]
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        time.sleep(0.25)


def prepare(url: str, clicks: int) -> list[int]:
    """Open requests to click (one per click), 40 measures of OWNER and the rest someone else's."""
    request_ids = populate(url, clicks)
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(Person).values(slack_id=ELSEWHERE, name="other", tz="UTC",
                                                    refreshed_at=sa.func.current_timestamp()))  # fmt: skip
        connection.execute(sa.update(Measure).where(Measure.number > MINE).values(owner_id=ELSEWHERE))
    engine.dispose()
    return request_ids


def kinds(api: str, request_ids: list[int]) -> dict[str, Callable[[int], Body]]:
    clicks = iter(request_ids)
    return {
        "/measure help": lambda n: command("help", OWNER, n, api),
        "/measure list mine": lambda n: command("list mine", OWNER, n, api),
        "app_home_opened": lambda n: home_opened(OWNER, n),
        "Approve click": lambda n: (FORM, click_body(next(clicks))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="50,200,400")
    parser.add_argument("--rounds", type=int, default=5, help="bursts per row (this machine is noisy)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--kinds", default=None, help="only these rows, comma-separated (e.g. app_home_opened)")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    url = fresh_database(args.database_url, Path(tempfile.mkdtemp()), "bursts")
    upgrade(url)
    request_ids = prepare(url, sum(levels) * args.rounds + 1)
    standin_port, bot_port, bare_port = free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{standin_port}/api/"
    processes = start_processes(url, api, standin_port=standin_port, bot_port=bot_port, bare_port=bare_port)
    backend = "postgresql" if args.database_url else "sqlite"
    try:
        wait_http(f"http://127.0.0.1:{bot_port}/healthz")
        wait_http(f"http://127.0.0.1:{bare_port}/slack/events")
        time.sleep(2.0)  # the bot's first sweep sends the approval messages: wait until it has
        settle(f"http://127.0.0.1:{standin_port}/_calls")
        bot_url, bare_url = f"http://127.0.0.1:{bot_port}", f"http://127.0.0.1:{bare_port}"
        asyncio.run(burst(bot_url, [command("help", SPONSOR, 0, api)]))  # warm up: Bolt checks the token once
        asyncio.run(burst(bare_url, [command("help", SPONSOR, 0, api)]))
        print(f"bursts ({backend}): p50 / p99 in ms over {args.rounds} rounds, bot beside a bare Bolt app that "
              "only acks; the p99 ratio is the median of the rounds' ratios, then the worst round's")  # fmt: skip
        print(f"  {'request':20} {'at once':>7}  {'bare p50':>8} {'bare p99':>8}  {'bot p50':>8} {'bot p99':>8}"
              f"  {'p99 ratio':>9} {'worst':>6}  {'bot max':>8}")  # fmt: skip
        number = 1
        for name, make in kinds(api, request_ids[1:]).items():
            if args.kinds and name not in args.kinds.split(","):
                continue
            p99s: list[tuple[float, float]] = []  # (bare, bot) per level
            for level in levels:
                bare_all, bot_all, ratios = [], [], []
                for _ in range(args.rounds):
                    bodies = [make(number + i) for i in range(level)]
                    number += level
                    bare = asyncio.run(burst(bare_url, [b if name != "Approve click" else (FORM, click_body(0))
                                                        for b in bodies]))  # fmt: skip
                    time.sleep(0.5)  # the bare app's tail (closing connections) must not overlap the bot's burst
                    bot = asyncio.run(burst(bot_url, bodies))
                    ratios.append(percentile(bot, 99) / percentile(bare, 99))
                    bare_all += bare
                    bot_all += bot
                    settle(f"http://127.0.0.1:{standin_port}/_calls")  # the bot's work after the acks, done first
                print(f"  {name:20} {level:7}  {percentile(bare_all, 50):8.1f} {percentile(bare_all, 99):8.1f}"
                      f"  {percentile(bot_all, 50):8.1f} {percentile(bot_all, 99):8.1f}"
                      f"  {statistics.median(ratios):9.2f} {max(ratios):6.2f}  {max(bot_all):8.0f}",
                      flush=True)  # fmt: skip
                p99s.append((percentile(bare_all, 99), percentile(bot_all, 99)))
            print(
                f"  {name:20} p99 from {levels[0]} to {levels[-1]} at once: bot {p99s[-1][1] / p99s[0][1]:.1f}x, "
                f"bare {p99s[-1][0] / p99s[0][0]:.1f}x (the load {levels[-1] / levels[0]:.0f}x)",
                flush=True,
            )
    finally:
        for process in processes:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
