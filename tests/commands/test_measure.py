"""/measure new, list, show and edit through signed requests to the running bot."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from domain.enums import Stage
from domain.measure_schema import Key
from messages.ids import Action, Callback
from messages.payloads import MeasureRef
from storage.models import AuditLog, Measure, MeasureMonth, Risk
from storage.queries import get_measure
from tests.conftest import ADMIN, CONTROLLER, OWNER, SPONSOR, STRANGER, WS_ADMIN, Bot
from tests.factories import add_people, make_measure, make_tree

FULL_FORM = {
    Key.TITLE: "Consolidate corrugated suppliers",
    Key.OWNER: OWNER,
    Key.SPONSOR: SPONSOR,
    Key.CONTROLLER: CONTROLLER,
    Key.BUSINESS_UNIT: "Consumer",
    Key.FUNCTION: "Procurement",
    Key.BASELINE: "1.2m",
    Key.TARGET: "180k",
    Key.DUE: "2027-06-30",
    Key.MONTHLY_PLAN: "2027-01: 90k\n2027-02: 90k",
    Key.RISKS: "high: supplier delay | second supplier",
}


def count(bot: Bot, model: Any) -> int:
    with bot.session() as session:
        return session.exec(select(sa.func.count()).select_from(model)).one()


async def open_modal(bot: Bot, user: str, text: str) -> dict[str, Any]:
    reply = await bot.client.command(user, text)
    assert reply.status == 200 and reply.text == ""
    await bot.settle()
    return bot.slack.last_view(user)


def last_reply(bot: Bot, user: str) -> dict[str, Any]:
    replies = bot.slack.responses(user)
    assert replies, f"no reply to {user}"
    return replies[-1]


def reply_text(reply: dict[str, Any]) -> str:
    return reply["text"] + json.dumps(reply.get("blocks", []), ensure_ascii=False)


async def test_new_opens_a_modal_whose_submission_creates_a_measure_that_list_and_show_display(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
    view = await open_modal(bot, OWNER, "new")
    assert view["callback_id"] == Callback.NEW_MEASURE
    assert len(view["blocks"]) <= 100

    reply = await bot.client.submit(OWNER, view, {**FULL_FORM, Key.PACKAGE: str(package.id)})
    assert reply.status == 200
    body = reply.json()
    # nobody is in the directory yet (no sweep has listed the workspace): Slack is asked after the ack
    assert body["response_action"] == "update" and "Checking the people" in json.dumps(body["view"])
    await bot.settle()
    assert "Created *M-1*" in json.dumps(bot.slack.state.views[view["id"]])

    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None
        assert (measure.title, measure.baseline, measure.target) == (
            "Consolidate corrugated suppliers",
            1_200_000,
            180_000,
        )
        assert measure.stage == Stage.DI1  # complete enough for DI1 straight away
        assert session.exec(select(sa.func.count()).select_from(MeasureMonth)).one() == 2
        assert session.exec(select(Risk.text)).all() == ["supplier delay"]
        audit = session.exec(select(AuditLog).where(AuditLog.entity_key == "M-1")).all()
        assert [(a.actor, a.action) for a in audit] == [(OWNER, "created")]
    # People referenced in the form were looked up in Slack after the ack, for names and timezones.
    assert {c.args["user"] for c in bot.slack.calls("users.info")} >= {OWNER, SPONSOR, CONTROLLER}

    await bot.client.command(OWNER, "list")
    await bot.settle()
    listing = last_reply(bot, OWNER)
    assert listing["response_type"] == "ephemeral"
    assert "M-1" in reply_text(listing) and "Consolidate corrugated suppliers" in reply_text(listing)

    await bot.client.command(SPONSOR, "show m-1")
    await bot.settle()
    card = reply_text(last_reply(bot, SPONSOR))
    assert "DI1 Identified" in card
    assert "plan €180,000" in card and "baseline €1,200,000" in card.lower()
    assert "<!date^" in card  # the due date is a date token
    assert Action.EDIT_MEASURE in card  # the sponsor may edit


async def test_new_measure_without_owner_starts_as_an_idea(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
    view = await open_modal(bot, STRANGER, "new")
    reply = await bot.client.submit(STRANGER, view, {Key.TITLE: "Reuse pallets", Key.PACKAGE: str(package.id)})
    assert reply.json()["response_action"] == "update"
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and measure.stage == Stage.DI0


async def test_invalid_modal_input_comes_back_inline_and_stores_nothing(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
    view = await open_modal(bot, OWNER, "new")
    bad = {
        **FULL_FORM,
        Key.TITLE: "   ",
        Key.PACKAGE: str(package.id),
        Key.BASELINE: "lots",
        Key.MONTHLY_PLAN: "January: 5",
        Key.RISKS: "scary: everything",
        Key.DEPENDENCIES: "X-1",
        Key.EVIDENCE: "not a link",
    }
    reply = await bot.client.submit(OWNER, view, bad)
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {
        Key.TITLE, Key.BASELINE, Key.MONTHLY_PLAN, Key.RISKS, Key.DEPENDENCIES, Key.EVIDENCE,
    }  # fmt: skip
    assert "not an amount" in body["errors"][Key.BASELINE]
    assert all(len(message) < 2000 for message in body["errors"].values())
    await bot.settle()
    assert count(bot, Measure) == 0 and count(bot, AuditLog) == 0


async def test_unknown_dependency_and_non_package_are_refused_inline(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        project_id = package.parent_id
    view = await open_modal(bot, OWNER, "new")
    reply = await bot.client.submit(
        OWNER, view, {Key.TITLE: "x", Key.PACKAGE: str(project_id), Key.DEPENDENCIES: "M-41"}
    )
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Key.PACKAGE, Key.DEPENDENCIES}
    assert count(bot, Measure) == 0 and count(bot, AuditLog) == 0


async def test_new_without_packages_says_how_to_add_them(bot: Bot) -> None:
    await bot.client.command(OWNER, "new")
    await bot.settle()
    assert "/measure structure" in last_reply(bot, OWNER)["text"]
    assert bot.slack.calls("views.open") == []


async def test_edit_by_the_owner_changes_the_measure_and_audits_the_change(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session)
    view = await open_modal(bot, OWNER, "edit M-1")
    assert view["callback_id"] == Callback.EDIT_MEASURE
    values = {block["block_id"]: _initial(block["element"]) for block in view["blocks"] if block["type"] == "input"}
    values[Key.TARGET] = "150k"
    values[Key.MONTHLY_PLAN] = "\n".join(f"2027-{m:02d}: 12500" for m in range(1, 13))
    reply = await bot.client.submit(OWNER, view, values)
    body = reply.json()
    assert body["response_action"] == "update", body
    assert "target" in json.dumps(body["view"])
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and measure.target == 150_000 and measure.version == 2
        edits = session.exec(select(AuditLog).where(AuditLog.action == "edited")).all()
        assert len(edits) == 1
        assert json.loads(edits[0].detail)["target"] == [120_000, 150_000]


async def test_a_stale_edit_form_is_refused_inline(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session)
    first = await open_modal(bot, OWNER, "edit M-1")
    second = await open_modal(bot, SPONSOR, "edit M-1")
    values = {b["block_id"]: _initial(b["element"]) for b in first["blocks"] if b["type"] == "input"}
    assert (await bot.client.submit(OWNER, first, {**values, Key.TITLE: "First"})).json()["response_action"] == "update"
    body = (await bot.client.submit(SPONSOR, second, {**values, Key.TITLE: "Second"})).json()
    assert body["response_action"] == "errors" and "changed this measure" in body["errors"][Key.TITLE]
    with bot.session() as session:
        assert get_measure(session=session, key="M-1").title == "First"  # type: ignore[union-attr]


async def test_a_user_without_rights_cannot_edit(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session)
    await bot.client.command(STRANGER, "edit M-1")
    await bot.settle()
    assert "Only the owner, sponsor or controller" in last_reply(bot, STRANGER)["text"]
    assert bot.slack.calls("views.open") == []

    # The Edit button forwarded to a stranger does nothing but say why.
    await bot.client.click(
        STRANGER, Action.EDIT_MEASURE, MeasureRef(key="M-1").dump(), message={"channel": "C0GENERAL", "ts": "1.1"}
    )
    await bot.settle()
    assert "Only the owner, sponsor or controller" in last_reply(bot, STRANGER)["text"]
    assert bot.slack.calls("views.open") == []

    # A submission forged from the owner's form is checked on the server too.
    view = await open_modal(bot, OWNER, "edit M-1")
    values = {b["block_id"]: _initial(b["element"]) for b in view["blocks"] if b["type"] == "input"}
    body = (await bot.client.submit(STRANGER, view, {**values, Key.TITLE: "Hijacked"})).json()
    assert body["response_action"] == "errors"
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and measure.title == "Consolidate suppliers" and measure.version == 1
        assert session.exec(select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "edited")).one() == 0


async def test_admins_may_edit_any_measure(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session)
    for admin in (ADMIN, WS_ADMIN):  # configured, and a Slack workspace admin
        view = await open_modal(bot, admin, "edit M-1")
        assert view["callback_id"] == Callback.EDIT_MEASURE


async def test_the_card_edit_button_opens_the_modal(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session)
    await bot.client.click(
        CONTROLLER, Action.EDIT_MEASURE, MeasureRef(key="M-1").dump(), message={"channel": "C1", "ts": "1.1"}
    )
    await bot.settle()
    assert bot.slack.last_view(CONTROLLER)["callback_id"] == Callback.EDIT_MEASURE


async def test_a_forged_button_value_gets_an_explanation(bot: Bot) -> None:
    await bot.client.click(OWNER, Action.EDIT_MEASURE, "M-1|edit", message={"channel": "C1", "ts": "1.1"})
    await bot.settle()
    assert "out of date" in last_reply(bot, OWNER)["text"]


async def test_unknown_subcommands_keys_and_bad_arguments_get_clear_answers(bot: Bot) -> None:
    cases = {
        "frobnicate": "I don't know `/measure frobnicate`",
        "show": "Which measure?",
        "show 12": "is not a measure key",
        "show M-404": "There is no measure M-404",
        "edit M-404": "There is no measure M-404",
        "list Nowhere": "There is no unit or person",
        "<!channel>": "&lt;!channel&gt;",
    }
    for text, expected in cases.items():
        await bot.client.command(OWNER, text)
        await bot.settle()
        assert expected in last_reply(bot, OWNER)["text"], text
    assert count(bot, AuditLog) == 0 and bot.slack.calls("views.open") == []


async def test_list_by_unit_and_by_person(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        other = make_tree(session, names=("Beta", "Growth", "Pricing", "Lists", "Prices"))
        make_measure(session, package=package, title="In packaging")
        make_measure(session, package=other, title="In prices", owner_id=CONTROLLER, sponsor_id=ADMIN)
    await bot.client.command(STRANGER, "list procurement")
    await bot.settle()
    text = reply_text(last_reply(bot, STRANGER))
    assert "In packaging" in text and "In prices" not in text
    await bot.client.command(STRANGER, f"list <@{SPONSOR}|sam>")
    await bot.settle()
    text = reply_text(last_reply(bot, STRANGER))
    assert "In packaging" in text and "In prices" not in text
    await bot.client.command(STRANGER, "list mine")
    await bot.settle()
    assert "No measures here yet" in reply_text(last_reply(bot, STRANGER))


def _initial(element: dict[str, Any]) -> Any:
    kind = element["type"]
    if kind == "plain_text_input":
        return element.get("initial_value")
    if kind == "static_select":
        return (element.get("initial_option") or {}).get("value")
    if kind == "users_select":
        return element.get("initial_user")
    if kind == "datepicker":
        return element.get("initial_date")
    if kind == "timepicker":
        return element.get("initial_time")
    if kind == "checkboxes":
        return [o["value"] for o in element.get("initial_options") or []]
    raise AssertionError(kind)


async def test_the_audit_trail_names_who_created_the_measure(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session, actor=OWNER)
        rows = session.exec(select(AuditLog.actor, AuditLog.action)).all()
    assert rows == [(OWNER, "created")]


async def test_a_new_measure_is_owned_by_its_creator_unless_they_name_someone_else(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
    view = await open_modal(bot, SPONSOR, "new")
    owner_block = next(b for b in view["blocks"] if b.get("block_id") == Key.OWNER)
    assert owner_block["element"].get("initial_user") == SPONSOR  # the form starts with the creator
    values = {Key.TITLE: "Creator owns it", Key.PACKAGE: str(package.id)}  # the owner picker left empty
    reply = await bot.client.submit(SPONSOR, view, values)
    assert reply.json()["response_action"] == "update"
    await bot.settle()
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and measure.owner_id == SPONSOR
    await bot.client.command(SPONSOR, "edit M-1")  # and so is never locked out of it
    await bot.settle()
    assert bot.slack.last_view(SPONSOR)["callback_id"] == Callback.EDIT_MEASURE


async def test_every_error_of_the_form_comes_back_at_once_with_the_database_ones(bot: Bot) -> None:
    """The issue's new user: a due date in the past, a plan that does not sum, an unknown dependency
    and a bad amount are all reported in one answer, inline; nothing is stored."""
    with bot.session() as session:
        package = make_tree(session)
    view = await open_modal(bot, OWNER, "new")
    bad = {
        **FULL_FORM,
        Key.PACKAGE: str(package.id),
        Key.BASELINE: "lots",  # the form's own error
        Key.DUE: "2027-02-01",  # before the clock's 1 March 2027
        Key.MONTHLY_PLAN: "2027-04: 50k\n2027-05: 50k",  # 100k of the 180k target
        Key.DEPENDENCIES: "M-41",  # only the database knows it does not exist
    }
    body = (await bot.client.submit(OWNER, view, bad)).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Key.BASELINE, Key.DUE, Key.MONTHLY_PLAN, Key.DEPENDENCIES}
    assert body["errors"][Key.DUE] == "2027-02-01 has passed: choose today or a later day."
    assert "sums to €100,000 of the €180,000 target" in body["errors"][Key.MONTHLY_PLAN]
    assert count(bot, Measure) == 0 and count(bot, AuditLog) == 0


async def test_an_edit_keeps_a_due_date_that_has_passed_but_cannot_set_a_new_one(bot: Bot) -> None:
    from tests.security.test_inputs import edit_values  # it imports this module: here, not at the top

    with bot.session() as session:
        add_people(session, bot.slack)
        measure = make_measure(session, title="Late already")
        measure.due = date(2027, 2, 1)  # passed on 1 March 2027
        session.add(measure)
    view = await open_modal(bot, OWNER, "edit M-1")
    values = edit_values(view)
    kept = (await bot.client.submit(OWNER, view, {**values, Key.TITLE: "Renamed"})).json()
    assert kept["response_action"] == "update", kept
    view = await open_modal(bot, OWNER, "edit M-1")
    moved = (await bot.client.submit(OWNER, view, {**edit_values(view), Key.DUE: "2027-02-15"})).json()
    assert moved["response_action"] == "errors" and set(moved["errors"]) == {Key.DUE}
