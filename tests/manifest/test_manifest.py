"""The manifest and the code agree: every command and event handled is declared, and the reverse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import create_app
from slackkit.settings import Settings
from tests.conftest import OWNER, Bot

MANIFEST = Path(__file__).parents[2] / "manifest" / "manifest.yml"


@pytest.fixture
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def registered(db_url: str) -> dict[str, set[str]]:
    from storage.db import create_db_engine

    settings = Settings(bot_token="xoxb-x", signing_secret="s", database_url=db_url)
    return create_app(settings, engine=create_db_engine(db_url)).registered


@pytest.mark.parametrize("db_url", ["sqlite:///:memory:"], indirect=False)
def test_commands_and_events_match_the_manifest(manifest: dict[str, Any], db_url: str) -> None:
    code = registered(db_url)
    declared_commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    declared_events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert code["command"] == declared_commands
    # A `message` listener takes the bot's DMs: Slack's subscription for them is `message.im`.
    assert {"message.im" if e == "message" else e for e in code["event"]} == declared_events
    assert bool(code["action"] or code["view"]) == manifest["settings"]["interactivity"]["is_enabled"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] == ("app_home_opened" in code["event"])


def test_request_urls_point_at_the_events_endpoint(manifest: dict[str, Any]) -> None:
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["interactivity"]["message_menu_options_url"],
    ]
    assert all(url.endswith("/slack/events") for url in urls)


# The bot token scopes each Web API method needs (api.slack.com/methods: "Required scopes"), for the
# places the bot calls it: history in DMs and in public and private channels.
SCOPES_OF = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_postEphemeral": {"chat:write"},
    "conversations_history": {"im:history", "channels:history", "groups:history"},
    "conversations_replies": {"im:history", "channels:history", "groups:history"},
    "conversations_open": {"im:write"}, "users_info": {"users:read"}, "users_list": {"users:read"},
    "users_lookupByEmail": {"users:read.email"}, "files_upload_v2": {"files:write"},
    "usergroups_users_list": {"usergroups:read"},
    "views_open": set(), "views_push": set(), "views_update": set(), "views_publish": set(),
}  # fmt: skip


def test_scopes_cover_the_web_api_methods_the_bot_calls(manifest: dict[str, Any]) -> None:
    """Every Web API method the code calls is known here, and the manifest asks for its scopes."""
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    root = MANIFEST.parents[1]
    sources = [p for package in ("bot", "commands", "reminders", "slackkit") for p in (root / package).rglob("*.py")]
    called = {m for p in sources for m in re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\(", p.read_text())}
    called -= {"open_home"}  # the stand-in client's own helper, not a Web API method
    assert called and called <= set(SCOPES_OF), f"no scopes listed for {called - set(SCOPES_OF)}"
    needed = {"commands"}.union(*(SCOPES_OF[m] for m in called))
    assert needed <= scopes, f"the manifest misses {needed - scopes}"


async def test_every_declared_command_and_event_is_answered_by_the_running_bot(
    bot: Bot, manifest: dict[str, Any]
) -> None:
    for command in manifest["features"]["slash_commands"]:
        reply = await bot.client.command(OWNER, "help", command=command["command"])
        assert reply.status == 200, command
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        kind, _, channel_type = event.partition(".")  # `message.im` arrives as a `message` from a DM
        reply = await bot.client.event({"type": kind, "user": OWNER, "tab": "home", "channel": "D1",
                                        "channel_type": channel_type or None, "text": "hello"})  # fmt: skip
        assert reply.status == 200, event
    await bot.settle()
    # An undeclared command is not handled at all (Bolt answers 404): the check above can fail.
    assert (await bot.client.command(OWNER, "help", command="/undeclared")).status == 404
