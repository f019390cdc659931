"""`/measure`: one slash command, dispatched by its first word to the subcommands of the features."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from commands import (
    actuals,
    api_tokens,
    checkin,
    custom_fields,
    digest,
    export,
    gates,
    history,
    import_slack,
    measure,
    organization,
    portfolio_rules,
    rebaseline,
    settings,
    structure,
)
from commands.invocation import Invocation, Subcommand
from domain.parsing import split_command
from messages.cards import help_blocks
from messages.ids import Command
from messages.text import escape, truncate
from slackkit.context import Deps


async def show_help(call: Invocation) -> None:
    await call.reply("Pacekeeper help: /measure new | list | show | edit | structure", help_blocks())


SUBCOMMANDS: Mapping[str, Subcommand] = {
    "help": show_help,
    **measure.SUBCOMMANDS,
    **actuals.SUBCOMMANDS,
    **rebaseline.SUBCOMMANDS,
    **structure.SUBCOMMANDS,
    **gates.SUBCOMMANDS,
    **portfolio_rules.SUBCOMMANDS,
    **digest.SUBCOMMANDS,
    **checkin.SUBCOMMANDS,
    **organization.SUBCOMMANDS,
    **settings.SUBCOMMANDS,
    **history.SUBCOMMANDS,
    **export.SUBCOMMANDS,
    **import_slack.SUBCOMMANDS,
    **api_tokens.SUBCOMMANDS,
    **custom_fields.SUBCOMMANDS,
}


async def measure_command(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    await ack()
    line = split_command(body.get("text") or "")
    call = Invocation(deps, body, body["user_id"], line.args, body.get("trigger_id", ""))
    handler = SUBCOMMANDS.get(line.name)
    if handler is None:
        known = ", ".join(f"`{n}`" for n in sorted(SUBCOMMANDS))
        await call.reply(
            f"I don't know `/measure {escape(truncate(line.name, 40))}`. Try one of {known}, or `/measure help`.",
        )
        return
    await handler(call)


def register(app: AsyncApp) -> None:
    app.command(Command.MEASURE)(measure_command)
