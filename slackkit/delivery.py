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
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import Session, col, select

from messages.blockkit import Rendered, blocks_json
from slackkit.context import Deps
from slackkit.outbox_messages import Render, snapshots
from storage.calendars import in_working_time, is_person_id
from storage.models import CheckIn, Outbox
from storage.outbox import Kind, owe_failure_reports
from storage.queries import claimable
from storage.types import SendState, machine_now

log = logging.getLogger(__name__)
CHUNK = 100
FIRST_CHUNK = 20
RECORD_EVERY = 0.25  # seconds: sends are recorded a batch per transaction, at least this often
METADATA_EVENT = "pacekeeper_outbox"  # every message carries its outbox id, to be found again after a crash
TRANSPORT = "transport: "  # last_error of a call whose outcome is unknown (a timeout, a dropped connection)
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
    failed: list[str] = field(default_factory=list)
    retry: int = 0


def deliverable_ids(
    *, session: Session, limit: int = 10_000, only: list[int] | None = None, now: datetime | None = None
) -> list[int]:
    """Rows owed and not held; with `now`, none that waits for its recipient's working time."""
    query = select(Outbox.id).where(claimable(Outbox))
    if now is not None:
        query = query.where(col(Outbox.not_before).is_(None) | (col(Outbox.not_before) <= now))
    if only is not None:
        query = query.where(col(Outbox.id).in_(only))
    return [i for i in session.exec(query.order_by(col(Outbox.id)).limit(limit)).all() if i is not None]


@dataclass(frozen=True)
class Claimed:
    outbox_id: int
    kind: str
    recipient: str
    text: str
    blocks: list[dict[str, object]]
    in_doubt_since: datetime | None = None  # claimed before by a process that did not record the outcome


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    channel: str | None = None
    ts: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Taken:
    outbox_id: int
    kind: str
    recipient: str
    render: Render
    in_doubt_since: datetime | None = None


def claim_chunk(
    *, session: Session, outbox_ids: list[int], now: datetime, lease: timedelta, answer_within: timedelta | None = None
) -> list[Taken]:
    """Take the rows no other process holds (with a lease) and load what they show. A row with
    nothing left to say (everything in it was answered meanwhile) is marked sent without a call. A row whose
    lease ran out while `sending` is in doubt: it may have gone out just before its process died."""
    rows = session.exec(
        select(Outbox).where(col(Outbox.id).in_(outbox_ids)).where(claimable(Outbox)).with_for_update(skip_locked=True)
    ).all()
    taken = []
    lease_until = machine_now() + lease
    rows = in_working_time(session=session, rows=list(rows), now=now)
    renders = snapshots(session, rows, now, answer_within)
    for message in rows:
        in_doubt = _in_doubt_since(message, lease)
        message.attempts += 1
        render = renders[message.id or 0]
        if render is None and in_doubt is None:
            message.state = SendState.SENT
        else:
            message.state, message.lease_until = SendState.SENDING, lease_until
            taken.append(Taken(message.id or 0, message.kind, message.recipient, render or _nothing, in_doubt))
        session.add(message)
    return taken


def _in_doubt_since(message: Outbox, lease: timedelta) -> datetime | None:
    """Since when a row may already have been posted although its outcome was never recorded: its
    lease ran out while `sending` (its process died, or its call timed out). Machine time, as Slack's ts."""
    if message.state == SendState.SENDING and message.lease_until is not None:
        return message.lease_until - lease
    return None


def _nothing() -> Rendered:
    return Rendered("", [])


def render_all(taken: list[Taken]) -> list[Claimed]:
    """Render and serialise the taken messages (outside any transaction: it is the CPU-heavy part)."""
    claimed = []
    for item in taken:
        rendered = item.render()
        blocks = blocks_json(rendered.blocks)
        claimed.append(Claimed(item.outbox_id, item.kind, item.recipient, rendered.text, blocks, item.in_doubt_since))
    return claimed


