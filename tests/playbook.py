"""Steps shared by the end-to-end tests: set up measures, tick the sweep, read and click messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.standin.records import Message
from reminders.sweep import SweepReport, sweep
from tests.conftest import Bot
from tests.factories import add_people, make_measure, make_tree

WED = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)  # measures are created on a Wednesday
NY_MON_9 = datetime(2027, 3, 8, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York (EST)
TOKYO_MON_9 = datetime(2027, 3, 8, 0, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def tick(bot: Bot, now: datetime) -> SweepReport:
    bot.clock.set(now)
    return await sweep(bot.app.deps, now=now)


def setup_measures(bot: Bot, *owners_titles: tuple[str, str], **overrides: Any) -> None:
    bot.clock.set(WED)
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        for owner, title in owners_titles:
            make_measure(session, package=package, owner_id=owner, title=title, now=WED, **overrides)


def message_of(m: Message) -> dict[str, Any]:
    """A stand-in message as a click carries it."""
    return {"channel": m.channel, "ts": m.ts, "text": m.text, "blocks": m.blocks}


def prompt_of(bot: Bot, user: str) -> dict[str, Any]:
    messages = bot.slack.dms(user)
    assert len(messages) == 1, f"{user} has {len(messages)} messages"
    return message_of(messages[0])


def last_dm(bot: Bot, user: str, prefix: str) -> dict[str, Any]:
    """The latest DM to `user` whose text starts with `prefix`."""
    messages = [m for m in bot.slack.dms(user) if m.text.startswith(prefix)]
    assert messages, f"no message starting {prefix!r} for {user}"
    return message_of(messages[-1])


async def press(bot: Bot, user: str, action: str, message: dict[str, Any]) -> None:
    """`user` clicks the `action` button of `message`; returns when the bot has done its work."""
    await bot.client.click(user, action, button_value(message, action), message=message)
    await bot.settle()


def button_value(message: dict[str, Any], action: str, index: int = 0) -> str:
    values = [
        e["value"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action
    ]
    return values[index]
