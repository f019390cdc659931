"""`python -m bot tick --now …` as a process, alone and two at once on the same database."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path

from sqlmodel import select

from domain.enums import PotentialStatus, Stage
from slackkit.settings import Settings
from storage.models import CheckIn, DigestSubscription, Escalation, Measure, Outbox
from tests.conftest import OWNER, Bot
from tests.factories import add_people, make_measure, make_tree

ROOT = Path(__file__).parents[2]
WED = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)


async def run_tick(settings: Settings, now: str) -> tuple[int, str, str]:
    env = {
        **os.environ, "SLACK_BOT_TOKEN": settings.bot_token, "SLACK_SIGNING_SECRET": settings.signing_secret,
        "SLACK_API_URL": settings.api_url, "DATABASE_URL": settings.database_url, "SLACK_SEND_RATE": "500",
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "tick", "--now", now, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def many_owners(bot: Bot, count: int) -> list[str]:
    owners = [f"U0OWN{n:04d}" for n in range(count)]
    for owner in owners:
        bot.slack.add_user(owner, name=f"Owner {owner}", tz="Europe/Berlin")
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        for owner in owners:
            for title in ("A", "B"):
                make_measure(session, package=package, owner_id=owner, title=f"{title} {owner}", now=WED)
    return owners


async def test_tick_sends_what_is_due_once_and_exits_after_the_slack_calls(bot: Bot, settings: Settings) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, package=make_tree(session), owner_id=OWNER, now=WED)
    code, out, err = await run_tick(settings, "2027-03-08T14:00:00Z")
    assert code == 0, err
    assert "prompts 1" in out and "sent 1" in out
    assert len(bot.slack.dms(OWNER)) == 1  # the process returned only after the message was sent
    code, out, _ = await run_tick(settings, "2027-03-08T14:00:00Z")
    assert code == 0 and "sent 0" in out and len(bot.slack.dms(OWNER)) == 1


async def test_two_ticks_at_once_send_each_prompt_digest_and_escalation_once(bot: Bot, settings: Settings) -> None:
    """Two processes sweeping one database at the same instant behave as one (the replicas' case)."""
    owners = many_owners(bot, 40)
    with bot.session() as session:  # ten decided measures short of plan: ten escalations to their sponsor
        for measure in session.exec(select(Measure).limit(10)).all():
            measure.potential_status, measure.stage = PotentialStatus.OFF_TRACK, Stage.DI3
            session.add(measure)
        monday_8 = datetime(2027, 3, 8, 8, tzinfo=UTC)
        session.add(DigestSubscription(channel="C0DIGEST", unit_id=1, weekday=0, at=time(8, 0), next_at=monday_8,
                                       created_by="U0X"))  # fmt: skip
    results = await asyncio.gather(*(run_tick(settings, "2027-03-08T08:00:00Z") for _ in range(2)))
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    posts = [c.args["channel"] for c in bot.slack.calls("chat.postMessage") if not c.args.get("thread_ts")]
    prompts = Counter(c for c in posts if c in owners)
    assert prompts == Counter(dict.fromkeys(owners, 1))
    assert posts.count("C0DIGEST") == 1  # one digest summary…
    assert len(bot.slack.calls("files.completeUploadExternal")) == 1  # …and one chart
    escalations = [c for c in bot.slack.calls("chat.postMessage") if "escalations for you" in c.args.get("text", "")]
    assert len(escalations) == 1 and escalations[0].args["text"].startswith("10 escalations")  # one to the sponsor
    with bot.session() as session:
        assert len(session.exec(select(CheckIn)).all()) == 80
        assert {o.state for o in session.exec(select(Outbox)).all()} == {"sent"}
        assert len(session.exec(select(Escalation)).all()) == 10


async def test_a_bad_instant_is_refused_clearly(settings: Settings) -> None:
    code, _, err = await run_tick(settings, "next monday")
    assert code == 2 and "--now must be an ISO-8601 instant" in err
