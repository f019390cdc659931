"""Every message showing an escalation shows its current state: chat.update on each, after a change
(a message listing several is rendered again whole)."""

from __future__ import annotations

import asyncio
import logging
import weakref

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from messages.blockkit import Rendered, blocks_json
from messages.escalation import escalation_message
from slackkit.context import Deps
from slackkit.outbox_messages import batch_render
from storage.escalation_mail import batches_showing, mark_shown, versions_of
from storage.escalation_views import escalation_views
from storage.escalations import mark_refreshed, single_copies, stale_escalation_ids
from storage.models import Outbox
from storage.outbox import EscalationsPayload, payload_of

log = logging.getLogger(__name__)


# One refresh of a message at a time in this process, its state read inside its turn: refreshes that
# overlap (thirteen menu clicks on one listing) can then never leave an older state posted last.
_REFRESHING: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


async def refresh_copies(deps: Deps, escalation_ids: list[int]) -> int:
    """Show each escalation's current state in every message sent about it that shows an older one
    (chat.update is idempotent, so a refresh cut short is simply done again by the next sweep)."""

    def load_singles(session: Session) -> list[tuple[str, str, Rendered]]:
        singles = single_copies(session=session, escalation_ids=escalation_ids)
        views = escalation_views(session=session, escalation_ids=sorted({s[0] for s in singles}))
        return [(channel, ts, escalation_message(views[i], rung)) for i, channel, ts, rung in singles if i in views]

    updated = sum(
        [await _update(deps, channel, ts, rendered) for channel, ts, rendered in await deps.read(load_singles)]
    )
    stale = await deps.read(lambda s: [m.id or 0 for m in batches_showing(session=s, escalation_ids=escalation_ids)])
    for outbox_id in stale:
        lock = _REFRESHING.get(outbox_id) or _REFRESHING.setdefault(outbox_id, asyncio.Lock())
        async with lock:
            updated += await _refresh_listing(deps, outbox_id)
    await deps.transaction(lambda s: mark_refreshed(session=s, escalation_ids=escalation_ids))
    return updated


async def _refresh_listing(deps: Deps, outbox_id: int) -> int:
    """Render a message listing several escalations as they are now, update it, and record the version
    of each that it shows (what was read, not what may have changed since)."""

    def load(session: Session) -> tuple[str, str, Rendered, dict[int, int]] | None:
        message = session.get(Outbox, outbox_id)
        payload = payload_of(message) if message is not None else None
        if message is None or not isinstance(payload, EscalationsPayload):
            return None
        ids = [i.escalation_id for i in payload.items]
        render = batch_render(outbox_id, payload, escalation_views(session=session, escalation_ids=ids))
        return (
            (message.channel or "", message.ts or "", render(), versions_of(session=session, escalation_ids=ids))
            if render
            else None
        )

    loaded = await deps.read(load)
    if loaded is None:
        return 0
    channel, ts, rendered, versions = loaded
    if not await _update(deps, channel, ts, rendered):
        return 0
    await deps.transaction(lambda s: mark_shown(session=s, outbox_id=outbox_id, versions=versions))
    return 1


async def _update(deps: Deps, channel: str, ts: str, rendered: Rendered) -> bool:
    try:
        async with deps.pacer.slot():
            await deps.client.chat_update(
                channel=channel, ts=ts, text=rendered.text, blocks=blocks_json(rendered.blocks)
            )
        return True
    except SlackApiError as error:  # a deleted message or an archived channel: nothing to update
        log.warning("could not update an escalation message in %s: %s", channel, error.response.get("error"))
        return False


async def refresh_stale(deps: Deps) -> int:
    """Refresh what the sweep changed (climbed, resolved because the cause cleared)."""
    stale = await deps.read(lambda s: stale_escalation_ids(session=s))
    return await refresh_copies(deps, stale) if stale else 0
