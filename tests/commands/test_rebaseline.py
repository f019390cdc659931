"""The plan is frozen at the decision: DI3's approval keeps the plan as decided; after it, an edit
may not change the plan, and `/measure rebaseline` asks for a new one with a reason, approved like
a gate (the sponsor; the controller first when actuals exist; never the requester). Card and
digest show the plan at the decision beside the current one. Through signed requests."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlmodel import select

from domain.enums import Stage
from domain.measure_schema import Key
from messages.ids import Action, Field
from storage.models import AuditLog, GateRequest, Measure, MeasureMonth
from tests.commands.test_gates import approval_dm, button, last_reply
from tests.commands.test_measure import _initial
from tests.conftest import CONTROLLER, OWNER, SPONSOR, STRANGER, Bot
from tests.playbook import setup_measures

NEW_PLAN = "\n".join(f"2027-{m:02d}: 11k" for m in range(1, 13))  # 132k instead of 12 × 10k


def plans(bot: Bot) -> tuple[int, int, int | None]:
    """(Σ plan, Σ plan at the decision, target) of M-1."""
    with bot.session() as session:
        months = session.exec(select(MeasureMonth)).all()
        measure = session.exec(select(Measure)).one()
        return sum(m.plan or 0 for m in months), sum(m.decided_plan or 0 for m in months), measure.target


async def click(bot: Bot, user: str, action: str, message: dict[str, Any]) -> None:
    await bot.client.click(user, action, button(message, action), message=message)
    await bot.settle()


async def open_rebaseline(bot: Bot) -> dict[str, Any]:
    await bot.client.command(OWNER, "rebaseline M-1")
    await bot.settle()
    return bot.slack.last_view(OWNER)


async def card(bot: Bot) -> str:
    await bot.client.command(OWNER, "show M-1")
    await bot.settle()
    return json.dumps(bot.slack.responses(OWNER)[-1]["blocks"], ensure_ascii=False)


async def test_the_decision_freezes_the_plan_and_an_edit_cannot_change_it(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI2)  # plan 10k a month in 2027
    assert plans(bot) == (120_000, 0, 120_000)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    await click(bot, SPONSOR, Action.GATE_APPROVE, approval_dm(bot, SPONSOR))
    assert plans(bot) == (120_000, 120_000, 120_000)  # decided: the plan as it stood is on record
    await bot.client.command(OWNER, "edit M-1")
    await bot.settle()
    view = bot.slack.last_view(OWNER)
    values = {b["block_id"]: _initial(b["element"]) for b in view["blocks"] if b["type"] == "input"}
    body = (await bot.client.submit(OWNER, view, {**values, Key.MONTHLY_PLAN: NEW_PLAN})).json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        Key.MONTHLY_PLAN: "From DI3 the plan is the baseline: ask for a re-baseline with `/measure rebaseline M-1`."
    }
    body = (await bot.client.submit(OWNER, view, {**values, Key.TITLE: "Consolidate all"})).json()
    assert body["response_action"] == "update"  # anything else may still be edited
    assert plans(bot) == (120_000, 120_000, 120_000)


async def test_a_rebaseline_is_asked_with_a_reason_and_approved_by_the_sponsor(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI3)
    view = await open_rebaseline(bot)
    assert "2027-01: 10,000" in json.dumps(view["blocks"])  # the plan now, as the organization writes it
    refusals = [
        ({Field.NEW_PLAN: NEW_PLAN, Field.REASON: " "}, Field.REASON),
        ({Field.NEW_PLAN: "\n".join(f"2027-{m:02d}: 10k" for m in range(1, 13)), Field.REASON: "x"}, Field.NEW_PLAN),
        ({Field.NEW_PLAN: "2027-01: lots", Field.REASON: "x"}, Field.NEW_PLAN),
    ]
    for values, field in refusals:
        body = (await bot.client.submit(OWNER, view, values)).json()
        assert body["response_action"] == "errors" and field in body["errors"], body
    body = (await bot.client.submit(STRANGER, view, {Field.NEW_PLAN: NEW_PLAN, Field.REASON: "mine now"})).json()
    assert body["errors"] == {
        Field.NEW_PLAN: "Nothing was requested. Only the owner of M-1, or an admin, can request its gates."
    }
    reply = await bot.client.submit(
        OWNER, view, {Field.NEW_PLAN: NEW_PLAN, Field.REASON: "the second supplier came in"}
    )
    assert reply.json()["response_action"] == "update"
    await bot.settle()
    with bot.session() as session:
        request = session.exec(select(GateRequest)).one()
        assert (request.kind, request.to_stage, request.state) == ("rebaseline", "DI3", "open")
    message = approval_dm(bot, SPONSOR)
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert "Approval: re-baseline M-1" in text and "the plan from €120,000 to *€132,000* (12 months change" in text
    assert "the second supplier came in" in text
    assert plans(bot) == (120_000, 120_000, 120_000)  # nothing changes before the approval

    await click(bot, OWNER, Action.GATE_APPROVE, message)  # the requester never approves
    assert "cannot approve or reject it yourself" in last_reply(bot, OWNER)
    await click(bot, SPONSOR, Action.GATE_APPROVE, message)
    assert plans(bot) == (132_000, 120_000, 132_000)  # the plan at the decision stays on record
    with bot.session() as session:
        [audit] = session.exec(select(AuditLog).where(AuditLog.action == "rebaselined")).all()
        assert json.loads(audit.detail or "{}")["target"] == [120_000, 132_000]
        assert session.exec(select(Measure)).one().stage == Stage.DI3
    shown = await card(bot)
    assert "*Plan at the decision* (DI3) €120,000 · *current plan* €132,000 (+€12,000 re-baselined)" in shown
    before = len(bot.slack.responses(OWNER))
    await bot.client.command(OWNER, "digest preview Ops")
    await bot.settle()
    digest = json.dumps([r.get("blocks") for r in bot.slack.responses(OWNER)[before:]], ensure_ascii=False)
    assert "plan *€132,000* (at the decision €120,000) · forecast *€132,000*" in digest
    assert "*M-1* re-baselined: target €120,000 → *€132,000*" in digest


async def test_with_actuals_the_controller_approves_first(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI4)
    with bot.session() as session:
        january = session.get(MeasureMonth, (1, date(2027, 1, 1)))
        assert january is not None
        january.actual = 9_000
        session.add(january)
    await bot.client.submit(OWNER, await open_rebaseline(bot), {Field.NEW_PLAN: NEW_PLAN, Field.REASON: "scope"})
    await bot.settle()
    assert bot.slack.dms(SPONSOR) == []
    await click(bot, CONTROLLER, Action.GATE_APPROVE, approval_dm(bot, CONTROLLER))
    assert plans(bot)[0] == 120_000  # the sponsor still has to approve
    await click(bot, SPONSOR, Action.GATE_APPROVE, approval_dm(bot, SPONSOR))
    assert plans(bot)[0] == 132_000


async def test_before_the_decision_there_is_nothing_to_rebaseline(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI2)
    await bot.client.command(OWNER, "rebaseline M-1")
    await bot.settle()
    assert last_reply(bot, OWNER) == "M-1 has not reached DI3 yet: change its plan with `/measure edit M-1`."
    assert not bot.slack.calls("views.open")
