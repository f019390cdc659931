"""`python -m bot …` run as a process against the stand-in and the test database."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from slackkit.settings import Settings

ROOT = Path(__file__).parents[1]


async def run_bot(settings: Settings, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m bot ARGS…` with the test's Slack and database."""
    env = {**os.environ, "SLACK_BOT_TOKEN": settings.bot_token, "SLACK_SIGNING_SECRET": settings.signing_secret,
           "SLACK_API_URL": settings.api_url, "DATABASE_URL": settings.database_url}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
