"""Actuals from the people who know them, through signed requests: `/measure actuals KEY` opens a
modal of the plan's closed months; the owner or the controller enters, the controller validates
and a validated month is locked; DI5 waits for validated actuals. Bad input changes nothing."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

from sqlmodel import select

from domain.enums import ImplStatus, Stage
from messages.ids import Action, Field
from storage.models import AuditLog, Evidence, GateRequest, Measure, MeasureMonth, Unit
from tests.conftest import ADMIN, CONTROLLER, OWNER, SPONSOR, STRANGER, Bot
from tests.playbook import NY_MON_9, button_value, prompt_of, setup_measures, tick

JAN, FEB = "actual.2027-01", "actual.2027-02"  # on 3 March 2027, January and February are closed


async def open_actuals(bot: Bot, user: str) -> dict[str, Any]:
    await bot.client.command(user, "actuals M-1")
    await bot.settle()
    return bot.slack.last_view(user)


def inputs(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def stored(bot: Bot) -> dict[str, tuple[int | None, str | None]]:
    with bot.session() as session:
        rows = session.exec(select(MeasureMonth).where(MeasureMonth.actual.is_not(None))).all()  # type: ignore[union-attr]
        return {f"{m.month:%Y-%m}": (m.actual, m.actual_validated_by) for m in rows}


def audits(bot: Bot) -> list[dict[str, Any]]:
    with bot.session() as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "actuals_entered")).all()
        return [json.loads(r.detail or "{}") | {"actor": r.actor} for r in rows]


def with_input(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The view with one more month input, as a forged submission would carry it."""
    forged = copy.deepcopy(view)
    forged["blocks"].append({"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": "x"},
                             "element": {"type": "plain_text_input", "action_id": "value"}})  # fmt: skip
    return forged


