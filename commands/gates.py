"""Stage gates in Slack: `/measure gate|hold|resume|cancel|delegate`, the card's Request gate button,
and the approvers' Approve / Request changes / Reject buttons (the last two ask for a reason)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.views import View
from sqlmodel import Session, col, select

from commands.invocation import Invocation, Subcommand
from domain.gate_policy import usergroups_named
from domain.parsing import InputError, bounded, parse_date, parse_user_mention, too_long
from domain.policy import Deed, Party, may
from domain.stage_gates import GateRefused, RequestKind
from messages.approval import approval_message, who
from messages.blockkit import Rendered, blocks_json
from messages.cards import text_modal
from messages.ids import Action, Callback, Field
from messages.measure_form import read_state
from messages.payloads import GateReasonMeta, GateRef, MeasureRef
from messages.text import slack_date
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from slackkit.delivery import deliver
from slackkit.people import NOT_A_PERSON, is_admin, people_errors
from slackkit.surfaces import tell
from slackkit.usergroups import members_of
from storage.gate_requests import (
    Decision,
    decide,
    delegate,
    may_decide,
    put_on_hold,
    request_gate,
    resume_from_hold,
)
from storage.gate_views import gate_view
from storage.governance import policy_in_force
from storage.measures import facts_of
from storage.models import Outbox
from storage.outbox import ApprovalPayload, Kind, owed_in, payload_of
from storage.queries import get_measure

REASON_LIMIT = 2000


async def gate(call: Invocation) -> None:
    deps = call.deps
    key = await call.key("gate")
    if key is not None:
        await _request(deps, call.body, call.user_id, key, RequestKind.ADVANCE, reason="")


async def _reason(call: Invocation, key: str, ask: str) -> str | None:
    """The reason after the key, or None after saying why there is none to use (`ask` asks for one)."""
    reason = " ".join(call.args[1:]).strip()
    if not reason:
        await call.reply(ask)
        return None
    try:
        return bounded(reason, limit=REASON_LIMIT, what="The reason")
    except InputError as error:
        await call.reply(f"Nothing was changed. {error}")
        return None


async def cancel(call: Invocation) -> None:
    key = await call.key("cancel")
    ask = f"Say why: `/measure cancel {key} <reason>`. The sponsor approves a cancellation."
    if key is not None and (reason := await _reason(call, key, ask)) is not None:
        await _request(call.deps, call.body, call.user_id, key, RequestKind.CANCEL, reason=reason)


async def hold(call: Invocation) -> None:
    key = await call.key("hold")
    if key is not None and (reason := await _reason(call, key, f"Say why: `/measure hold {key} <reason>`.")):
        await _move(call.deps, call, key, lambda s, m, now: put_on_hold(
            session=s, measure=m, user_id=call.user_id, reason=reason, now=now))  # fmt: skip


async def resume(call: Invocation) -> None:
    deps = call.deps
    key = await call.key("resume")
    if key is not None:
        await _move(
            deps, call, key, lambda s, m, now: resume_from_hold(session=s, measure=m, user_id=call.user_id, now=now)
        )


async def delegate_(call: Invocation) -> None:
    deps = call.deps
    words = [w for w in call.args if w.lower() != "until"]
    person = parse_user_mention(words[0]) if words else None
    try:
        until = parse_date(words[1]) if len(words) == 2 else None
    except InputError as error:
        await call.reply(str(error))
        return
    if person is None or until is None:
        await call.reply("Use `/measure delegate @person until 2027-04-30`: they decide your approvals until then.")
        return
    if until < deps.clock().date():
        await call.reply("That date has passed.")
        return
    if await people_errors(deps, {"delegate": person}):
        await call.reply(f"Nothing was changed. {NOT_A_PERSON}")
        return
    try:
        await deps.transaction(lambda s: delegate(session=s, delegator=call.user_id, delegate_id=person, until=until))
    except GateRefused as refused:
        await call.reply(str(refused))
        return
    await call.reply(f"<@{person}> can decide your approvals until {slack_date(until)}.")


@on_click(MeasureRef)
async def request_button(click: Click[MeasureRef]) -> None:
    await _request(click.deps, click.body, click.user_id, click.value.key, RequestKind.ADVANCE, reason="")


@on_click(GateRef)
async def approve(click: Click[GateRef]) -> None:
    ref = click.value
    await _decide(click.deps, click.body, click.user_id, ref.request_id, ref.step, Decision.APPROVED, reason="")


@on_click(GateRef)
async def ask_reason(click: Click[GateRef]) -> None:
    deps, body, user_id, ref, now = click.deps, click.body, click.user_id, click.value, click.now
    try:  # a stranger gets told why, not a form
        await deps.transaction(lambda s: may_decide(
            session=s, request_id=ref.request_id, step=ref.step, user_id=user_id, now=now))  # fmt: skip
    except GateRefused as refused:
        await tell(deps, body=body, user_id=user_id, text=str(refused))
        return
    rejecting = click.action_id == Action.GATE_REJECT
    decision = Decision.REJECTED if rejecting else Decision.CHANGES
    meta = GateReasonMeta(request_id=ref.request_id, step=ref.step, decision=decision)
    await deps.client.views_open(trigger_id=body["trigger_id"], view=reason_modal(meta))


async def submit_reason(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    meta = GateReasonMeta.load(view.get("private_metadata"))
    reason = (read_state(view["state"]["values"]).get(Field.REASON) or "").strip()
    if meta is None or not reason:
        message = "Give a reason: the requester reads it." if meta else "This form is out of date."
        await ack(response_action="errors", errors={Field.REASON: message})
        return
    if problem := too_long(reason, limit=REASON_LIMIT, what="The reason"):
        await ack(response_action="errors", errors={Field.REASON: problem})
        return
    now = deps.clock()

    def work(session: Session) -> list[int]:
        decide(session=session, request_id=meta.request_id, step=meta.step, user_id=user_id, decision=meta.decision,
               reason=reason, now=now)  # fmt: skip
        return owed_in(session)

    try:
        owed = await deps.transaction(work)
    except GateRefused as refused:
        await ack(response_action="errors", errors={Field.REASON: str(refused)})
        return
    await ack()
    await _after_decision(deps, meta.request_id, owed)


def reason_modal(meta: GateReasonMeta) -> View:
    verb = "Reject" if meta.decision == Decision.REJECTED else "Request changes"
    return text_modal(
        callback_id=Callback.GATE_REASON, title=verb, submit=verb, metadata=meta.dump(),
        explain="The requester is told, with your reason.", block_id=Field.REASON, label="Reason",
    )  # fmt: skip


async def _request(deps: Deps, body: dict[str, Any], user_id: str, key: str, kind: RequestKind, reason: str) -> None:
    admin = await is_admin(deps, user_id)
    now = deps.clock()
    members = await _groups_asked(deps, key) if kind is RequestKind.ADVANCE else {}

    def work(session: Session) -> tuple[str, list[int]]:
        measure = get_measure(session=session, key=key)
        if measure is None:
            raise GateRefused(f"There is no measure {key}.")
        facts = facts_of(session=session, measure=measure)
        request = request_gate(
            session=session, measure=measure, facts=facts, kind=kind, requester=user_id, admin=admin, now=now,
            reason=reason, members=members,
        )  # fmt: skip
        _role, approver = gate_view(session=session, request_id=request.id or 0).chain[0]  # type: ignore[union-attr]
        text = f"Asked {who(approver)} to approve: {request.to_stage} for {measure.key}. You will be told the decision."
        return text, owed_in(session)

    try:
        text, owed = await deps.transaction(work)
    except GateRefused as refused:
        await tell(deps, body=body, user_id=user_id, text=f"Nothing was requested. {refused}")
        return
    await tell(deps, body=body, user_id=user_id, text=text)
    await deliver(deps, now=now, only=owed)


async def _groups_asked(deps: Deps, key: str) -> dict[str, frozenset[str]]:
    """The members of the user groups the governance in force has approve a gate of the measure's
    portfolio, read from Slack before the request's transaction (an unknown group has none)."""

    def named(session: Session) -> set[str]:
        measure = get_measure(session=session, key=key)
        return (
            usergroups_named(policy_in_force(session=session, package_id=measure.package_id).policy)
            if measure
            else set()
        )

    groups = await deps.read(named)
    if not groups:
        return {}
    members, unknown = await members_of(deps.client, groups)
    return {**members, **dict.fromkeys(unknown, frozenset())}


