"""`/measure history KEY` and `/measure search TEXT`: newest first, a page at a time with "More",
user text escaped. Signed requests to the running app, both databases."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from messages.ids import Action
from messages.payloads import PageRef
from storage.models import AuditLog, Measure
from tests.conftest import OWNER, STRANGER, Bot
from tests.playbook import NY_MON_9, WED, button_value, prompt_of, setup_measures, tick


def more_button(reply: dict) -> str | None:
    for block in reply.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == Action.PAGE_MORE:
                return str(element["value"])
    return None


async def test_history_lists_the_audit_trail_and_the_answers_newest_first_a_page_at_a_time(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate suppliers"))
    await tick(bot, NY_MON_9)
    prompt = prompt_of(bot, OWNER)
    on_track = button_value(prompt, Action.CHECKIN_ON_TRACK)
    await bot.client.click(OWNER, Action.CHECKIN_ON_TRACK, on_track, message=prompt)
    await bot.settle()
    with bot.session() as session:  # twenty earlier edits; with its creation and the answer's status change: 23
        for n in range(20):
            session.add(AuditLog(at=WED + timedelta(hours=n), actor=OWNER, entity="measure", entity_key="M-1",
                                 action="edited", detail=json.dumps({"title": [f"Old {n}", f"New {n}"]})))  # fmt: skip
    await bot.client.command(STRANGER, "history m-1")
    await bot.settle()
    first = bot.slack.responses(STRANGER)[-1]
    shown = json.dumps(first["blocks"], ensure_ascii=False)
    assert "*History of M-1* “Consolidate suppliers” · 1–15 of 23" in shown
    assert "answered: work on track" in shown and "edited: title Old 19 → New 19" in shown
    assert shown.index("answered: work on track") < shown.index("edited: title Old 19 → New 19")  # newest first
    value = more_button(first)
    assert value is not None and PageRef.load(value) == PageRef(what="history", subject="M-1", offset=15)

    await bot.client.click(STRANGER, Action.PAGE_MORE, value)
    await bot.settle()
    second = json.dumps(bot.slack.dms(STRANGER)[-1].blocks, ensure_ascii=False)
    assert "16–23 of 23" in second and "created" in second and more_button({"blocks": json.loads(second)}) is None


async def test_search_ranks_the_key_then_titles_then_descriptions_and_owners(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Supplier consolidation"), (OWNER, "Renegotiate film with supplier"),
                   (OWNER, "Cut freight"))  # fmt: skip
    with bot.session() as session:
        freight = session.exec(select(Measure).where(Measure.title == "Cut freight")).one()
        freight.description = "fewer supplier trucks, 100%_sure"
        session.add(freight)
    await bot.client.command(STRANGER, "search supplier")
    await bot.settle()
    shown = json.dumps(bot.slack.responses(STRANGER)[-1]["blocks"], ensure_ascii=False)
    assert "· 1–3 of 3" in shown
    assert shown.index("Supplier consolidation") < shown.index("Renegotiate film") < shown.index("Cut freight")
    await bot.client.command(STRANGER, "search olivia")  # the owner's name
    await bot.settle()
    assert "1–3 of 3" in json.dumps(bot.slack.responses(STRANGER)[-1]["blocks"], ensure_ascii=False)
    await bot.client.command(STRANGER, "search %_")  # LIKE's wildcards are searched as themselves
    await bot.settle()
    assert "1–1 of 1" in json.dumps(bot.slack.responses(STRANGER)[-1]["blocks"], ensure_ascii=False)


async def test_bad_searches_and_unknown_keys_get_a_clear_answer_and_text_is_escaped(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Cut freight"))
    cases = [("history M-99", "There is no measure M-99"), ("search", "Search for what?"),
             ("search <!channel> nothing", "No measure matches “&lt;!channel&gt; nothing”"),
             ("search " + "x" * 201, "at most 200 characters")]  # fmt: skip
    for text, expected in cases:
        await bot.client.command(STRANGER, text)
        await bot.settle()
        assert expected in bot.slack.responses(STRANGER)[-1]["text"], text
    forged = await bot.client.click(STRANGER, Action.PAGE_MORE, '{"what": "history", "subject": "M-1", "offset": -5}')
    await bot.settle()
    assert forged.status == 200 and "out of date" in bot.slack.dms(STRANGER)[-1].text
