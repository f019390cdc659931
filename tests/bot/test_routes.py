"""Actions and view submissions reach their listener through one Bolt listener per kind, routed by
id (bot/routes.py): an id nobody registered stays unhandled as Bolt answers it, and the listeners
get the arguments they name. Signed requests to the running app."""

from __future__ import annotations

import pytest

from bot.app import create_app
from bot.routes import Routes, action_id
from messages.ids import Action
from slackkit.settings import Settings
from storage.db import create_db_engine
from tests.conftest import OWNER, Bot


async def test_an_unknown_action_is_unhandled_and_calls_nothing(bot: Bot) -> None:
    reply = await bot.client.click(OWNER, "no.such.action", "x")
    await bot.settle()
    assert reply.status == 404  # Bolt's answer to a request no listener matches
    assert bot.slack.calls() == [] or all(c.method == "auth.test" for c in bot.slack.calls())


async def test_a_routed_click_reaches_its_listener_with_what_it_names(bot: Bot) -> None:
    reply = await bot.client.click(OWNER, Action.ESCALATION_ACK, "not a payload of ours")
    await bot.settle()
    assert reply.status == 200  # acked by the escalation listener, which says the button is out of date
    assert "out of date" in bot.slack.dms(OWNER)[-1].text  # no message, so no response URL: a DM


def test_every_action_and_view_is_routed_and_bolt_sees_one_listener_each() -> None:
    url = "sqlite:///:memory:"
    app = create_app(Settings(bot_token="xoxb-x", signing_secret="s", database_url=url), engine=create_db_engine(url))
    assert len(app.registered["action"]) > 10 and len(app.registered["view"]) > 5
    kinds = [type(m).__name__ for listener in app._async_listeners for m in listener.matchers]
    assert len(app._async_listeners) == 6, kinds  # the command, two events, the actions, the views, the options


def test_one_id_has_one_listener() -> None:
    routes = Routes("action", action_id)

    async def first(ack: object) -> None: ...

    routes.add("a", first)
    with pytest.raises(ValueError, match="two action listeners"):
        routes.add("a", first)
    assert routes.pattern().match("a") and not routes.pattern().match("ab")