async def errors_of(bot: Bot, user: str, view: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    body = (await bot.client.submit(user, view, values)).json()
    assert body["response_action"] == "errors", body
    return dict(body["errors"])


async def test_owner_enters_controller_validates_and_a_validated_month_is_locked(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI3)
    view = await open_actuals(bot, OWNER)
    assert inputs(view) == [JAN, FEB]  # the closed months of the plan, nothing to validate for the owner
    assert "plan €10,000" in json.dumps(view["blocks"], ensure_ascii=False)
    reply = await bot.client.submit(OWNER, view, {JAN: "9k", FEB: ""})
    assert reply.json()["response_action"] == "update" and "1 month changed" in reply.text
    assert stored(bot) == {"2027-01": (9_000, None)}

    # The controller sees the owner's figure, and may validate.
    view = await open_actuals(bot, CONTROLLER)
    assert inputs(view) == [JAN, FEB, Field.VALIDATE, Field.REASON]
    jan = next(b for b in view["blocks"] if b.get("block_id") == JAN)
    assert jan["element"]["initial_value"] == "9,000"
    reply = await bot.client.submit(CONTROLLER, view, {JAN: "9,000", FEB: "8,500", Field.VALIDATE: ["yes"]})
    assert reply.json()["response_action"] == "update"
    assert stored(bot) == {"2027-01": (9_000, CONTROLLER), "2027-02": (8_500, CONTROLLER)}

    # Locked for the owner: shown, not editable; a forged input for it is refused, nothing stored.
    view = await open_actuals(bot, OWNER)
    assert inputs(view) == [] and ":lock: validated by <@U0CTRL>" in json.dumps(view["blocks"])
    errors = await errors_of(bot, OWNER, with_input(view, JAN), {JAN: "12k"})
    assert errors[JAN] == "2027-01 was validated by the controller: only the controller changes it."

    # The controller changes a validated month only with a reason; it stays validated, audited.
    view = await open_actuals(bot, CONTROLLER)
    errors = await errors_of(bot, CONTROLLER, view, {JAN: "9,500", FEB: "8,500"})
    assert errors == {JAN: "2027-01 was validated: give a reason to change it."}
    await bot.client.submit(CONTROLLER, view, {JAN: "9,500", FEB: "8,500", Field.REASON: "ERP correction"})
    assert stored(bot) == {"2027-01": (9_500, CONTROLLER), "2027-02": (8_500, CONTROLLER)}
    assert [(a["actor"], a["actuals"], a.get("reason")) for a in audits(bot)] == [
        (OWNER, {"2027-01": [None, 9_000]}, None),
        (CONTROLLER, {"2027-02": [None, 8_500]}, None),
        (CONTROLLER, {"2027-01": [9_000, 9_500]}, "ERP correction"),
    ]
    assert audits(bot)[1]["validated"] == ["2027-01", "2027-02"]
    await bot.client.command(OWNER, "show M-1")
    await bot.settle()
    assert "actual to date €18,000" in json.dumps(bot.slack.responses(OWNER)[-1]["blocks"], ensure_ascii=False)


async def test_bad_entries_are_named_inline_and_nothing_is_stored(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    view = await open_actuals(bot, OWNER)
    errors = await errors_of(bot, OWNER, view, {JAN: "9k", FEB: "lots"})
    assert set(errors) == {FEB}
    # A future month, and a month outside the plan, forged into the form.
    for month in ("actual.2027-05", "actual.2026-11"):
        errors = await errors_of(bot, OWNER, with_input(view, month), {JAN: "9k", month: "1k"})
        assert errors == {
            month: f"{month[7:]} is not a closed month of the plan: actuals are for months that are over."
        }
    # The owner cannot validate, even with a forged tick.
    forged = copy.deepcopy(view)
    tick = {"text": {"type": "plain_text", "text": "v"}, "value": "yes"}
    element = {"type": "checkboxes", "action_id": "value", "options": [tick]}
    label = {"type": "plain_text", "text": "v"}
    forged["blocks"].append({"type": "input", "block_id": Field.VALIDATE, "label": label, "element": element})
    errors = await errors_of(bot, OWNER, forged, {JAN: "9k", Field.VALIDATE: ["yes"]})
    assert errors == {Field.VALIDATE: "Only the controller of M-1 validates its actuals."}
    assert stored(bot) == {} and audits(bot) == []


async def test_amounts_are_read_as_the_organization_writes_them(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    with bot.session() as session:
        organization = session.exec(select(Unit).where(Unit.level == "organization")).one()
        organization.locale = "de"
        session.add(organization)
    view = await open_actuals(bot, OWNER)
    await bot.client.submit(OWNER, view, {JAN: "2,5k", FEB: "1.250"})
    assert stored(bot) == {"2027-01": (2_500, None), "2027-02": (1_250, None)}


async def test_only_the_owner_and_the_controller_open_the_form(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    for user in (SPONSOR, STRANGER):
        await bot.client.command(user, "actuals M-1")
        await bot.settle()
        assert bot.slack.responses(user)[-1]["text"] == "Only the owner or controller of M-1 can enter its actuals."
    assert not bot.slack.calls("views.open")
    # A view submitted by someone else than the owner or the controller is refused too.
    view = await open_actuals(bot, OWNER)
    errors = await errors_of(bot, STRANGER, view, {JAN: "9k"})
    assert errors == {JAN: "Only the owner or controller of M-1 can enter its actuals."}
    assert stored(bot) == {}


async def test_di5_waits_for_validated_actuals_of_every_closed_month(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI4)
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
        session.add(Evidence(measure_id=measure.id or 0, url="https://wiki.example/done", added_by=OWNER))
    await bot.client.submit(OWNER, await open_actuals(bot, OWNER), {JAN: "9k", FEB: "9k"})
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "(2 not yet: 2027-01, 2027-02)" in bot.slack.responses(OWNER)[-1]["text"]
    view = await open_actuals(bot, CONTROLLER)
    await bot.client.submit(CONTROLLER, view, {JAN: "9,000", FEB: "9,000", Field.VALIDATE: ["yes"]})
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    with bot.session() as session:
        assert session.exec(select(GateRequest)).one().to_stage == Stage.DI5


def test_months_in_the_plan_horizon_without_a_plan_still_take_an_actual() -> None:
    from domain.actuals import closed_plan_months

    planned = [date(2027, 1, 1), date(2027, 4, 1)]
    assert closed_plan_months(planned, date(2027, 3, 1)) == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
    assert closed_plan_months(planned, date(2026, 12, 1)) == []
    assert closed_plan_months([], date(2027, 3, 1)) == []


async def test_a_check_in_cannot_change_a_validated_month(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    view = await open_actuals(bot, CONTROLLER)
    await bot.client.submit(CONTROLLER, view, {JAN: "9,000", FEB: "8,500", Field.VALIDATE: ["yes"]})
    await tick(bot, NY_MON_9)  # Monday 8 March: February is the last closed month
    prompt = prompt_of(bot, OWNER)
    await bot.client.click(OWNER, Action.CHECKIN_UPDATE, button_value(prompt, Action.CHECKIN_UPDATE), message=prompt)
    await bot.settle()
    form = bot.slack.last_view(OWNER)
    values = {Field.STATUS: ImplStatus.ON_TRACK, Field.ACTUAL_LAST_MONTH: "7k"}
    errors = await errors_of(bot, OWNER, form, values)
    locked = "The controller validated 2027-02's actual: only they change it now (`/measure actuals M-1`)."
    assert errors == {Field.ACTUAL_LAST_MONTH: locked}
    assert stored(bot)["2027-02"] == (8_500, CONTROLLER)
    reply = await bot.client.submit(OWNER, form, {**values, Field.ACTUAL_LAST_MONTH: "8500"})  # the same figure is fine
    assert reply.status == 200 and reply.text == ""


async def test_a_portfolio_may_ask_di5_for_fewer_months(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI4)
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
        session.add(Evidence(measure_id=measure.id or 0, url="https://wiki.example/done", added_by=OWNER))
    await bot.client.command(ADMIN, "rules Ops di5-months=1")
    await bot.settle()
    assert "DI5 wants validated actuals for the last 1 closed months" in bot.slack.responses(ADMIN)[-1]["text"]
    await bot.client.command(ADMIN, "rules Ops di5-months=0")
    await bot.settle()
    assert bot.slack.responses(ADMIN)[-1]["text"].startswith("Nothing was changed. di5-months is all or a number")
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    assert "for the last 1 closed months of the plan (1 not yet: 2027-02)" in bot.slack.responses(OWNER)[-1]["text"]
    view = await open_actuals(bot, CONTROLLER)
    await bot.client.submit(CONTROLLER, view, {JAN: "", FEB: "9,000", Field.VALIDATE: ["yes"]})
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    with bot.session() as session:  # January has no actual, and DI5 goes ahead: the policy asks for February only
        assert session.exec(select(GateRequest)).one().to_stage == Stage.DI5
