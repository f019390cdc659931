"""The stand-in behaves like Slack where the bot depends on it: arguments, faults, rate limits."""

from __future__ import annotations

import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.standin.server import SlackStandIn
from slackkit.settings import Settings
from slackkit.web_client import make_web_client
from tests.conftest import OWNER, TOKEN, Bot


async def test_arguments_arrive_as_json_form_or_query(standin: SlackStandIn) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        await session.post(f"{standin.url}/api/users.info", json={"user": OWNER})
        await session.post(f"{standin.url}/api/users.info", data={"user": OWNER})
        async with session.get(f"{standin.url}/api/users.info?user={OWNER}") as response:
            body = await response.json()
    assert body["user"]["tz"] == "America/New_York"
    assert [c.args["user"] for c in standin.calls("users.info")] == [OWNER] * 3


async def test_a_wrong_token_is_invalid_auth(standin: SlackStandIn) -> None:
    async with aiohttp.ClientSession() as session, session.post(f"{standin.url}/api/auth.test") as response:
        assert (await response.json())["error"] == "invalid_auth"


async def test_429_with_retry_after_is_honoured_by_the_bot_and_nothing_is_doubled(bot: Bot) -> None:
    bot.slack.inject("views.publish", status=429, retry_after=1, times=2)
    started = time.monotonic()
    await bot.client.open_home(OWNER)
    await bot.settle()
    assert time.monotonic() - started >= 2.0  # waited Retry-After, twice
    assert len(bot.slack.calls("views.publish")) == 3  # two refused, one accepted
    assert OWNER in bot.slack.state.home


async def test_server_errors_are_retried(bot: Bot) -> None:
    bot.slack.inject("views.publish", status=503, times=1)
    await bot.client.open_home(OWNER)
    await bot.settle()
    assert len(bot.slack.calls("views.publish")) == 2 and OWNER in bot.slack.state.home


async def test_error_replies_reach_the_client(standin: SlackStandIn) -> None:
    client = make_web_client(Settings(bot_token=TOKEN, signing_secret="s", api_url=f"{standin.url}/api/"))
    standin.inject("chat.postMessage", error="account_inactive")
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel=OWNER, text="hi")
    assert error.value.response["error"] == "account_inactive"
    assert (await client.chat_postMessage(channel=OWNER, text="hi"))["ok"]


async def test_rate_limit_answers_429_beyond_the_per_second_budget(standin: SlackStandIn) -> None:
    standin.rate_limit("auth.test", per_second=3)
    statuses = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        for _ in range(5):
            async with session.post(f"{standin.url}/api/auth.test") as response:
                statuses.append((response.status, response.headers.get("Retry-After")))
    assert statuses[:3] == [(200, None)] * 3
    assert statuses[3] == (429, "1") and statuses[4][0] == 429


async def test_messages_beyond_50_blocks_are_refused_like_slack_does(standin: SlackStandIn) -> None:
    client = make_web_client(Settings(bot_token=TOKEN, signing_secret="s", api_url=f"{standin.url}/api/"))
    blocks = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=OWNER, text="x", blocks=blocks)
