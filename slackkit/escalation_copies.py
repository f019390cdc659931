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
from storage.escalation_mail import batches_showing, mark_shown
from storage.escalation_views import escalation_views
from storage.escalations import mark_refreshed, single_copies, stale_escalation_ids
from storage.outbox import EscalationsPayload, payload_of

log = logging.getLogger(__name__)


async def refresh_copies(deps: Deps, escalation_ids: list[int]) -> int:
    """Show each escalation's current state in every message sent about it that shows an older one
    (chat.update is idempotent, so a refresh cut short is simply done again by the next sweep)."""

    def load(session: Session) -> list[tuple[str, str, Rendered, int | None]]:
        singles = single_copies(session=session, escalation_ids=escalation_ids)
        views = escalation_views(session=session, escalation_ids=sorted({s[0] for s in singles}))
        updates: list[tuple[str, str, Rendered, int | None]] = [
            (channel, ts, escalation_message(views[escalation_id], rung), None)
            for escalation_id, channel, ts, rung in singles
            if escalation_id in views
        ]
        for message in batches_showing(session=session, escalation_ids=escalation_ids):  # only what is stale
            payload = payload_of(message)
            assert isinstance(payload, EscalationsPayload)
            listed = escalation_views(session=session, escalation_ids=[i.escalation_id for i in payload.items])
            render = batch_render(message.id or 0, payload, listed)
            if render is not None:
                updates.append((message.channel or "", message.ts or "", render(), message.id))
        return updates

    updated: list[int | None] = []
    for channel, ts, rendered, outbox_id in await deps.read(load):
        try:
            async with deps.pacer.slot():
                await deps.client.chat_update(
                    channel=channel, ts=ts, text=rendered.text, blocks=blocks_json(rendered.blocks)
                )
            updated.append(outbox_id)
        except SlackApiError as error:  # a deleted message or an archived channel: nothing to update
            log.warning("could not update an escalation message in %s: %s", channel, error.response.get("error"))

    def record(session: Session) -> None:
        mark_refreshed(session=session, escalation_ids=escalation_ids)
        mark_shown(session=session, outbox_ids=[i for i in updated if i is not None])

    await deps.transaction(record)
    return len(updated)


async def refresh_stale(deps: Deps) -> int:
    """Refresh what the sweep changed (climbed, resolved because the cause cleared)."""
    stale = await deps.read(lambda s: stale_escalation_ids(session=s))
    return await refresh_copies(deps, stale) if stale else 0
