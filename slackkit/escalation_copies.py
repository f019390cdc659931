"""Every message showing an escalation shows its current state: chat.update on each, after a change
(a message listing several is rendered again whole)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from messages.blockkit import Rendered, blocks_json
from messages.escalation import escalation_message
from slackkit.context import Deps
from slackkit.outbox_messages import batch_render
from storage.escalation_mail import batches_showing
from storage.escalation_views import escalation_views
from storage.escalations import copies_of, mark_refreshed, stale_escalation_ids
from storage.outbox import EscalationsPayload, payload_of

log = logging.getLogger(__name__)


async def refresh_copies(deps: Deps, escalation_ids: list[int]) -> int:
    """Show each escalation's current state in every message sent about it (chat.update is
    idempotent, so a refresh cut short is simply done again by the next sweep)."""

    def load(session: Session) -> list[tuple[str, str, Rendered]]:
        views = escalation_views(session=session, escalation_ids=escalation_ids)
        updates = []
        for escalation_id, view in views.items():  # messages about one escalation (owed before batches)
            for channel, ts, rung in copies_of(session=session, escalation_id=escalation_id):
                updates.append((channel, ts, escalation_message(view, rung)))
        for message in batches_showing(session=session, escalation_ids=escalation_ids):
            payload = payload_of(message)
            assert isinstance(payload, EscalationsPayload)
            listed = escalation_views(session=session, escalation_ids=[i.escalation_id for i in payload.items])
            render = batch_render(message.id or 0, payload, listed)
            if render is not None:
                updates.append((message.channel or "", message.ts or "", render()))
        return updates

    updated = 0
    for channel, ts, rendered in await deps.read(load):
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
    stale = await deps.read(lambda s: stale_escalation_ids(session=s))
    return await refresh_copies(deps, stale) if stale else 0
