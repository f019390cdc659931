"""The App Home tab is published on app_home_opened with the user's measures."""

from __future__ import annotations

import json
from datetime import date

from storage.models import MeasureMonth
from tests.conftest import OWNER, STRANGER, Bot
from tests.factories import make_measure, make_tree


async def test_app_home_is_published_with_my_measures(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        mine = make_measure(session, package=package, title="Mine as owner")  # plan 10k a month in 2027
        make_measure(session, package=package, title="Someone else's", owner_id=STRANGER)
        january = session.get(MeasureMonth, (mine.id, date(2027, 1, 1)))
        assert january is not None
        january.actual = 8_000  # closed on 1 March 2027: the forecast takes it
        session.add(january)
    reply = await bot.client.open_home(OWNER)
    assert reply.status == 200
    await bot.settle()
    publish = bot.slack.calls("views.publish")
    assert len(publish) == 1 and publish[0].args["user_id"] == OWNER
    home = bot.slack.state.home[OWNER]
    text = json.dumps(home)
    assert home["type"] == "home" and len(home["blocks"]) <= 100
    assert "Mine as owner" in text and "Your measures* (1)" in text
    assert "Someone else's" not in text
    # The fiscal year's figures by the money definitions (docs/money.md), as on the card.
    assert "2027: forecast €118,000 of €120,000 plan" in json.dumps(home, ensure_ascii=False)
    await bot.client.command(OWNER, "list mine")
    await bot.settle()
    listed = json.dumps(bot.slack.responses(OWNER)[-1]["blocks"], ensure_ascii=False)
    assert "2027: forecast €118,000 of €120,000 plan" in listed
    for placeholder in ("Waiting for your approval", "Your open check-ins", "Open escalations"):
        assert placeholder in text


async def test_the_messages_tab_does_not_republish_home(bot: Bot) -> None:
    await bot.client.event({"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "messages"})
    await bot.settle()
    assert bot.slack.calls("views.publish") == []


async def test_home_stays_inside_the_block_limit_with_many_measures(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        for number in range(90):
            make_measure(session, package=package, title=f"Measure {number} " + "x" * 150)
    await bot.client.open_home(OWNER)
    await bot.settle()
    home = bot.slack.state.home[OWNER]
    assert len(home["blocks"]) <= 100
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in home["blocks"])
    assert "Showing 60 of 90" in json.dumps(home)


async def test_an_event_slack_delivers_again_is_processed_once(bot: Bot) -> None:
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home"}
    first = await bot.client.event(event, event_id="Ev0SAME")
    retry = await bot.client.event(event, event_id="Ev0SAME", retry_num=1)
    assert first.status == retry.status == 200
    await bot.settle()
    assert len(bot.slack.calls("views.publish")) == 1
    await bot.client.event(event, event_id="Ev0OTHER")  # a new event is taken as usual
    await bot.settle()
    assert len(bot.slack.calls("views.publish")) == 2
