"""The App Home tab is published on app_home_opened with the user's measures."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from domain.enums import Stage
from messages.ids import Action, Callback
from messages.payloads import CheckinAnswer, MeasureRef
from storage.models import CheckIn, GateDecision, MeasureMonth
from tests.conftest import OWNER, SPONSOR, STRANGER, Bot
from tests.factories import make_measure, make_tree
from tests.playbook import NY_MON_9, setup_measures, tick


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
    assert "Showing 20 of 90. The rest: `/measure list mine`." in json.dumps(home)


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


def home_buttons(home: dict, action: str) -> list[str]:
    """The values of every `action` element on App Home: buttons in rows and accessories."""
    values = []
    for block in home["blocks"]:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action:
                values.append(element["value"])
    return values


async def test_app_home_is_a_place_to_act_from_and_says_how_many_there_are(bot: Bot) -> None:
    """The issue's App Home: each row opens its card; open check-ins, approvals and escalations have
    their buttons; every list has its count and says where the rest are; no token is ever cut."""
    setup_measures(bot, *[(OWNER, f"Measure {n}") for n in range(30)])
    await tick(bot, NY_MON_9)  # 30 check-ins open for the owner
    await bot.client.open_home(OWNER)
    await bot.settle()
    home = bot.slack.state.home[OWNER]
    text = json.dumps(home)
    assert len(home["blocks"]) <= 100
    assert "*Your measures* (30)" in text and "Showing 20 of 30" in text
    assert "*Your open check-ins* (30)" in text and "Showing 8 of 30" in text
    for block in home["blocks"]:  # every date token whole: each row is a block of its own, never cut
        shown = json.dumps(block)
        assert shown.count("<!date^") == shown.count(" UTC>")
    assert len(home_buttons(home, Action.OPEN_CARD)) == 20
    assert len(home_buttons(home, Action.CHECKIN_ON_TRACK)) == 8

    # Open: the card in a modal.
    card_value = home_buttons(home, Action.OPEN_CARD)[0]
    await bot.client.click(OWNER, Action.OPEN_CARD, card_value, view=home)
    await bot.settle()
    card = bot.slack.last_view(OWNER)
    assert card["type"] == "modal" and "M-1" in json.dumps(card) and Action.EDIT_MEASURE in json.dumps(card)
    # Edit from the card: pushed on top of it, as Slack wants from inside a modal.
    await bot.client.click(OWNER, Action.EDIT_MEASURE, MeasureRef(key="M-1").dump(), view=card)
    await bot.settle()
    assert bot.slack.calls("views.push") and bot.slack.last_view(OWNER)["callback_id"] == Callback.EDIT_MEASURE

    # On track from App Home: answered, and App Home published again showing one fewer open.
    value = home_buttons(home, Action.CHECKIN_ON_TRACK)[0]
    await bot.client.click(OWNER, Action.CHECKIN_ON_TRACK, value, view=home)
    await bot.settle()
    with bot.session() as session:
        answered = session.exec(select(CheckIn).where(CheckIn.status == "answered")).one()
        assert answered.id == CheckinAnswer.load(value).checkin_id  # type: ignore[union-attr]
    assert "*Your open check-ins* (29)" in json.dumps(bot.slack.state.home[OWNER])


async def test_an_approval_is_decided_from_app_home(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI2)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    await bot.client.open_home(SPONSOR)
    await bot.settle()
    home = bot.slack.state.home[SPONSOR]
    assert "*Waiting for your approval* (1)" in json.dumps(home)
    [approve] = home_buttons(home, Action.GATE_APPROVE)
    await bot.client.click(SPONSOR, Action.GATE_APPROVE, approve, view=home)
    await bot.settle()
    with bot.session() as session:
        decision = session.exec(select(GateDecision)).one()
        assert (decision.decided_by, decision.decision, decision.step) == (SPONSOR, "approved", 0)
    assert "*Waiting for your approval* (0)" in json.dumps(bot.slack.state.home[SPONSOR])
