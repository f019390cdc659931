"""Pickers at any size: with more packages or parent units than a static select holds (100), the
modal offers an external select, answers its options requests as the person types, and shows a
measure's current package even when it is the 120th. Signed requests, both databases."""

from __future__ import annotations

import json

from sqlmodel import select

from domain.enums import Level
from domain.measure_schema import Key
from messages.ids import Field
from storage.models import Measure, Unit
from tests.commands.test_measure import open_modal
from tests.conftest import ADMIN, OWNER, Bot
from tests.factories import make_measure, make_tree
from tests.playbook import WED


def packages(bot: Bot, count: int) -> list[Unit]:
    with bot.session() as session:
        first = make_tree(session)
        made = [first]
        for n in range(1, count):
            unit = Unit(level=Level.PACKAGE, name=f"Package {n:03d}", parent_id=first.parent_id)
            session.add(unit)
            made.append(unit)
        session.flush()
        return made


def element_of(view: dict, block_id: str) -> dict:
    return next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)


async def test_a_measure_in_the_120th_of_150_packages_can_be_edited_and_packages_are_searched(bot: Bot) -> None:
    made = packages(bot, 150)
    with bot.session() as session:
        make_measure(session, package=session.get(Unit, made[120].id), title="Far down", now=WED, owner_id=OWNER)
    view = await open_modal(bot, OWNER, "edit M-1")
    element = element_of(view, Key.PACKAGE)
    assert element["type"] == "external_select"
    assert element["initial_option"]["value"] == str(made[120].id)  # the current value, always shown
    reply = await bot.client.options(OWNER, view, Key.PACKAGE, "package 12")
    options = reply.json()["options"]
    assert reply.status == 200 and 1 <= len(options) <= 100
    expected = {u.name for u in made if "12" in u.name}  # every word typed: 012, 112, 120 … 129
    assert {o["text"]["text"].rsplit(" › ", 1)[-1] for o in options} == expected and len(expected) == 12
    everything = (await bot.client.options(OWNER, view, Key.PACKAGE, "")).json()["options"]
    assert len(everything) == 100  # the first hundred; typing narrows them
    # Saved with a package chosen from the search: it moves there.
    values = {Key.TITLE: "Far down", Key.PACKAGE: options[0]["value"]}
    assert (await bot.client.submit(OWNER, view, values)).json()["response_action"] == "update"
    with bot.session() as session:
        assert str(session.exec(select(Measure)).one().package_id) == options[0]["value"]


async def test_a_few_packages_stay_a_static_select(bot: Bot) -> None:
    packages(bot, 3)
    view = await open_modal(bot, OWNER, "new")
    assert element_of(view, Key.PACKAGE)["type"] == "static_select"


async def test_the_structure_modal_offers_every_parent_by_search(bot: Bot) -> None:
    with bot.session() as session:
        root = make_tree(session)
        program = session.get(Unit, session.get(Unit, root.parent_id).parent_id)  # type: ignore[union-attr]
        for n in range(158):
            session.add(Unit(level=Level.PROJECT, name=f"Project {n:03d}", parent_id=program.id))  # type: ignore[union-attr]
    view = await open_modal(bot, ADMIN, "structure")
    assert element_of(view, Field.PARENT)["type"] == "external_select"
    found = (await bot.client.options(ADMIN, view, Field.PARENT, "project 157")).json()["options"]
    assert [o["text"]["text"].endswith("Project 157 (project)") for o in found] == [True]
    assert json.dumps(found).count("a new organization") == 0
