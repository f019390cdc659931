"""Digests end to end: subscribed with a signed /measure command, posted by the sweep, read back from
the stand-in and compared with what the database says."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.standin.records import Message
from domain.enums import ImplStatus, Stage
from storage.models import AuditLog, DigestRun, DigestSubscription, Escalation, GateRequest, Measure, MeasureMonth, Unit
from tests.conftest import ADMIN, OWNER, SPONSOR, STRANGER, Bot
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import WED, tick, utc

CHANNEL = "C0OPS"
# Friday 2027-03-05 16:00 in Berlin (CET, UTC+1) is 15:00 UTC.
FRIDAY_16_BERLIN = utc(2027, 3, 5, 15, 0)


def eur(value: int, *, signed: bool = False) -> str:
    """An amount as an organization with the default settings (EUR, English) writes it: €1,250."""
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}€{abs(value):,}"


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def org_in_berlin(bot: Bot) -> None:
    with bot.session() as session:
        organization = session.exec(select(Unit).where(Unit.level == "organization")).one()
        organization.timezone = "Europe/Berlin"
        session.add(organization)


def setup_portfolio(bot: Bot) -> None:
    """Six measures in Ops: three decided or later (their value counts), with forecasts and actuals."""
    bot.clock.set(WED)
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        other = make_tree(session, names=("Acme", "Ops", "Logistics", "Fleet", "Trucks"))
        # The plan from the factory: 10k a month in 2027. Forecasts for some months; January has an
        # actual (closed by March), March one too (still open on 5 March, so not counted yet).
        for stage, forecast in ((Stage.DI3, 8_000), (Stage.DI4, 12_000), (Stage.DI5, None)):
            measure = make_measure(session, package=package, stage=stage, title=f"Decided {stage}", now=WED)
            for month in session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == measure.id)).all():
                month.actual = 9_000 if month.month in (date(2027, 1, 1), date(2027, 3, 1)) else None
                month.forecast = forecast if month.month >= date(2027, 2, 1) else None
                session.add(month)
        blocked = make_measure(session, package=other, stage=Stage.DI2, title="Truck routing", now=WED)
        blocked.blockers = "no data from the telematics vendor"
        make_measure(session, package=other, stage=Stage.DI1, title="Idle time", now=WED)
        make_measure(session, package=other, title="An idea", owner_id=None, now=WED)
    org_in_berlin(bot)


def channel_messages(bot: Bot) -> list[Message]:
    return list(bot.slack.state.messages.get(CHANNEL, []))


def figures_from_the_database(bot: Bot) -> tuple[int, int, int]:
    """Plan, forecast and actual to date for 2027 over DI3–DI5 on 5 March 2027 (January and February
    closed), computed here from the measure months, independently of the digest and of the domain."""
    closed = date(2027, 2, 1)
    with bot.session() as session:
        committed = [m for m in session.exec(select(Measure)).all() if m.stage in ("DI3", "DI4", "DI5")]
        plan = actual = forecast = 0
        for measure in committed:
            in_2027 = sa.extract("year", MeasureMonth.month) == 2027
            for m in session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == measure.id, in_2027)):
                plan += m.plan or 0
                if m.month <= closed and m.actual is not None:
                    actual += m.actual
                    forecast += m.actual
                else:
                    forecast += m.forecast if m.forecast is not None else m.plan or 0
    return plan, forecast, actual


def weighted_from_the_database(bot: Bot, weights: dict[str, int]) -> tuple[int, int, int]:
    """The 2027 forecast of every measure DI0–DI5 at its stage's weight, from the measure months and
    `weights` (independently of the digest and of the domain): (decided DI3–DI5 weighted, all
    stages weighted, all stages unweighted), each sum rounded half up once."""
    closed, decided, every, unweighted = date(2027, 2, 1), Decimal(0), Decimal(0), 0
    with bot.session() as session:
        for measure in session.exec(select(Measure)).all():
            forecast = 0
            for m in session.exec(select(MeasureMonth).where(MeasureMonth.measure_id == measure.id)):
                if m.month.year == 2027:
                    settled = m.month <= closed and m.actual is not None
                    forecast += m.actual if settled else (m.forecast if m.forecast is not None else m.plan or 0)
            share = Decimal(forecast * weights[measure.stage]) / 100
            decided += share if measure.stage in ("DI3", "DI4", "DI5") else 0
            every, unweighted = every + share, unweighted + forecast
    return int(decided.quantize(Decimal(1), ROUND_HALF_UP)), int(every.quantize(Decimal(1), ROUND_HALF_UP)), unweighted


async def test_a_digest_is_posted_once_at_its_time_in_the_organizations_timezone(bot: Bot) -> None:
    setup_portfolio(bot)
    await bot.client.command(ADMIN, "rules Ops weight-DI1=20 weight-DI3=40")  # the rest keep the defaults
    await bot.settle()
    assert "DI1 20%, DI2 25%, DI3 40%, DI4 90%" in bot.slack.responses(ADMIN)[-1]["text"]
    await bot.client.command(ADMIN, f"digest <#{CHANNEL}|ops> Ops weekly fri 16:00")
    await bot.settle()
    assert (
        "Digest 1" in bot.slack.responses(ADMIN)[-1]["text"]
        and "Europe/Berlin" in bot.slack.responses(ADMIN)[-1]["text"]
    )

    assert (await tick(bot, FRIDAY_16_BERLIN - timedelta(minutes=1))).digests_due == 0
    assert channel_messages(bot) == []
    report = await tick(bot, FRIDAY_16_BERLIN)
    assert (report.digests_due, report.digests.sent) == (1, 1)
    summary, *thread = channel_messages(bot)
    assert summary.thread_ts is None and thread and all(m.thread_ts == summary.ts for m in thread)
    assert len(summary.blocks) <= 50 and all(len(m.blocks) <= 50 for m in thread)
    # Ticks later in the period post nothing more.
    for minutes in (1, 60, 60 * 24):
        assert (await tick(bot, FRIDAY_16_BERLIN + timedelta(minutes=minutes))).digests.sent == 0
    assert len(channel_messages(bot)) == 1 + len(thread)

    # The figures are the database's.
    plan, forecast, actual = figures_from_the_database(bot)
    text = dumps(summary.blocks)
    # January settled by its actuals; DI5 has no forecast, so its plan counts; March's actual not yet.
    assert (plan, forecast, actual) == (360_000, 3 * 9_000 + 11 * (8_000 + 12_000 + 10_000), 27_000)
    shown = f"plan *{eur(plan)}* · forecast *{eur(forecast)}* · actual to date *{eur(actual)}*"
    assert f"{shown} · variance *{eur(forecast - plan, signed=True)}*" in text
    assert "3 of 6 measures" not in text and "4 of 6 measures" in text  # DI1–DI4 in progress
    # The forecasts at the portfolio's stage weights, beside the unweighted ones.
    weights = {"DI0": 0, "DI1": 20, "DI2": 25, "DI3": 40, "DI4": 90, "DI5": 100}
    decided, every, unweighted = weighted_from_the_database(bot, weights)
    assert (decided, every, unweighted) == (97_000 * 40 // 100 + 141_000 * 90 // 100 + 119_000, 338_700, 717_000)
    assert f"decided DI3–DI5 *{eur(decided)}* of forecast {eur(forecast)}" in text
    assert f"all stages DI0–DI5 *{eur(every)}* of forecast {eur(unweighted)}" in text
    assert "*4. What is blocking delivery?* 1 measure reports blockers" in text
    # Broken down by program in the thread, and the chart uploaded into the same thread.
    thread_text = dumps([m.blocks for m in thread])
    assert "By program" in thread_text and "Procurement" in thread_text and "Logistics" in thread_text
    [chart] = [m for m in thread if m.files]
    upload = bot.slack.state.uploads[chart.files[0]["id"]]
    assert upload["content"].startswith(b"\x89PNG") and upload["name"] == "value-chart.png"
    with bot.session() as session:
        run = session.exec(select(DigestRun)).one()
        assert (run.state, run.ts, run.chart_sent) == ("sent", summary.ts, True)
        assert run.period_start == FRIDAY_16_BERLIN

    # A week later: the next digest, with what changed since the last one.
    with bot.session() as session:
        measure = session.exec(select(Measure).where(Measure.title == "Idle time")).one()
        moved = json.dumps({"stage": ["DI1", "DI2"]})
        at = FRIDAY_16_BERLIN + timedelta(days=2)
        session.add(
            AuditLog(actor=OWNER, entity="measure", entity_key=measure.key, action="stage_changed", detail=moved, at=at)
        )
    assert (await tick(bot, FRIDAY_16_BERLIN + timedelta(days=7))).digests.sent == 1
    second = [m for m in channel_messages(bot) if m.thread_ts is None][-1]
    assert "passed a gate" in dumps(second.blocks) and "Changes since the last digest* (1)" in dumps(second.blocks)


async def test_a_unit_too_large_for_one_message_is_split_into_summary_and_thread(bot: Bot) -> None:
    """More measures than a bounded thread can list: summary, at most 12 parts, "and N more", and
    every measure in a spreadsheet attached to the thread."""
    COUNT = 600
    bot.clock.set(WED - timedelta(days=14))  # measures that were there before the digest was set up
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
        for number in range(COUNT):
            measure = make_measure(session, package=package, title=f"Measure {number} " + "x" * 150, now=WED,
                                   stage=Stage.DI3, monthly_plan={date(2027, 1, 1): 1_000})  # fmt: skip
            measure.impl_status = ImplStatus.OFF_TRACK
            measure.blockers = "waiting for the supplier " * 5
            session.add(measure)
    bot.clock.set(WED)
    await bot.client.command(ADMIN, f"digest {CHANNEL} Acme")
    await bot.settle()
    await tick(bot, utc(2027, 3, 5, 16))  # the organization has no timezone: 16:00 UTC
    summary, *thread = channel_messages(bot)
    for message in [summary, *thread]:
        assert len(message.blocks) <= 50 and (message.text or message.files)
        for block in message.blocks:
            assert len(block.get("text", {}).get("text", "")) <= 3000
    assert len([m for m in thread if not m.files]) <= 12  # and the chart and the spreadsheet
    listed = sum(len(re.findall(r"• \*M-\d+\*", dumps(m.blocks))) for m in thread)
    more = [int(n) for m in thread for n in re.findall(r"… and (\d+) more", dumps(m.blocks))]
    assert listed + sum(more) == COUNT and listed > 100 and sum(more) > 0
    assert f"{COUNT} of {COUNT} measures" in dumps(summary.blocks)
    assert "in the spreadsheet attached to the digest" in dumps([m.blocks for m in thread])
    # What the thread could not list is in a spreadsheet in the same thread: every measure, exact amounts.
    [sheet] = [f for m in thread for f in m.files if f["name"].endswith(".xlsx")]
    content = bot.slack.state.uploads[sheet["id"]]["content"]
    rows = list(load_workbook(BytesIO(content), read_only=True)["Measures"].iter_rows(values_only=True))
    plan = next(i for i, name in enumerate(rows[0]) if str(name).startswith("plan "))
    assert rows[0][:2] == ("key", "title") and str(rows[0][plan]).endswith("(EUR)")
    assert sorted(r[0] for r in rows[1:]) == sorted(f"M-{n}" for n in range(1, COUNT + 1))
    assert {r[plan] for r in rows[1:]} == {1_000} and {r[5] for r in rows[1:]} == {"off track"}
    with bot.session() as session:
        assert session.exec(select(DigestRun)).one().detail_sent


async def test_preview_answers_ephemerally_with_the_same_content(bot: Bot) -> None:
    setup_portfolio(bot)
    bot.clock.set(FRIDAY_16_BERLIN)
    await bot.client.command(STRANGER, "digest preview Ops")
    await bot.settle()
    replies = bot.slack.responses(STRANGER)
    assert replies and all(r["response_type"] == "ephemeral" for r in replies)
    plan, forecast, _actual = figures_from_the_database(bot)
    assert f"plan *{eur(plan)}* · forecast *{eur(forecast)}*" in dumps(replies[0]["blocks"])
    assert channel_messages(bot) == []  # nothing posted, nothing stored
    with bot.session() as session:
        assert session.exec(select(DigestSubscription)).all() == []


async def test_only_admins_subscribe_and_bad_input_stores_nothing(bot: Bot) -> None:
    setup_portfolio(bot)
    cases = [
        (SPONSOR, f"digest {CHANNEL} Ops", "Only admins"),
        (ADMIN, "digest #ops Ops", "Start with the channel"),
        (ADMIN, f"digest {CHANNEL} Nowhere", "There is no unit called “Nowhere”"),
        (ADMIN, f"digest {CHANNEL} Ops fortnightly xyz 25:00", "is not"),
        (ADMIN, f"digest {CHANNEL} Ops Mars/Olympus", "not a timezone"),
        (ADMIN, "digest remove 7", "There is no digest number 7"),
    ]
    for user, text, expected in cases:
        await bot.client.command(user, text)
        await bot.settle()
        assert expected in bot.slack.responses(user)[-1]["text"], text
    with bot.session() as session:
        assert session.exec(select(DigestSubscription)).all() == []
        assert session.exec(select(AuditLog).where(col(AuditLog.action).startswith("digest"))).all() == []
    await bot.client.command(ADMIN, f"digest {CHANNEL} Ops monthly mon 08:30 America/New_York")
    await bot.settle()
    await bot.client.command(ADMIN, "digest list")
    await bot.settle()
    assert "monthly on Mon 08:30 America/New_York" in bot.slack.responses(ADMIN)[-1]["text"]
    await bot.client.command(ADMIN, "digest remove 1")
    await bot.settle()
    with bot.session() as session:
        assert session.exec(select(DigestSubscription)).all() == []


async def test_a_digest_cut_short_goes_on_where_it_stopped_and_a_missing_channel_is_reported(bot: Bot) -> None:
    setup_portfolio(bot)
    await bot.client.command(ADMIN, f"digest {CHANNEL} Ops")
    await bot.settle()
    bot.slack.inject("chat.postMessage")  # the summary goes out…
    bot.slack.inject("chat.postMessage", error="service_unavailable")  # …its first thread part does not
    report = await tick(bot, FRIDAY_16_BERLIN)
    assert (report.digests.sent, report.digests.retry) == (0, 1)
    assert len(channel_messages(bot)) == 1
    report = await tick(bot, FRIDAY_16_BERLIN + timedelta(minutes=1))
    assert report.digests.sent == 1
    summaries = [m for m in channel_messages(bot) if m.thread_ts is None]
    assert len(summaries) == 1 and len(channel_messages(bot)) > 2  # the rest of the thread, not a second summary
    with bot.session() as session:
        run = session.exec(select(DigestRun)).one()
        assert (run.state, run.attempts, run.chart_sent) == ("sent", 2, True)

    # Next week the channel is gone: the run fails for good and the admins are told.
    await tick(bot, FRIDAY_16_BERLIN + timedelta(days=7, minutes=-1))  # (the week's check-in prompts go out)
    bot.slack.inject("chat.postMessage", error="channel_not_found")
    report = await tick(bot, FRIDAY_16_BERLIN + timedelta(days=7))
    assert report.digests.failed == [f"{CHANNEL}: channel_not_found"]
    assert any(f"<#{CHANNEL}>" in m.text and "channel_not_found" in m.text for m in bot.slack.dms(ADMIN))
    assert (await tick(bot, FRIDAY_16_BERLIN + timedelta(days=7, minutes=1))).digests.failed == []


async def test_a_preview_with_more_parts_than_a_response_url_takes_uses_it_five_times(bot: Bot) -> None:
    """Slack takes five messages per response URL (the stand-in refuses a sixth): the summary, three
    thread parts and a line saying how many more the real digest's thread has."""
    setup_portfolio(bot)
    bot.clock.set(FRIDAY_16_BERLIN)
    with bot.session() as session:
        package = session.exec(select(Unit).where(Unit.name == "Packaging")).one()
        for n in range(10):  # ten more changes, approvals waiting and open escalations: a part each
            measure = make_measure(session, package=package, title=f"Burst {n}", now=FRIDAY_16_BERLIN)
            session.add(
                GateRequest(
                    measure_id=measure.id or 0,
                    open_for=measure.id,
                    kind="advance",
                    from_stage="DI1",
                    to_stage="DI2",
                    requested_by=OWNER,
                    requested_at=FRIDAY_16_BERLIN,
                    step_started_at=FRIDAY_16_BERLIN,
                    chain=json.dumps([["sponsor", SPONSOR]]),
                )
            )
            session.add(Escalation(measure_id=measure.id or 0, cause="shortfall", active_key=f"{measure.id}:shortfall",
                                   rung=1, rung_started_at=FRIDAY_16_BERLIN, raised_at=FRIDAY_16_BERLIN))  # fmt: skip
    await bot.client.command(STRANGER, "digest preview Ops")
    await bot.settle()
    replies = bot.slack.responses(STRANGER)
    assert len(replies) == 5, [r["text"] for r in replies]
    assert (
        replies[-1]["text"].startswith("… ")
        and "more detail messages in the real digest's thread" in replies[-1]["text"]
    )
