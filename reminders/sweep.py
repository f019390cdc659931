"""The sweep: everything scheduled that is due at `now`, done once. `tick` and the live scheduler
both call `sweep`, so what `python -m bot tick --now …` does is what production does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from reminders.digest_delivery import DigestReport, deliver_digests
from slackkit.context import Deps
from slackkit.delivery import DeliveryReport, Planning, deliver
from slackkit.directory import sync_directory
from slackkit.escalation_copies import refresh_stale
from storage.api_tokens import REPLAYS_KEPT, forget_replays
from storage.checkin_cycles import BATCH, FIRST_BATCH, open_cycles, plan_overdue, plan_prompts, plan_reminders
from storage.digests import plan_digests
from storage.escalations import RulesReport, sweep_escalations
from storage.events import forget_old_events
from storage.gate_requests import plan_gate_aging
from storage.pending_imports import forget_imports
from storage.retention import optimize_sqlite, prune_outbox

log = logging.getLogger(__name__)
_LAST_OPTIMIZED: dict[int, datetime] = {}  # engine -> when this process last ran SQLite's PRAGMA optimize


@dataclass
class SweepReport:
    cycles_opened: int = 0
    prompts: int = 0
    reminders: int = 0
    overdue: int = 0
    approvals_aged: int = 0
    escalations: RulesReport = field(default_factory=RulesReport)
    digests_due: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    digests: DigestReport = field(default_factory=DigestReport)
    people_listed: int | None = None  # when the workspace's people were listed in this sweep
    pruned: int = 0  # sent messages nothing can update any more, deleted (storage/retention.py)

    def summary(self) -> str:
        d = self.delivery
        return (
            f"cycles opened {self.cycles_opened}, prompts {self.prompts}, reminders {self.reminders}, "
            f"overdue {self.overdue}, approvals aged {self.approvals_aged}, escalations raised "
            f"{self.escalations.raised} resolved {self.escalations.resolved} climbed {self.escalations.climbed}; "
            f"sent {d.sent}, failed {len(d.failed)}, to retry {d.retry}; digests due {self.digests_due}, "
            f"posted {self.digests.sent}, failed {len(self.digests.failed)}"
        )


async def sweep(deps: Deps, *, now: datetime) -> SweepReport:
    """Plan what is owed at `now` and deliver it; delivery starts with the first planned batch."""
    report = SweepReport()
    progress = Planning()
    planning = asyncio.ensure_future(_plan(deps, now, report, progress))
    planning.add_done_callback(lambda _: progress.finish())
    try:
        report.delivery = await deliver(deps, now=now, planning=progress)
    finally:
        await planning  # raises what planning raised
    await deps.acks_first()
    await refresh_stale(deps)
    await deps.acks_first()
    listing = await sync_directory(deps, now=now)  # after delivery: it never delays a prompt
    report.people_listed = listing.listed if listing else None
    await deps.acks_first()
    report.digests = await deliver_digests(deps, now=now)
    if report.digests.failed:  # the admins' reports of digests that could not be posted
        await deliver(deps, now=now)
    return report


async def _plan(deps: Deps, now: datetime, report: SweepReport, progress: Planning) -> None:
    """Each step one transaction; between steps, requests waiting for their ack go first (a step
    holds the GIL in its thread, and would slow every ack of a burst that arrives meanwhile)."""
    settings = deps.settings
    if await _open_batch(deps, now, report, FIRST_BATCH, progress):  # small: its prompts go out at once
        while await _open_batch(deps, now, report, BATCH, progress):
            pass
    keep = settings.outbox_retention
    steps: list[Callable[[Session], Any]] = [
        lambda s: plan_reminders(session=s, now=now, after=settings.reminder_after),
        lambda s: plan_overdue(session=s, now=now, after=settings.overdue_after),
        lambda s: forget_old_events(session=s, now=now),
        lambda s: plan_gate_aging(session=s, now=now, remind_after=settings.approval_reminder_after,
                                  report_after=settings.approval_report_after),
        lambda s: plan_digests(session=s, now=now),
        lambda s: sweep_escalations(session=s, now=now, approval_after=settings.approval_report_after),
        lambda s: prune_outbox(session=s, now=now, keep=keep),
        lambda s: forget_imports(session=s, now=now, keep=timedelta(days=7)),  # a checked file not acted on
        lambda s: forget_replays(session=s, now=now, keep=REPLAYS_KEPT),  # the API's idempotent answers
    ]  # fmt: skip
    done = []
    for step in steps:
        await deps.acks_first()
        done.append(await deps.transaction(step))
    (report.reminders, report.overdue, _forgotten, report.approvals_aged, report.digests_due, report.escalations,
     report.pruned, _imports, _replays) = done  # fmt: skip
    if _LAST_OPTIMIZED.get(id(deps.engine), datetime.min.replace(tzinfo=UTC)) <= now - timedelta(days=1):
        await deps.transaction(lambda s: optimize_sqlite(session=s))
        _LAST_OPTIMIZED[id(deps.engine)] = now


async def _open_batch(deps: Deps, now: datetime, report: SweepReport, limit: int, progress: Planning) -> bool:
    """Open the cycles of up to `limit` due measures, owner by owner, and owe their prompts at once;
    True while there may be more."""
    await deps.acks_first()
    fetched, opened = await deps.transaction(lambda s: open_cycles(session=s, now=now, limit=limit))
    report.cycles_opened += opened
    while True:
        claimed, prompts = await deps.transaction(lambda s: plan_prompts(session=s, now=now, limit=limit))
        report.prompts += prompts
        if prompts:
            progress.owed()
            await asyncio.sleep(0)  # delivery, woken, starts its transaction before our next one
        if claimed < limit:
            return fetched >= limit


def start_scheduler(deps: Deps) -> AsyncIOScheduler:
    """Run the sweep every minute (one at a time; a missed minute is not run twice)."""

    async def run() -> None:
        try:
            report = await sweep(deps, now=deps.clock())
        except Exception:
            log.exception("the sweep failed; it runs again in a minute")
            return
        if report.cycles_opened or report.delivery.sent or report.delivery.failed or report.digests_due:
            log.info("sweep: %s", report.summary())

    scheduler = AsyncIOScheduler()
    scheduler.add_job(run, IntervalTrigger(minutes=1), max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler
