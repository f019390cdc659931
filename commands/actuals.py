"""`/measure actuals KEY`: the owner or the controller enters the actuals of the closed months of
the plan; the controller validates them, and a validated month is locked (domain/actuals.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.policy import Deed, Party, may, who_may
from messages.actuals_form import actuals_modal, parse_actuals
from messages.ids import ACTUAL_MONTH, Callback, Field
from messages.measure_form import read_state
from messages.payloads import ActualsMeta
from slackkit.context import Deps
from storage.actuals import ActualsRefused, actuals_sheet, record_actuals
from storage.organization import style_of
from storage.queries import get_measure

OUT_OF_DATE = "This form is out of date: close it and run `/measure actuals` again."


async def actuals(call: Invocation) -> None:
    key = await call.key("actuals")
    if key is None:
        return
    user_id, deps = call.user_id, call.deps

    def load(session: Session) -> View | str:
        measure = get_measure(session=session, key=key)
        if measure is None:
            return f"There is no measure {key}."
        if not may(Deed.ENTER_ACTUALS, user_id, admin=False, party=Party.of(measure)):
            return f"Only {who_may(Deed.ENTER_ACTUALS, of=key)} can enter its actuals."
        sheet = actuals_sheet(session=session, measure=measure, now=deps.clock())
        if not sheet.months:
            return f"{key} has no closed month in its plan yet: actuals are for months that are over."
        return actuals_modal(sheet, controller=user_id == measure.controller_id)

    outcome = await deps.read(load)
    if isinstance(outcome, str):
        await call.reply(outcome)
    else:
        await deps.client.views_open(trigger_id=call.trigger_id, view=outcome)


async def submit_actuals(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    meta = ActualsMeta.load(view.get("private_metadata"))
    values = read_state(view["state"]["values"])
    first = next(iter(values), Field.REASON)
    if meta is None:
        await ack(response_action="errors", errors={first: OUT_OF_DATE})
        return
    key = meta.key

    def save(session: Session) -> dict[str, str] | int:
        measure = get_measure(session=session, key=key)
        if measure is None or measure.id is None:
            return {first: OUT_OF_DATE}
        party = Party.of(measure)
        if not may(Deed.ENTER_ACTUALS, user_id, admin=False, party=party):
            return {first: f"Only {who_may(Deed.ENTER_ACTUALS, of=key)} can enter its actuals."}
        entries, validate, reason, errors = parse_actuals(
            values, style=style_of(session=session, unit_id=measure.package_id)
        )
        if validate and not may(Deed.VALIDATE_ACTUALS, user_id, admin=False, party=party):
            errors[Field.VALIDATE] = f"Only {who_may(Deed.VALIDATE_ACTUALS, of=key)} validates its actuals."
        if errors:
            return errors
        try:
            changed = record_actuals(session=session, measure=measure, entries=entries, actor=user_id,
                                     validate=validate, reason=reason, now=deps.clock())  # fmt: skip
        except ActualsRefused as refused:
            return {f"{ACTUAL_MONTH}{month:%Y-%m}": text for month, text in refused.errors.items()}
        return len(changed)

    outcome = await deps.transaction(save)
    if isinstance(outcome, dict):
        await ack(response_action="errors", errors=_on_inputs(outcome, values, first))
        return
    text = f"Saved: {outcome} month{'s' if outcome != 1 else ''} changed." if outcome else "Nothing changed."
    done = View(type="modal", title=f"Actuals {key}"[:24], close="Done", blocks=[SectionBlock(text=text)])
    await ack(response_action="update", view=done)


def _on_inputs(errors: dict[str, str], values: dict[str, Any], first: str) -> dict[str, str]:
    """Errors Slack can show: on an input block of the view (the others are said on the first one)."""
    shown = {block: text for block, text in errors.items() if block in values}
    rest = [text for block, text in errors.items() if block not in values]
    if rest:
        shown[first] = " ".join([shown.get(first, ""), *rest]).strip()
    return shown


SUBCOMMANDS: dict[str, Subcommand] = {
    "actuals": actuals,
}


def register(app: AsyncApp) -> None:
    app.view(Callback.ACTUALS)(submit_actuals)
