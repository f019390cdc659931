"""Escalations in Slack: Acknowledge / Add note / Resolve on every copy, each copy updated in place."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from sqlmodel import Session

from bot.app import PacekeeperApp
from bot.blockkit import blocks_json
from bot.context import Deps
from bot.ids import Action, Callback, Field
from bot.payloads import EscalationRef
from bot.people import is_admin
from bot.surfaces import clicked, tell
from commands.escalation_render import escalation_message
from commands.measure_form import read_state
from commands.render import text_modal
from reminders.render import Rendered
from storage.escalations import (
    Act,
    EscalationRefused,
    act_on,
    copies_of,
    entitled,
    escalation_views,
    mark_refreshed,
    stale_escalation_ids,
)

log = logging.getLogger(__name__)
BUTTON_ACTS = {Action.ESCALATION_ACK: Act.ACKNOWLEDGE, Action.ESCALATION_RESOLVE: Act.RESOLVE}


NOTE_LIMIT = 2000


def register(app: PacekeeperApp) -> None:
    deps = app.deps

    async def button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if (click := await clicked(deps, body, EscalationRef)) is None:
            return
        user_id, ref = click
        act = BUTTON_ACTS[Action(body["actions"][0]["action_id"])]
        if await _act(deps, body, user_id, ref.escalation_id, act):
            await refresh_copies(deps, [ref.escalation_id])

    app.action(Action.ESCALATION_ACK)(button)
    app.action(Action.ESCALATION_RESOLVE)(button)

    @app.action(Action.ESCALATION_NOTE)
    async def ask_note(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if (click := await clicked(deps, body, EscalationRef)) is None:
            return
        user_id, ref = click
        admin = await is_admin(deps, user_id)
        try:  # a stranger is told why, not shown a form
            await deps.transaction(lambda s: entitled(
                session=s, escalation_id=ref.escalation_id, user_id=user_id, admin=admin, act=Act.NOTE))  # fmt: skip
        except EscalationRefused as refused:
            await tell(deps, body=body, user_id=user_id, text=str(refused))
            return
        await deps.client.views_open(trigger_id=body["trigger_id"], view=note_modal(ref))

    @app.view(Callback.ESCALATION_NOTE)
    async def submit_note(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        ref = EscalationRef.load(view.get("private_metadata"))
        note = (read_state(view["state"]["values"]).get(Field.NOTE) or "").strip()
        if ref is None or not note or len(note) > NOTE_LIMIT:
            why = "Write the note." if not note else f"A note can be at most {NOTE_LIMIT:,} characters."
            await ack(response_action="errors", errors={Field.NOTE: why if ref else "Out of date."})
            return
        user_id = body["user"]["id"]
        admin = await is_admin(deps, user_id)
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


async def _act(deps: Deps, body: dict[str, Any], user_id: str, escalation_id: int, act: str) -> bool:
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


async def refresh_copies(deps: Deps, escalation_ids: list[int]) -> int:
    """Show each escalation's current state in every message sent about it (chat.update is
    idempotent, so a refresh cut short is simply done again by the next sweep)."""

    def load(session: Session) -> list[tuple[str, str, Rendered]]:
        views = escalation_views(session=session, escalation_ids=escalation_ids)
        updates = []
        for escalation_id, view in views.items():
            for channel, ts, rung in copies_of(session=session, escalation_id=escalation_id):
                updates.append((channel, ts, escalation_message(view, rung)))
        return updates

    updated = 0
    for channel, ts, rendered in await deps.transaction(load):
        try:
            async with deps.pacer.slot():
                await deps.client.chat_update(
                    channel=channel, ts=ts, text=rendered.text, blocks=blocks_json(rendered.blocks)
                )
            updated += 1
        except SlackApiError as error:  # a deleted message or an archived channel: nothing to update
            log.warning("could not update an escalation message in %s: %s", channel, error.response.get("error"))
    await deps.transaction(lambda s: mark_refreshed(session=s, escalation_ids=escalation_ids))
    return updated


async def refresh_stale(deps: Deps) -> int:
    """Refresh what the sweep changed (climbed, resolved because the cause cleared)."""
    stale = await deps.transaction(lambda s: stale_escalation_ids(session=s))
    return await refresh_copies(deps, stale) if stale else 0
