"""`/measure settings`: a person's own working calendar, in a modal. What they set is theirs alone:
nobody else's settings can be opened or changed (the submitter is who Slack signed for)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View

from commands.invocation import Invocation, Subcommand
from domain.calendar import parse_working_days, working_days_text
from messages.ids import Callback
from messages.measure_form import read_state
from messages.settings_form import PersonalCalendar, parse_settings_form, settings_modal, settings_text
from slackkit.context import Deps
from storage.calendars import calendar_of, personal_calendar, set_personal_calendar


async def open_settings(call: Invocation) -> None:
    person, organization = await call.deps.read(lambda s: personal_calendar(session=s, slack_id=call.user_id))
    current = PersonalCalendar(
        working_days=parse_working_days(person.working_days) if person and person.working_days else None,
        holidays=person.holidays if person else None,
        quiet_start=person.quiet_start if person else None,
        quiet_end=person.quiet_end if person else None,
        language=person.language if person else None,
    )
    days = calendar_of(person, organization).days
    await call.deps.client.views_open(trigger_id=call.trigger_id, view=settings_modal(current, organization, days))


async def submit_settings(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    _person, organization = await deps.read(lambda s: personal_calendar(session=s, slack_id=user_id))
    values = read_state(view["state"]["values"])
    chosen, errors = parse_settings_form(values, organization, parse_working_days(organization.working_days))
    if chosen is None:
        await ack(response_action="errors", errors=errors)
        return
    days = working_days_text(chosen.working_days) if chosen.working_days else None
    quiet = (chosen.quiet_start, chosen.quiet_end) if chosen.quiet_start and chosen.quiet_end else None
    await deps.transaction(lambda s: set_personal_calendar(
        session=s, slack_id=user_id, working_days=days, holidays=chosen.holidays, quiet=quiet,
        language=chosen.language))  # fmt: skip
    done = View(type="modal", title="Your settings", close="Done",
                blocks=[SectionBlock(text=settings_text(chosen, organization))])  # fmt: skip
    await ack(response_action="update", view=done)


SUBCOMMANDS: dict[str, Subcommand] = {"settings": open_settings}


def register(app: AsyncApp) -> None:
    app.view(Callback.PERSON_SETTINGS)(submit_settings)
