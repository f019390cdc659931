"""The governance file in force decides the gates (both databases, signed requests): a gate asks for
what the portfolio's file requires — a stricter file refuses what the default would let through, a
laxer one lets through what it would refuse, in a gate request, on the card and in an import —
each request keeps the version it was made under, and `/measure rules` shows the gates in force."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from commands.governance import apply_governance
from domain.enums import Stage
from slackkit.settings import Settings
from storage.models import AuditLog, GateRequest, Measure
from tests.commands.test_gates import NOW, last_reply, setup
from tests.commands.test_importer import GOOD, HEADER, run_import
from tests.conftest import ADMIN, CONTROLLER, OWNER, SPONSOR, Bot

STRICT = """\
organization: Acme
portfolios:
  Ops:
    fields:
      - {name: contract_ref, label: Contract reference, type: text}
    gates:
      DI2: {requires: [due, contract_ref]}
"""
LAX = f"""\
organization: Acme
portfolios:
  Ops:
    gates:
      DI2: {{requires: [due]}}
      DI3: {{approvers: [sponsor, {{person: {CONTROLLER}}}]}}
"""


def apply(bot: Bot, document: str) -> None:
    with bot.session() as session:
        outcome = apply_governance(session, document, actor=ADMIN, now=NOW)
        assert outcome.ok, outcome.text


async def test_the_file_in_force_decides_what_a_gate_needs_and_the_request_keeps_its_version(bot: Bot) -> None:
    setup(bot, stage=Stage.DI1, risks=[])  # today's DI2 gate wants risks, or "no known risks"
    apply(bot, STRICT)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    reply = last_reply(bot, OWNER)
    assert "Nothing was requested" in reply and "a contract reference" in reply and "risk" not in reply
    await bot.client.command(OWNER, "show M-1")  # the card's hint says the same
    await bot.settle()
    assert "it still needs: a contract reference." in json.dumps(bot.slack.responses(OWNER)[-1])
    apply(bot, LAX)  # version 2: only a due date
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert f"Asked <@{SPONSOR}> to approve" in last_reply(bot, OWNER)
    with bot.session() as session:
        [request] = session.exec(select(GateRequest)).all()
        assert (request.to_stage, request.governance_version) == (Stage.DI2, 2)
        audit = session.exec(select(AuditLog).where(AuditLog.action == "gate_requested")).one()
        assert json.loads(audit.detail)["governance_version"] == 2


async def test_without_a_file_the_gates_are_todays_and_rules_say_which_are_in_force(bot: Bot) -> None:
    setup(bot, stage=Stage.DI1, risks=[])
    await bot.client.command(OWNER, "rules Ops")
    await bot.settle()
    shown = last_reply(bot, OWNER)
    assert "today's method" in shown and "into DI2: `due`, `monthly_plan_sums_to_target`, `risks_or_none`" in shown
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "Nothing was requested" in last_reply(bot, OWNER) and "at least one risk" in last_reply(bot, OWNER)
    apply(bot, LAX)
    await bot.client.command(OWNER, "rules Ops")
    await bot.settle()
    shown = last_reply(bot, OWNER)
    assert "governance file version 1" in shown and "into DI2: `due`;" in shown
    assert f"DI3: sponsor, <@{CONTROLLER}>) are not used yet" in shown


async def test_an_import_places_measures_at_a_stage_under_the_file_in_force(
    bot: Bot, settings: Settings, tmp_path: Path
) -> None:
    setup(bot, stage=Stage.DI1)
    row = GOOD.splitlines()[1].replace(",M-7,Consolidate suppliers,", ",,Bundle freight,").split(",")
    no_risks = ",".join([*row[:17], "", *row[18:]])  # at DI2, without risks
    text = f"{HEADER}\n{no_risks}\n"
    code, _out, err = await run_import(settings, text, tmp_path)
    assert code == 1 and "at least one risk" in err, err  # today's DI2 gate
    apply(bot, LAX)  # DI2 asks only for a due date
    code, _out, err = await run_import(settings, text, tmp_path)
    assert code == 0, err
    with bot.session() as session:
        assert len(session.exec(select(Measure).where(Measure.stage == Stage.DI2)).all()) == 1
