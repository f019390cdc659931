"""Check-in cycles end to end: the sweep (what `tick` runs), the stand-in, signed clicks and modals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import time, timedelta
from typing import Any

from sqlmodel import select

from domain.enums import ImplStatus, PotentialStatus, Stage
from messages.checkin import window_text
from messages.ids import Action, Callback, Field
from messages.payloads import CheckinAnswer, CheckinRef
from storage.measures import draft_from_measure, update_measure
from storage.models import AuditLog, CheckIn, Measure, MeasureMonth, Outbox
from storage.queries import get_measure
from tests.conftest import ADMIN, CONTROLLER, OWNER, SPONSOR, Bot
from tests.playbook import (
    NY_MON_9,
    TOKYO_MON_9,
    WED,
    button_value,
    message_of,
    prompt_of,
    setup_measures,
    tick,
    utc,
)


async def test_each_owner_is_prompted_at_their_own_nine_across_the_dst_change(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "New York measure"), (SPONSOR, "Tokyo measure"))
    assert (await tick(bot, TOKYO_MON_9 - timedelta(minutes=1))).delivery.sent == 0
    await tick(bot, TOKYO_MON_9)
    assert len(prompts_to(bot, SPONSOR)) == 1 and prompts_to(bot, OWNER) == []
    assert (await tick(bot, NY_MON_9 - timedelta(minutes=1))).delivery.sent == 0
    report = await tick(bot, NY_MON_9)
    assert report.delivery.sent == 1 and len(prompts_to(bot, OWNER)) == 1
    # A second tick at the same instant sends nothing.
    assert (await tick(bot, NY_MON_9)).delivery.sent == 0
    # New York moved to daylight time on 2027-03-14: 09:00 is now 13:00 UTC.
    assert (await tick(bot, utc(2027, 3, 15, 12, 59))).prompts == 1  # Tokyo's next cycle (00:00 UTC)
    assert len(prompts_to(bot, OWNER)) == 1 and len(prompts_to(bot, SPONSOR)) == 2
    assert (await tick(bot, utc(2027, 3, 15, 13, 0))).prompts == 1
    assert len(prompts_to(bot, OWNER)) == 2
    with bot.session() as session:
        starts = sorted(c.cycle_start for c in session.exec(select(CheckIn).where(CheckIn.owner_id == OWNER)).all())
    assert starts == [utc(2027, 3, 8, 14), utc(2027, 3, 15, 13)]
    # Sent to the user id (Slack opens the DM), never through conversations.open.
    assert {c.args["channel"] for c in bot.slack.calls("chat.postMessage")} == {OWNER, SPONSOR}
    assert bot.slack.calls("conversations.open") == []


def prompts_to(bot: Bot, user: str) -> list[Any]:
    return [m for m in bot.slack.dms(user) if m.text.startswith("Check-in:")]


async def test_one_dm_per_owner_lists_all_their_due_measures(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "First"), (OWNER, "Second"), (OWNER, "Third"))
    report = await tick(bot, NY_MON_9)
    assert report.cycles_opened == 3 and report.prompts == 1 and report.delivery.sent == 1
    prompt = prompt_of(bot, OWNER)
    text = json.dumps(prompt["blocks"])
    assert all(t in text for t in ("First", "Second", "Third"))
    assert prompt["text"].startswith("Check-in: 3 due")
    assert "<!date^" in text and len(prompt["blocks"]) <= 50
    # Each measure with its fiscal year's figures, by the money definitions (docs/money.md).
    assert json.dumps(prompt["blocks"], ensure_ascii=False).count("2027: forecast €120,000 of €120,000 plan") == 3


async def test_a_prompt_missed_while_the_bot_was_down_is_sent_once_when_it_is_back(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Missed"))
    await tick(bot, NY_MON_9 + timedelta(days=2))  # down from before Monday until Wednesday
    await tick(bot, NY_MON_9 + timedelta(days=2, minutes=1))
    assert len(bot.slack.dms(OWNER)) == 1
    with bot.session() as session:
        checkin = session.exec(select(CheckIn)).one()
        assert checkin.cycle_start == NY_MON_9  # this cycle, not a new one


async def test_on_track_click_records_the_answer_and_updates_the_dm_in_place(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    await tick(bot, NY_MON_9)
    prompt = prompt_of(bot, OWNER)
    bot.clock.set(NY_MON_9 + timedelta(hours=1))
    reply = await bot.client.click(
        OWNER, Action.CHECKIN_ON_TRACK, button_value(prompt, Action.CHECKIN_ON_TRACK), message=prompt
    )
    assert reply.status == 200
    await bot.settle()
    with bot.session() as session:
        checkin = session.exec(select(CheckIn)).one()
        assert (checkin.status, checkin.impl_status, checkin.answered_by) == ("answered", ImplStatus.ON_TRACK, OWNER)
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and measure.impl_status == ImplStatus.ON_TRACK
        assert session.exec(select(AuditLog.action).where(AuditLog.action == "checkin_answered")).all() == [
            "checkin_answered"
        ]
    updates = bot.slack.calls("chat.update")
    assert len(updates) == 1 and (updates[0].args["channel"], updates[0].args["ts"]) == (
        prompt["channel"],
        prompt["ts"],
    )
    updated = bot.slack.dms(OWNER)[0]
    assert updated.updated == 1 and "Recorded" in json.dumps(updated.blocks)
    # The owner can still change the answer until the cycle closes: the buttons are still there.
    assert any(b["type"] == "actions" for b in updated.blocks)


async def test_the_update_modal_records_forecasts_and_derives_potential_status(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))  # plan 10k a month in 2027: 120k for the year
    await tick(bot, NY_MON_9)
    prompt = prompt_of(bot, OWNER)
    await bot.client.click(OWNER, Action.CHECKIN_UPDATE, button_value(prompt, Action.CHECKIN_UPDATE), message=prompt)
    await bot.settle()
    view = bot.slack.last_view(OWNER)
    assert view["callback_id"] == Callback.CHECKIN
    values = {
        Field.STATUS: ImplStatus.ON_TRACK, Field.FORECAST_MONTH: "9k", Field.FORECAST_YEAR: "100k",
        Field.ACTUAL_LAST_MONTH: "8500", Field.BLOCKERS: "waiting for legal", Field.EVIDENCE_LINK: "https://wiki.example/m1",
        Field.COMMENT: "forecast trimmed",
    }  # fmt: skip
    reply = await bot.client.submit(OWNER, view, values)
    assert reply.status == 200 and reply.text == ""  # closes the modal
    await bot.settle()
    with bot.session() as session:
        checkin = session.exec(select(CheckIn)).one()
        # 100k against 120k planned: 16.7% short, within twice the 10% tolerance.
        assert (checkin.forecast_year, checkin.potential_status) == (100_000, PotentialStatus.AT_RISK)
        measure = session.exec(select(Measure)).one()
        assert (measure.potential_status, measure.forecast_year) == (PotentialStatus.AT_RISK, 100_000)
        months = {m.month.month: (m.forecast, m.actual) for m in session.exec(select(MeasureMonth)).all()}
        assert months[3][0] == 9_000 and months[2][1] == 8_500
        # The year forecast became monthly forecasts for April to December (docs/money.md): what
        # January (its plan), February (its actual) and March (its forecast) bring is kept, and the
        # rest, 100k - 27.5k, is spread in proportion to the plan.
        assert sum(months[m][0] or 0 for m in range(4, 13)) == 100_000 - 10_000 - 8_500 - 9_000
        assert months[1][0] is None
    assert "Recorded" in json.dumps(bot.slack.dms(OWNER)[0].blocks)
    assert "2027: forecast €100,000 of €120,000 plan" in json.dumps(bot.slack.dms(OWNER)[0].blocks, ensure_ascii=False)
    await bot.client.command(OWNER, "show M-1")
    await bot.settle()
    card = json.dumps(bot.slack.responses(OWNER)[-1]["blocks"], ensure_ascii=False)
    assert "*Value 2027* — plan €120,000 · forecast €100,000 · actual to date €8,500" in card


async def test_a_worse_status_needs_a_comment(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    await tick(bot, NY_MON_9)
    first = prompt_of(bot, OWNER)
    await bot.client.click(OWNER, Action.CHECKIN_ON_TRACK, button_value(first, Action.CHECKIN_ON_TRACK), message=first)
    await bot.settle()
    await tick(bot, utc(2027, 3, 15, 13))  # next cycle
    second = bot.slack.dms(OWNER)[-1]
    message = {"channel": second.channel, "ts": second.ts, "blocks": second.blocks}
    # One click on "off track" is worse than last time: the modal opens instead, asking why.
    await bot.client.click(
        OWNER, Action.CHECKIN_OFF_TRACK, button_value(message, Action.CHECKIN_OFF_TRACK), message=message
    )
    await bot.settle()
    view = bot.slack.last_view(OWNER)
    assert "worse than last time" in json.dumps(view)
    body = (await bot.client.submit(OWNER, view, {Field.STATUS: ImplStatus.OFF_TRACK})).json()
    assert body == {"response_action": "errors", "errors": {Field.COMMENT: "A status got worse: say why in a comment."}}
    with bot.session() as session:
        latest = session.exec(select(CheckIn).order_by(CheckIn.id.desc())).first()  # type: ignore[union-attr]
        assert latest is not None and latest.status == "pending"
    reply = await bot.client.submit(
        OWNER, view, {Field.STATUS: ImplStatus.OFF_TRACK, Field.COMMENT: "supplier went bust"}
    )
    assert reply.text == ""
    with bot.session() as session:
        assert session.exec(select(Measure)).one().impl_status == ImplStatus.OFF_TRACK


async def test_buttons_refuse_other_people_and_closed_cycles(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    await tick(bot, NY_MON_9)
    prompt = prompt_of(bot, OWNER)
    value = button_value(prompt, Action.CHECKIN_ON_TRACK)
    await bot.client.click(SPONSOR, Action.CHECKIN_ON_TRACK, value, message=prompt)  # forwarded to the sponsor
    await bot.settle()
    assert "Only the owner of M-1" in bot.slack.responses(SPONSOR)[-1]["text"]
    bot.clock.set(utc(2027, 3, 15, 13))  # the cycle closed
    await bot.client.click(OWNER, Action.CHECKIN_ON_TRACK, value, message=prompt)
    await bot.settle()
    assert "has closed" in bot.slack.responses(OWNER)[-1]["text"]
    forged = CheckinAnswer(checkin_id=999, status=ImplStatus.ON_TRACK).dump()
    await bot.client.click(OWNER, Action.CHECKIN_ON_TRACK, forged, message=prompt)
    await bot.settle()
    assert "no longer exists" in bot.slack.responses(OWNER)[-1]["text"]
    with bot.session() as session:
        assert session.exec(select(CheckIn)).one().status == "pending"
    assert bot.slack.calls("chat.update") == []


async def test_reminder_after_24h_sponsor_notice_after_48h_and_none_when_answered(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Unanswered"), (CONTROLLER, "Answered"))
    await tick(bot, utc(2027, 3, 8, 14))  # both New York (owner) and Paris (controller) are due by then
    controller_prompt = prompt_of(bot, CONTROLLER)
    await bot.client.click(
        CONTROLLER,
        Action.CHECKIN_ON_TRACK,
        button_value(controller_prompt, Action.CHECKIN_ON_TRACK),
        message=controller_prompt,
    )
    await bot.settle()
    with bot.session() as session:
        prompted_at = session.exec(select(CheckIn.prompted_at).where(CheckIn.owner_id == OWNER)).one()
    assert prompted_at == utc(2027, 3, 8, 14)

    assert (await tick(bot, prompted_at + timedelta(hours=23, minutes=59))).reminders == 0
    assert (await tick(bot, prompted_at + timedelta(hours=24))).reminders == 1
    assert (await tick(bot, prompted_at + timedelta(hours=25))).reminders == 0
    owner_dms = bot.slack.dms(OWNER)
    assert len(owner_dms) == 2 and "Reminder" in owner_dms[1].text and "M-1" in owner_dms[1].text
    assert len(bot.slack.dms(CONTROLLER)) == 1  # answered: no reminder

    assert (await tick(bot, prompted_at + timedelta(hours=47))).overdue == 0
    assert (await tick(bot, prompted_at + timedelta(hours=48))).overdue == 1
    await tick(bot, prompted_at + timedelta(hours=49))
    sponsor_dms = bot.slack.dms(SPONSOR)
    assert len(sponsor_dms) == 1 and "Check-in overdue" in sponsor_dms[0].text and "M-1" in sponsor_dms[0].text
    assert "M-2" not in sponsor_dms[0].text


async def test_skip_and_away_are_honoured(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Skipped"), (CONTROLLER, "Away"))
    await bot.client.command(CONTROLLER, "away 2027-03-20")
    await bot.settle()
    assert "away until" in bot.slack.responses(CONTROLLER)[-1]["text"]
    await tick(bot, NY_MON_9)
    assert bot.slack.dms(CONTROLLER) == []  # away: no prompt
    prompt = prompt_of(bot, OWNER)
    await bot.client.click(OWNER, Action.CHECKIN_SKIP, button_value(prompt, Action.CHECKIN_SKIP), message=prompt)
    await bot.settle()
    with bot.session() as session:
        statuses = {c.owner_id: (c.status, c.skip_reason) for c in session.exec(select(CheckIn)).all()}
    assert statuses == {OWNER: ("skipped", "owner"), CONTROLLER: ("skipped", "away")}
    for hours in (24, 48):
        report = await tick(bot, NY_MON_9 + timedelta(hours=hours))
        assert (report.reminders, report.overdue) == (0, 0)
    assert len(bot.slack.dms(OWNER)) == 1 and bot.slack.dms(SPONSOR) == []
    # Back after the away date: prompted again at the next cycle.
    await tick(bot, utc(2027, 3, 22, 8))  # Paris 09:00
    assert len(bot.slack.dms(CONTROLLER)) == 1


async def test_429_delays_but_neither_loses_nor_doubles_a_prompt(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Rate limited"))
    bot.slack.inject("chat.postMessage", status=429, retry_after=1, times=2)
    report = await tick(bot, NY_MON_9)
    assert report.delivery.sent == 1
    assert len(bot.slack.calls("chat.postMessage")) == 3 and len(bot.slack.dms(OWNER)) == 1


async def test_a_gone_owner_is_recorded_and_reported_and_the_others_still_get_theirs(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Gone"), (CONTROLLER, "Here"))
    bot.slack.deactivate(OWNER)
    report = await tick(bot, NY_MON_9)
    assert report.delivery.failed == [f"{OWNER}: account_inactive"]
    assert len(bot.slack.dms(CONTROLLER)) == 1
    with bot.session() as session:
        failed = session.exec(select(Outbox).where(Outbox.state == "failed")).one()
        assert (failed.recipient, failed.last_error) == (OWNER, "account_inactive")
    admin_dms = bot.slack.dms(ADMIN)
    assert len(admin_dms) == 1 and OWNER in admin_dms[0].text and "account_inactive" in admin_dms[0].text
    assert (await tick(bot, NY_MON_9 + timedelta(minutes=1))).delivery.sent == 0  # not tried again


async def test_a_transient_failure_is_retried_on_the_next_sweep(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Flaky"))
    bot.slack.inject("chat.postMessage", status=500, times=3)  # more than the client's own retries
    report = await tick(bot, NY_MON_9)
    assert (report.delivery.sent, report.delivery.retry) == (0, 1)
    assert bot.slack.dms(OWNER) == []
    report = await tick(bot, NY_MON_9 + timedelta(minutes=1))
    assert report.delivery.sent == 1 and len(bot.slack.dms(OWNER)) == 1


async def test_ideas_and_measures_on_hold_get_no_check_ins(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Idea"), stage=Stage.DI0)
    with bot.session() as session:
        assert session.exec(select(Measure.next_checkin_at)).one() is None
    assert (await tick(bot, NY_MON_9)).cycles_opened == 0


async def test_changing_the_cadence_moves_the_next_check_in(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Moves"))
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
        assert measure.next_checkin_at == NY_MON_9
        draft = replace(draft_from_measure(measure), checkin_time=time(15, 30), checkin_weekday=2)
        update_measure(session=session, measure=measure, draft=draft, actor=OWNER, now=WED)
    with bot.session() as session:
        # Wednesday 15:30 in New York is still to come on that Wednesday (12:00 UTC is 07:00 there).
        assert session.exec(select(Measure.next_checkin_at)).one() == utc(2027, 3, 3, 20, 30)


async def test_the_away_command_validates_its_date(bot: Bot) -> None:
    bot.clock.set(WED)
    for text, expected in (
        ("away", "Say until when"),
        ("away soon", "is not a date"),
        ("away 2027-01-01", "has passed"),
    ):
        await bot.client.command(OWNER, text)
        await bot.settle()
        assert expected in bot.slack.responses(OWNER)[-1]["text"]
    with bot.session() as session:
        assert session.exec(select(AuditLog)).all() == []
    ref = CheckinRef(checkin_id=1).dump()
    assert ref == '{"checkin_id":1}'


async def test_open_check_ins_show_in_the_app_home(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Shown at home"))
    await tick(bot, NY_MON_9)
    bot.clock.set(NY_MON_9 + timedelta(hours=2))
    await bot.client.open_home(OWNER)
    await bot.settle()
    home = json.dumps(bot.slack.state.home[OWNER], ensure_ascii=False)
    assert "Your open check-ins" in home and "*M-1* Shown at home — open until <!date^" in home


async def test_the_prompt_says_when_an_answer_is_due_and_overdue_fires_exactly_then(bot: Bot) -> None:
    """The issue's consistent windows: the DM states the instant after which an unanswered check-in is
    overdue (and goes to the sponsor), and the sweep marks it overdue at that instant, not before."""
    setup_measures(bot, (OWNER, "Consolidate"))
    await tick(bot, NY_MON_9)
    due = NY_MON_9 + bot.app.deps.settings.overdue_after
    shown = json.dumps(prompt_of(bot, OWNER)["blocks"])
    assert f"Please answer by <!date^{int(due.timestamp())}^" in shown
    assert "goes to your sponsor. You can change your answers until <!date^" in shown
    assert (await tick(bot, due - timedelta(seconds=1))).overdue == 0
    assert (await tick(bot, due)).overdue == 1


def test_a_cycle_that_ends_before_an_answer_is_due_promises_no_overdue() -> None:
    from storage.checkins import PromptItem

    prompted = NY_MON_9
    due = prompted + timedelta(hours=48)
    item = PromptItem(1, "M-1", "t", "on_track", "on_track", "pending", None, None, prompted + timedelta(hours=24))
    text = window_text([replace(item, answer_by=due)])
    assert "overdue" not in text and text.startswith("1 measure to report on. You can answer and change")
    week = replace(item, cycle_end=prompted + timedelta(days=7), answer_by=due)
    assert f"Please answer by <!date^{int(due.timestamp())}^" in window_text([week])


async def test_an_owner_with_a_hundred_due_measures_can_answer_every_one(bot: Bot) -> None:
    """At any size: 100 due measures come as prompts of at most 23, each measure with its buttons."""
    setup_measures(bot, *[(OWNER, f"Measure {n}") for n in range(100)])
    report = await tick(bot, NY_MON_9)
    assert report.prompts == 5  # 23 + 23 + 23 + 23 + 8
    prompts = [m for m in bot.slack.dms(OWNER) if m.text.startswith("Check-in")]
    assert len(prompts) == 5 and all(len(p.blocks) <= 50 for p in prompts)
    answerable = {
        CheckinRef.load(button_value(message_of(p), Action.CHECKIN_UPDATE, i)).checkin_id  # type: ignore[union-attr]
        for p in prompts
        for i in range(sum(1 for b in p.blocks if b["type"] == "actions"))
    }
    with bot.session() as session:
        assert answerable == {c.id for c in session.exec(select(CheckIn)).all()}
    assert not any("Also due" in json.dumps(p.blocks) for p in prompts)
    last = message_of(prompts[-1])  # the last measure answers from the last prompt, which then shows it
    await bot.client.click(OWNER, Action.CHECKIN_ON_TRACK, button_value(last, Action.CHECKIN_ON_TRACK, 7), message=last)
    await bot.settle()
    with bot.session() as session:
        assert session.exec(select(CheckIn).where(CheckIn.status == "answered")).one().measure_id == 100
    assert bot.slack.dms(OWNER)[4].updated >= 1
