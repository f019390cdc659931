"""Ack latency of 200 concurrent Approve clicks: the running bot beside a bare Bolt app.

    python -m bench.approval_clicks [--clicks 200] [--database-url postgresql://…]

The bot (`python -m bot serve`), a bare Bolt app that only acks the button (bench/bare_bolt.py)
and the Slack stand-in each run in their own process; this process sends the signed clicks, all
at once, and times each HTTP answer. Printed: p50/p99 ack latency for both, their ratio, and
whether the bot recorded one decision per request. Goal: ratio <= 2, all decisions recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from bench.checkin_fanout import fresh_database
from domain.enums import Level, Stage
from domain.measure_schema import MeasureDraft
from domain.stage_gates import MeasureFacts, RequestKind
from messages.payloads import GateRef
from storage.db import create_db_engine, session_scope, upgrade
from storage.gate_requests import request_gate
from storage.models import GateDecision, Measure, Person, Unit
from storage.types import utcnow

ROOT = Path(__file__).resolve().parents[1]
TOKEN, SECRET = "xoxb-bench", "bench-signing-secret"
OWNER, SPONSOR = "U0BENCHOWNER", "U0BENCHSPONSOR"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def populate(url: str, count: int) -> list[int]:
    """`count` measures at DI2, each with an open DI3 request waiting for the sponsor."""
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine, clock=utcnow) as session:
        session.add_all([Person(slack_id=p, name=p, tz="UTC", refreshed_at=now) for p in (OWNER, SPONSOR)])
        parent = None
        for level in Level:
            unit = Unit(level=level, name=f"bench {level}", parent_id=parent)
            session.add(unit)
            session.flush()
            parent = unit.id
        ids = []
        for number in range(1, count + 1):
            measure = Measure(
                number=number, key=f"M-{number}", title=f"Measure {number}", package_id=parent or 0, owner_id=OWNER,
                sponsor_id=SPONSOR, controller_id=SPONSOR, stage=Stage.DI2,
            )  # fmt: skip
            session.add(measure)
            session.flush()
            facts = MeasureFacts(draft=MeasureDraft(
                title=measure.title, package_id=parent or 0, owner_id=OWNER, sponsor_id=SPONSOR,
                controller_id=SPONSOR, baseline=1, target=1, business_unit="b", function="f",
                due=datetime(2027, 6, 30).date(), monthly_plan={datetime(2027, 1, 1).date(): 1}, no_known_risks=True,
                dependencies_stated=True,
            ))  # fmt: skip
            request = request_gate(
                session=session, measure=measure, facts=facts, kind=RequestKind.ADVANCE, requester=OWNER,
                admin=True, now=now,
            )  # fmt: skip
            ids.append(request.id or 0)
    engine.dispose()
    return ids


def start_processes(
    url: str, api: str, *, standin_port: int, bot_port: int, bare_port: int
) -> list[subprocess.Popen[bytes]]:
    """The Slack stand-in, the bot (`python -m bot serve` on `url`) and the bare Bolt app, each its own process."""
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api,
           "DATABASE_URL": url, "PORT": str(bot_port)}  # fmt: skip
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    bot_log = open(os.environ["BENCH_BOT_LOG"], "ab") if os.environ.get("BENCH_BOT_LOG") else subprocess.DEVNULL  # noqa: SIM115
    return [
        subprocess.Popen([sys.executable, "-m", "bot.standin", "--port", str(standin_port), "--token", TOKEN,
                          "--auto-users"], cwd=ROOT, stdout=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, *profile, "-m", "bot", "serve"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=bot_log),
        subprocess.Popen([sys.executable, "bench/bare_bolt.py", "--port", str(bare_port), "--api-url", api,
                          "--token", TOKEN, "--signing-secret", SECRET], cwd=ROOT),
    ]  # fmt: skip


def click_body(request_id: int) -> str:
    payload = {
        "type": "block_actions", "team": {"id": "T0BENCH"}, "api_app_id": "A0BENCH",
        "user": {"id": SPONSOR, "name": "sponsor", "team_id": "T0BENCH"}, "trigger_id": f"1.2.{SPONSOR}",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "D0BENCH"},
        "channel": {"id": "D0BENCH"}, "message": {"ts": "1.1", "text": "", "blocks": []},
        "actions": [{"type": "button", "action_id": "gate.approve", "block_id": "b",
                     "value": GateRef(request_id=request_id, step=0).dump(), "action_ts": "1.1"}],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


async def clicks(url: str, request_ids: list[int]) -> list[float]:
    signer = SignatureVerifier(SECRET)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(request_id: int) -> float:
            body = click_body(request_id)
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=body),
            }  # fmt: skip
            started = time.perf_counter()
            async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - started) * 1000

        await one(10**9)  # warm up (Bolt checks the token once): a click on a request that does not exist
        return list(await asyncio.gather(*(one(i) for i in request_ids)))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    url = fresh_database(args.database_url, directory, "clicks")
    upgrade(url)
    request_ids = populate(url, args.clicks)
    standin_port, bot_port, bare_port = free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{standin_port}/api/"
    processes = start_processes(url, api, standin_port=standin_port, bot_port=bot_port, bare_port=bare_port)
    try:
        wait_http(f"http://127.0.0.1:{bot_port}/healthz")
        wait_http(f"http://127.0.0.1:{bare_port}/slack/events")
        time.sleep(1.0)  # let the bot's first sweep (at start-up) finish sending the approval messages
        bare = asyncio.run(clicks(f"http://127.0.0.1:{bare_port}", request_ids))
        bot = asyncio.run(clicks(f"http://127.0.0.1:{bot_port}", request_ids))
        engine = create_db_engine(url)
        deadline = time.monotonic() + 60
        while True:
            with session_scope(engine, clock=utcnow) as session:
                decided = len(session.exec(select(GateDecision)).all())
                moved = len(session.exec(select(Measure).where(Measure.stage == Stage.DI3)).all())
            if decided >= args.clicks or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        engine.dispose()
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"approval clicks: {args.clicks} concurrent signed Approve clicks ({backend})")
    for name, values in (("bare Bolt app", bare), ("Pacekeeper", bot)):
        print(f"  {name:14} p50 {percentile(values, 50):7.1f} ms   p99 {percentile(values, 99):7.1f} ms")
    p50, p99 = percentile(bot, 50) / percentile(bare, 50), percentile(bot, 99) / percentile(bare, 99)
    print(f"  ratio          p50 {p50:7.2f}      p99 {p99:7.2f}")
    print(f"  decisions recorded {decided} of {args.clicks}; measures moved to DI3 {moved}")


if __name__ == "__main__":
    main()
