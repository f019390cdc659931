"""The people directory: the sweep lists the workspace's people (users.list, paged) and a modal's
submission checks the people it names against it before its ack, with no Web API call; an id the
directory has never seen is asked of users.info after a "checking" ack. Signed requests, both databases."""

from __future__ import annotations

import asyncio
import json

from sqlmodel import select

from bot.standin.records import Fault
from domain.measure_schema import Key
from slackkit.directory import PAGE
from storage.models import Measure, Person
from storage.queries import get_measure
from tests.commands.test_measure import FULL_FORM, open_modal
from tests.conftest import OWNER, SPONSOR, WS_ADMIN, Bot
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import tick
from tests.security.test_inputs import edit_values

NEWCOMER = "U0NEWCOMER"


def person(bot: Bot, slack_id: str) -> Person | None:
    with bot.session() as session:
        found = session.get(Person, slack_id)
        if found is not None:
            session.expunge(found)
        return found


async def submitted_while_users_info_is_held(bot: Bot, user: str, view: dict, values: dict) -> dict:
    """Submit with every users.info call held: had the listener called it before its ack, the ack
    could not arrive (the bound is a guard against hanging, not a measurement)."""
    released = bot.slack.hold("users.info")
    try:
        reply = await asyncio.wait_for(bot.client.submit(user, view, values), 20)
    finally:
        released.set()
    await bot.settle()
    return reply.json()


async def test_the_sweep_lists_the_workspace_in_pages_twice_a_day_and_marks_who_left(bot: Bot) -> None:
    for number in range(2 * PAGE + 50):
        bot.slack.add_user(f"U1{number:05d}", name=f"Person {number}")
    bot.slack.add_user("U0ROBOT", name="Robot")
    bot.slack.state.users["U0ROBOT"]["is_bot"] = True
    with bot.session() as session:
        add_people(session, bot.slack)  # known before: the sponsor is about to leave
    bot.slack.deactivate(SPONSOR)

    report = await tick(bot, bot.clock())
    listing = bot.slack.calls("users.list")
    assert len(listing) == 3 and listing[0].args.get("cursor") is None
    assert all(c.args.get("cursor") for c in listing[1:])  # each page asked with the cursor of the last
    assert report.people_listed == 2 * PAGE + 50 + 5  # the test workspace's six, less the one who left
    assert person(bot, "U100449") is not None and person(bot, "U100449").active  # type: ignore[union-attr]
    assert person(bot, SPONSOR).active is False  # type: ignore[union-attr]
    assert person(bot, "U0ROBOT").active is False  # type: ignore[union-attr]  (a bot is never a person)

    again = await tick(bot, bot.clock.advance(hours=11))
    assert again.people_listed is None and len(bot.slack.calls("users.list")) == 3  # not due yet
    later = await tick(bot, bot.clock.advance(hours=2))
    assert later.people_listed is not None and len(bot.slack.calls("users.list")) == 6


async def test_a_failed_listing_is_tried_again_ten_minutes_later_and_never_fails_the_sweep(bot: Bot) -> None:
    bot.slack.state.faults["users.list"].append(Fault(error="fatal_error"))  # an answer, not retried
    first = await tick(bot, bot.clock())
    assert first.people_listed is None
    assert (await tick(bot, bot.clock.advance(minutes=9))).people_listed is None
    assert len(bot.slack.calls("users.list")) == 1
    assert (await tick(bot, bot.clock.advance(minutes=1))).people_listed == 6


async def test_an_unreachable_slack_leaves_the_sweep_and_its_digests_alone(bot: Bot) -> None:
    bot.app.deps.client.base_url = "http://127.0.0.1:9/api/"  # nothing listens there
    report = await tick(bot, bot.clock())
    assert report.people_listed is None  # the sweep went on and reported


async def test_people_the_directory_knows_are_checked_without_a_web_api_call_before_the_ack(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
    view = await open_modal(bot, OWNER, "new")
    body = await submitted_while_users_info_is_held(bot, OWNER, view, {**FULL_FORM, Key.PACKAGE: str(package.id)})
    assert body["response_action"] == "update" and "M-1" in json.dumps(body)
    with bot.session() as session:
        assert get_measure(session=session, key="M-1").sponsor_id == SPONSOR  # type: ignore[union-attr]


async def test_a_deactivated_person_is_refused_inline_before_the_ack(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
    bot.slack.deactivate(SPONSOR)
    await tick(bot, bot.clock())  # the listing learns that the sponsor left
    view = await open_modal(bot, OWNER, "new")
    body = await submitted_while_users_info_is_held(bot, OWNER, view, {**FULL_FORM, Key.PACKAGE: str(package.id)})
    assert body["response_action"] == "errors"
    assert "person in this Slack workspace" in body["errors"][Key.SPONSOR]
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []


async def test_someone_the_directory_has_not_seen_yet_is_checked_after_a_checking_ack(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
    bot.slack.add_user(NEWCOMER, name="Nina Newcomer", tz="Europe/Berlin")  # joined after the listing
    view = await open_modal(bot, OWNER, "new")
    form = {**FULL_FORM, Key.PACKAGE: str(package.id), Key.SPONSOR: NEWCOMER}
    body = await submitted_while_users_info_is_held(bot, OWNER, view, form)
    assert body["response_action"] == "update" and "Checking the people you chose" in json.dumps(body)

    shown = json.dumps(bot.slack.state.views[view["id"]])
    assert "Created *M-1*" in shown  # the modal is updated with the outcome after the ack
    assert NEWCOMER in [c.args["user"] for c in bot.slack.calls("users.info")]
    assert person(bot, NEWCOMER).tz == "Europe/Berlin"  # type: ignore[union-attr]
    with bot.session() as session:
        assert get_measure(session=session, key="M-1").sponsor_id == NEWCOMER  # type: ignore[union-attr]


async def test_an_unseen_id_that_is_no_person_brings_the_form_back_with_what_was_typed(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
    view = await open_modal(bot, OWNER, "new")
    form = {**FULL_FORM, Key.PACKAGE: str(package.id), Key.CONTROLLER: "U0NOBODY00"}
    body = await submitted_while_users_info_is_held(bot, OWNER, view, form)
    assert body["response_action"] == "update"

    back = bot.slack.state.views[view["id"]]
    assert back["callback_id"] == view["callback_id"] and back["submit"]  # the form again, to save once corrected
    text = json.dumps(back, ensure_ascii=False)
    assert "Not saved yet" in text and "person in this Slack workspace" in text
    assert FULL_FORM[Key.TITLE] in text and "supplier delay" in text  # what was typed is kept
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []
    fixed = await bot.client.submit(OWNER, back, {**form, Key.CONTROLLER: OWNER})
    assert fixed.json()["response_action"] == "update" and "M-1" in fixed.text


async def test_an_admin_edits_by_the_stored_profile_without_a_web_api_call_before_the_ack(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, title="Before")
    view = await open_modal(bot, WS_ADMIN, "edit M-1")
    values = edit_values(view)
    body = await submitted_while_users_info_is_held(bot, WS_ADMIN, view, {**values, Key.TITLE: "After"})
    assert body["response_action"] == "update", body
    with bot.session() as session:
        assert get_measure(session=session, key="M-1").title == "After"  # type: ignore[union-attr]
