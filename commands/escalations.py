"""Escalations in Slack: Acknowledge / Add note / Resolve on every copy, each copy updated in place."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.views import View

from domain.parsing import too_long
from messages.cards import text_modal
from messages.ids import Action, Callback, Field
from messages.measure_form import read_state
from messages.payloads import EscalationRef
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from slackkit.escalation_copies import refresh_copies
from slackkit.people import admin_now, is_admin, refresh_person
from slackkit.surfaces import tell
from storage.escalations import (
    Act,
    EscalationRefused,
    act_on,
    entitled,
)

log = logging.getLogger(__name__)
BUTTON_ACTS = {Action.ESCALATION_ACK: Act.ACKNOWLEDGE, Action.ESCALATION_RESOLVE: Act.RESOLVE}


NOTE_LIMIT = 2000


@on_click(EscalationRef)
async def button(click: Click[EscalationRef]) -> None:
    act = BUTTON_ACTS[Action(click.action_id)]
    if await _act(click.deps, click.body, click.user_id, click.value.escalation_id, act):
        await refresh_copies(click.deps, [click.value.escalation_id])


@on_click(EscalationRef)
async def ask_note(click: Click[EscalationRef]) -> None:
    deps, body, user_id, ref = click.deps, click.body, click.user_id, click.value
    admin = await is_admin(deps, user_id)
    try:  # a stranger is told why, not shown a form
        await deps.read(lambda s: entitled(
            session=s, escalation_id=ref.escalation_id, user_id=user_id, admin=admin, act=Act.NOTE))  # fmt: skip
    except EscalationRefused as refused:
        await tell(deps, body=body, user_id=user_id, text=str(refused))
        return
    await deps.client.views_open(trigger_id=body["trigger_id"], view=note_modal(ref))


async def submit_note(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    ref = EscalationRef.load(view.get("private_metadata"))
    note = (read_state(view["state"]["values"]).get(Field.NOTE) or "").strip()
    if ref is None or not note:
        await ack(response_action="errors", errors={Field.NOTE: "Write the note." if ref else "Out of date."})
        return
    if problem := too_long(note, limit=NOTE_LIMIT, what="The note"):
        await ack(response_action="errors", errors={Field.NOTE: problem})
        return
    user_id = body["user"]["id"]
    admin = await admin_now(deps, user_id)  # the stored profile: no Web API call before the ack
    now = deps.clock()
    try:
        await deps.transaction(lambda s: act_on(
            session=s, escalation_id=ref.escalation_id, user_id=user_id, admin=admin, act=Act.NOTE, now=now,
            note=note))  # fmt: skip
    except EscalationRefused as refused:
        await ack(response_action="errors", errors={Field.NOTE: str(refused)})
        return
    await ack()
    await refresh_copies(deps, [ref.escalation_id])
    await refresh_person(deps, user_id)  # after the ack, when the stored profile is stale


async def _act(deps: Deps, body: dict[str, Any], user_id: str, escalation_id: int, act: Act) -> bool:
    admin = await is_admin(deps, user_id)
    now = deps.clock()
    try:
        await deps.transaction(
            lambda s: act_on(session=s, escalation_id=escalation_id, user_id=user_id, admin=admin, act=act, now=now)
        )
    except EscalationRefused as refused:
        await tell(deps, body=body, user_id=user_id, text=f"Nothing was changed. {refused}")
        return False
    return True


def note_modal(ref: EscalationRef) -> View:
    return text_modal(
        callback_id=Callback.ESCALATION_NOTE, title="Add a note", submit="Add note", metadata=ref.dump(),
        explain="Everyone who received this escalation sees the note.", block_id=Field.NOTE, label="Note",
    )  # fmt: skip


def register(app: AsyncApp) -> None:
    app.action(Action.ESCALATION_ACK)(button)
    app.action(Action.ESCALATION_RESOLVE)(button)
    app.action(Action.ESCALATION_NOTE)(ask_note)
    app.view(Callback.ESCALATION_NOTE)(submit_note)
