"""How an import scales: `python -m bot import` of 1,000 / 10,000 / 50,000 rows whose owners and
sponsors are 2,000 people (by e-mail), run as a process against the Slack stand-in, then the same
file again (nothing changed), then the export of what was imported.

    python -m bench.import_scale [--sizes 1000,10000,50000] [--people 2000] [--database-url postgresql://…]

Each row: a five-level place (50 packages), a key, a title, owner and sponsor e-mails, target,
due date, stage DI1, and a plan for 36 months. Printed per size: seconds and milliseconds per row of
the first import and of the re-import, the re-import's share of the first, the import's peak RSS,
the Web API calls that resolved the people, and the export's seconds and peak RSS. Goals: cost per
row grows <= 1.3x from the smallest to the largest, a re-import <= half the first import, peak RSS
<= 400 MB, people resolved in bulk; export of 10,000 measures x 36 months <= 10 s with flat memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

from bench.approval_clicks import free_port, wait_http
from bench.checkin_fanout import fresh_database
from storage.db import upgrade

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-bench"
MONTHS = [date(2026 + i // 12, i % 12 + 1, 1) for i in range(36)]


def write_file(path: Path, rows: int, people: int) -> None:
    header = ["organization", "portfolio", "program", "project", "package", "key", "title", "owner", "sponsor",
              "controller", "business_unit", "function", "baseline", "target", "due", "stage",
              *(f"plan {m:%Y-%m}" for m in MONTHS)]  # fmt: skip
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for n in range(rows):
            place = ["Bench", f"Portfolio {n % 2}", f"Program {n % 5}", f"Project {n % 10}", f"Package {n % 50}"]
            writer.writerow([*place, f"OPS-{n + 1}", f"Measure {n}", f"p{n % people}@example.com",
                             f"p{(n * 7 + 1) % people}@example.com", f"p{(n * 3 + 2) % people}@example.com",
                             "Consumer", "Procurement", "900000", "120000", "2027-12-31", "DI1",
                             *("1000" for _ in MONTHS)])  # fmt: skip


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, stdout) of one `python -m bot …` process (reaped with wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"`{' '.join(args)}` failed:\n{err.read().decode()[-2000:]}")
        return seconds, usage.ru_maxrss // 1024, out.read().decode().strip()


def calls(standin: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{standin}/_calls") as answer:
        found = json.load(answer)
    counted: dict[str, int] = {}
    for call in found:
        counted[call["method"]] = counted.get(call["method"], 0) + 1
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    port = free_port()
    standin = subprocess.Popen([sys.executable, "-m", "bot.standin", "--port", str(port), "--token", TOKEN,
                                "--people", str(args.people)], cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
    results = []
    try:
        wait_http(f"http://127.0.0.1:{port}/_calls")
        for size in [int(s) for s in args.sizes.split(",")]:
            url = fresh_database(args.database_url, directory, f"import{size}")
            upgrade(url)
            env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "bench", "DATABASE_URL": url,
                   "SLACK_API_URL": f"http://127.0.0.1:{port}/api/"}  # fmt: skip
            path = directory / f"rows{size}.csv"
            write_file(path, size, args.people)
            before = calls(f"http://127.0.0.1:{port}")
            first = timed(["import", str(path)], env)
            after = calls(f"http://127.0.0.1:{port}")
            people_calls = {m: after.get(m, 0) - before.get(m, 0) for m in after if after.get(m, 0) != before.get(m, 0)}
            again = timed(["import", str(path)], env)
            exported = timed(["export", str(directory / f"export{size}.xlsx")], env)
            results.append((size, first, again, exported, people_calls))
            print(f"  {size:6} rows: import {first[0]:6.1f} s ({first[0] / size * 1000:5.2f} ms/row, {first[1]} MB)"
                  f" · again {again[0]:6.1f} s ({again[0] / first[0]:.2f} of the first, {again[1]} MB)"
                  f" · export {exported[0]:5.1f} s ({exported[1]} MB) · people: {people_calls}",
                  flush=True)  # fmt: skip
    finally:
        standin.terminate()
        standin.wait()
    small, large = results[0], results[-1]
    growth = (large[1][0] / large[0]) / (small[1][0] / small[0])
    print(f"cost per row, {small[0]:,} -> {large[0]:,} rows: x{growth:.2f} (goal <= 1.3)")


if __name__ == "__main__":
    main()
