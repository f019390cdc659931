"""`/measure structure`: admins add a unit under a parent (or a new organization)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.enums import Level
from domain.parsing import too_long
from domain.policy import Deed, may
from messages.ids import INPUT, Callback, Field
from messages.measure_form import read_state
from messages.pickers import Choice, choice_select
from messages.text import escape
from slackkit.context import Deps
from slackkit.people import admin_now, allowed, refresh_person
from storage.models import Unit
from storage.queries import all_units, get_child_unit, path_in, record_audit

NEW_ORGANIZATION = "root"


UNIT_NAME_LIMIT = 200


async def structure(call: Invocation) -> None:
    deps = call.deps
    if not await allowed(deps, call.user_id, Deed.CONFIGURE_STRUCTURE):
        await call.reply("Only admins (the programme office) can change the structure.")
        return
    units = await deps.read(lambda s: list(all_units(session=s)))
    await deps.client.views_open(trigger_id=call.trigger_id, view=structure_modal(units))


async def submit_unit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    values = read_state(view["state"]["values"])
    name = (values.get(Field.UNIT_NAME) or "").strip()
    parent = values.get(Field.PARENT) or ""
    if not name:
        await ack(response_action="errors", errors={Field.UNIT_NAME: "Give the unit a name."})
        return
    if problem := too_long(name, limit=UNIT_NAME_LIMIT, what="The name"):
        await ack(response_action="errors", errors={Field.UNIT_NAME: problem})
        return
    if not may(Deed.CONFIGURE_STRUCTURE, user_id, admin=await admin_now(deps, user_id)):  # nothing asked of Slack
        await ack(response_action="errors", errors={Field.UNIT_NAME: "Only admins can change the structure."})
        return
    outcome = await deps.transaction(lambda s: add_unit(s, parent=parent, name=name, actor=user_id))
    if isinstance(outcome, tuple):
        block_id, message = outcome
        await ack(response_action="errors", errors={block_id: message})
        return
    text = f":white_check_mark: Added the {Level(outcome.level).label} *{escape(outcome.name)}*."
    await ack(
        response_action="update",
        view=View(type="modal", title="Pacekeeper", close="Done", blocks=[SectionBlock(text=text)]),
    )
    await refresh_person(deps, user_id)  # after the ack, when the stored profile is stale


def parent_picks(units: list[Unit]) -> list[Choice]:
    """Where a unit can go: a new organization, or under any unit but a measure package."""
    by_id = {u.id: u for u in units}

    def path(unit: Unit) -> str:
        return " › ".join(u.name for u in path_in(by_id, unit))

    parents = sorted((u for u in units if u.level != Level.PACKAGE), key=path)
    return [Choice(NEW_ORGANIZATION, "(a new organization)"), *(Choice(str(u.id), f"{path(u)} ({u.level})")
                                                                 for u in parents)]  # fmt: skip


def structure_modal(units: list[Unit]) -> View:
    hint = "The new unit is one level below its parent: portfolio, program, project, then measure package."
    return View(
        type="modal",
        callback_id=Callback.NEW_UNIT,
        title="Add a unit",
        submit="Add",
        close="Cancel",
        blocks=[
            choice_select(
                Field.PARENT,
                "Under",
                parent_picks(units),
                initial=NEW_ORGANIZATION,
                placeholder="Choose a parent",
                hint=hint,
            ),
            InputBlock(
                block_id=Field.UNIT_NAME,
                label="Name",
                element=PlainTextInputElement(action_id=INPUT, max_length=200),
            ),
        ],
    )


def add_unit(session: Session, *, parent: str, name: str, actor: str) -> Unit | tuple[str, str]:
    """The new unit, or (block id, why) it cannot be added: nothing is written then."""
    if parent == NEW_ORGANIZATION:
        parent_unit, level = None, Level.ORGANIZATION
    else:
        parent_unit = session.get(Unit, int(parent)) if parent.isdigit() else None
        if parent_unit is None:
            return Field.PARENT, "That parent no longer exists: choose another parent."
        child = Level(parent_unit.level).child
        if child is None:
            return Field.PARENT, "A measure package holds measures, not units: choose another parent."
        level = child
    parent_id = parent_unit.id if parent_unit else None
    if get_child_unit(session=session, parent_id=parent_id, name=name) is not None:
        return Field.UNIT_NAME, f"There is already a unit called “{name}” there."
    unit = Unit(level=level, name=name, parent_id=parent_id)
    session.add(unit)
    session.flush()
    record_audit(
        session=session, actor=actor, entity="unit", entity_key=str(unit.id), action="created",
        detail={"level": level, "name": unit.name, "parent_id": parent_id},
    )  # fmt: skip
    return unit


SUBCOMMANDS: dict[str, Subcommand] = {
    "structure": structure,
}


def register(app: AsyncApp) -> None:
    app.view(Callback.NEW_UNIT)(submit_unit)
