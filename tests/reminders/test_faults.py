"""Faults injected through the stand-in while a fan-out and a digest go out: bursts of 429 with
Retry-After, 500 and 503, a timeout, a deactivated owner and a channel that is gone. The bot keeps
answering people, records what failed for whom (and tells the admins), and retries what is
transient until everything that can be delivered is, once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlmodel import select

from bot.app import create_app
from bot.standin.client import SignedClient
from bot.web import create_web_app
from reminders.sweep import sweep
from slackkit.settings import Settings
from storage.models import DigestRun, Outbox
from tests.conftest import ADMIN, SIGNING_SECRET, Bot, start_site
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import NY_MON_9, WED

OWNERS = [f"U0FAULT{n}" for n in range(8)]
GONE = OWNERS[-1]


async def test_the_bot_keeps_serving_records_failures_and_retries_what_is_transient(
    bot: Bot, settings: Settings
) -> None:
    for owner in OWNERS:
        bot.slack.add_user(owner, name=f"Owner {owner}", tz="America/New_York")
    bot.clock.set(WED)
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        for owner in OWNERS:
            make_measure(session, package=package, owner_id=owner, title=f"Measure of {owner}", now=WED)
    await bot.client.command(ADMIN, "digest C0GONE Acme mon 09:00 America/New_York")
    await bot.settle()
    bot.slack.deactivate(GONE)

    # A bot whose Web API calls give up after a second, so a hung call counts as a timeout.
    # Its leases are short, so what timed out is looked up (and found, or sent) in the next sweep.
    impatient_settings = replace(settings, slack_timeout=1, outbox_lease=timedelta(seconds=2))
    impatient = create_app(impatient_settings, engine=bot.engine, clock=bot.clock)
    runner, url = await start_site(create_web_app(impatient))
    client = SignedClient(bot_url=url, signing_secret=SIGNING_SECRET, standin=bot.slack)
    try:
        bot.slack.inject("chat.postMessage", times=3, status=429, retry_after=1)  # a burst of rate limiting
        bot.slack.inject("chat.postMessage", status=503)
        bot.slack.inject("chat.postMessage", status=500)
        bot.slack.inject("chat.postMessage", times=3, delay=1.5)  # hangs past the timeout, every retry
        bot.slack.inject("chat.postMessage", error="channel_not_found", channel="C0GONE")
        bot.clock.set(NY_MON_9)
        first, reply = await asyncio.gather(sweep(impatient.deps, now=NY_MON_9), client.command(OWNERS[0], "help"))
        assert reply.status == 200  # people are still answered while the fan-out struggles
        await impatient.inflight.wait_idle(10)
        assert bot.slack.responses(OWNERS[0]), "the command got no answer during the faults"

        await asyncio.sleep(2.5)  # the leases of the calls that timed out run out
        await sweep(impatient.deps, now=NY_MON_9)  # what was transient goes out now
        third = await sweep(impatient.deps, now=NY_MON_9)  # and nothing is sent twice
    finally:
        await runner.cleanup()
        await impatient.deps.aclose()

    assert third.delivery.sent == 0 and third.digests.sent == 0
    delivered = Counter(owner for owner in OWNERS for m in bot.slack.dms(owner) if m.text.startswith("Check-in"))
    assert delivered == Counter({owner: 1 for owner in OWNERS[:-1]}), delivered
    statuses = Counter(c.status for c in bot.slack.calls("chat.postMessage"))
    assert statuses[429] == 3 and statuses[503] == 1 and statuses[500] == 1  # each fault was met, and got past
    assert first.delivery.retry >= 1  # the timed-out sends waited for the next sweep…
    assert bot.slack.calls("conversations.history")  # …which looked them up before sending anything again
    with bot.session() as session:
        gone = session.exec(select(Outbox).where(Outbox.recipient == GONE, Outbox.kind == "checkin_prompt")).one()
        assert (gone.state, gone.last_error) == ("failed", "account_inactive")
        run = session.exec(select(DigestRun)).one()
        assert (run.state, run.last_error) == ("failed", "channel_not_found")
    reports = [m.text for m in bot.slack.dms(ADMIN) if m.text.startswith("Could not deliver")]
    assert any(GONE in r and "account_inactive" in r for r in reports)
    assert any("<#C0GONE>" in r and "channel_not_found" in r for r in reports)
