"""Items 3 to 6 of the security issue, on SQLite and PostgreSQL through signed requests: lost updates,
input the database refuses (NUL bytes, over-long ids and text), forged people in user pickers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, select

from domain.measure_schema import Key
from messages.ids import Field
from storage.models import AuditLog, GateDecision, Measure
from storage.queries import get_measure
from tests.commands.test_measure import FULL_FORM, _initial, open_modal
from tests.conftest import OWNER, SPONSOR, Bot
from tests.factories import add_people, make_measure, make_tree

GENERIC_ERROR = "something went wrong on our side"


def rows(bot: Bot) -> tuple[int, ...]:
    skip = ("person", "processed_event")  # caches refreshed on every request, not writes of the input
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in skip]
    counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in tables]
    with bot.engine.connect() as connection:
        return tuple(connection.execute(sa.select(*counts)).one())


def edit_values(view: dict[str, Any]) -> dict[str, Any]:
    return {b["block_id"]: _initial(b["element"]) for b in view["blocks"] if b["type"] == "input"}


def measure_one(bot: Bot) -> Measure:
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None
        return measure


async def test_twenty_concurrent_saves_of_one_form_yield_one_save_and_a_consistent_audit(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, title="Old title")
    view = await open_modal(bot, OWNER, "edit M-1")
    values = edit_values(view)
    replies = await asyncio.gather(
        *(bot.client.submit(OWNER, view, {**values, Key.TITLE: f"Title {n}"}) for n in range(20))
    )
    await bot.settle()
    bodies = [reply.json() for reply in replies]
    saved = [b for b in bodies if b["response_action"] == "update"]
    refused = [b for b in bodies if b["response_action"] == "errors"]
    assert (len(saved), len(refused)) == (1, 19), bodies
    assert all("close it and reopen it" in b["errors"][Key.TITLE] for b in refused)
    measure = measure_one(bot)
    assert measure.version == 2
    with bot.session() as session:
        [edit] = session.exec(select(AuditLog).where(AuditLog.action == "edited")).all()
    assert json.loads(edit.detail)["title"] == ["Old title", measure.title]


async def test_a_nul_byte_anywhere_a_person_types_is_refused_with_a_clear_message(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session)
    before = rows(bot)
    view = await open_modal(bot, OWNER, "edit M-1")
    for block_id, text in ((Key.TITLE, "a\x00b"), (Key.RISKS, "high: a\x00b | c")):
        body = (await bot.client.submit(OWNER, view, {**edit_values(view), block_id: text})).json()
        assert body == {"response_action": "errors", "errors": {block_id: body["errors"][block_id]}}
        assert "NUL" in body["errors"][block_id]
    reply = await bot.client.command(OWNER, "list \x00mine")
    assert reply.status == 200 and "NUL" in reply.json()["text"]
    await bot.settle()
    assert rows(bot) == before and measure_one(bot).version == 1


async def test_a_user_id_the_database_cannot_hold_is_refused(bot: Bot) -> None:
    long_id = "U" + "X" * 39
    before = rows(bot)
    reply = await bot.client.command(long_id, "new")
    assert reply.status == 200 and "cannot act for this Slack account" in reply.json()["text"]
    view = {"id": "V1", "callback_id": "new_measure", "private_metadata": "", "blocks": []}
    body = (await bot.client.submit(long_id, view, {})).json()
    assert body["response_action"] == "push" and "cannot act" in json.dumps(body)
    await bot.settle()
    assert rows(bot) == before


async def test_a_title_too_long_is_refused_not_cut(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, title="Short")
    view = await open_modal(bot, OWNER, "edit M-1")
    body = (await bot.client.submit(OWNER, view, {**edit_values(view), Key.TITLE: "x" * 10_000})).json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {Key.TITLE: "The title can be at most 200 characters; this one has 10,000. Shorten it."}
    assert measure_one(bot).title == "Short"
    view = await open_modal(bot, OWNER, "new")
    body = (await bot.client.submit(OWNER, view, {**FULL_FORM, Key.DESCRIPTION: "d" * 3001})).json()
    assert body["response_action"] == "errors" and "at most 3,000 characters" in body["errors"][Key.DESCRIPTION]
    assert len(bot.slack.calls("chat.postMessage")) == 0


async def test_people_fields_take_only_people_slack_knows(bot: Bot) -> None:
    """Forged picker values: a broadcast, a channel, an unknown user, a bot. None is stored."""
    bot.slack.add_user("U0ROBOT", name="Robot", email="robot@example.com", tz="UTC")
    bot.slack.state.users["U0ROBOT"]["is_bot"] = True
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session)
    form = {**FULL_FORM, Key.PACKAGE: str(package.id)}
    before = rows(bot)
    view = await open_modal(bot, OWNER, "new")
    for forged in ("<!channel>", "C0GENERAL", "U0ROBOT", "U" + "1" * 40):  # refused by the directory, inline
        body = (await bot.client.submit(OWNER, view, {**form, Key.SPONSOR: forged})).json()
        assert body["response_action"] == "errors", (forged, body)
        assert "person in this Slack workspace" in body["errors"][Key.SPONSOR], body
    # an id the directory has never seen is asked of Slack after a "checking" ack: the form comes back
    body = (await bot.client.submit(OWNER, view, {**form, Key.SPONSOR: "U0NOBODY00"})).json()
    assert body["response_action"] == "update"
    await bot.settle()
    assert "person in this Slack workspace" in json.dumps(bot.slack.state.views[view["id"]])
    assert rows(bot) == before
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []
    body = (await bot.client.submit(OWNER, view, form)).json()  # real people: created
    assert body["response_action"] == "update" and GENERIC_ERROR not in json.dumps(body)
    assert measure_one(bot).sponsor_id == SPONSOR


async def test_an_import_with_nul_bytes_long_cells_or_bots_writes_nothing_and_says_where(
    bot: Bot, tmp_path: Path
) -> None:
    from slackkit.settings import Settings
    from tests.commands.test_importer import GOOD, run_import

    bot.slack.add_user("U0ROBOT", name="Robot", email="robot@example.com", tz="UTC")
    bot.slack.state.users["U0ROBOT"]["is_bot"] = True
    settings: Settings = bot.app.deps.settings
    before = rows(bot)
    for text, expected in (
        (GOOD + "Acme,Ops,P,S,K,,Nul\x00title,,,,,,,,,,\n", "line 5: a NUL byte"),
        (GOOD + f"Acme,Ops,P,S,K,,{'t' * 201},,,,,,,,,,\n", "line 5: title can be at most 200 characters"),
        (GOOD + "Acme,Ops,P,S,K,,Robot-owned,U0ROBOT,,,,,,,,,\n", "line 5: owner: Slack has no user U0ROBOT (a bot"),
    ):
        code, _out, err = await run_import(settings, text, tmp_path)
        assert code == 1 and "Nothing was imported" in err and expected in err, err
    assert rows(bot) == before


REASON_TOO_LONG = "The reason can be at most 2,000 characters; this one has 2,001. Shorten it."


async def test_reasons_and_unit_names_too_long_are_refused_not_cut(bot: Bot) -> None:
    from messages.ids import Action
    from tests.conftest import ADMIN
    from tests.playbook import button_value, last_dm

    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session)
    before = rows(bot)
    for text in (f"cancel M-1 {'r' * 2001}", f"hold M-1 {'r' * 2001}"):
        await bot.client.command(OWNER, text)
        await bot.settle()
        assert bot.slack.responses(OWNER)[-1]["text"] == f"Nothing was changed. {REASON_TOO_LONG}"
    assert rows(bot) == before
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    approval = last_dm(bot, SPONSOR, "Approval: ")
    await bot.client.click(SPONSOR, Action.GATE_REJECT, button_value(approval, Action.GATE_REJECT), message=approval)
    await bot.settle()
    body = (await bot.client.submit(SPONSOR, bot.slack.last_view(SPONSOR), {Field.REASON: "r" * 2001})).json()
    assert body["errors"] == {
        Field.REASON: "The reason can be at most 2,000 characters; this one has 2,001. Shorten it."
    }
    await bot.client.command(ADMIN, "structure")
    await bot.settle()
    view = bot.slack.last_view(ADMIN)
    body = (await bot.client.submit(ADMIN, view, {Field.UNIT_NAME: "u" * 201})).json()
    assert body["errors"] == {Field.UNIT_NAME: "The name can be at most 200 characters; this one has 201. Shorten it."}
    with bot.session() as session:
        assert session.exec(select(GateDecision)).all() == []
