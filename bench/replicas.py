"""Two replicas on one PostgreSQL: 10,000 due prompts swept by one process, then by two at once.

    python -m bench.replicas [--prompts 10000] [--replicas 2] [--database-url postgresql://…]

Each replica is `python -m bot tick --now …` (the code the scheduler of every `serve` replica runs
each minute) in its own process; the Slack stand-in runs in a process of its own without a rate
limit, so what is measured is the bot's side. Printed for one replica and for N at once: prompts
sent, duplicates, lost, wall time, prompts a second, and the speed-up of N over one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.checkin_fanout import NOW, ROOT, TOKEN, fresh_database, populate, start_standin
from storage.db import create_db_engine, upgrade

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def run(args: argparse.Namespace, replicas: int, directory: Path) -> float:
    url = fresh_database(args.database_url, directory, f"replicas{replicas}")
    upgrade(url)
    engine = create_db_engine(url)
    owners = populate(engine, owners=args.prompts, per_owner=1, next_checkin_at=NOW - timedelta(minutes=1))
    engine.dispose()
    standin, standin_url = start_standin(1_000_000)
    env = {
        **os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "bench", "SLACK_API_URL": f"{standin_url}/api/",
        "DATABASE_URL": url, "SLACK_SEND_RATE": "100000",
    }  # fmt: skip
    command = [sys.executable, "-m", "bot", "tick", "--now", NOW.isoformat()]
    started = time.perf_counter()
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for _ in range(replicas)]  # fmt: skip
    errors = [p.communicate()[1] for p in processes]
    wall = time.perf_counter() - started
    with urllib.request.urlopen(f"{standin_url}/_calls?method=chat.postMessage") as response:
        posts = [c for c in json.load(response) if c["status"] == 200]
    standin.terminate()
    standin.wait()
    failed = [e for p, e in zip(processes, errors, strict=True) if p.returncode != 0]
    per_owner = Counter(c["channel"] for c in posts)
    duplicates = sum(n - 1 for n in per_owner.values() if n > 1)
    lost = sum(1 for owner in owners if per_owner[owner] == 0)
    print(f"{replicas} replica{'s' if replicas > 1 else ''} ({'postgresql' if 'postgres' in url else 'sqlite'}): "
          f"sent {len(per_owner)}, duplicates {duplicates}, lost {lost}, wall {wall:.2f} s, "
          f"{len(per_owner) / wall:.0f} prompts/s{'; FAILED: ' + failed[0][-300:] if failed else ''}")  # fmt: skip
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        one = run(args, 1, Path(directory))
        many = run(args, args.replicas, Path(directory))
    print(f"speed-up of {args.replicas} replicas over one: {one / many:.2f}×")


if __name__ == "__main__":
    main()
