"""Item 1 of the security issue: nothing from a request is used before its signature and timestamp are
verified. Each reproduction from the report, unsigned and signed, against the running bot: a 401 or
400 with no traceback, no outgoing call (not even to the `response_url` it names), nothing written."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from tests.conftest import OWNER, Bot

FORM = "application/x-www-form-urlencoded"


def rows(bot: Bot) -> tuple[int, ...]:
    counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in SQLModel.metadata.sorted_tables]
    with bot.engine.connect() as connection:
        return tuple(connection.execute(sa.select(*counts)).one())


def command_body(bot: Bot) -> str:
    """A slash command whose `response_url` points at the stand-in, which records any post to it."""
    return urlencode(bot.client.command_fields(OWNER, "new"))


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("soon", "v0=00"),
        ("1700000000.5", "v0=00"),
        ("", ""),
        ("12345678901234567890", "v0=" + "0" * 64),
        (" 1700000000", "v0=" + "0" * 64),
    ],
)
async def test_malformed_signature_headers_are_refused_before_anything_is_read(
    bot: Bot, timestamp: str, signature: str
) -> None:
    before = rows(bot)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
    reply = await bot.client.post(command_body(bot), content_type=FORM, signature=signature, headers=headers)
    assert reply.status == 401
    assert "Traceback" not in reply.text and reply.json()["ok"] is False
    await bot.settle()
    assert bot.slack.calls() == []  # not even the "Sorry, something went wrong" to the response_url
    assert rows(bot) == before


BAD_BODIES = [
    (b"\xff\xfe\xfa not utf-8", FORM),
    (b"{not json", "application/json"),
    (b"[1,2,3]", "application/json"),
    (b'"x"', "application/json"),
    (b"payload=%7Bnot+json", FORM),
    (b"payload=%22x%22", FORM),
    (b"payload=%5B1%2C2%5D", FORM),
    (b"a=1&&&=", FORM),
    (b"{}", "text/plain"),
    # found by the fuzz: Bolt's action matcher reads action_id unchecked
    (b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%7B%7D%5D%7D", FORM),
    (b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%7B%22action_id%22%3A1%7D%5D%7D", FORM),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
async def test_malformed_bodies_unsigned_are_401_and_signed_are_400(bot: Bot, body: bytes, content_type: str) -> None:
    before = rows(bot)
    unsigned = await post_bytes(bot, body, content_type, signed=False)
    signed = await post_bytes(bot, body, content_type, signed=True)
    # Invalid UTF-8 cannot be signed as text by Slack: it is refused as unverifiable either way.
    assert (unsigned, signed) == ((401, 401) if body.startswith(b"\xff") else (401, 400))
    await bot.settle()
    assert bot.slack.calls() == [] and rows(bot) == before


async def post_bytes(bot: Bot, body: bytes, content_type: str, *, signed: bool) -> int:
    import hashlib
    import hmac

    import aiohttp

    from tests.conftest import SIGNING_SECRET

    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + (digest if signed else "0" * 64),
    }
    async with aiohttp.ClientSession() as session, session.post(f"{bot.url}/slack/events", data=body,
                                                                 headers=headers) as response:  # fmt: skip
        text = await response.text()
        assert "Traceback" not in text
        return response.status


async def test_a_signed_request_still_reaches_its_listener(bot: Bot) -> None:
    reply = await bot.client.command(OWNER, "help")
    assert reply.status == 200
    await bot.settle()
    assert [c.method for c in bot.slack.calls() if c.method != "auth.test"] == ["response_url"]


async def test_a_response_url_outside_slack_is_never_called(bot: Bot) -> None:
    """Even signed (a leaked secret, a test double), a reply goes only to Slack's own response URLs."""
    fields = bot.client.command_fields(OWNER, "help")
    fields["response_url"] = "http://127.0.0.1:9/internal"
    reply = await bot.client.post_form(fields)
    assert reply.status == 200
    await bot.settle()
    assert [c.method for c in bot.slack.calls() if c.method != "auth.test"] == ["chat.postMessage"]  # a DM instead
    assert json.dumps(bot.slack.calls("chat.postMessage")[0].args).count("Pacekeeper help") == 1