async def _move(deps: Deps, call: Invocation, key: str, move: Any) -> None:
    admin = await is_admin(deps, call.user_id)
    now = deps.clock()

    def work(session: Session) -> str:
        measure = get_measure(session=session, key=key)
        if measure is None:
            raise GateRefused(f"There is no measure {key}.")
        if not may(Deed.HOLD, call.user_id, admin=admin, party=Party.of(measure)):
            raise GateRefused(f"Only the owner or sponsor of {key}, or an admin, can hold or resume it.")
        move(session, measure, now)
        return f"{measure.key} is now {measure.stage.replace('_', ' ')}."

    try:
        await call.reply(await deps.transaction(work))
    except GateRefused as refused:
        await call.reply(f"Nothing was changed. {refused}")


async def _decide(
    deps: Deps, body: dict[str, Any], user_id: str, request_id: int, step: int, decision: str, reason: str
) -> None:
    now = deps.clock()

    def work(session: Session) -> list[int]:
        decide(session=session, request_id=request_id, step=step, user_id=user_id, decision=decision, reason=reason,
               now=now)  # fmt: skip
        return owed_in(session)

    try:
        owed = await deps.transaction(work)
    except GateRefused as refused:
        await tell(deps, body=body, user_id=user_id, text=str(refused))
        return
    await _after_decision(deps, request_id, owed)


async def _after_decision(deps: Deps, request_id: int, owed: list[int]) -> None:
    """Every copy of the approval message shows the decision, in place; then what is owed goes out
    (the next approver's message, or the requester's answer)."""

    def copies(session: Session) -> list[tuple[Outbox, Rendered]]:
        view = gate_view(session=session, request_id=request_id)
        rows = session.exec(
            select(Outbox).where(col(Outbox.dedupe_key).startswith(f"{Kind.GATE_APPROVAL}:{request_id}:"))
        ).all()
        return [(row, approval_message(view, _step_of(row))) for row in rows if row.ts and view is not None]

    for row, rendered in await deps.read(copies):
        await deps.client.chat_update(
            channel=row.channel or "",
            ts=row.ts or "",
            text=rendered.text,
            blocks=blocks_json(rendered.blocks),
        )
    await deliver(deps, now=deps.clock(), only=owed)


def _step_of(row: Outbox) -> int:
    payload = payload_of(row)
    assert isinstance(payload, ApprovalPayload)
    return payload.step


SUBCOMMANDS: dict[str, Subcommand] = {
    "gate": gate,
    "cancel": cancel,
    "hold": hold,
    "resume": resume,
    "delegate": delegate_,
}


def register(app: AsyncApp) -> None:
    app.action(Action.REQUEST_GATE)(request_button)
    app.action(Action.GATE_APPROVE)(approve)
    app.action(Action.GATE_CHANGES)(ask_reason)
    app.action(Action.GATE_REJECT)(ask_reason)
    app.view(Callback.GATE_REASON)(submit_reason)
