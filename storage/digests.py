"""Digest subscriptions and runs in the database.

A subscription's `next_at` is the start of its next period. The sweep turns each subscription whose
period has begun into one `digest_run` (unique per subscription and period, so a digest is posted
once across ticks, restarts and processes) and moves `next_at` on. Delivery then records the
summary's ts, each thread part and the chart as each goes out, so a retry continues where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.enums import Cadence
from domain.schedule import CheckinSchedule, cycle_at, zone
from storage.models import DigestRun, DigestSubscription
from storage.queries import claimable, record_audit
from storage.tree import UnitTree
from storage.types import SendState, machine_now

MAX_ATTEMPTS = 10
FIRST_SINCE = {
    Cadence.WEEKLY: timedelta(days=7),
    Cadence.BIWEEKLY: timedelta(days=14),
    Cadence.MONTHLY: timedelta(days=31),
}


class DigestRefused(Exception):
    pass


def _schedule(sub: DigestSubscription) -> CheckinSchedule:
    return CheckinSchedule(Cadence(sub.cadence), sub.weekday, sub.at)


def subscribe(
    *, session: Session, channel: str, unit_id: int, cadence: Cadence, weekday: int, at: time, actor: str,
    now: datetime, timezone: str | None = None,
) -> DigestSubscription:  # fmt: skip
    """Create (or change) the channel's digest of the unit; its first period starts at the next time."""
    tree = UnitTree.load(session=session)
    sub = session.exec(
        select(DigestSubscription).where(DigestSubscription.channel == channel, DigestSubscription.unit_id == unit_id)
    ).first() or DigestSubscription(channel=channel, unit_id=unit_id, created_by=actor, next_at=now)
    sub.cadence, sub.weekday, sub.at = cadence, weekday, at
    sub.timezone = timezone or tree.timezone_of(unit_id)
    sub.next_at = cycle_at(_schedule(sub), zone(sub.timezone), now).end
    session.add(sub)
    session.flush()
    record_audit(
        session=session, actor=actor, entity="unit", entity_key=str(unit_id), action="digest_subscribed",
        detail={"channel": channel, "cadence": cadence, "weekday": weekday, "at": at.isoformat()},
    )  # fmt: skip
    return sub


def unsubscribe(*, session: Session, subscription_id: int, actor: str) -> DigestSubscription:
    sub = session.get(DigestSubscription, subscription_id)
    if sub is None:
        raise DigestRefused(f"There is no digest number {subscription_id}: `/measure digest list` shows them.")
    for run in session.exec(select(DigestRun).where(DigestRun.subscription_id == subscription_id)).all():
        session.delete(run)
    session.delete(sub)
    record_audit(
        session=session, actor=actor, entity="unit", entity_key=str(sub.unit_id), action="digest_removed",
        detail={"channel": sub.channel, "subscription_id": subscription_id},
    )  # fmt: skip
    return sub


def subscriptions(*, session: Session) -> list[DigestSubscription]:
    return list(session.exec(select(DigestSubscription).order_by(col(DigestSubscription.id))).all())


def plan_digests(*, session: Session, now: datetime) -> int:
    """A run for each subscription whose period has begun; returns how many were created."""
    due = session.exec(
        select(DigestSubscription).where(col(DigestSubscription.next_at) <= now).with_for_update(skip_locked=True)
    ).all()
    created = 0
    for sub in due:
        cycle = cycle_at(_schedule(sub), zone(sub.timezone), now)
        previous = session.exec(
            select(col(DigestRun.period_start))
            .where(DigestRun.subscription_id == sub.id)
            .order_by(col(DigestRun.period_start).desc())
        ).first()
        since = previous or cycle.start - FIRST_SINCE[Cadence(sub.cadence)]
        try:
            with session.begin_nested():
                session.add(DigestRun(subscription_id=sub.id or 0, period_start=cycle.start, since=since))
                session.flush()
            created += 1
        except IntegrityError:
            pass  # this period's digest exists already
        sub.next_at = cycle.end
        session.add(sub)
    return created


@dataclass(frozen=True)
class RunToSend:
    run_id: int
    channel: str
    unit_id: int
    cadence: str
    since: datetime
    ts: str | None
    parts_sent: int
    chart_sent: bool
    detail_sent: bool


def claim_runs(*, session: Session, now: datetime, lease: timedelta) -> list[RunToSend]:
    """Digest runs owed and not held by another process, leased to this one."""
    query = (
        select(DigestRun, DigestSubscription)
        .join(DigestSubscription, col(DigestSubscription.id) == col(DigestRun.subscription_id))
        .where(claimable(DigestRun))
        .with_for_update(skip_locked=True, of=DigestRun)
    )
    claimed = []
    for run, sub in session.exec(query).all():
        run.state, run.lease_until, run.attempts = SendState.SENDING, machine_now() + lease, run.attempts + 1
        session.add(run)
        claimed.append(RunToSend(run.id or 0, sub.channel, sub.unit_id, sub.cadence, run.since or now, run.ts,
                                 run.parts_sent, run.chart_sent, run.detail_sent))  # fmt: skip
    return claimed


def record_progress(
    *, session: Session, run_id: int, ts: str | None = None, channel: str | None = None, parts_sent: int | None = None,
    chart_sent: bool | None = None, detail_sent: bool | None = None,
) -> None:  # fmt: skip
    run = session.get(DigestRun, run_id)
    assert run is not None
    run.ts, run.channel = ts or run.ts, channel or run.channel
    run.parts_sent = run.parts_sent if parts_sent is None else parts_sent
    run.chart_sent = run.chart_sent if chart_sent is None else chart_sent
    run.detail_sent = run.detail_sent if detail_sent is None else detail_sent
    session.add(run)


def finish_run(*, session: Session, run_id: int, now: datetime, error: str | None, permanent: bool) -> None:
    run = session.get(DigestRun, run_id)
    assert run is not None
    run.lease_until = None
    if error is None:
        run.state, run.sent_at, run.last_error = SendState.SENT, now, None
    else:
        run.last_error = error[:200]
        run.state = SendState.FAILED if permanent or run.attempts >= MAX_ATTEMPTS else SendState.PENDING
    session.add(run)
