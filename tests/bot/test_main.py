"""The entry point as a process: configuration errors, the sandbox default, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k not in ("DATABASE_URL", "PORT")}
    return {**env, **extra}


def run_bot(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is missing"),
        ({"PORT": "eighty"}, "PORT must be a port number between 1 and 65535, got 'eighty'"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must be sqlite:///path/to/file.db or postgresql://"),
        ({"SLACK_API_URL": "slack.com"}, "SLACK_API_URL must be an http(s) URL"),
        ({"PACEKEEPER_ADMINS": "U01,alice"}, "PACEKEEPER_ADMINS must be a comma-separated list of Slack user ids"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xoxb-2"},
            "SLACK_APP_TOKEN must be",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_clear_line(env: dict[str, str], expected: str) -> None:
    result = run_bot("serve", env=clean_env(**env))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pacekeeper: configuration error: ")
    assert expected in lines[0]


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}")
    for _ in range(2):
        result = run_bot("db", "upgrade", env=env)
        assert result.returncode == 0 and "up to date" in result.stdout
    import sqlite3

    tables = {
        r[0] for r in sqlite3.connect(tmp_path / "p.db").execute("select name from sqlite_master where type='table'")
    }
    assert {"unit", "person", "measure", "measure_month", "risk", "dependency", "evidence", "audit_log"} <= tables


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    port, sandbox_port = free_port(), free_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'sandbox.db'}", PORT=str(port), SANDBOX_PORT=str(sandbox_port))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:
        if "Pacekeeper sandbox: open" in line or time.monotonic() > deadline:
            break
    yield process, port, sandbox_port
    if process.poll() is None:
        process.kill()
        process.wait()


def test_with_no_token_the_bot_runs_the_sandbox_and_stops_cleanly_on_sigterm(
    sandbox: tuple[subprocess.Popen[str], int, int],
) -> None:
    process, port, sandbox_port = sandbox
    assert process.poll() is None, "the sandbox did not start"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
    # Type a command as a demo owner on the sandbox page; the bot's answer shows on the page.
    form = urlencode({"as": "U0OLIVIA", "text": "/measure list mine"}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{sandbox_port}/sandbox/command", data=form, timeout=10) as response:
        page = response.read().decode()
    assert "Consolidate packaging suppliers" in page and "M-1" in page and "Only visible to you" in page
    # Play the clock forward a day (the same sweep as `tick`), then reset to the demo organization.
    sandbox_page = f"http://127.0.0.1:{sandbox_port}/sandbox"
    form = urlencode({"as": "U0OLIVIA", "to": "1d"}).encode()
    with urllib.request.urlopen(f"{sandbox_page}/clock", data=form, timeout=20) as response:
        assert "Played forward to" in response.read().decode()
    form = urlencode({"as": "U0OLIVIA"}).encode()
    with urllib.request.urlopen(f"{sandbox_page}/reset", data=form, timeout=30) as response:
        page = response.read().decode()
    assert "The sandbox was reset" in page and "Only visible to you" not in page

    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Pacekeeper stopped." in out
