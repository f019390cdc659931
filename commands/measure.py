"""`/measure new | list | show | edit`, the measure modal's submissions and the card's Edit button."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commands.invocation import Invocation, Subcommand
from commands.measure_data import measure_card, package_choices, unit_named
from commands.measure_fields import CustomInput, form_fields, read_form
from domain.enums import Stage
from domain.measure_schema import Key, MeasureDraft, audit_label
from domain.money import MoneyStyle
from domain.parsing import InputError, parse_keys, parse_user_mention
from domain.policy import can_edit
from domain.stage_gates import plan_frozen
from messages.cards import card_blocks, card_fallback, list_blocks
from messages.ids import Action, Callback
from messages.measure_form import measure_modal, package_in, parse_measure_form, read_state
from messages.payloads import MeasureFormMeta, MeasureRef
from messages.text import escape
from slackkit.clicks import Click, on_click
from slackkit.context import Deps
from slackkit.people import admin_now, check_people, is_admin, refresh_person, verify_people
from slackkit.surfaces import FormAnswer, tell
from storage.custom_values import set_values
from storage.measures import (
    PlanFrozen,
    StaleEdit,
    create_measure,
    full_draft,
    portfolio_rules_of,
    reference_errors,
    reference_problems,
    update_measure,
)
from storage.models import Measure
from storage.organization import style_of
from storage.queries import (
    count_measures_for_person,
    count_measures_in_packages,
    descendant_package_ids,
    get_measure,
    measures_for_person,
    measures_in_packages,
)
from storage.year_figures import year_figures_of

log = logging.getLogger(__name__)
LIST_LIMIT = 200
STALE = "Someone changed this measure after you opened the form: close it and reopen it."


class FormRejected(Exception):
    """Raised inside a transaction to roll it back and show these inline errors instead."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


async def new(call: Invocation) -> None:
    deps = call.deps
    packages = await deps.read(lambda s: package_choices(session=s))
    if not packages:
        await call.reply(
            "There are no measure packages yet. An admin adds them with `/measure structure` or an import."
        )
        return
    view = measure_modal(packages=packages, values=MeasureDraft(owner_id=call.user_id), meta=MeasureFormMeta())
    await deps.client.views_open(trigger_id=call.trigger_id, view=view)


async def show(call: Invocation) -> None:
    deps = call.deps
    key = await call.key("show")
    if key is None:
        return
    admin = await is_admin(deps, call.user_id)
    card = await deps.read(lambda s: _card(s, deps, key, call.user_id, admin))
    if card is None:
        await call.reply(f"There is no measure {key}. `/measure list` shows the ones you are part of.")
        return
    await call.reply(card_fallback(card), card_blocks(card))


async def edit(call: Invocation) -> None:
    deps = call.deps
    key = await call.key("edit")
    if key is not None:
        await _open_edit(deps, body=call.body, user_id=call.user_id, key=key, trigger_id=call.trigger_id)


async def list_(call: Invocation) -> None:
    deps = call.deps
    listing = await _list(deps, call)
    if isinstance(listing, str):
        await call.reply(listing)
        return
    title, measures, total = listing
    years = await deps.read(lambda s: year_figures_of(session=s, measures=measures, now=deps.clock()))
    await call.reply(f"{title}: {total} measures", list_blocks(title, measures, total, years))


@on_click(MeasureRef)
async def open_card(click: Click[MeasureRef]) -> None:
    """App Home's Open: the measure's card in a modal (its buttons work there as on a message)."""
    deps, key = click.deps, click.value.key
    admin = await is_admin(deps, click.user_id)
    card = await deps.read(lambda s: _card(s, deps, key, click.user_id, admin))
    if card is None:
        await click.tell(f"There is no measure {key} any more.")
        return
    view = View(type="modal", title=key[:24], close="Close", blocks=card_blocks(card)[:100])
    await deps.client.views_open(trigger_id=click.trigger_id, view=view)


