"""Delivering what the outbox holds: claimed with a lease, paced, sent once, failures recorded.

A row is claimed (state `sending`, with a lease) in its own transaction before the Slack call and
marked `sent` with the message's channel and ts after it. A transient failure puts it back to
`pending` for the next sweep; a permanent one (the person is gone, say) marks it `failed` and owes
each admin a short report, without stopping the other sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from messages.blockkit import Rendered, blocks_json
from slackkit.context import Deps
from slackkit.delivery_outcomes import NOT_POSTED, Claimed, Outcome, failure_of, record_chunk
from slackkit.outbox_messages import Render, snapshots
from slackkit.sent_lookup import METADATA_EVENT, find_sent
from storage.calendars import in_working_time
from storage.models import Outbox
from storage.queries import claimable
from storage.types import SendState, machine_now

log = logging.getLogger(__name__)
CHUNK = 100
FIRST_CHUNK = 20
RECORD_EVERY = 0.25  # seconds: sends are recorded a batch per transaction, at least this often


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    retry: int = 0


def deliverable_ids(
    *, session: Session, limit: int = 10_000, only: list[int] | None = None, now: datetime | None = None
) -> list[int]:
    """Rows owed and not held; with `now`, none that waits for its recipient's working time. A thread
    reply waits for the message it replies to (which takes it along when it goes out)."""
    parent = aliased(Outbox)
    parent_sent = exists().where(col(parent.id) == col(Outbox.thread_of), col(parent.ts).is_not(None))
    query = select(Outbox.id).where(claimable(Outbox)).where(col(Outbox.thread_of).is_(None) | parent_sent)
    if now is not None:
        query = query.where(col(Outbox.not_before).is_(None) | (col(Outbox.not_before) <= now))
    if only is not None:
        query = query.where(col(Outbox.id).in_(only))
    return [i for i in session.exec(query.order_by(col(Outbox.id)).limit(limit)).all() if i is not None]


@dataclass(frozen=True)
class Taken:
    outbox_id: int
    kind: str
    recipient: str
    render: Render
    in_doubt_since: datetime | None = None
    thread_of: int | None = None
    thread: tuple[str, str] | None = None


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
    rows = in_working_time(session=session, rows=[*rows, *_replies_to(session, rows)], now=now)
    renders = snapshots(session, rows, now, answer_within)
    threads = _threads_of(session, rows)
    for message in rows:
        in_doubt = _in_doubt_since(message, lease)
        message.attempts += 1
        render = renders[message.id or 0]
        thread = threads.get(message.thread_of or 0)
        if (render is None or thread == ("", "")) and in_doubt is None:
            message.state = SendState.SENT  # nothing left to say, or its thread's message had nothing to say
        else:
            message.state, message.lease_until = SendState.SENDING, lease_until
            taken.append(Taken(
                message.id or 0, message.kind, message.recipient, render or _nothing, in_doubt, message.thread_of,
                thread))  # fmt: skip
        session.add(message)
    return taken


def _replies_to(session: Session, rows: Sequence[Outbox]) -> list[Outbox]:
    """The thread replies owed to these rows' messages (taken along: posted right after them)."""
    ids = [m.id for m in rows]
    query = select(Outbox).where(col(Outbox.thread_of).in_(ids), col(Outbox.id).not_in(ids), claimable(Outbox))
    return list(session.exec(query.with_for_update(skip_locked=True)).all()) if ids else []


def _threads_of(session: Session, rows: Sequence[Outbox]) -> dict[int, tuple[str, str]]:
    """(channel, ts) of each sent message some of these rows reply to."""
    parents = {m.thread_of for m in rows if m.thread_of is not None}
    if not parents:
        return {}
    query = select(Outbox.id, Outbox.channel, Outbox.ts).where(col(Outbox.id).in_(parents), col(Outbox.ts).is_not(None))
    return {i or 0: (channel or "", ts or "") for i, channel, ts in session.exec(query).all()}


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
    claimed: dict[int, Claimed] = {}
    for item in taken:
        rendered = item.render()
        blocks = blocks_json(rendered.blocks)
        one = Claimed(
            item.outbox_id, item.kind, item.recipient, rendered.text, blocks, item.in_doubt_since, item.thread
        )
        parent = claimed.get(item.thread_of or 0) if item.thread is None else None
        if parent is not None:  # its message goes out in this chunk: the reply goes right after it
            claimed[parent.outbox_id] = replace(parent, replies=(*parent.replies, one))
        else:
            claimed[item.outbox_id] = one
    return list(claimed.values())


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
        await deps.acks_first()  # a burst of requests is answered before the next chunk is claimed
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
            for outcome in await _send_with_replies(deps, item):
                await outcomes.put(outcome)

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


async def _send_with_replies(deps: Deps, claimed: Claimed) -> list[Outcome]:
    """Post the message, then the replies claimed with it in its thread. Replies of a message that
    did not go out are put back (`NOT_POSTED`): they go out with it when it does."""
    outcome = await _send(deps, claimed)
    if outcome.error is not None:
        return [outcome, *(Outcome(reply, error=NOT_POSTED) for reply in claimed.replies)]
    thread = (outcome.channel or "", outcome.ts or "")
    if thread == ("", ""):  # it had nothing left to say: nor have its replies
        return [outcome, *(Outcome(reply, channel="", ts="") for reply in claimed.replies)]
    return [outcome, *[await _send(deps, replace(reply, thread=thread)) for reply in claimed.replies]]


async def _send(deps: Deps, claimed: Claimed) -> Outcome:
    try:
        if claimed.in_doubt_since is not None:
            found = await find_sent(
                deps, claimed.recipient, claimed.outbox_id, since=claimed.in_doubt_since, thread=claimed.thread
            )
            if found is not None:
                return Outcome(claimed, channel=found[0], ts=found[1])
        if not claimed.blocks and not claimed.text:  # in doubt, not sent, and nothing left to say
            return Outcome(claimed, channel="", ts="")
        channel, thread_ts = claimed.thread or (claimed.recipient, None)
        async with deps.pacer.slot():
            response = await deps.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=claimed.text, blocks=claimed.blocks,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": claimed.outbox_id}},
            )  # fmt: skip
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
        return Outcome(claimed, error=failure_of(error))
    return Outcome(claimed, channel=response["channel"], ts=response["ts"])


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
