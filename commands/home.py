"""The App Home tab: my measures, and what waits for me (approvals, check-ins, escalations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from messages.cards import measure_line
from messages.escalation import escalation_line
from messages.ids import EventType
from messages.text import escape, pack_lines, slack_time, truncate
from slackkit.context import Deps
from slackkit.people import refresh_person
from slackkit.replays import first_delivery
from storage.escalation_views import EscalationView, open_escalations_for
from storage.gate_requests import waiting_for
from storage.models import Measure
from storage.queries import count_measures_for_person, measures_for_person, open_checkins_of
from storage.year_figures import YearFigures, year_figures_of

HOME_MEASURES = 60


def home_view(
    measures: Sequence[Measure],
    total: int,
    open_checkins: Sequence[tuple[str, str, datetime]] = (),
    approvals: Sequence[tuple[str, str, str, datetime]] = (),
    escalations: Sequence[EscalationView] = (),
    years: Mapping[int, YearFigures] | None = None,
) -> View:
    blocks: list[Block] = [HeaderBlock(text="Pacekeeper"), SectionBlock(text=f"*Your measures* ({total})")]
    lines = (measure_line(m, (years or {}).get(m.id or 0)) for m in measures)
    blocks += pack_lines(lines, max_sections=HOME_MEASURES)
    if not measures:
        blocks.append(SectionBlock(text="_You are not owner, sponsor or controller of any measure yet._"))
    if total > len(measures):
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Showing {len(measures)} of {total}: `/measure list mine`")]
            )
        )
    checkin_lines = [
        f"• *{key}* {escape(truncate(title, 100))} — open until {slack_time(end)}"
        for key, title, end in open_checkins[:20]
    ]
    blocks += [
        DividerBlock(),
        SectionBlock(text=truncate("*Your open check-ins*\n" + ("\n".join(checkin_lines) or "_None right now._"))),
    ]
    approval_lines = [
        f"• *{key}* {escape(truncate(title, 100))} — {stage} — waiting since {slack_time(since)}"
        for key, title, stage, since in approvals[:20]
    ]
    approvals_text = "*Waiting for your approval*\n" + ("\n".join(approval_lines) or "_Nothing right now._")
    blocks += [DividerBlock(), SectionBlock(text=truncate(approvals_text))]
    escalation_lines = [escalation_line(view) for view in escalations]
    escalations_text = "*Open escalations on your measures*\n" + ("\n".join(escalation_lines) or "_None right now._")
    blocks += [DividerBlock(), SectionBlock(text=truncate(escalations_text))]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="`/measure help` lists everything you can do.")]))
    return View(type="home", blocks=blocks[:100])


async def publish_home(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], deps: Deps) -> None:
    await ack()
    if event.get("tab", "home") != "home" or not await first_delivery(deps, body):
        return
    user_id = event["user"]
    await refresh_person(deps, user_id)

    now = deps.clock()

    def load(session: Any) -> View:
        found = list(measures_for_person(session=session, slack_id=user_id, limit=HOME_MEASURES))
        total = count_measures_for_person(session=session, slack_id=user_id)
        checkins = open_checkins_of(session=session, owner_id=user_id, now=now)
        approvals = waiting_for(session=session, user_id=user_id)
        escalations = open_escalations_for(session=session, user_id=user_id)
        years = year_figures_of(session=session, measures=found, now=now)
        return home_view(found, total, checkins, approvals, escalations, years)

    await deps.client.views_publish(user_id=user_id, view=await deps.read(load))


def register(app: AsyncApp) -> None:
    app.event(EventType.APP_HOME_OPENED)(publish_home)
