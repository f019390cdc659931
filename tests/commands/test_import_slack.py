"""Importing from Slack: an admin sends a spreadsheet to the bot in a DM; the bot answers with the
dry run's summary and Import / Cancel, the same import as the command line. Signed requests (the
file shared, the clicks) to the running app, both databases."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import select

from bot.standin.records import Message
from messages.ids import Action
from storage.models import AuditLog, Measure, PendingImport
from tests.commands.test_importer import GOOD
from tests.conftest import ADMIN, OWNER, Bot
from tests.playbook import message_of


async def send_file(bot: Bot, user: str, name: str, content: bytes) -> dict[str, Any]:
    file = bot.slack.user_file(name, content)
    event = {"type": "message", "subtype": "file_share", "channel_type": "im", "channel": bot.slack.dm_channel(user),
             "user": user, "text": "", "files": [file], "ts": "1700000000.000100"}  # fmt: skip
    assert (await bot.client.event(event)).status == 200
    await bot.settle()
    return file


def answer(bot: Bot, user: str) -> Message:
    return [m for m in bot.slack.dms(user) if "“measures" in m.text or "Only admins" in m.text][-1]


def button(message: Message, action: str) -> str:
    return next(e["value"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == action)  # fmt: skip


async def test_a_spreadsheet_sent_in_a_dm_is_checked_then_imported_on_click(bot: Bot) -> None:
    european = io.StringIO()
    csv.writer(european, delimiter=";").writerows(csv.reader(io.StringIO(GOOD)))  # as Excel saves it in Germany
    file = await send_file(bot, ADMIN, "measures.csv", european.getvalue().encode("cp1252"))
    assert bot.slack.state.uploads[file["id"]]["fetched_by_bot"]  # fetched with the bot token
    checked = answer(bot, ADMIN)
    assert checked.text.startswith("Checked “measures.csv”. Dry run, nothing was written. Imported: 9 units created")
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []  # only checked
    value = button(checked, Action.IMPORT_CONFIRM)
    assert (await bot.client.click(ADMIN, Action.IMPORT_CONFIRM, value, message=message_of(checked))).status == 200
    await bot.settle()
    done = answer(bot, ADMIN)
    assert done.updated and "3 measures created" in done.text and done.blocks == []  # the buttons are gone
    with bot.session() as session:
        assert len(session.exec(select(Measure)).all()) == 3
        assert session.exec(select(PendingImport)).one().state == "imported"
        assert session.exec(select(AuditLog).where(AuditLog.action == "import_imported")).one().actor == ADMIN
    await bot.client.click(ADMIN, Action.IMPORT_CONFIRM, value, message=message_of(checked))  # again
    await bot.settle()
    assert "imported or cancelled already" in bot.slack.responses(ADMIN)[-1]["text"]
    with bot.session() as session:
        assert len(session.exec(select(Measure)).all()) == 3


async def test_cancel_forgets_it_and_a_bad_file_lists_its_lines_without_buttons(bot: Bot) -> None:
    await send_file(bot, ADMIN, "measures.csv", GOOD.encode())
    checked = answer(bot, ADMIN)
    await bot.client.click(ADMIN, Action.IMPORT_CANCEL, button(checked, Action.IMPORT_CANCEL),
                           message=message_of(checked))  # fmt: skip
    await bot.settle()
    assert "was not imported" in answer(bot, ADMIN).text
    bad = GOOD + "Acme,Ops,P,S,K,12M,Bad key,,,,,,lots,,2027-13-01,DI9,daily\n"
    await send_file(bot, ADMIN, "measures.csv", bad.encode())
    refused = answer(bot, ADMIN)
    shown = json.dumps(refused.blocks, ensure_ascii=False)
    assert "Nothing was imported" in shown and "line 5: key:" in shown and '"actions"' not in shown
    with bot.session() as session:
        assert session.exec(select(Measure)).all() == []
        assert [p.state for p in session.exec(select(PendingImport)).all()] == ["cancelled"]


async def test_only_admins_import_and_the_command_says_how(bot: Bot) -> None:
    file = await send_file(bot, OWNER, "measures.csv", GOOD.encode())
    assert "Only admins" in answer(bot, OWNER).text and not bot.slack.state.uploads[file["id"]].get("fetched_by_bot")
    await bot.client.command(ADMIN, "import")
    await bot.settle()
    assert "Send me the CSV or XLSX file here in a DM" in bot.slack.responses(ADMIN)[-1]["text"]
    with bot.session() as session:
        assert session.exec(select(PendingImport)).all() == []
