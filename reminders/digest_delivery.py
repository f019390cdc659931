"""Posting digests: the summary, its thread, then the chart (files_upload_v2), each step recorded as
it is done so a retry after a failure or a crash goes on from there instead of posting it twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlmodel import Session

from messages.blockkit import blocks_json
from messages.chart import value_chart
from messages.digest import render_digest
from messages.workbook import measures_workbook
from slackkit.context import Deps
from slackkit.delivery_outcomes import PERMANENT, failure_of
from storage.digest_data import DigestData, load_digest
from storage.digest_rollup import months_of
from storage.digests import RunToSend, claim_runs, finish_run, record_progress
from storage.measure_rows import measure_rows
from storage.outbox import owe_failure_reports

log = logging.getLogger(__name__)
JsonBlocks = list[dict[str, object]]


@dataclass
class DigestReport:
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    retry: int = 0


@dataclass(frozen=True)
class BuiltDigest:
    """A digest rendered and serialised (in a worker process when there is one)."""

    summary: tuple[str, JsonBlocks]
    thread: list[tuple[str, JsonBlocks]]
    chart: bytes | None
    chart_title: str
    cut: int  # items the thread does not show: then every measure is attached as a spreadsheet


def build_digest(data: DigestData, cadence: str) -> BuiltDigest:
    digest = render_digest(data, cadence=cadence)
    title = f"{data.unit_name}: plan vs forecast vs actual, {data.year}"
    return BuiltDigest(
        (digest.summary.text, blocks_json(digest.summary.blocks)),
        [(part.text, blocks_json(part.blocks)) for part in digest.thread],
        value_chart(months, title=title, period=data.period, closed_through=data.closed_through, style=data.style)
        if (months := months_of(data.money, closed_through=data.closed_through))
        else None,
        title,
        digest.cut,
    )


async def deliver_digests(deps: Deps, *, now: datetime) -> DigestReport:
    report = DigestReport()
    admins = deps.settings.admin_user_ids
    lease = deps.settings.outbox_lease
    for run in await deps.transaction(lambda s: claim_runs(session=s, now=now, lease=lease)):
        error = await _post(deps, run, now)
        permanent = error is not None and error in PERMANENT
        await deps.transaction(partial(_finish, run=run, now=now, error=error, permanent=permanent, admins=admins))
        if error is None:
            report.sent += 1
        elif permanent:
            report.failed.append(f"{run.channel}: {error}")
        else:
            report.retry += 1
    return report


def _finish(
    session: Session, *, run: RunToSend, now: datetime, error: str | None, permanent: bool, admins: frozenset[str]
) -> None:
    finish_run(session=session, run_id=run.run_id, now=now, error=error, permanent=permanent)
    if permanent:
        log.warning("gave up on the digest for %s: %s", run.channel, error)
        owe_failure_reports(
            session=session, key=f"digest:{run.run_id}", recipient=run.channel, kind="digest", error=error or "",
            admins=admins,
        )  # fmt: skip


async def _attach_detail(deps: Deps, run: RunToSend, now: datetime, channel: str, ts: str) -> None:
    """Every measure of the unit as a spreadsheet in the thread (what the bounded thread could not list)."""
    rows = await deps.read(lambda s: measure_rows(session=s, unit_id=run.unit_id, now=now))
    book = await deps.offload(measures_workbook, rows)
    title = f"{rows.unit_name}: every measure ({len(rows.rows)}), {rows.period}"
    async with deps.pacer.slot():
        await deps.client.files_upload_v2(
            channel=channel, thread_ts=ts, file=book, filename=f"{_slug(rows.unit_name)}-measures.xlsx", title=title,
        )  # fmt: skip
    await deps.transaction(_progress(run, detail_sent=True))


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split()) or "unit"


def _progress(run: RunToSend, **done: Any) -> Callable[[Session], None]:
    return lambda session: record_progress(session=session, run_id=run.run_id, **done)


async def _post(deps: Deps, run: RunToSend, now: datetime) -> str | None:
    """Post what is still owed of the run; None when all went out, else Slack's error."""
    data = await deps.transaction(lambda s: load_digest(session=s, unit_id=run.unit_id, now=now, since=run.since))
    built = await deps.offload(build_digest, data, run.cadence)
    channel, ts = run.channel, run.ts
    try:
        if ts is None:
            text, blocks = built.summary
            async with deps.pacer.slot():
                response = await deps.client.chat_postMessage(channel=run.channel, text=text, blocks=blocks)
            channel, ts = response["channel"], response["ts"]
            await deps.transaction(_progress(run, ts=ts, channel=channel))
        for index in range(run.parts_sent, len(built.thread)):
            text, blocks = built.thread[index]
            async with deps.pacer.slot():
                await deps.client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=blocks)
            await deps.transaction(_progress(run, parts_sent=index + 1))
        if built.chart is not None and not run.chart_sent:
            async with deps.pacer.slot():
                await deps.client.files_upload_v2(
                    channel=channel, thread_ts=ts, file=built.chart, filename="value-chart.png",
                    title=built.chart_title, alt_txt=built.chart_title,
                )  # fmt: skip
            await deps.transaction(_progress(run, chart_sent=True))
        if built.cut and not run.detail_sent:
            await _attach_detail(deps, run, now, channel, ts)
    except (SlackApiError, aiohttp.ClientError, TimeoutError, SlackRequestError) as error:
        return failure_of(error)
    return None
