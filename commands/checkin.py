"""Check-in interactions: the one-click status buttons, Update (modal), Skip, and `/measure away`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.views import View
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from domain.money import DEFAULT_STYLE
from domain.parsing import InputError, parse_date
from messages.blockkit import Rendered, blocks_json
from messages.checkin import prompt_message
from messages.checkin_form import checkin_modal, parse_checkin_form
from messages.ids import Action, Callback, Field
from messages.measure_form import read_state
from messages.payloads import CheckinAnswer, CheckinRef
from messages.text import slack_date
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from storage.checkins import (
    ActualLocked,
    Answer,
    CommentRequired,
    Refused,
    answerable,
    prompt_items,
    record_answer,
    skip,
    would_worsen,
)
from storage.models import CheckIn, Outbox, Person
from storage.organization import style_of_checkin
from storage.queries import ensure_person_rows, record_audit

WORSE_NOTE = ":warning: That is worse than last time: add a comment that says why."
COMMENT_REQUIRED = "A status got worse: say why in a comment."


@on_click(CheckinAnswer)
async def quick_answer(click: Click[CheckinAnswer]) -> None:
    user_id, ref, now = click.user_id, click.value, click.now

    def work(session: Session) -> View | tuple[Outbox, Rendered] | None:
        checkin, measure = answerable(session=session, checkin_id=ref.checkin_id, user_id=user_id, now=now)
        answer = Answer(impl_status=ref.status)
        if would_worsen(session=session, checkin=checkin, measure=measure, answer=answer, now=now):
            return checkin_modal(
                checkin_id=ref.checkin_id, key=measure.key, title=measure.title, status=ref.status, note=WORSE_NOTE
            )
        record_answer(session=session, checkin=checkin, measure=measure, answer=answer, user_id=user_id, now=now)
        return _prompt_now(session, checkin, now, click.deps.settings.overdue_after)

    await _run(click, work)


@on_click(CheckinRef)
async def open_update(click: Click[CheckinRef]) -> None:
    user_id, ref, now = click.user_id, click.value, click.now

    def work(session: Session) -> View:
        checkin, measure = answerable(session=session, checkin_id=ref.checkin_id, user_id=user_id, now=now)
        status = checkin.impl_status or measure.impl_status
        return checkin_modal(checkin_id=ref.checkin_id, key=measure.key, title=measure.title, status=status)

    await _run(click, work)


@on_click(CheckinRef)
async def skip_cycle(click: Click[CheckinRef]) -> None:
    user_id, ref, now = click.user_id, click.value, click.now

    def work(session: Session) -> tuple[Outbox, Rendered] | None:
        checkin, measure = answerable(session=session, checkin_id=ref.checkin_id, user_id=user_id, now=now)
        skip(session=session, checkin=checkin, measure=measure, user_id=user_id)
        return _prompt_now(session, checkin, now, click.deps.settings.overdue_after)

    await _run(click, work)


async def submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    ref = CheckinRef.load(view.get("private_metadata"))
    style = await deps.read(lambda s: style_of_checkin(session=s, checkin_id=ref.checkin_id)) if ref else DEFAULT_STYLE
    answer, errors = parse_checkin_form(read_state(view["state"]["values"]), style=style)
    if ref is None:
        errors = {Field.STATUS: "This form is out of date: close it and open the check-in again."}
    if answer is None or ref is None:
        await ack(response_action="errors", errors=errors)
        return
    now = deps.clock()

    def work(session: Session) -> tuple[Outbox, Rendered] | None:
        checkin, measure = answerable(session=session, checkin_id=ref.checkin_id, user_id=user_id, now=now)
        record_answer(session=session, checkin=checkin, measure=measure, answer=answer, user_id=user_id, now=now)
        return _prompt_now(session, checkin, now, deps.settings.overdue_after)

    try:
        updated = await deps.transaction(work)
    except CommentRequired:
        await ack(response_action="errors", errors={Field.COMMENT: COMMENT_REQUIRED})
        return
    except ActualLocked as locked:
        await ack(response_action="errors", errors={Field.ACTUAL_LAST_MONTH: str(locked)})
        return
    except Refused as refused:
        await ack(response_action="errors", errors={Field.STATUS: str(refused)})
        return
    await ack()
    if updated is not None:
        await _update_prompt(deps, *updated)


async def away(call: Invocation) -> None:
    deps = call.deps
    arg = " ".join(call.args).strip().lower()
    if not arg:
        await call.reply("Say until when: `/measure away 2027-04-30`, or `/measure away off` when you are back.")
        return
    today = deps.clock().date()
    try:
        until = None if arg in ("off", "back", "none") else parse_date(arg)
    except InputError as error:
        await call.reply(str(error))
        return
    if until is not None and until < today:
        await call.reply("That date has passed: give the last day you are away.")
        return
    await deps.transaction(lambda s: _set_away(s, call.user_id, until))
    if until is None:
        await call.reply("Welcome back: check-in prompts and reminders resume.")
    else:
        await call.reply(
            f"You are away until {slack_date(until)}: no check-in prompts, reminders or escalations until then."
        )


async def _run(click: Click[Any], work: Any) -> None:
    """Run a button's work in one transaction, then its one Slack call (or say why not)."""
    try:
        outcome = await click.deps.transaction(work)
    except Refused as refused:
        await click.tell(str(refused))
        return
    if isinstance(outcome, View):
        await click.deps.client.views_open(trigger_id=click.trigger_id, view=outcome)
    elif outcome is not None:
        await _update_prompt(click.deps, *outcome)


def _prompt_now(
    session: Session, checkin: CheckIn, now: Any, answer_within: timedelta
) -> tuple[Outbox, Rendered] | None:
    prompt = session.get(Outbox, checkin.prompt_id) if checkin.prompt_id else None
    if prompt is None or not prompt.channel or not prompt.ts:
        return None
    items = prompt_items(session=session, prompt=prompt, answer_within=answer_within)
    return prompt, prompt_message(items, now=now)


async def _update_prompt(deps: Deps, prompt: Outbox, rendered: Rendered) -> None:
    """Show what was recorded, in place, in the owner's prompt message."""
    await deps.client.chat_update(
        channel=prompt.channel or "",
        ts=prompt.ts or "",
        text=rendered.text,
        blocks=blocks_json(rendered.blocks),
    )


def _set_away(session: Session, user_id: str, until: date | None) -> None:
    ensure_person_rows(session=session, slack_ids=[user_id])
    person = session.get(Person, user_id)
    assert person is not None
    old = person.away_until
    person.away_until = until
    session.add(person)
    record_audit(
        session=session, actor=user_id, entity="person", entity_key=user_id, action="away",
        detail={"away_until": [old, until]},
    )  # fmt: skip


SUBCOMMANDS: dict[str, Subcommand] = {
    "away": away,
}


def register(app: AsyncApp) -> None:
    for action in (Action.CHECKIN_ON_TRACK, Action.CHECKIN_AT_RISK, Action.CHECKIN_OFF_TRACK):
        app.action(action)(quick_answer)
    app.action(Action.CHECKIN_UPDATE)(open_update)
    app.action(Action.CHECKIN_SKIP)(skip_cycle)
    app.view(Callback.CHECKIN)(submit)
