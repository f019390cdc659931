"""`/measure rebaseline KEY`: a new plan for a decided measure (DI3 on), with a reason, approved like
a gate — the sponsor, the controller first when actuals exist; never by the requester. The plan at
the decision stays on record (storage/gate_requests.py applies the new plan on the last approval)."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.enums import Stage
from domain.money import format_number, parse_monthly_plan
from domain.parsing import InputError, bounded
from domain.stage_gates import GateRefused, RequestKind, plan_frozen
from messages.cards import rebaseline_modal
from messages.ids import Callback, Field
from messages.measure_form import read_state
from messages.payloads import MeasureRef
from slackkit.context import Deps
from slackkit.delivery import deliver
from slackkit.people import admin_now, refresh_person
from storage.gate_requests import chain_of, request_gate
from storage.measures import facts_of, portfolio_rules_of
from storage.models import Measure
from storage.organization import style_of
from storage.outbox import owed_in
from storage.queries import get_measure, months_of


async def rebaseline(call: Invocation) -> None:
    key = await call.key("rebaseline")
    if key is None:
        return

    def load(session: Session) -> View | str:
        measure = get_measure(session=session, key=key)
        if measure is None:
            return f"There is no measure {key}."
        frozen_from = portfolio_rules_of(session=session, package_id=measure.package_id).plan_frozen_from
        if not plan_frozen(Stage(measure.stage), measure.held_from_stage, frozen_from=frozen_from):
            return f"{key} has not reached {frozen_from} yet: change its plan with `/measure edit {key}`."
        style = style_of(session=session, unit_id=measure.package_id)
        plan = [m for m in months_of(session=session, measure_id=measure.id or 0) if m.plan is not None]
        lines = "\n".join(f"{m.month:%Y-%m}: {format_number(m.plan or 0, style.locale)}" for m in plan)
        hint = f"like “2027-01: {format_number(10_000, style.locale)}”, in {style.currency}"
        return rebaseline_modal(key=key, title=measure.title, plan_lines=lines, style_hint=hint)

    outcome = await call.deps.read(load)
    if isinstance(outcome, str):
        await call.reply(outcome)
    else:
        await call.deps.client.views_open(trigger_id=call.trigger_id, view=outcome)


async def submit_rebaseline(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id, now = body["user"]["id"], deps.clock()
    ref = MeasureRef.load(view.get("private_metadata"))
    values = read_state(view["state"]["values"])
    if ref is None:
        await ack(
            response_action="errors", errors={Field.NEW_PLAN: "This form is out of date: close it and reopen it."}
        )
        return
    owner = await deps.read(lambda s: getattr(get_measure(session=s, key=ref.key), "owner_id", None))
    admin = user_id != owner and await admin_now(deps, user_id)  # stored: no Web API call before the ack

    def work(session: Session) -> tuple[str, list[int]] | dict[str, str]:
        measure = get_measure(session=session, key=ref.key)
        if measure is None:
            return {Field.NEW_PLAN: f"There is no measure {ref.key} any more."}
        plan, reason, errors = _proposal(session, measure, values)
        if errors:
            return errors
        try:
            request = request_gate(session=session, measure=measure, facts=facts_of(session=session, measure=measure),
                                   kind=RequestKind.REBASELINE, requester=user_id, admin=admin, now=now, reason=reason,
                                   proposed_plan=plan)  # fmt: skip
        except GateRefused as refused:
            return {Field.NEW_PLAN: f"Nothing was requested. {refused}"}
        _role, approver = chain_of(request)[0]
        text = f"Asked <@{approver}> to approve the new plan of {measure.key}. You will be told the decision."
        return text, owed_in(session)

    outcome = await deps.transaction(work)
    if isinstance(outcome, dict):
        await ack(response_action="errors", errors=outcome)
        return
    text, owed = outcome
    done = View(type="modal", title=f"Re-baseline {ref.key}"[:24], close="Done", blocks=[SectionBlock(text=text)])
    await ack(response_action="update", view=done)
    await deliver(deps, now=now, only=owed)
    await refresh_person(deps, user_id)  # after the ack, when the stored profile is stale


def _proposal(
    session: Session, measure: Measure, values: dict[str, Any]
) -> tuple[dict[date, int], str, dict[str, str]]:
    """The new plan (as the organization writes amounts) and the reason, or inline errors."""
    errors: dict[str, str] = {}
    plan: dict[date, int] = {}
    try:
        plan = parse_monthly_plan(values.get(Field.NEW_PLAN), style_of(session=session, unit_id=measure.package_id))
    except InputError as error:
        errors[Field.NEW_PLAN] = str(error)
    current = {m.month: m.plan for m in months_of(session=session, measure_id=measure.id or 0) if m.plan is not None}
    if not errors and (not plan or plan == current):
        errors[Field.NEW_PLAN] = "Give the new plan: it is empty, or the same as the plan now."
    reason = ""
    try:
        reason = bounded((values.get(Field.REASON) or "").strip(), limit=2000, what="The reason")
    except InputError as error:
        errors[Field.REASON] = str(error)
    if not reason and Field.REASON not in errors:
        errors[Field.REASON] = "Say why the plan changes: the approvers read it."
    return plan, reason, errors


SUBCOMMANDS: dict[str, Subcommand] = {
    "rebaseline": rebaseline,
}


def register(app: AsyncApp) -> None:
    app.view(Callback.REBASELINE)(submit_rebaseline)
