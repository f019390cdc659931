"""Escalation messages, rendered from an EscalationView (pure: data in, blocks out)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from domain.escalation_rules import Cause, Rung
from messages.blockkit import Rendered
from messages.ids import Action
from messages.payloads import EscalationRef
from messages.text import escape, figures_text, slack_time, status_text, truncate
from storage.escalation_views import EscalationView

WHO = {Rung.OWNER: "you own", Rung.SPONSOR: "you sponsor", Rung.STEERING: "in this portfolio"}


def cause_text(view: EscalationView) -> str:
    """What is wrong, in one line, from the detail the rule recorded when it raised the escalation."""
    detail = view.detail
    if view.cause == Cause.SHORTFALL:
        status = status_text(detail.get("potential_status", ""))
        if view.year is None:
            return f"The value forecast is {status}."
        return f"The value forecast is {status}: {view.period} {figures_text(view.year, view.style)}."
    if view.cause == Cause.DEPENDENCY:
        return f"It depends on {', '.join(detail.get('depends_on', []))}, which is off track."
    if view.cause == Cause.APPROVAL_OVERDUE:
        return f"The request for {detail.get('to_stage', 'the next stage')} has waited too long for a decision."
    if view.cause == Cause.OFF_TRACK_TWICE:
        return f"The owner reported it off track in {detail.get('in_a_row', 2)} check-ins in a row."
    return "The owner has not answered the check-in in time."


def _state_line(view: EscalationView) -> str:
    if view.state == "resolved":
        by = "itself: the cause cleared" if view.resolved_by == "system" else f"by <@{view.resolved_by}>"
        return f":white_check_mark: Resolved {by} {slack_time(view.resolved_at or view.raised_at)}"
    if view.acknowledged_by and view.acknowledged_at:
        return f":eyes: Acknowledged by <@{view.acknowledged_by}> {slack_time(view.acknowledged_at)}"
    return f":rotating_light: Open since {slack_time(view.raised_at)} — now with the {view.rung.label}"


def escalation_message(view: EscalationView, rung: int) -> Rendered:
    """The copy sent to `rung`; every copy shows the current state and is updated in place."""
    who = WHO[Rung(rung)]
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Escalation: {view.cause.label} — {view.key}", 150)),
        SectionBlock(text=truncate(f"*{view.key}* {escape(truncate(view.title, 150))} ({who})\n{cause_text(view)}")),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Owner*\n{_person(view.owner_id)}"),
                MarkdownTextObject(text=f"*Sponsor*\n{_person(view.sponsor_id)}"),
            ]
        ),
        SectionBlock(text=truncate(_state_line(view))),
    ]
    if view.notes:
        lines = [f"• <@{author}> {slack_time(at)}: {escape(truncate(text, 400))}" for author, text, at in view.notes]
        blocks.append(SectionBlock(text=truncate("*Notes*\n" + "\n".join(lines))))
    ref = EscalationRef(escalation_id=view.id).dump()
    buttons = [ButtonElement(text="Add note", action_id=Action.ESCALATION_NOTE, value=ref)]
    if view.state == "open":
        if view.acknowledged_at is None:
            buttons.insert(0, ButtonElement(text="Acknowledge", action_id=Action.ESCALATION_ACK, value=ref))
        buttons.append(ButtonElement(text="Resolve", action_id=Action.ESCALATION_RESOLVE, value=ref, style="primary"))
    blocks.append(ActionsBlock(block_id=f"escalation-{view.id}", elements=buttons))
    if view.state == "open" and view.acknowledged_at is None:  # only what can still climb says it will
        climbing = "Unacknowledged escalations move up a rung: owner → sponsor → steering channel."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=climbing)]))
    state = "resolved" if view.state == "resolved" else "open"
    text = f"Escalation ({state}): {view.cause.label} — {view.key} {escape(view.title)}. {cause_text(view)}"
    return Rendered(truncate(text), blocks)


def escalation_line(view: EscalationView) -> str:
    """One line for App Home and digests."""
    ack = " · acknowledged" if view.acknowledged_at else ""
    return (
        f"• *{view.key}* {escape(truncate(view.title, 80))} — {view.cause.label}, with the {view.rung.label} "
        f"since {slack_time(view.rung_started_at)}{ack}"
    )


def _person(slack_id: str | None) -> str:
    return f"<@{slack_id}>" if slack_id else "_nobody_"
