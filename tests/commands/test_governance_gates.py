"""The governance file in force decides the gates (both databases, signed requests): a gate asks for
what the portfolio's file requires — a stricter file refuses what the default would let through, a
laxer one lets through what it would refuse, in a gate request, on the card and in an import —
each request keeps the version it was made under, and `/measure rules` shows the gates in force."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import col, select

from commands.governance import apply_governance
from domain.enums import Stage
from domain.escalation_rules import PortfolioRules
from domain.measure_schema import Key
from messages.ids import Action
from slackkit.settings import Settings
from storage.models import AuditLog, GateDecision, GateRequest, Measure, MeasureFieldValue, MeasureMonth, Unit
from tests.commands.test_gates import NOW, approval_dm, button, last_reply, set_stage, setup, stage_of
from tests.commands.test_importer import GOOD, HEADER, run_import
from tests.commands.test_measure import _initial, open_modal
from tests.conftest import ADMIN, CONTROLLER, OWNER, SPONSOR, STRANGER, Bot

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


async def owner_asks_and_the_sponsor_approves(bot: Bot) -> None:
    """The owner asks for M-1's next gate; the sponsor, asked first, approves."""
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert f"Asked <@{SPONSOR}> to approve" in last_reply(bot, OWNER)
    first = approval_dm(bot, SPONSOR)
    await bot.client.click(SPONSOR, Action.GATE_APPROVE, button(first, Action.GATE_APPROVE), message=first)
    await bot.settle()


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
    assert f"DI3: sponsor then <@{CONTROLLER}>;" in shown and "DI5: controller then sponsor" in shown


