"""With SLACK_APP_TOKEN set, `serve` takes requests over Socket Mode (here from the stand-in)."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.serve import serve
from bot.standin.client import SignedClient
from bot.standin.server import SlackStandIn
from slackkit.settings import Settings
from tests.bot.test_main import free_port
from tests.conftest import OWNER, TOKEN, start_site

APP_TOKEN = "xapp-test-token"


async def test_a_slash_command_over_socket_mode_is_acked_and_answered(db_url: str) -> None:
    slack = SlackStandIn(token=TOKEN, app_token=APP_TOKEN)
    slack.add_user(OWNER, name="Olivia Owner", tz="America/New_York")
    runner, slack.url = await start_site(slack.app)
    port = free_port()
    settings = Settings(
        bot_token=TOKEN, signing_secret="", app_token=APP_TOKEN,
        api_url=f"{slack.url}/api/", database_url=db_url, port=port,
    )  # fmt: skip
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop=stop))
    try:
        fields = SignedClient(bot_url="http://unused", signing_secret="x", standin=slack).command_fields(OWNER, "help")
        envelope_id = await slack.send_envelope("slash_commands", fields)
        await slack.wait_for(lambda: envelope_id in slack.socket_acks, timeout=10)
        await slack.wait_for(lambda: slack.responses(OWNER), timeout=10)
        assert "/measure new" in str(slack.responses(OWNER)[-1])
        assert slack.calls("apps.connections.open")
        # The HTTP server still answers health checks in Socket Mode.
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            # With no signing secret, nothing can be verified over HTTP, so nothing is taken there.
            async with session.post(f"http://127.0.0.1:{port}/slack/events", data="command=/measure") as response:
                assert response.status == 404
    finally:
        stop.set()
        await asyncio.wait_for(server, 20)
        await runner.cleanup()
