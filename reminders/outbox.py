"""Delivering what the outbox holds: claimed with a lease, paced, sent once, failures recorded.

A row is claimed (state `sending`, with a lease) in its own transaction before the Slack call and
marked `sent` with the message's channel and ts after it. A transient failure puts it back to
`pending` for the next sweep; a permanent one (the person is gone, say) marks it `failed` and owes
each admin a short report, without stopping the other sends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.context import Deps
from reminders.messages import render
from reminders.planning import Kind, owe
from reminders.render import Rendered
from storage.models import CheckIn, Outbox
from storage.types import utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 20
PERMANENT = frozenset(
    {
        "user_not_found", "account_inactive", "channel_not_found", "is_archived", "cannot_dm_bot",
        "user_disabled", "not_in_channel", "invalid_blocks", "msg_too_long", "no_text", "invalid_arguments",
        "restricted_action",
    }
)  # fmt: skip


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    retry: int = 0


def deliverable_ids(*, session: Session, limit: int = 10_000) -> list[int]:
    query = select(Outbox.id).where(
        (col(Outbox.state) == "pending") | ((col(Outbox.state) == "sending") & (col(Outbox.lease_until) < utcnow()))
    )
    return [i for i in session.exec(query.order_by(col(Outbox.id)).limit(limit)).all() if i is not None]


def claim(*, session: Session, outbox_id: int, now: datetime) -> tuple[Outbox, Rendered | None] | None:
    """Take the row for this process (None when another has it) and render it."""
    taken = session.exec(  # type: ignore[call-overload]
        update(Outbox)
        .where(col(Outbox.id) == outbox_id)
        .where(
            (col(Outbox.state) == "pending") | ((col(Outbox.state) == "sending") & (col(Outbox.lease_until) < utcnow()))
        )
        .values(state="sending", lease_until=utcnow() + LEASE, attempts=Outbox.attempts + 1)
    )
    if taken.rowcount != 1:
        return None
    message = session.get(Outbox, outbox_id)
    assert message is not None
    rendered = render(session, message, now)
    if rendered is None:
        message.state = "sent"  # nothing left to say: everything in it was answered meanwhile
        session.add(message)
    return message, rendered


def record_sent(*, session: Session, outbox_id: int, channel: str, ts: str, now: datetime) -> None:
    message = session.get(Outbox, outbox_id)
    assert message is not None
    message.state, message.channel, message.ts, message.sent_at, message.lease_until = "sent", channel, ts, now, None
    session.add(message)
    if message.kind == Kind.PROMPT:
        session.exec(  # type: ignore[call-overload]
            update(CheckIn).where(col(CheckIn.prompt_id) == outbox_id).values(prompted_at=now)
        )


def record_failure(*, session: Session, outbox_id: int, error: str, admins: frozenset[str]) -> bool:
    """Permanent errors (and too many attempts) fail the row and owe admins a report; else retry."""
    message = session.get(Outbox, outbox_id)
    assert message is not None
    message.last_error, message.lease_until = error[:200], None
    permanent = error in PERMANENT or message.attempts >= MAX_ATTEMPTS
    message.state = "failed" if permanent else "pending"
    session.add(message)
    if permanent and message.kind != Kind.DELIVERY_FAILURE:
        for admin in sorted(admins - {message.recipient}):
            owe(
                session=session, kind=Kind.DELIVERY_FAILURE, key=f"{outbox_id}:{admin}", recipient=admin,
                payload={"recipient": message.recipient, "kind": message.kind, "error": error},
            )  # fmt: skip
    return permanent


async def deliver(deps: Deps, *, now: datetime) -> DeliveryReport:
    """Send everything deliverable, `send_concurrency` at a time and paced to `send_rate`."""
    report = DeliveryReport()
    attempted: set[int] = set()
    for _pass in range(2):  # the second pass sends what the first one owed (failure reports)
        ids = [i for i in await deps.transaction(lambda s: deliverable_ids(session=s)) if i not in attempted]
        if not ids:
            break
        attempted.update(ids)  # a transient failure waits for the next sweep
        gate = asyncio.Semaphore(deps.settings.send_concurrency)
        await asyncio.gather(*(_deliver_one(deps, i, gate, now, report) for i in ids))
    return report


async def _deliver_one(
    deps: Deps, outbox_id: int, gate: asyncio.Semaphore, now: datetime, report: DeliveryReport
) -> None:
    async with gate:
        claimed = await deps.transaction(lambda s: claim(session=s, outbox_id=outbox_id, now=now))
        if claimed is None:
            return
        message, rendered = claimed
        if rendered is None:
            report.skipped += 1
            return
        await deps.pacer.wait()
        try:
            response = await deps.client.chat_postMessage(
                channel=message.recipient, text=rendered.text, blocks=[b.to_dict() for b in rendered.blocks]
            )
        except SlackApiError as error:
            code = str(error.response.get("error") or f"http_{error.response.status_code}")
        except (aiohttp.ClientError, TimeoutError) as error:
            code = f"transport: {type(error).__name__}"
        else:
            await deps.transaction(
                lambda s: record_sent(
                    session=s, outbox_id=outbox_id, channel=response["channel"], ts=response["ts"], now=now
                )
            )
            report.sent += 1
            return
        admins = deps.settings.admin_user_ids
        permanent = await deps.transaction(
            lambda s: record_failure(session=s, outbox_id=outbox_id, error=code, admins=admins)
        )
        if permanent:
            log.warning("gave up on %s to %s: %s", message.kind, message.recipient, code)
            report.failed.append(f"{message.recipient}: {code}")
        else:
            report.retry += 1