@on_click(MeasureRef)
async def edit_button(click: Click[MeasureRef]) -> None:
    await _open_edit(
        click.deps, body=click.body, user_id=click.user_id, key=click.value.key, trigger_id=click.trigger_id
    )


async def _parsed(
    deps: Deps,
    view: dict[str, Any],
    *,
    key: str | None = None,
    current_due: date | None = None,
    plan_frozen: bool = False,
) -> tuple[MeasureDraft | None, dict[str, str], CustomInput]:
    """The form's draft, its amounts read the way the chosen package's organization writes them, and
    its custom fields; or every error at once: the form's own, and what only the database knows
    (the package, the dependency keys, the custom fields' types), in one bounded read."""
    values = read_state(view["state"]["values"])

    def check(session: Session) -> tuple[MoneyStyle, dict[str, str], CustomInput]:
        style = style_of(session=session, unit_id=package_in(values))
        try:
            keys = parse_keys(values.get(Key.DEPENDENCIES))
        except InputError:
            keys = []  # the form's own error says what is wrong with them
        problems = reference_problems(session=session, package_id=package_in(values), dependency_keys=keys, key=key)
        custom, custom_problems = read_form(session, package_in(values), values)
        return style, problems | custom_problems, custom

    style, known, custom = await deps.read(check)
    draft, errors = parse_measure_form(
        values, style=style, today=deps.clock().date(), current_due=current_due, plan_frozen=plan_frozen
    )
    return (draft, {}, custom) if draft is not None and not known else (None, known | errors, custom)


