"""The App Home tab, to act from (pure: data in, a view out). Each measure opens its card; each open
check-in, approval and escalation has its buttons. Every list says how many there are and how to see
the rest; every row is a block of its own, so nothing is ever cut inside a date token or a mention,
and the view stays inside Slack's 100 blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from messages.cards import measure_line
from messages.checkin import QUICK
from messages.escalation_batch import escalation_row
from messages.ids import Action
from messages.payloads import CheckinAnswer, CheckinRef, GateRef, MeasureRef
from messages.text import escape, slack_time, truncate
from storage.escalation_views import EscalationView
from storage.models import Measure
from storage.year_figures import YearFigures

SHOWN = {"measures": 20, "checkins": 8, "approvals": 8, "escalations": 15}  # rows shown per list (~80 blocks)


@dataclass(frozen=True)
class HomeData:
    measures: Sequence[Measure]
    total: int
    checkins: Sequence[tuple[int, str, str, datetime]] = ()  # (check-in id, key, title, closes at)
    approvals: Sequence[tuple[str, str, str, datetime, int, int]] = ()  # (key, title, stage, since, request, step)
    escalations: Sequence[EscalationView] = ()
    escalations_total: int = 0
    years: Mapping[int, YearFigures] = field(default_factory=dict)


def home_view(data: HomeData) -> View:
    blocks: list[Block] = [HeaderBlock(text="Pacekeeper")]
    blocks += _measures(data)
    blocks += _checkins(data.checkins)
    blocks += _approvals(data.approvals)
    blocks += _escalations(data.escalations, data.escalations_total)
    blocks.append(_note("`/measure help` lists everything you can do."))
    return View(type="home", blocks=blocks[:100])


def _heading(title: str, count: int) -> SectionBlock:
    return SectionBlock(text=f"*{title}* ({count})")


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _more(shown: int, total: int, where: str) -> list[Block]:
    return [_note(f"Showing {shown} of {total}. {where}")] if total > shown else []


def _measures(data: HomeData) -> list[Block]:
    shown = list(data.measures)[: SHOWN["measures"]]
    blocks: list[Block] = [_heading("Your measures", data.total)]
    for measure in shown:
        open_card = ButtonElement(text="Open", action_id=Action.OPEN_CARD, value=MeasureRef(key=measure.key).dump())
        text = truncate(measure_line(measure, data.years.get(measure.id or 0)))
        blocks.append(SectionBlock(text=text, accessory=open_card))
    if not shown:
        blocks.append(SectionBlock(text="_You are not owner, sponsor or controller of any measure yet._"))
    return blocks + _more(len(shown), data.total, "The rest: `/measure list mine`.")


def _checkins(checkins: Sequence[tuple[int, str, str, datetime]]) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), _heading("Your open check-ins", len(checkins))]
    for checkin_id, key, title, closes in checkins[: SHOWN["checkins"]]:
        blocks.append(SectionBlock(text=f"*{key}* {escape(truncate(title, 100))} — open until {slack_time(closes)}"))
        buttons = [
            ButtonElement(
                text=label, action_id=action, value=CheckinAnswer(checkin_id=checkin_id, status=status).dump()
            )
            for action, status, label in QUICK
        ]
        buttons.append(ButtonElement(text="Update…", action_id=Action.CHECKIN_UPDATE,
                                     value=CheckinRef(checkin_id=checkin_id).dump()))  # fmt: skip
        blocks.append(ActionsBlock(block_id=f"home-checkin-{checkin_id}", elements=buttons))
    if not checkins:
        blocks.append(SectionBlock(text="_None right now._"))
    return blocks + _more(
        min(len(checkins), SHOWN["checkins"]), len(checkins), "The rest: the buttons of your check-in DMs."
    )


def _approvals(approvals: Sequence[tuple[str, str, str, datetime, int, int]]) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), _heading("Waiting for your approval", len(approvals))]
    for key, title, stage, since, request_id, step in approvals[: SHOWN["approvals"]]:
        text = f"*{key}* {escape(truncate(title, 100))} — {stage} — waiting since {slack_time(since)}"
        blocks.append(SectionBlock(text=text))
        ref = GateRef(request_id=request_id, step=step).dump()
        blocks.append(ActionsBlock(block_id=f"home-approval-{request_id}", elements=[
            ButtonElement(text="Approve", action_id=Action.GATE_APPROVE, value=ref, style="primary"),
            ButtonElement(text="Request changes", action_id=Action.GATE_CHANGES, value=ref),
            ButtonElement(text="Reject", action_id=Action.GATE_REJECT, value=ref, style="danger"),
        ]))  # fmt: skip
    if not approvals:
        blocks.append(SectionBlock(text="_Nothing right now._"))
    return blocks + _more(min(len(approvals), SHOWN["approvals"]), len(approvals), "The rest: your approval DMs.")


def _escalations(escalations: Sequence[EscalationView], total: int) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), _heading("Open escalations on your measures", total)]
    blocks += [escalation_row(view, named=True) for view in escalations[: SHOWN["escalations"]]]
    if not escalations:
        blocks.append(SectionBlock(text="_None right now._"))
    shown = min(len(escalations), SHOWN["escalations"])
    return blocks + _more(shown, total, "The oldest are shown; each leaves this list when it is resolved.")
