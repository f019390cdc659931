"""What a send came to, recorded: sent (with its channel and ts), put back for the next sweep, or
given up on (a permanent error, or too many attempts), which owes each admin a short report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import Session, col

from storage.models import CheckIn, Outbox
from storage.outbox import Kind, owe_failure_reports
from storage.types import SendState, machine_now

NOT_POSTED = "thread_not_posted"  # a reply whose thread's message did not go out: it waits for it
TRANSPORT = "transport: "  # last_error of a call whose outcome is unknown (a timeout, a dropped connection)
MAX_ATTEMPTS = 20
PERMANENT = frozenset(
    {
        "user_not_found", "account_inactive", "channel_not_found", "is_archived", "cannot_dm_bot",
        "user_disabled", "not_in_channel", "invalid_blocks", "msg_too_long", "no_text", "invalid_arguments",
        "restricted_action",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Claimed:
    outbox_id: int
    kind: str
    recipient: str
    text: str
    blocks: list[dict[str, object]]
    in_doubt_since: datetime | None = None  # claimed before by a process that did not record the outcome
    thread: tuple[str, str] | None = None  # (channel, ts) of the message it replies to, when that was sent
    replies: tuple[Claimed, ...] = ()  # claimed with it: posted in its thread right after it


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    channel: str | None = None
    ts: str | None = None
    error: str | None = None


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
    if error == NOT_POSTED:  # not tried: it waits for its thread's message, or fails quietly with it
        parent = session.get(Outbox, message.thread_of or 0)
        message.attempts -= 1
        message.state = SendState.FAILED if parent is None or parent.state == SendState.FAILED else SendState.PENDING
        message.lease_until, message.last_error = None, error
        session.add(message)
        return False
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


def failure_of(error: Exception) -> str:
    """What a failed Web API call is recorded as: Slack's error ("channel_not_found") or its HTTP
    status, else (a timeout, a dropped connection: the outcome is unknown) TRANSPORT and the exception."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"http_{error.response.status_code}")
    return f"{TRANSPORT}{type(error).__name__}"
