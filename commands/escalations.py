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
from messages.payloads import EscalationChoice, EscalationGroupRef, EscalationRef
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from slackkit.escalation_copies import refresh_copies
from slackkit.people import admin_now, is_admin, refresh_person
from slackkit.surfaces import tell
from storage.escalations import (
    Act,
    EscalationRefused,
    acknowledge_listed,
    act_on,
    entitled,
)

log = logging.getLogger(__name__)
BUTTON_ACTS = {Action.ESCALATION_ACK: Act.ACKNOWLEDGE, Action.ESCALATION_RESOLVE: Act.RESOLVE}


NOTE_LIMIT = 2000


@on_click(EscalationRef)
async def button(click: Click[EscalationRef]) -> None:
    """Acknowledge acts at once; Resolve asks for a reason first."""
    act = BUTTON_ACTS[Action(click.action_id)]
    if act is Act.RESOLVE:
        await _ask_text(click.deps, click.body, click.user_id, click.value, Act.RESOLVE)
    elif await _act(click.deps, click.body, click.user_id, click.value.escalation_id, act):
        await refresh_copies(click.deps, [click.value.escalation_id])


@on_click(EscalationChoice)
async def menu(click: Click[EscalationChoice]) -> None:
    """An escalation's menu in a message listing several: the same acts as the buttons of one."""
    choice, ref = click.value, EscalationRef(escalation_id=click.value.escalation_id)
    if choice.act in ("note", "resolve"):
        await _ask_text(click.deps, click.body, click.user_id, ref, Act(choice.act))
    elif await _act(click.deps, click.body, click.user_id, choice.escalation_id, Act.ACKNOWLEDGE):
        await refresh_copies(click.deps, [choice.escalation_id])


@on_click(EscalationGroupRef)
async def acknowledge_group(click: Click[EscalationGroupRef]) -> None:
    """ "Acknowledge all" of one cause in one message: one transaction, an audit record each."""
    deps, ref, user_id, now = click.deps, click.value, click.user_id, click.now
    admin = await is_admin(deps, user_id)
    done, refused = await deps.transaction(lambda s: acknowledge_listed(
        session=s, outbox_id=ref.outbox_id, cause=ref.cause, user_id=user_id, admin=admin, now=now))  # fmt: skip
    text = f"Acknowledged {len(done)} escalation{'s' if len(done) != 1 else ''}."
    if not done:
        text = "Nothing was changed: they are acknowledged or resolved already."
    if refused:
        text += f" {refused} you may not act on were left as they are."
    await click.tell(text)
    if done:
        await refresh_copies(deps, done)


@on_click(EscalationRef)
async def ask_note(click: Click[EscalationRef]) -> None:
    await _ask_text(click.deps, click.body, click.user_id, click.value, Act.NOTE)


async def _ask_text(deps: Deps, body: dict[str, Any], user_id: str, ref: EscalationRef, act: Act) -> None:
    """The note or resolution modal; someone who may not is told why instead of shown a form."""
    admin = await is_admin(deps, user_id)
    try:
        await deps.read(lambda s: entitled(
            session=s, escalation_id=ref.escalation_id, user_id=user_id, admin=admin, act=act))  # fmt: skip
    except EscalationRefused as refused:
        await tell(deps, body=body, user_id=user_id, text=f"Nothing was changed. {refused}")
        return
    modal = resolve_modal(ref) if act is Act.RESOLVE else note_modal(ref)
    await deps.client.views_open(trigger_id=body["trigger_id"], view=modal)


async def submit_note(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    await _submit_text(ack, body, view, deps, Act.NOTE)


async def submit_resolution(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    await _submit_text(ack, body, view, deps, Act.RESOLVE)


async def _submit_text(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps, act: Act) -> None:
    ref = EscalationRef.load(view.get("private_metadata"))
    text = (read_state(view["state"]["values"]).get(Field.NOTE) or "").strip()
    what = "The reason" if act is Act.RESOLVE else "The note"
    if ref is None or not text:
        missing = (
            "Say why it is resolved: everyone who received it reads it." if act is Act.RESOLVE else "Write the note."
        )
        await ack(response_action="errors", errors={Field.NOTE: missing if ref else "Out of date."})
        return
    if problem := too_long(text, limit=NOTE_LIMIT, what=what):
        await ack(response_action="errors", errors={Field.NOTE: problem})
        return
    user_id = body["user"]["id"]
    admin = await admin_now(deps, user_id)  # the stored profile: no Web API call before the ack
    now = deps.clock()
    try:
        await deps.transaction(lambda s: act_on(
            session=s, escalation_id=ref.escalation_id, user_id=user_id, admin=admin, act=act, now=now,
            note=text))  # fmt: skip
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


def resolve_modal(ref: EscalationRef) -> View:
    return text_modal(
        callback_id=Callback.ESCALATION_RESOLVE, title="Resolve", submit="Resolve", metadata=ref.dump(),
        explain="Everyone who received this escalation reads why it is resolved.", block_id=Field.NOTE,
        label="Why is it resolved?",
    )  # fmt: skip


def register(app: AsyncApp) -> None:
    app.action(Action.ESCALATION_ACK)(button)
    app.action(Action.ESCALATION_RESOLVE)(button)
    app.action(Action.ESCALATION_NOTE)(ask_note)
    app.action(Action.ESCALATION_MENU)(menu)
    app.action(Action.ESCALATION_ACK_GROUP)(acknowledge_group)
    app.view(Callback.ESCALATION_NOTE)(submit_note)
    app.view(Callback.ESCALATION_RESOLVE)(submit_resolution)
