"""/measure structure: admins add units; others are told why not."""

from __future__ import annotations

from sqlmodel import select

from commands.structure import NEW_ORGANIZATION
from domain.enums import Level
from messages.ids import Callback, Field
from storage.models import AuditLog, Unit
from tests.conftest import ADMIN, OWNER, WS_ADMIN, Bot
from tests.factories import make_tree


async def test_an_admin_adds_an_organization_then_a_portfolio_under_it(bot: Bot) -> None:
    await bot.client.command(ADMIN, "structure")
    await bot.settle()
    view = bot.slack.last_view(ADMIN)
    assert view["callback_id"] == Callback.NEW_UNIT
    reply = await bot.client.submit(ADMIN, view, {Field.PARENT: NEW_ORGANIZATION, Field.UNIT_NAME: "Acme"})
    assert reply.json()["response_action"] == "update"
    with bot.session() as session:
        org = session.exec(select(Unit)).one()
        assert (org.level, org.name, org.parent_id) == (Level.ORGANIZATION, "Acme", None)

    await bot.client.command(WS_ADMIN, "structure")  # a Slack workspace admin counts as admin
    await bot.settle()
    view = bot.slack.last_view(WS_ADMIN)
    reply = await bot.client.submit(WS_ADMIN, view, {Field.PARENT: str(org.id), Field.UNIT_NAME: "Operations"})
    assert reply.json()["response_action"] == "update"
    with bot.session() as session:
        portfolio = session.exec(select(Unit).where(Unit.name == "Operations")).one()
        assert portfolio.level == Level.PORTFOLIO and portfolio.parent_id == org.id
        assert [a.actor for a in session.exec(select(AuditLog)).all()] == [ADMIN, WS_ADMIN]


async def test_duplicates_and_children_of_packages_are_refused_inline(bot: Bot) -> None:
    with bot.session() as session:
        package = make_tree(session)
        project_id = package.parent_id
    await bot.client.command(ADMIN, "structure")
    await bot.settle()
    view = bot.slack.last_view(ADMIN)
    duplicate = await bot.client.submit(ADMIN, view, {Field.PARENT: str(project_id), Field.UNIT_NAME: package.name})
    assert duplicate.json() == {
        "response_action": "errors",
        "errors": {Field.UNIT_NAME: f"There is already a unit called “{package.name}” there."},
    }
    under_package = await bot.client.submit(ADMIN, view, {Field.PARENT: str(package.id), Field.UNIT_NAME: "Deeper"})
    assert Field.PARENT in under_package.json()["errors"]
    empty = await bot.client.submit(ADMIN, view, {Field.PARENT: str(project_id), Field.UNIT_NAME: "  "})
    assert Field.UNIT_NAME in empty.json()["errors"]
    with bot.session() as session:
        assert len(session.exec(select(Unit)).all()) == 5
        assert session.exec(select(AuditLog)).all() == []


async def test_non_admins_cannot_change_the_structure(bot: Bot) -> None:
    await bot.client.command(OWNER, "structure")
    await bot.settle()
    assert "Only admins" in bot.slack.responses(OWNER)[-1]["text"]
    assert bot.slack.calls("views.open") == []
    # Nor by submitting a form an admin opened.
    await bot.client.command(ADMIN, "structure")
    await bot.settle()
    view = bot.slack.last_view(ADMIN)
    reply = await bot.client.submit(OWNER, view, {Field.PARENT: NEW_ORGANIZATION, Field.UNIT_NAME: "Rogue"})
    assert reply.json()["response_action"] == "errors"
    with bot.session() as session:
        assert session.exec(select(Unit)).all() == []
