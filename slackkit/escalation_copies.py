"""Every copy of an escalation message shows its current state: chat.update on each, after a change."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from messages.blockkit import Rendered, blocks_json
from messages.escalation import escalation_message
from slackkit.context import Deps
from storage.escalation_views import escalation_views
from storage.escalations import copies_of, mark_refreshed, stale_escalation_ids

log = logging.getLogger(__name__)


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
