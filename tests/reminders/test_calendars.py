"""Working calendars end to end, deterministic with the sweep's clock: the organization sets its
working days and holiday region through `/measure org`; a check-in due on a German public holiday
goes out on the next working day at the same local time; reminders and overdue count working days;
nothing reaches a person outside their working time. Signed requests and the sweep, both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import select

from domain.enums import PotentialStatus, Stage
from messages.ids import Callback, Field
from storage.models import AuditLog, CheckIn, Measure, Outbox, Person
from tests.conftest import ADMIN, OWNER, Bot
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import setup_measures, tick

BERLINER = "U0BERLIN"
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


async def bavarian_owner(bot: Bot, *, weekday: int = 0) -> None:
    bot.slack.add_user(BERLINER, name="Bernd Berliner", tz="Europe/Berlin")
    setup_measures(bot, (BERLINER, "Consolidate"), checkin_weekday=weekday)
    await bot.client.command(ADMIN, "org Acme working-days=mon-fri holidays=DE-BY")
    await bot.settle()
    assert "holidays=DE-BY" in bot.slack.responses(ADMIN)[-1]["text"], bot.slack.responses(ADMIN)[-1]


def prompts_to(bot: Bot, user: str) -> list:
    return [m for m in bot.slack.dms(user) if m.text.startswith("Check-in")]


async def test_the_organization_sets_its_working_days_and_holidays_audited(bot: Bot) -> None:
    await bavarian_owner(bot)
    await bot.client.command(ADMIN, "org Acme")
    await bot.settle()
    shown = json.dumps(bot.slack.responses(ADMIN)[-1])
    assert "working-days" in shown and "mon-fri" in shown and "DE-BY" in shown
    await bot.client.command(ADMIN, "org Acme working-days=weekdays holidays=Bavaria")
    await bot.settle()
    refused = bot.slack.responses(ADMIN)[-1]["text"]
    assert "working-days" in refused and "holidays" in refused and "DE-BY" in refused
    with bot.session() as session:
        changes = session.exec(select(AuditLog).where(AuditLog.action == "settings_changed")).all()
        assert len(changes) == 1 and json.loads(changes[0].detail)["after"]["holidays"] == "DE-BY"


async def test_a_check_in_due_on_easter_monday_goes_out_on_tuesday_at_the_same_local_time(bot: Bot) -> None:
    await bavarian_owner(bot)
    easter_monday_9 = berlin(2027, 3, 29, 9)
    assert (await tick(bot, easter_monday_9)).prompts == 0
    assert prompts_to(bot, BERLINER) == []
    with bot.session() as session:
        assert session.exec(select(Measure)).one().next_checkin_at == berlin(2027, 3, 30, 9)
    assert (await tick(bot, berlin(2027, 3, 30, 8, 59))).prompts == 0
    assert (await tick(bot, berlin(2027, 3, 30, 9))).prompts == 1
    assert len(prompts_to(bot, BERLINER)) == 1
    with bot.session() as session:  # the cycle is the week's, started on the holiday
        assert session.exec(select(CheckIn)).one().cycle_start == easter_monday_9


async def test_a_friday_prompt_is_overdue_after_two_working_days_not_on_sunday(bot: Bot) -> None:
    await bavarian_owner(bot, weekday=4)  # Fridays at 09:00
    friday_9 = berlin(2027, 3, 12, 9)
    assert (await tick(bot, friday_9)).prompts == 1
    assert "Please answer by <!date^" + str(int(berlin(2027, 3, 16, 9).timestamp())) in json.dumps(
        prompts_to(bot, BERLINER)[0].blocks
    )
    assert (await tick(bot, berlin(2027, 3, 13, 9))).reminders == 0  # Saturday: no reminder
    assert (await tick(bot, berlin(2027, 3, 14, 12))).overdue == 0  # Sunday: not overdue
    assert (await tick(bot, berlin(2027, 3, 15, 9))).reminders == 1  # Monday 09:00: one working day
    assert (await tick(bot, berlin(2027, 3, 16, 8, 59))).overdue == 0
    assert (await tick(bot, berlin(2027, 3, 16, 9))).overdue == 1  # Tuesday 09:00: two working days


async def test_nothing_reaches_a_person_in_their_quiet_hours_or_on_their_day_off(bot: Bot) -> None:
    await bavarian_owner(bot)
    with bot.session() as session:
        person = session.get(Person, BERLINER)
        assert person is not None
        person.quiet_start, person.quiet_end = time(18), time(8)
        session.add(person)
        measure = session.exec(select(Measure)).one()
        measure.checkin_time = time(7)  # due at 07:00, inside the quiet hours
        measure.next_checkin_at = berlin(2027, 3, 10, 7)
        session.add(measure)
    report = await tick(bot, berlin(2027, 3, 10, 7))  # a Wednesday, 07:00
    assert report.prompts == 1 and report.delivery.sent == 0 and prompts_to(bot, BERLINER) == []
    with bot.session() as session:
        waiting = session.exec(select(Outbox)).one()
        assert (waiting.state, waiting.not_before) == ("pending", berlin(2027, 3, 10, 8))
    assert (await tick(bot, berlin(2027, 3, 10, 7, 59))).delivery.sent == 0
    assert (await tick(bot, berlin(2027, 3, 10, 8))).delivery.sent == 1
    assert len(prompts_to(bot, BERLINER)) == 1


async def test_a_person_sets_their_own_calendar_in_a_modal_with_every_error_at_once(bot: Bot) -> None:
    await bavarian_owner(bot)
    await bot.client.command(BERLINER, "settings")
    await bot.settle()
    view = bot.slack.last_view(BERLINER)
    assert view["callback_id"] == Callback.PERSON_SETTINGS
    assert "mon-fri, public holidays DE-BY" in json.dumps(view)  # what they keep unless they change it
    assert "Your organization's (English)" in json.dumps(view)  # the language follows the organization's
    bad = {Field.WORKING_DAYS: [], Field.HOLIDAYS: "Bavaria", Field.QUIET_START: "18:00", Field.LANGUAGE: "fr"}
    body = (await bot.client.submit(BERLINER, view, bad)).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Field.WORKING_DAYS, Field.HOLIDAYS, Field.QUIET_END, Field.LANGUAGE}  # all at once
    with bot.session() as session:
        assert session.get(Person, BERLINER).working_days is None  # type: ignore[union-attr]  (nothing stored)

    good = {Field.WORKING_DAYS: ["mon", "tue", "wed", "thu"], Field.HOLIDAYS: "de-be", Field.QUIET_START: "18:00",
            Field.QUIET_END: "08:00", Field.LANGUAGE: "de"}  # fmt: skip
    body = (await bot.client.submit(BERLINER, view, good)).json()
    assert body["response_action"] == "update"
    assert "Working days: mon-thu · public holidays: DE-BE · quiet hours: 18:00–08:00 · language: Deutsch" in (
        json.dumps(body, ensure_ascii=False)
    )
    with bot.session() as session:
        person = session.get(Person, BERLINER)
        assert person is not None
        assert (person.working_days, person.holidays, person.quiet_start, person.quiet_end, person.language) == (
            "mon-thu", "DE-BE", time(18), time(8), "de")  # fmt: skip
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "person_settings_changed")).all()) == 1
    await bot.client.command(BERLINER, "settings")  # opened again: what they chose
    await bot.settle()
    [language] = [b for b in bot.slack.last_view(BERLINER)["blocks"] if b.get("block_id") == Field.LANGUAGE]
    assert language["element"]["initial_option"]["value"] == "de"
    # Friday is a day off for them now: a check-in due on a Friday goes out on Monday, same local time.
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
        measure.checkin_weekday, measure.next_checkin_at = 4, berlin(2027, 3, 12, 9)
        session.add(measure)
    assert (await tick(bot, berlin(2027, 3, 12, 9))).prompts == 0
    assert (await tick(bot, berlin(2027, 3, 15, 9))).prompts == 1


async def test_an_escalation_waits_out_the_weekend_before_it_climbs(bot: Bot) -> None:
    bot.slack.add_user(BERLINER, name="Bernd Berliner", tz="Europe/Berlin")
    setup_measures(bot, (BERLINER, "Consolidate"), checkin_weekday=2, sponsor_id=BERLINER)  # Wednesdays 09:00
    await bot.client.command(ADMIN, "rules Ops steering=<#C0STEER|steering> step-hours=24")
    await bot.client.command(ADMIN, "org Acme holidays=DE-BY")
    await bot.settle()
    await tick(bot, berlin(2027, 3, 10, 9))  # the prompt, never answered
    report = await tick(bot, berlin(2027, 3, 12, 9))  # Friday 09:00: two working days later
    assert report.overdue == 1 and report.escalations.raised == 1
    assert (await tick(bot, berlin(2027, 3, 13, 9, 30))).escalations.climbed == 0  # Saturday
    assert (await tick(bot, berlin(2027, 3, 14, 18))).escalations.climbed == 0  # Sunday
    assert (await tick(bot, berlin(2027, 3, 15, 8, 59))).escalations.climbed == 0
    assert (await tick(bot, berlin(2027, 3, 15, 9))).escalations.climbed == 1  # Monday 09:00: a working day


async def test_what_a_portfolio_marks_urgent_reaches_people_in_their_quiet_hours(bot: Bot) -> None:
    """Two sponsors in Berlin, both quiet from 18:00 to 08:00; a shortfall on each of their measures at
    22:00. Ops marks shortfalls urgent, Growth does not: one DM goes out now, the other at 08:00."""
    for user_id, name in ((BERLINER, "Bernd Berliner"), ("U0BERLIN2", "Berta Berliner")):
        bot.slack.add_user(user_id, name=name, tz="Europe/Berlin")
    bot.clock.set(berlin(2027, 3, 10, 12))
    with bot.session() as session:
        add_people(session, bot.slack)
        for user_id in (BERLINER, "U0BERLIN2"):
            person = session.get(Person, user_id)
            assert person is not None
            person.quiet_start, person.quiet_end = time(18), time(8)
            session.add(person)
        ops = make_tree(session)
        growth = make_tree(session, names=("Acme", "Growth", "New markets", "Launches", "Nordics"))
        for package, sponsor in ((ops, BERLINER), (growth, "U0BERLIN2")):
            measure = make_measure(session, package=package, sponsor_id=sponsor, stage=Stage.DI3)
            measure.potential_status = PotentialStatus.OFF_TRACK
            session.add(measure)
    await bot.client.command(ADMIN, "rules Ops urgent=shortfall")
    await bot.settle()
    assert "urgent at any hour: shortfall" in bot.slack.responses(ADMIN)[-1]["text"]
    report = await tick(bot, berlin(2027, 3, 10, 22))
    assert report.escalations.raised == 2 and report.delivery.sent == 1
    assert len(bot.slack.dms(BERLINER)) == 1 and bot.slack.dms("U0BERLIN2") == []
    assert (await tick(bot, berlin(2027, 3, 11, 8))).delivery.sent == 1
    assert len(bot.slack.dms("U0BERLIN2")) == 1


async def test_an_unknown_urgent_cause_is_refused_and_nothing_changes(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    await bot.client.command(ADMIN, "rules Ops urgent=shortfall,everything")
    await bot.settle()
    assert (
        "Nothing was changed" in bot.slack.responses(ADMIN)[-1]["text"]
        and "everything" in bot.slack.responses(ADMIN)[-1]["text"]
    )