def record_chunk(
    *, session: Session, outcomes: list[Outcome], now: datetime, admins: frozenset[str], lease: timedelta
) -> list[str]:
    """Mark what was sent, with its channel and ts; returns "recipient: error" of permanent failures."""
    sent = [o for o in outcomes if o.error is None]
    if sent:
        session.execute(
            update(Outbox),
            [
                {
                    "id": o.claimed.outbox_id,
                    "state": SendState.SENT,
                    "channel": o.channel,
                    "ts": o.ts,
                    "sent_at": now,
                    "lease_until": None,
                }
                for o in sent
            ],
        )
        prompt_ids = [o.claimed.outbox_id for o in sent if o.claimed.kind == Kind.PROMPT]
        if prompt_ids:
            session.exec(update(CheckIn).where(col(CheckIn.prompt_id).in_(prompt_ids)).values(prompted_at=now))
    failed = []
    for outcome in outcomes:
        if outcome.error is not None and record_failure(
            session=session, outbox_id=outcome.claimed.outbox_id, error=outcome.error, admins=admins, lease=lease
        ):
            failed.append(f"{outcome.claimed.recipient}: {outcome.error}")
    return failed


def record_failure(*, session: Session, outbox_id: int, error: str, admins: frozenset[str], lease: timedelta) -> bool:
    """Permanent errors (and too many attempts) fail the row and owe admins a report; else retry.
    A call of unknown outcome (a timeout) may still be carried out by Slack: the row stays `sending`
    under its lease, and is looked up before it is sent again, as if its process had died."""
    message = session.get(Outbox, outbox_id)
    assert message is not None
    message.last_error = error[:200]
    permanent = error in PERMANENT or message.attempts >= MAX_ATTEMPTS
    if error.startswith(TRANSPORT) and not permanent:
        message.lease_until = machine_now() + lease  # counted from the failed call: Slack may still be carrying it out
        session.add(message)
        return False
    message.lease_until = None
    message.state = SendState.FAILED if permanent else SendState.PENDING
    session.add(message)
    if permanent and message.kind != Kind.DELIVERY_FAILURE:
        owe_failure_reports(
            session=session, key=str(outbox_id), recipient=message.recipient, kind=message.kind, error=error,
            admins=admins,
        )  # fmt: skip
    return permanent


class Planning:
    """The sweep's planning as delivery sees it while both run: planning calls `owed()` each time
    it owes more messages and `finish()` at its end; delivery waits for either with `news()`."""

    def __init__(self) -> None:
        self.finished = False
        self._news = asyncio.Event()

    def owed(self) -> None:
        self._news.set()

    def finish(self) -> None:
        self.finished = True
        self._news.set()

    async def news(self) -> None:
        await self._news.wait()
        self._news.clear()


async def deliver(
    deps: Deps, *, now: datetime, planning: Planning | None = None, only: list[int] | None = None
) -> DeliveryReport:
    """Send everything deliverable as a stream: a claimer takes and renders chunks ahead into a
    bounded queue, `send_concurrency` senders post them paced to `send_rate`, and a recorder
    marks the outcomes a chunk per transaction. While `planning` runs, the claimer takes what it
    newly owes as soon as it is owed. A transient failure waits for the next sweep.
    `only`: these outbox rows and no others (a click sends what its own transaction owed; the
    rest is the sweep's)."""
    report = DeliveryReport()
    if only == []:
        return report
    attempted: set[int] = set()
    await _stream(deps, now, report, attempted, planning, only)
    if report.failed and only is None:  # what the first pass owed admins about the messages it gave up on
        await _stream(deps, now, report, attempted, None, None)
    return report


async def _stream(
    deps: Deps,
    now: datetime,
    report: DeliveryReport,
    attempted: set[int],
    planning: Planning | None,
    only: list[int] | None,
) -> None:
    admins = deps.settings.admin_user_ids
    queue: asyncio.Queue[Claimed | None] = asyncio.Queue(maxsize=4 * CHUNK)
    outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue()
    senders = deps.settings.send_concurrency

    async def claim(chunk: list[int]) -> list[Claimed]:
        lease, within = deps.settings.outbox_lease, deps.settings.overdue_after
        taken = await deps.transaction(
            lambda s: claim_chunk(session=s, outbox_ids=chunk, now=now, lease=lease, answer_within=within)
        )
        return await deps.offload(render_all, taken)

    async def claimer() -> None:
        try:
            await claim_all()
        finally:  # also when claiming fails: the senders stop, what was sent is still recorded
            for _ in range(senders):
                await queue.put(None)

    async def claim_all() -> None:
        size = FIRST_CHUNK  # the first chunk is small: its messages go out while the next is claimed
        if planning is not None:  # what is owed (an earlier sweep's leftovers too) is taken once planning owes
            await planning.news()
        while True:
            owed = await deps.transaction(lambda s: deliverable_ids(session=s, only=only, now=now))
            ids = [i for i in owed if i not in attempted]
            if not ids:
                if planning is None or planning.finished:
                    break
                await planning.news()
                continue
            attempted.update(ids)
            while ids:
                chunk, ids = ids[:size], ids[size:]
                for item in await claim(chunk):
                    await queue.put(item)
                size = CHUNK

    async def sender() -> None:
        while (item := await queue.get()) is not None:
            await outcomes.put(await _send(deps, item))

    async def recorder() -> None:
        while batch := await _next_batch(outcomes):
            await _record(deps, batch, now, admins, report)

    recording = asyncio.ensure_future(recorder())
    try:
        await asyncio.gather(claimer(), *(sender() for _ in range(senders)))
    finally:
        await outcomes.put(None)
        await recording