async def submit_new(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    draft, errors, _custom = await _parsed(deps, view)  # a new measure's form has no custom fields
    if draft is not None and draft.owner_id is None:  # the creator owns it unless they name someone else
        draft = replace(draft, owner_id=user_id)
    answer = FormAnswer(ack)
    if draft is None:
        await answer.errors(errors)
        return
    # the submitter is a person Slack signed for: only the others are checked
    if not await _people_checked(deps, answer, view, draft, MeasureFormMeta(), known=[user_id]):
        return
    try:
        measure = await _create_with_retry(deps, draft, user_id)
    except FormRejected as rejected:
        await answer.errors(rejected.errors)
        return
    await answer.done(_saved_view(measure, created=True))
    await _refresh_people(deps, [draft.owner_id, draft.sponsor_id, draft.controller_id, user_id])


async def submit_edit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    meta = MeasureFormMeta.load(view.get("private_metadata"))
    answer = FormAnswer(ack)
    if meta is None or meta.key is None:
        await answer.errors({Key.TITLE: "This form is out of date: close it and reopen it."})
        return
    known, current_due, frozen = await deps.read(lambda s: _measure_now(s, meta.key or ""))
    draft, errors, custom = await _parsed(deps, view, key=meta.key, current_due=current_due, plan_frozen=frozen)
    if draft is None:
        await answer.errors(errors)
        return
    if not await _people_checked(deps, answer, view, draft, meta, known=known, custom=custom):
        return
    admin = await admin_now(deps, user_id)  # the stored profile: no Web API call before the ack
    now = deps.clock()
    try:
        measure, changes = await deps.transaction(lambda s: _apply_edit(s, meta, draft, user_id, admin, now, custom))
    except FormRejected as rejected:
        await answer.errors(rejected.errors)
        return
    await answer.done(_saved_view(measure, created=False, changed=sorted(changes)))
    await _refresh_people(deps, [draft.owner_id, draft.sponsor_id, draft.controller_id, user_id])


async def _people_checked(
    deps: Deps,
    answer: FormAnswer,
    view: dict[str, Any],
    draft: MeasureDraft,
    meta: MeasureFormMeta,
    *,
    known: list[str],
    custom: CustomInput | None = None,
) -> bool:
    """Whether the draft's people are people. The stored directory answers before the ack; an id it
    has never seen is asked of users.info after a "checking" ack, and a refusal brings the form back
    with everything typed. False when the answer has been given (the errors shown)."""
    check = await check_people(deps, _people_of(draft), known=known)
    if check.errors:
        await answer.errors(check.errors)
        return False
    if not check.unknown:
        return True

    def form(problems: Mapping[str, str]) -> View:
        shown = custom.shown() if custom else ()
        return measure_modal(packages=packages, values=draft, meta=meta, problems=problems, custom=shown)

    await answer.hold(deps, view_id=view["id"], form=form)
    packages = await deps.read(lambda s: package_choices(session=s))
    errors = await verify_people(deps, check.unknown)
    if errors:
        await answer.errors(errors)
        return False
    return True


def _people_of(draft: MeasureDraft) -> dict[str, str | None]:
    return {Key.OWNER: draft.owner_id, Key.SPONSOR: draft.sponsor_id, Key.CONTROLLER: draft.controller_id}


def _measure_now(session: Session, key: str) -> tuple[list[str], date | None, bool]:
    """The people a measure has now (verified when they were set: an edit re-checks only new ones), its
    due date (a past one it has already is not refused again) and whether its plan is frozen."""
    measure = get_measure(session=session, key=key)
    if measure is None:
        return [], None, False
    people = [p for p in (measure.owner_id, measure.sponsor_id, measure.controller_id) if p]
    frozen_from = portfolio_rules_of(session=session, package_id=measure.package_id).plan_frozen_from
    return people, measure.due, plan_frozen(Stage(measure.stage), measure.held_from_stage, frozen_from=frozen_from)


def _card(session: Session, deps: Deps, key: str, user_id: str, admin: bool) -> Any:
    measure = get_measure(session=session, key=key)
    if measure is None:
        return None
    allowed = can_edit(measure, user_id, admin=admin)
    requester = admin or user_id == measure.owner_id
    return measure_card(session=session, measure=measure, now=deps.clock(), can_edit=allowed, can_request=requester)


async def _open_edit(deps: Deps, *, body: dict[str, Any], user_id: str, key: str, trigger_id: str) -> None:
    admin = await is_admin(deps, user_id)

    def load(session: Session) -> tuple[str, Any]:
        measure = get_measure(session=session, key=key)
        if measure is None:
            return "missing", None
        if not can_edit(measure, user_id, admin=admin):
            return "forbidden", None
        meta = MeasureFormMeta(key=measure.key, version=measure.version)
        values, custom = full_draft(session=session, measure=measure), form_fields(session, measure)
        return "ok", measure_modal(packages=package_choices(session=session), values=values, meta=meta, custom=custom)

    outcome, view = await deps.read(load)
    if outcome == "missing":
        await tell(deps, body=body, user_id=user_id, text=f"There is no measure {key}.")
    elif outcome == "forbidden":
        await tell(
            deps, body=body, user_id=user_id,
            text=f"Only the owner, sponsor or controller of {key}, or an admin, can edit it.",
        )  # fmt: skip
    elif (body.get("view") or {}).get("type") == "modal":  # the card opened from App Home: on top of it
        await deps.client.views_push(trigger_id=trigger_id, view=view)
    else:
        await deps.client.views_open(trigger_id=trigger_id, view=view)


async def _create_with_retry(deps: Deps, draft: MeasureDraft, user_id: str) -> Measure:
    def create(session: Session) -> Measure:
        errors = reference_errors(session=session, draft=draft)
        if errors:
            raise FormRejected(errors)
        return create_measure(session=session, draft=draft, actor=user_id, now=deps.clock())

    for attempt in range(3):
        try:
            return await deps.transaction(create)
        except IntegrityError:  # two people took the same next key at once: take the next one
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply_edit(
    session: Session, meta: MeasureFormMeta, draft: MeasureDraft, user_id: str, admin: bool, now: datetime,
    custom: CustomInput,
) -> tuple[Measure, dict[str, Any]]:  # fmt: skip
    measure = get_measure(session=session, key=meta.key or "")
    if measure is None:
        raise FormRejected({Key.TITLE: f"{meta.key} no longer exists."})
    if not can_edit(measure, user_id, admin=admin):
        raise FormRejected({Key.TITLE: "Only the owner, sponsor or controller, or an admin, can edit this measure."})
    if measure.version != meta.version:
        raise FormRejected({Key.TITLE: STALE})
    errors = reference_errors(session=session, draft=draft, key=measure.key)
    if errors:
        raise FormRejected(errors)
    try:
        changes = update_measure(
            session=session, measure=measure, draft=draft, actor=user_id, now=now, expected_version=meta.version
        )
    except StaleEdit:
        raise FormRejected({Key.TITLE: STALE}) from None
    except PlanFrozen as frozen:
        raise FormRejected({Key.MONTHLY_PLAN: str(frozen)}) from None
    fields = set_values(session=session, measure=measure, values=custom.values, actor=user_id, now=now)
    labels = {f.name: f.label for f in custom.fields}
    return measure, {**changes, **{labels[name]: change for name, change in fields.items()}}


def _saved_view(measure: Measure, *, created: bool, changed: list[str] | None = None) -> View:
    if created:
        text = (
            f":white_check_mark: Created *{measure.key}* “{escape(measure.title)}” at *{Stage(measure.stage).label}*.\n"
            f"See it with `/measure show {measure.key}`."
        )
    elif changed:
        text = (
            f":white_check_mark: Saved *{measure.key}*: changed {escape(', '.join(audit_label(c) for c in changed))}."
        )
    else:
        text = f"Nothing changed on *{measure.key}*."
    return View(type="modal", title="Pacekeeper", close="Done", blocks=[SectionBlock(text=text)])


async def _refresh_people(deps: Deps, slack_ids: list[str | None]) -> None:
    """After the ack: fill in names, e-mails and timezones of the people just referenced."""
    await asyncio.gather(*(refresh_person(deps, i) for i in {i for i in slack_ids if i}), return_exceptions=True)


async def _list(deps: Deps, call: Invocation) -> tuple[str, list[Measure], int] | str:
    """The listing asked for, or a sentence saying why there is none."""
    argument = " ".join(call.args).strip()
    person = call.user_id if argument.lower() in ("", "mine", "me") else parse_user_mention(argument)
    if person is not None:

        def for_person(session: Session) -> tuple[list[Measure], int]:
            found = list(measures_for_person(session=session, slack_id=person, limit=LIST_LIMIT))
            return found, count_measures_for_person(session=session, slack_id=person)

        measures, total = await deps.read(for_person)
        who = "Your measures" if person == call.user_id else f"Measures of <@{person}>"
        return f"*{who}* (owner, sponsor or controller)", measures, total

    def for_unit(session: Session) -> tuple[str, list[Measure], int] | str:
        none = f"There is no unit or person “{escape(argument[:80])}”. Try `mine`, `@someone` or a unit's name."
        unit = unit_named(session, argument, none_found=none)
        if isinstance(unit, str):
            return unit
        packages = descendant_package_ids(session=session, unit=unit)
        measures = list(measures_in_packages(session=session, package_ids=packages, limit=LIST_LIMIT))
        total = count_measures_in_packages(session=session, package_ids=packages)
        return f"*{escape(unit.name)}* ({unit.level})", measures, total

    return await deps.read(for_unit)


SUBCOMMANDS: dict[str, Subcommand] = {
    "new": new,
    "show": show,
    "edit": edit,
    "list": list_,
}


def register(app: AsyncApp) -> None:
    app.action(Action.EDIT_MEASURE)(edit_button)
    app.action(Action.OPEN_CARD)(open_card)
    app.view(Callback.NEW_MEASURE)(submit_new)
    app.view(Callback.EDIT_MEASURE)(submit_edit)