async def test_the_file_names_who_approves_in_order_and_nobody_approves_their_own_request(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    apply(bot, LAX)  # DI3: the sponsor, then a finance person (here the controller's account)
    await owner_asks_and_the_sponsor_approves(bot)
    assert stage_of(bot) == Stage.DI2  # the second step is still to decide
    second = approval_dm(bot, CONTROLLER)
    assert "approver" in json.dumps(second["blocks"])
    await bot.client.click(CONTROLLER, Action.GATE_APPROVE, button(second, Action.GATE_APPROVE), message=second)
    await bot.settle()
    assert stage_of(bot) == Stage.DI3
    with bot.session() as session:
        [request] = session.exec(select(GateRequest)).all()
        assert json.loads(request.chain) == [["sponsor", SPONSOR], ["approver", CONTROLLER]]
    set_stage(bot, Stage.DI3, evidence=True)  # what DI4 needs
    apply(bot, LAX.replace(f"{{person: {CONTROLLER}}}", f"{{person: {OWNER}}}").replace("DI3:", "DI4:"))
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "Nothing was requested" in last_reply(bot, OWNER) and "nobody approves their own" in last_reply(bot, OWNER)
    apply(bot, LAX.replace(f"{{person: {CONTROLLER}}}", "{usergroup: S0FINANCE}").replace("DI3:", "DI4:"))
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "Nothing was requested" in last_reply(bot, OWNER) and "has no members" in last_reply(bot, OWNER)
    with bot.session() as session:
        assert len(session.exec(select(GateRequest)).all()) == 1  # neither refusal stored a request


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


PORTFOLIO_RULES = """\
organization: Acme
portfolios:
  Ops:
    tolerance: 5
    weights: {DI1: 0, DI2: 20, DI3: 60, DI4: 90, DI5: 100}
    plan_frozen_from: DI2
"""


async def test_the_file_sets_the_portfolios_tolerance_weights_and_frozen_stage(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(OWNER, "rebaseline M-1")  # by default a plan is frozen from the decision (DI3)
    await bot.settle()
    assert last_reply(bot, OWNER).startswith("M-1 has not reached DI3 yet")
    apply(bot, PORTFOLIO_RULES)
    with bot.session() as session:
        ops = session.exec(select(Unit).where(Unit.name == "Ops")).one()
        rules = PortfolioRules.parse(ops.rules)
        assert (ops.tolerance_pct, rules.weights.of(Stage.DI3), rules.plan_frozen_from) == (5, 60, Stage.DI2)
        audit = session.exec(select(AuditLog).where(AuditLog.action == "rules_changed")).one()
        assert json.loads(audit.detail)["governance_version"] == 1
        months = session.exec(select(MeasureMonth)).all()
        assert months and all(m.decided_plan == m.plan for m in months)  # frozen now: its plan is the baseline
    await bot.client.command(OWNER, "rebaseline M-1")
    await bot.settle()
    assert bot.slack.calls("views.open")  # the re-baseline form, no longer a refusal
    await bot.client.command(ADMIN, "rules Ops tolerance=20")
    await bot.settle()
    assert "Nothing was changed: Ops's tolerance is set by its governance file (version 1)" in last_reply(bot, ADMIN)
    await bot.client.command(ADMIN, "rules Ops step-hours=12")  # what the file leaves out stays the portfolio's
    await bot.settle()
    shown = last_reply(bot, ADMIN)
    assert "tolerance 5%" in shown and "DI3 60%" in shown and "re-baseline from DI2" in shown and "after 12 h" in shown
    with bot.session() as session:
        assert session.exec(select(Unit).where(Unit.name == "Ops")).one().tolerance_pct == 5


async def test_any_one_member_of_a_usergroup_decides_its_step_and_every_members_copy_shows_it(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    bot.slack.add_usergroup("S0FINANCE", [OWNER, CONTROLLER, ADMIN])  # the requester is a member too
    apply(bot, LAX.replace(f"{{person: {CONTROLLER}}}", "{usergroup: S0FINANCE}"))
    await owner_asks_and_the_sponsor_approves(bot)
    assert [c.args["usergroup"] for c in bot.slack.calls("usergroups.users.list")] == ["S0FINANCE"]
    to_controller, to_admin = approval_dm(bot, CONTROLLER), approval_dm(bot, ADMIN)  # one each; none to the requester
    assert not [m for m in bot.slack.dms(OWNER) if m.get("text", "").startswith("Approval: ")]
    assert "<!subteam^S0FINANCE>" in json.dumps(to_admin["blocks"])
    with bot.session() as session:
        [request] = session.exec(select(GateRequest)).all()
        assert json.loads(request.chain)[1] == ["approver", "S0FINANCE", sorted([ADMIN, CONTROLLER])]
    await bot.client.click(ADMIN, Action.GATE_APPROVE, button(to_admin, Action.GATE_APPROVE), message=to_admin)
    await bot.settle()
    assert stage_of(bot) == Stage.DI3
    updated = [c.args for c in bot.slack.calls("chat.update") if c.args["ts"] == to_controller["ts"]]
    assert updated and Action.GATE_APPROVE not in json.dumps(updated[-1]["blocks"])  # the other member's copy
    await bot.client.click(
        CONTROLLER, Action.GATE_APPROVE, button(to_controller, Action.GATE_APPROVE), message=to_controller
    )
    await bot.settle()
    with bot.session() as session:
        decisions = session.exec(select(GateDecision).order_by(col(GateDecision.step))).all()
        assert [(d.decided_by, d.approver_id) for d in decisions] == [(SPONSOR, SPONSOR), (ADMIN, "S0FINANCE")]


FIELDS = """\
organization: Acme
portfolios:
  Ops:
    fields:
      - {name: customer_segment, label: Customer segment, type: select, options: [SMB, Enterprise]}
      - {name: contract_ref, label: Contract reference, type: text}
      - {name: capex, label: Capex, type: money}
      - {name: buyer, label: Buyer, type: user}
    gates:
      DI2: {requires: [due, customer_segment]}
"""


async def test_a_required_custom_field_is_set_with_measure_field_and_then_the_gate_opens(bot: Bot) -> None:
    setup(bot, stage=Stage.DI1)
    apply(bot, FIELDS)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "Nothing was requested" in last_reply(bot, OWNER) and "a customer segment" in last_reply(bot, OWNER)
    await bot.client.command(STRANGER, "field M-1 customer_segment=SMB")
    await bot.settle()
    assert "Only the owner, sponsor or controller of M-1" in last_reply(bot, STRANGER)
    await bot.client.command(OWNER, "field M-1 customer_segment=Mid capex=lots colour=red")
    await bot.settle()
    refused = last_reply(bot, OWNER)
    assert refused.startswith("Nothing was changed.") and "is one of SMB, Enterprise" in refused
    assert "not an amount" in refused and "“colour” is not a field" in refused
    with bot.session() as session:
        assert session.exec(select(MeasureFieldValue)).all() == []  # all or nothing
    await bot.client.command(OWNER, "field M-1 customer_segment=SMB buyer=U0NOBODY")  # no such person
    await bot.settle()
    assert last_reply(bot, OWNER).startswith("Nothing was changed. buyer: Choose a person")
    with bot.session() as session:
        assert session.exec(select(MeasureFieldValue)).all() == []  # not even the segment
    await bot.client.command(OWNER, f"field M-1 customer_segment=enterprise contract_ref=C 2027/114 <!channel> "
                                    f"capex=€1.2m buyer=<@{CONTROLLER}>")  # fmt: skip
    await bot.settle()
    saved = last_reply(bot, OWNER)
    assert saved.startswith("Saved.") and "*Customer segment* (`customer_segment`, select): Enterprise" in saved
    assert "C 2027/114 &lt;!channel&gt;" in saved and "<!channel>" not in saved  # a value never pings
    with bot.session() as session:
        values = {v.name: v.value for v in session.exec(select(MeasureFieldValue))}
        assert values == {"customer_segment": "Enterprise", "contract_ref": "C 2027/114 <!channel>",
                          "capex": "1200000", "buyer": CONTROLLER}  # fmt: skip
        audit = session.exec(select(AuditLog).where(AuditLog.action == "fields_changed")).one()
        assert json.loads(audit.detail)["customer_segment"] == ["", "Enterprise"]
    await bot.client.command(STRANGER, "field M-1")  # anyone may read them
    await bot.settle()
    assert "*Capex* (`capex`, money): €1,200,000" in last_reply(bot, STRANGER)
    await bot.client.command(SPONSOR, "show M-1")  # the card shows them
    await bot.settle()
    card = json.dumps(bot.slack.responses(SPONSOR)[-1], ensure_ascii=False)
    assert "*Customer segment* Enterprise" in card and f"*Buyer* <@{CONTROLLER}>" in card and "€1,200,000" in card
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert f"Asked <@{SPONSOR}> to approve" in last_reply(bot, OWNER)
    await bot.client.command(OWNER, "field M-1 contract_ref=")  # an empty value clears one
    await bot.settle()
    assert "*Contract reference* (`contract_ref`, text): _not set_" in last_reply(bot, OWNER)


async def test_the_edit_form_shows_the_portfolios_custom_fields_and_saves_them_with_the_edit(bot: Bot) -> None:
    setup(bot, stage=Stage.DI1)
    apply(bot, FIELDS)
    await bot.client.command(OWNER, "field M-1 customer_segment=SMB capex=250000")
    await bot.settle()
    view = await open_modal(bot, OWNER, "edit M-1")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert (
        inputs["custom.customer_segment"]["type"] == "static_select"
        and inputs["custom.buyer"]["type"] == "users_select"
    )
    values = {block: _initial(element) for block, element in inputs.items()}
    assert values["custom.customer_segment"] == "SMB" and values["custom.capex"] == "€250,000"
    refused = await bot.client.submit(OWNER, view, {**values, "custom.capex": "lots", Key.TITLE: "Renamed"})
    body = refused.json()
    assert body["response_action"] == "errors" and "not an amount" in body["errors"]["custom.capex"]
    with bot.session() as session:
        assert session.exec(select(Measure)).one().title != "Renamed"  # nothing of the form was kept
    saved = await bot.client.submit(OWNER, view, {**values, "custom.customer_segment": "Enterprise",
                                                  "custom.contract_ref": "C-114", "custom.capex": ""})  # fmt: skip
    assert saved.json()["response_action"] == "update" and "customer segment" in json.dumps(saved.json()).lower()
    with bot.session() as session:
        held = {v.name: v.value for v in session.exec(select(MeasureFieldValue))}
        assert held == {"customer_segment": "Enterprise", "contract_ref": "C-114"}  # capex cleared
