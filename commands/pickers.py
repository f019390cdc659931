"""Options requests of the selects too long for Slack's 100 options (messages/pickers.py): measure
packages and parent units, found as the person types. Answered in the ack, from one bounded read
(the unit tree), within Slack's 3 seconds."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from commands.measure_data import package_choices
from commands.structure import parent_picks
from domain.measure_schema import Key
from messages.ids import INPUT, Field
from messages.measure_form import package_picks
from messages.pickers import options_for
from slackkit.context import Deps
from storage.queries import all_units


async def load_options(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    block_id, typed = body.get("block_id"), str(body.get("value") or "")
    if block_id == Key.PACKAGE:
        choices = await deps.read(lambda s: package_picks(package_choices(session=s)))
    elif block_id == Field.PARENT:
        choices = await deps.read(lambda s: parent_picks(list(all_units(session=s))))
    else:
        choices = []
    await ack(options=options_for(choices, typed))


def register(app: AsyncApp) -> None:
    app.options(INPUT)(load_options)