async def _next_batch(outcomes: asyncio.Queue[Outcome | None]) -> list[Outcome]:
    """The outcomes to record in one transaction: the next one, and what follows within
    RECORD_EVERY (at most CHUNK). Recording each send alone costs a transaction per message; the
    lease and the message metadata cover a crash in between. Empty when the senders are done."""
    first = await outcomes.get()
    if first is None:
        return []
    batch = [first]
    until = asyncio.get_running_loop().time() + RECORD_EVERY
    while len(batch) < CHUNK:
        try:
            outcome = await asyncio.wait_for(outcomes.get(), until - asyncio.get_running_loop().time())
        except TimeoutError:
            break
        if outcome is None:
            outcomes.put_nowait(None)  # the end, for the next call
            break
        batch.append(outcome)
    return batch


async def _send(deps: Deps, claimed: Claimed) -> Outcome:
    try:
        if claimed.in_doubt_since is not None:
            found = await find_sent(deps, claimed.recipient, claimed.outbox_id, since=claimed.in_doubt_since)
            if found is not None:
                return Outcome(claimed, channel=found[0], ts=found[1])
        if not claimed.blocks and not claimed.text:  # in doubt, not sent, and nothing left to say
            return Outcome(claimed, channel="", ts="")
        async with deps.pacer.slot():
            response = await deps.client.chat_postMessage(
                channel=claimed.recipient, text=claimed.text, blocks=claimed.blocks,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": claimed.outbox_id}},
            )  # fmt: skip
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
        return Outcome(claimed, error=failure_of(error))
    return Outcome(claimed, channel=response["channel"], ts=response["ts"])


def failure_of(error: Exception) -> str:
    """What a failed Web API call is recorded as: Slack's error ("channel_not_found") or its HTTP
    status, else (a timeout, a dropped connection: the outcome is unknown) TRANSPORT and the exception."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"http_{error.response.status_code}")
    return f"{TRANSPORT}{type(error).__name__}"


async def find_sent(deps: Deps, recipient: str, outbox_id: int, *, since: datetime) -> tuple[str, str] | None:
    """The (channel, ts) of the message this outbox row already posted, if it did: the reconciliation
    of a send whose process died before recording it, by the outbox id in the message's metadata."""
    channel = recipient
    if is_person_id(recipient):  # a DM sent to the user id: its channel is the IM with them
        channel = (await deps.client.conversations_open(users=recipient))["channel"]["id"]
    oldest = f"{(since - timedelta(minutes=1)).timestamp():.6f}"
    cursor = None
    while True:
        page = await deps.client.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
        )
        found: list[dict[str, Any]] = page.get("messages", [])
        for message in found:
            if _outbox_id_of(message) == outbox_id:
                return channel, str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def _outbox_id_of(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    return (metadata.get("event_payload") or {}).get("outbox_id")


async def _record(
    deps: Deps, outcomes: list[Outcome], now: datetime, admins: frozenset[str], report: DeliveryReport
) -> None:
    lease = deps.settings.outbox_lease
    failed = await deps.transaction(
        lambda s: record_chunk(session=s, outcomes=outcomes, now=now, admins=admins, lease=lease)
    )
    for failure in failed:
        log.warning("gave up on a message to %s", failure)
    report.failed += failed
    report.sent += sum(1 for o in outcomes if o.error is None)
    report.retry += sum(1 for o in outcomes if o.error is not None) - len(failed)
