"""Stage gates end to end: requests, approval messages, decisions, delegation, exactly once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import select

from domain.enums import Severity, Stage
from domain.parsing import RiskLine
from messages.ids import Action, Callback, Field
from messages.payloads import GateRef
from reminders.sweep import sweep
from storage.models import AuditLog, Escalation, Evidence, GateDecision, GateRequest, Measure, MeasureMonth, Outbox
from storage.outbox import FailurePayload, Kind, owe
from storage.queries import get_measure
from storage.types import SendState
from tests.conftest import ADMIN, CONTROLLER, OWNER, SPONSOR, STRANGER, Bot
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import last_dm

NOW = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)


def setup(bot: Bot, **overrides: Any) -> Measure:
    bot.clock.set(NOW)
    with bot.session() as session:
        add_people(session, bot.slack)
        return make_measure(session, package=make_tree(session), now=NOW, **overrides)


def set_stage(bot: Bot, stage: Stage, *, evidence: bool = False, actuals: bool = False) -> None:
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
        measure.stage = stage
        session.add(measure)
        if evidence:
            session.add(Evidence(measure_id=measure.id or 0, url="https://wiki.example/done", added_by=OWNER))
        if actuals:  # January and February are closed: both validated by the controller
            for closed in (date(2027, 1, 1), date(2027, 2, 1)):
                month = session.get(MeasureMonth, (measure.id, closed))
                assert month is not None  # the factory plans every month of 2027
                month.actual, month.actual_validated_by, month.actual_validated_at = 9_000, CONTROLLER, NOW
                session.add(month)


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def approval_dm(bot: Bot, user: str) -> dict[str, Any]:
    return last_dm(bot, user, "Approval: ")


def button(message: dict[str, Any], action: str) -> str:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action:
                return str(element["value"])
    raise AssertionError(f"no {action} button")


def last_reply(bot: Bot, user: str) -> str:
    return str(bot.slack.responses(user)[-1]["text"])


def stage_of(bot: Bot) -> str:
    with bot.session() as session:
        return session.exec(select(Measure.stage)).one()


async def test_a_gate_with_a_missing_baseline_is_refused_with_what_is_missing(bot: Bot) -> None:
    setup(bot, baseline=None, function="")
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    reply = last_reply(bot, OWNER)
    assert "Nothing was requested" in reply and "a baseline" in reply and "a function" in reply
    with bot.session() as session:
        assert session.exec(select(GateRequest)).all() == []
    assert bot.slack.dms(SPONSOR) == []  # no approver is bothered


async def test_a_full_di2_to_di3_approval_moves_the_stage_and_updates_the_message(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "Asked <@U0SPONSOR> to approve" in last_reply(bot, OWNER)
    message = approval_dm(bot, SPONSOR)
    text = dump(message["blocks"])
    assert "DI3 Decided" in text and "Baseline" in text and "supplier delay" in text and f"<@{OWNER}>" in text
    assert stage_of(bot) == Stage.DI2  # nothing moves before the approval

    await bot.client.click(SPONSOR, Action.GATE_APPROVE, button(message, Action.GATE_APPROVE), message=message)
    await bot.settle()
    assert stage_of(bot) == Stage.DI3
    updated = bot.slack.dms(SPONSOR)[0]
    assert updated.updated == 1 and "approved" in dump(updated.blocks)
    assert not any(b["type"] == "actions" for b in updated.blocks)  # the buttons are gone
    outcome = [m for m in bot.slack.dms(OWNER) if "Approved" in dump(m.blocks)]
    assert len(outcome) == 1  # the requester is told
    with bot.session() as session:
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
        assert actions[-3:] == ["gate_requested", "stage_changed", "gate_approved"] or actions[-3:] == [
            "gate_requested", "gate_approved", "stage_changed",
        ]  # fmt: skip
        assert session.exec(select(GateRequest.state)).one() == "approved"


async def test_reject_and_request_changes_need_a_reason(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    message = approval_dm(bot, SPONSOR)
    await bot.client.click(SPONSOR, Action.GATE_REJECT, button(message, Action.GATE_REJECT), message=message)
    await bot.settle()
    view = bot.slack.last_view(SPONSOR)
    assert view["callback_id"] == Callback.GATE_REASON
    body = (await bot.client.submit(SPONSOR, view, {Field.REASON: "  "})).json()
    assert body["response_action"] == "errors" and Field.REASON in body["errors"]
    assert stage_of(bot) == Stage.DI2
    reply = await bot.client.submit(SPONSOR, view, {Field.REASON: "the business case double counts freight"})
    assert reply.text == ""
    await bot.settle()
    with bot.session() as session:
        request = session.exec(select(GateRequest)).one()
        assert (request.state, request.open_for) == ("rejected", None)
    told = dump([m.blocks for m in bot.slack.dms(OWNER)])
    assert "Rejected" in told and "double counts freight" in told
    assert stage_of(bot) == Stage.DI2


async def test_di4_to_di5_needs_the_controller_then_the_sponsor(bot: Bot) -> None:
    setup(bot)
    set_stage(bot, Stage.DI4, evidence=True, actuals=True)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert bot.slack.dms(SPONSOR) == []  # the controller validates first
    controller_msg = approval_dm(bot, CONTROLLER)
    # The sponsor cannot jump the queue with the controller's button.
    await bot.client.click(
        SPONSOR, Action.GATE_APPROVE, button(controller_msg, Action.GATE_APPROVE), message=controller_msg
    )
    await bot.settle()
    assert "Only the controller of M-1" in last_reply(bot, SPONSOR)
    await bot.client.click(
        CONTROLLER, Action.GATE_APPROVE, button(controller_msg, Action.GATE_APPROVE), message=controller_msg
    )
    await bot.settle()
    assert stage_of(bot) == Stage.DI4
    sponsor_msg = approval_dm(bot, SPONSOR)
    assert "controller — <@U0CTRL> approved" in dump(sponsor_msg["blocks"])
    await bot.client.click(SPONSOR, Action.GATE_APPROVE, button(sponsor_msg, Action.GATE_APPROVE), message=sponsor_msg)
    await bot.settle()
    assert stage_of(bot) == Stage.DI5
    # Both copies now show both decisions.
    for user in (CONTROLLER, SPONSOR):
        blocks = dump(bot.slack.dms(user)[0].blocks)
        assert "controller — <@U0CTRL> approved" in blocks and "sponsor — <@U0SPONSOR> approved" in blocks


async def test_di5_without_actuals_or_evidence_is_refused(bot: Bot) -> None:
    setup(bot)
    set_stage(bot, Stage.DI4)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "actuals validated by the controller for every closed month of the plan (2 not yet: 2027-01, 2027-02)" in (
        last_reply(bot, OWNER)
    )


async def test_the_requester_a_stranger_and_a_stale_button_are_refused(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2, sponsor_id=ADMIN)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    message = approval_dm(bot, ADMIN)
    value = button(message, Action.GATE_APPROVE)
    await bot.client.click(OWNER, Action.GATE_APPROVE, value, message=message)  # the requester
    await bot.settle()
    assert "cannot approve or reject it yourself" in last_reply(bot, OWNER)
    await bot.client.click(STRANGER, Action.GATE_APPROVE, value, message=message)
    await bot.settle()
    assert "Only the sponsor of M-1" in last_reply(bot, STRANGER)
    await bot.client.click(STRANGER, Action.GATE_REJECT, value, message=message)  # no form for a stranger
    await bot.settle()
    assert "Only the sponsor of M-1" in last_reply(bot, STRANGER) and bot.slack.calls("views.open") == []
    stale = GateRef(request_id=1, step=3).dump()
    await bot.client.click(ADMIN, Action.GATE_APPROVE, stale, message=message)
    await bot.settle()
    assert "already been decided" in last_reply(bot, ADMIN)
    assert stage_of(bot) == Stage.DI2
    with bot.session() as session:
        assert session.exec(select(GateDecision)).all() == []


async def test_an_admin_who_asks_cannot_approve_their_own_request(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2, sponsor_id=ADMIN)
    await bot.client.command(ADMIN, "gate M-1")  # admins may request, but they are the sponsor here
    await bot.settle()
    assert "nobody approves their own request" in last_reply(bot, ADMIN)


async def test_only_the_owner_or_an_admin_requests_and_one_request_at_a_time(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(SPONSOR, "gate M-1")
    await bot.settle()
    assert "Only the owner of M-1" in last_reply(bot, SPONSOR)
    await bot.client.command(OWNER, "gate M-1")
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "already has a request waiting" in last_reply(bot, OWNER)
    with bot.session() as session:
        assert len(session.exec(select(GateRequest)).all()) == 1
    assert len(bot.slack.dms(SPONSOR)) == 1


async def test_concurrent_double_decisions_produce_one(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    with bot.session() as session:
        from storage.gate_requests import delegate

        delegate(session=session, delegator=SPONSOR, delegate_id=ADMIN, until=date(2027, 12, 31))
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    message = approval_dm(bot, SPONSOR)
    value = button(message, Action.GATE_APPROVE)
    # A double click, and the sponsor's delegate approving at the same moment.
    await asyncio.gather(
        bot.client.click(SPONSOR, Action.GATE_APPROVE, value, message=message),
        bot.client.click(SPONSOR, Action.GATE_APPROVE, value, message=message),
        bot.client.click(ADMIN, Action.GATE_APPROVE, value, message=message),
    )
    await bot.settle()
    with bot.session() as session:
        assert len(session.exec(select(GateDecision)).all()) == 1
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "stage_changed")).all()) == 1
    assert stage_of(bot) == Stage.DI3
    refusals = [r["text"] for u in (SPONSOR, ADMIN) for r in bot.slack.responses(u)]
    assert sum("already been decided" in r for r in refusals) == 2
    assert len([m for m in bot.slack.dms(OWNER) if "Approved" in dump(m.blocks)]) == 1


async def test_a_delegate_can_approve_while_the_delegation_lasts_and_not_after(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(SPONSOR, "delegate <@U0ADMIN|ada> until 2027-03-10")
    await bot.settle()
    assert "can decide your approvals until" in last_reply(bot, SPONSOR)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    message = approval_dm(bot, SPONSOR)
    bot.clock.set(datetime(2027, 3, 11, 9, tzinfo=UTC))  # the delegation has ended
    await bot.client.click(ADMIN, Action.GATE_APPROVE, button(message, Action.GATE_APPROVE), message=message)
    await bot.settle()
    assert "or their delegate" in last_reply(bot, ADMIN) and stage_of(bot) == Stage.DI2
    bot.clock.set(datetime(2027, 3, 10, 9, tzinfo=UTC))  # still within it
    await bot.client.click(ADMIN, Action.GATE_APPROVE, button(message, Action.GATE_APPROVE), message=message)
    await bot.settle()
    assert stage_of(bot) == Stage.DI3
    with bot.session() as session:
        decision = session.exec(select(GateDecision)).one()
        assert (decision.approver_id, decision.decided_by) == (SPONSOR, ADMIN)


async def test_hold_resume_and_cancel(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(OWNER, "hold M-1")
    await bot.settle()
    assert "Say why" in last_reply(bot, OWNER)
    await bot.client.command(OWNER, "hold M-1 waiting for the budget round")
    await bot.settle()
    with bot.session() as session:
        measure = get_measure(session=session, key="M-1")
        assert measure is not None and (measure.stage, measure.held_from_stage) == (Stage.ON_HOLD, Stage.DI2)
        assert measure.next_checkin_at is None  # no check-ins while on hold
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "on hold" in last_reply(bot, OWNER)
    await bot.client.command(STRANGER, "resume M-1")
    await bot.settle()
    assert "Nothing was changed" in last_reply(bot, STRANGER)
    await bot.client.command(OWNER, "resume M-1")
    await bot.settle()
    assert stage_of(bot) == Stage.DI2
    await bot.client.command(OWNER, "cancel M-1 superseded by M-9")
    await bot.settle()
    message = approval_dm(bot, SPONSOR)
    assert message["text"] == "Approval: cancel M-1 (waiting for the sponsor, <@U0SPONSOR>)"
    await bot.client.click(SPONSOR, Action.GATE_APPROVE, button(message, Action.GATE_APPROVE), message=message)
    await bot.settle()
    assert stage_of(bot) == Stage.CANCELLED


async def test_the_card_offers_the_next_gate_to_its_owner(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2, risks=[RiskLine(Severity.LOW, "rain", "")])
    await bot.client.command(OWNER, "show M-1")
    await bot.settle()
    card = bot.slack.responses(OWNER)[-1]
    value = button({"blocks": card["blocks"]}, Action.REQUEST_GATE)
    await bot.client.click(OWNER, Action.REQUEST_GATE, value, message={"channel": "C1", "ts": "1.1"})
    await bot.settle()
    assert approval_dm(bot, SPONSOR)
    await bot.client.command(STRANGER, "show M-1")
    await bot.settle()
    assert Action.REQUEST_GATE not in dump(bot.slack.responses(STRANGER)[-1])


async def test_the_delegate_command_validates_its_input(bot: Bot) -> None:
    bot.clock.set(NOW)
    for text, expected in (
        ("delegate", "Use `/measure delegate"),
        ("delegate <@U0ADMIN> until soon", "is not a date"),
        ("delegate <@U0ADMIN> until 2020-01-01", "has passed"),
        (f"delegate <@{SPONSOR}> until 2027-05-01", "someone other than yourself"),
    ):
        await bot.client.command(SPONSOR, text)
        await bot.settle()
        assert expected in last_reply(bot, SPONSOR), text
    with bot.session() as session:
        assert session.exec(select(AuditLog)).all() == []


async def test_a_waiting_approval_is_reminded_after_a_day_reported_after_three_and_shown_at_home(bot: Bot) -> None:
    from datetime import timedelta

    from reminders.sweep import sweep

    setup(bot, stage=Stage.DI2)
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    deps = bot.app.deps
    assert (await sweep(deps, now=NOW + timedelta(hours=23))).approvals_aged == 0
    assert (await sweep(deps, now=NOW + timedelta(hours=24))).approvals_aged == 1
    assert (await sweep(deps, now=NOW + timedelta(hours=30))).approvals_aged == 0
    reminders = [m for m in bot.slack.dms(SPONSOR) if m.text.startswith("Reminder:")]
    assert len(reminders) == 1 and "M-1 is waiting for your approval as sponsor" in reminders[0].text
    # Three of the sponsor's working days (Tokyo, Monday to Friday) from Wednesday 21:00 end on Monday
    # 21:00 there, not on Saturday: the wait counts working time (docs/checkins.md#working-calendars).
    assert (await sweep(deps, now=NOW + timedelta(days=3))).approvals_aged == 0
    assert (await sweep(deps, now=NOW + timedelta(days=5))).approvals_aged == 1
    with bot.session() as session:
        reported = session.exec(select(AuditLog).where(AuditLog.action == "approval_overdue")).all()
        assert [(r.actor, r.entity_key) for r in reported] == [("system", "M-1")]
    await bot.client.open_home(SPONSOR)
    await bot.settle()
    home = dump(bot.slack.state.home[SPONSOR])
    assert "Waiting for your approval" in home and "*M-1* Consolidate suppliers — DI3 — waiting since <!date^" in home


async def test_an_approval_waiting_too_long_is_escalated_and_resolves_with_the_decision(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    await bot.client.command(ADMIN, "rules Ops approval-days=2")
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    message = approval_dm(bot, SPONSOR)
    for hours, raised in ((47, 0), (48, 1), (49, 0)):
        bot.clock.set(NOW + timedelta(hours=hours))
        assert (await sweep(bot.app.deps, now=bot.clock())).escalations.raised == raised
    escalations = [m for m in bot.slack.dms(SPONSOR) if m.text.startswith("Escalation")]
    assert len(escalations) == 1 and "Approval waiting too long" in escalations[0].text
    await bot.client.click(SPONSOR, Action.GATE_APPROVE, button(message, Action.GATE_APPROVE), message=message)
    await bot.settle()
    bot.clock.set(NOW + timedelta(hours=50))
    assert (await sweep(bot.app.deps, now=bot.clock())).escalations.resolved == 1
    with bot.session() as session:
        assert session.exec(select(Escalation.state)).one() == "resolved"


async def test_a_click_sends_only_what_its_own_transaction_owed(bot: Bot) -> None:
    setup(bot, stage=Stage.DI2)
    with bot.session() as session:  # a message the sweep owes someone else, not yet sent
        owe(
            session=session, kind=Kind.DELIVERY_FAILURE, key="elsewhere", recipient=CONTROLLER,
            payload=FailurePayload(recipient="C0SOMEWHERE", kind=Kind.PROMPT, error="channel_not_found"),
        )  # fmt: skip
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert approval_dm(bot, SPONSOR)  # the request's own message went out at once
    assert bot.slack.dms(CONTROLLER) == []  # the other stays for the sweep
    message = approval_dm(bot, SPONSOR)
    await bot.client.click(SPONSOR, Action.GATE_APPROVE, button(message, Action.GATE_APPROVE), message=message)
    await bot.settle()
    assert [m for m in bot.slack.dms(OWNER) if "Approved" in dump(m.blocks)]  # the decision's own message
    assert bot.slack.dms(CONTROLLER) == []
    with bot.session() as session:
        states = {o.kind: o.state for o in session.exec(select(Outbox)).all()}
    assert states == {Kind.GATE_APPROVAL: SendState.SENT, Kind.GATE_OUTCOME: SendState.SENT,
                      Kind.DELIVERY_FAILURE: SendState.PENDING}  # fmt: skip
    await sweep(bot.app.deps, now=bot.clock())
    assert len(bot.slack.dms(CONTROLLER)) == 1
