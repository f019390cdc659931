"""The organization's own keys: a measure created in Slack takes the organization's prefix
(`/measure org … key-prefix=OPS`), commands take keys in any case, and a key that is no key gets a
clear answer. Signed requests, both databases."""

from __future__ import annotations

from sqlmodel import select

from domain.measure_schema import Key
from storage.models import AuditLog, Measure
from tests.commands.test_measure import last_reply, open_modal, reply_text
from tests.conftest import ADMIN, OWNER, STRANGER, Bot
from tests.factories import make_measure, make_tree
from tests.playbook import WED


async def test_measures_created_in_slack_take_the_organizations_prefix_after_its_imported_keys(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        make_measure(session, package=package, title="Imported", now=WED, key="OPS-12")
    await bot.client.command(ADMIN, "org Acme key-prefix=ops")
    await bot.settle()
    assert "key-prefix=OPS" in last_reply(bot, ADMIN)["text"]
    view = await open_modal(bot, STRANGER, "new")
    reply = await bot.client.submit(STRANGER, view, {Key.TITLE: "Reuse pallets", Key.PACKAGE: str(package.id)})
    assert reply.json()["response_action"] == "update"
    with bot.session() as session:
        created = session.exec(select(Measure).where(Measure.title == "Reuse pallets")).one()
        assert created.key == "OPS-13"  # the prefix, after the highest number it has
        assert session.exec(select(AuditLog).where(AuditLog.entity_key == "OPS-13")).first() is not None


async def test_commands_take_keys_in_any_case_and_refuse_what_is_no_key(bot: Bot) -> None:
    with bot.session() as session:
        make_measure(session, package=make_tree(session), title="Cut freight", now=WED, key="FIN-2024-003")
    await bot.client.command(OWNER, "show fin-2024-003")
    await bot.settle()
    assert "Cut freight" in reply_text(last_reply(bot, OWNER))
    for bad in ("show 12", "show OPS", "show OPS-12-THIS-KEY-IS-FAR-TOO-LONG"):
        await bot.client.command(OWNER, bad)
        await bot.settle()
        assert "is not a measure key" in last_reply(bot, OWNER)["text"], bad
    await bot.client.command(ADMIN, "org Acme key-prefix=9X")
    await bot.settle()
    assert "is not a key prefix" in last_reply(bot, ADMIN)["text"]
