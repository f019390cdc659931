"""The HTTP surface: signatures, health, and what a refused request leaves behind."""

from __future__ import annotations

import time

import sqlalchemy as sa

from storage.models import AuditLog, Measure
from tests.conftest import OWNER, Bot


async def test_forged_signature_is_refused_and_changes_nothing(bot: Bot) -> None:
    fields = bot.client.command_fields(OWNER, "new")
    reply = await bot.client.post_form(fields, signature="v0=" + "0" * 64)
    assert reply.status == 401
    await bot.settle()
    assert bot.slack.calls() == []


async def test_stale_timestamp_is_refused_even_with_a_valid_signature(bot: Bot) -> None:
    # The client signs the stale timestamp correctly: only the age makes it invalid.
    reply = await bot.client.post_form(bot.client.command_fields(OWNER, "list"), timestamp=int(time.time()) - 600)
    assert reply.status == 401
    await bot.settle()
    assert bot.slack.calls() == []
    with bot.session() as session:
        assert session.exec(sa.select(sa.func.count()).select_from(AuditLog)).one()[0] == 0
        assert session.exec(sa.select(sa.func.count()).select_from(Measure)).one()[0] == 0


async def test_signed_request_is_accepted(bot: Bot) -> None:
    reply = await bot.client.command(OWNER, "help")
    assert reply.status == 200
    await bot.settle()
    # Bolt checks the token once (auth.test); the answer itself goes to the response URL.
    assert [c.method for c in bot.slack.calls() if c.method != "auth.test"] == ["response_url"]


async def test_healthz_answers_200_with_a_reachable_database(bot: Bot) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/healthz") as response:
        assert response.status == 200


async def test_healthz_answers_503_when_the_database_is_unreachable(bot: Bot) -> None:
    import aiohttp

    bot.app.deps.engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/healthz") as response:
        assert response.status == 503
        assert (await response.json())["error"] == "database unreachable"


async def test_a_command_whose_text_says_payload_is_still_a_command(bot: Bot) -> None:
    """Bolt tells a form body from an interaction by looking for the substring "payload" anywhere in
    it; a slash command that mentions the word (a team, a unit called "Payload…") must still work."""
    reply = await bot.client.command(OWNER, "list payload-reduction")
    assert reply.status == 200
    await bot.settle()
    answers = bot.slack.responses(OWNER)
    assert len(answers) == 1 and "payload-reduction" in answers[0]["text"]
