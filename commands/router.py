"""`/measure`: one slash command, dispatched to the subcommands the feature modules register."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.app import PacekeeperApp
from domain.parsing import InputError, parse_key, split_command
from messages.cards import help_blocks
from messages.ids import Command
from messages.text import escape, truncate
from slackkit.context import Deps
from slackkit.surfaces import tell


@dataclass(frozen=True)
class Invocation:
    """One `/measure …` call, as the subcommand handlers see it."""

    deps: Deps
    body: dict[str, Any]
    user_id: str
    args: list[str]
    trigger_id: str

    async def reply(self, text: str, blocks: list[Any] | None = None) -> None:
        await tell(self.deps, body=self.body, user_id=self.user_id, text=text, blocks=blocks)

    async def key(self, example: str) -> str | None:
        """The measure key in the first argument, or None after saying what is wrong with it."""
        if not self.args:
            await self.reply(f"Which measure? For example `/measure {example} M-12`.")
            return None
        try:
            return parse_key(self.args[0])
        except InputError as error:
            await self.reply(escape(str(error)))
            return None


Subcommand = Callable[[Invocation], Awaitable[None]]


def subcommand(app: PacekeeperApp, name: str) -> Callable[[Subcommand], Subcommand]:
    def add(handler: Subcommand) -> Subcommand:
        app.subcommands[name] = handler
        return handler

    return add


def register(app: PacekeeperApp) -> None:
    @app.command(Command.MEASURE)
    async def measure(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        line = split_command(body.get("text") or "")
        call = Invocation(app.deps, body, body["user_id"], line.args, body.get("trigger_id", ""))
        handler = app.subcommands.get(line.name)
        if handler is None:
            known = ", ".join(f"`{n}`" for n in sorted(app.subcommands))
            await call.reply(
                f"I don't know `/measure {escape(truncate(line.name, 40))}`. Try one of {known}, or `/measure help`.",
            )
            return
        await handler(call)

    @subcommand(app, "help")
    async def show_help(call: Invocation) -> None:
        await call.reply("Pacekeeper help: /measure new | list | show | edit | structure", help_blocks())
