"""Finding a message the bot may already have posted: the reconciliation of a send whose process
died (or whose call timed out) before its outcome was recorded, by the outbox id every message
carries in its metadata."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slackkit.context import Deps
from storage.calendars import is_person_id

METADATA_EVENT = "pacekeeper_outbox"  # every message carries its outbox id, to be found again after a crash


async def find_sent(
    deps: Deps, recipient: str, outbox_id: int, *, since: datetime, thread: tuple[str, str] | None = None
) -> tuple[str, str] | None:
    """The (channel, ts) of the message this outbox row already posted, if it did. `thread`: the
    (channel, ts) of the message it replies to, whose replies are searched (a channel's history
    does not hold thread replies)."""
    if thread is not None:
        return await _find_reply(deps, thread, outbox_id)
    channel = recipient
    if is_person_id(recipient):  # a DM sent to the user id: its channel is the IM with them
        channel = (await deps.client.conversations_open(users=recipient))["channel"]["id"]
    oldest = f"{(since - timedelta(minutes=1)).timestamp():.6f}"
    return await _find(deps.client.conversations_history, outbox_id, channel=channel, oldest=oldest)


async def _find_reply(deps: Deps, thread: tuple[str, str], outbox_id: int) -> tuple[str, str] | None:
    channel, thread_ts = thread
    return await _find(deps.client.conversations_replies, outbox_id, channel=channel, ts=thread_ts)


async def _find(list_page: Callable[..., Awaitable[Any]], outbox_id: int, **where: str) -> tuple[str, str] | None:
    """Page through a conversation's history (or a thread) for the message carrying `outbox_id`."""
    cursor = None
    while True:
        page = await list_page(**where, include_all_metadata=True, limit=200, cursor=cursor)
        found: list[dict[str, Any]] = page.get("messages", [])
        for message in found:
            if outbox_id_of(message) == outbox_id:
                return where["channel"], str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def outbox_id_of(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    return (metadata.get("event_payload") or {}).get("outbox_id")
