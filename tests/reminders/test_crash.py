"""Crash safety: `tick` killed with SIGKILL in the middle of a fan-out, then run again. Every owner
gets their prompt exactly once in all: sends are claimed with a lease before the Slack call, each
message carries its outbox id in Slack message metadata, and a send left in doubt by a dead process
is looked up in the conversation before it is sent again (slackkit/delivery.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter

from sqlmodel import select

from slackkit.settings import Settings
from storage.models import Outbox
from tests.conftest import Bot
from tests.reminders.test_tick import ROOT, many_owners

OWNERS = 150  # two measures each: one prompt per owner


def tick_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ, "SLACK_BOT_TOKEN": settings.bot_token, "SLACK_SIGNING_SECRET": settings.signing_secret,
        "SLACK_API_URL": settings.api_url, "DATABASE_URL": settings.database_url, **extra,
    }  # fmt: skip


async def test_a_fan_out_killed_midway_and_run_again_sends_each_prompt_exactly_once(
    bot: Bot, settings: Settings
) -> None:
    owners = many_owners(bot, OWNERS)
    env = tick_env(settings, SLACK_SEND_RATE="40", OUTBOX_LEASE_SECONDS="2")
    command = [sys.executable, "-m", "bot", "tick", "--now", "2027-03-08T09:00:00Z"]
    first = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.DEVNULL)  # fmt: skip
    await bot.slack.wait_for(lambda: len(bot.slack.calls("chat.postMessage")) >= OWNERS // 3, timeout=60)
    first.send_signal(signal.SIGKILL)  # mid fan-out: some sent, some claimed, some in flight
    await first.wait()
    sent_before = len(bot.slack.calls("chat.postMessage"))
    assert OWNERS // 3 <= sent_before < OWNERS, "the kill came too late to prove anything"
    with bot.session() as session:
        assert session.exec(select(Outbox).where(Outbox.state == "sending")).all(), "nothing was left in doubt"

    await asyncio.sleep(2.5)  # the dead process's leases run out
    second = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                  stderr=asyncio.subprocess.PIPE)  # fmt: skip
    _out, err = await asyncio.wait_for(second.communicate(), 120)
    assert second.returncode == 0, err.decode()

    delivered = Counter(m.channel for owner in owners for m in bot.slack.dms(owner))
    assert len(delivered) == OWNERS and set(delivered.values()) == {1}, delivered.most_common(3)
    with bot.session() as session:
        states = Counter(session.exec(select(Outbox.state)).all())
    assert states == {"sent": OWNERS}
    assert bot.slack.calls("conversations.history"), "the rows left in doubt were looked up, not sent blindly"
