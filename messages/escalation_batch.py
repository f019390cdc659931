"""One message for everything that reached a person (or a steering channel) in one sweep: grouped by
cause, each escalation with its menu (Acknowledge / Add note / Resolve) while there is room, the rest
named in a line per cause, and "Acknowledge all" per cause for acting on many at once. Pure: data in,
blocks out; inside Slack's limits (50 blocks, 3,000 characters a section) at any count."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from domain.escalation_rules import Cause
from messages.blockkit import Rendered
from messages.escalation import cause_text, escalation_message
from messages.ids import Action
from messages.payloads import EscalationChoice, EscalationGroupRef
from messages.text import escape, slack_time, truncate
from storage.escalation_views import EscalationView
from storage.outbox import ListingPart

SHOWN_ONE_BY_ONE = 30  # escalations with their own line and menu; 50 blocks hold this and 5 causes
OTHERS_CHARACTERS = 600  # the line naming the rest of a cause (the message stays far under 13,000)
CAUSE_ORDER = list(Cause)
LEGEND = ":rotating_light: open · :eyes: acknowledged · :white_check_mark: resolved."
IN_THREAD = " Each escalation, with its menu, is in the thread."
CLIMBING = " Unacknowledged escalations move up a rung: owner → sponsor → steering channel."


def escalations_message(
    items: Sequence[tuple[EscalationView, int]],
    *,
    outbox_id: int,
    to_channel: bool,
    part: ListingPart = ListingPart.WHOLE,
) -> Rendered:
    """The message listing `items` ((view, rung the copy went to)); a single one is shown in full. A
    steering channel's summary counts them by cause (with "Acknowledge all"); its detail, posted in
    the summary's thread, lists each with its menu."""
    if len(items) == 1 and part is ListingPart.WHOLE:
        return escalation_message(*items[0])
    views = sorted((view for view, _rung in items), key=lambda v: (CAUSE_ORDER.index(v.cause), v.key))
    title = f"{len(views)} escalations {'in this portfolio' if to_channel else 'for you'}"
    blocks: list[Block] = []
    if part is not ListingPart.DETAIL:
        blocks += [HeaderBlock(text=title), SectionBlock(text=_summary(views))]
    room = SHOWN_ONE_BY_ONE if part is not ListingPart.SUMMARY else 0
    for cause, grouped in groupby(views, key=lambda v: v.cause):
        group = list(grouped)
        blocks.append(_group_heading(cause, group, outbox_id))
        blocks += [escalation_row(view) for view in group[:room]]
        if len(group) > room and part is not ListingPart.SUMMARY:
            blocks.append(SectionBlock(text=_others(group[room:])))
        room = max(room - len(group), 0)
    climbing = any(v.state == "open" and v.acknowledged_at is None for v in views)
    footer = LEGEND + (CLIMBING if climbing else "") + (IN_THREAD if part is ListingPart.SUMMARY else "")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    counts = ", ".join(f"{n} {cause.label.lower()}" for cause, n in _counts(views))
    still_open = sum(1 for v in views if v.state == "open")
    text = f"{title}: {counts}. {still_open} open." if part is not ListingPart.DETAIL else f"Each of the {title}."
    return Rendered(truncate(text), blocks)


def _counts(views: Sequence[EscalationView]) -> list[tuple[Cause, int]]:
    return [(cause, len(list(group))) for cause, group in groupby(views, key=lambda v: v.cause)]


def _summary(views: Sequence[EscalationView]) -> str:
    by_cause = " · ".join(f"*{n}* {cause.label}" for cause, n in _counts(views))
    waiting = sum(1 for v in views if v.state == "open" and v.acknowledged_at is None)
    return f"{by_cause}\n{waiting} not acknowledged yet."


def _group_heading(cause: Cause, group: Sequence[EscalationView], outbox_id: int) -> SectionBlock:
    waiting = [v for v in group if v.state == "open" and v.acknowledged_at is None]
    text = f"*{cause.label}* ({len(group)})"
    if len(waiting) < 2:
        return SectionBlock(text=text)
    ref = EscalationGroupRef(outbox_id=outbox_id, cause=cause).dump()
    button = ButtonElement(text=f"Acknowledge all {len(waiting)}", action_id=Action.ESCALATION_ACK_GROUP, value=ref)
    return SectionBlock(text=text, accessory=button)


def escalation_row(view: EscalationView, *, named: bool = False) -> SectionBlock:
    """One escalation: its mark, key, title, cause and state, with its menu while it is open.
    `named`: the cause's name too (where no heading of its cause stands above the row)."""
    cause = f"{view.cause.label}: {cause_text(view)}" if named else cause_text(view)
    text = f"{_mark(view)} *{view.key}* {escape(truncate(view.title, 80))} — {cause}\n{_state(view)}"
    if view.state != "open":
        return SectionBlock(text=truncate(text))
    acts = [("note", "Add note")]
    if view.acknowledged_at is None:
        acts.insert(0, ("acknowledge", "Acknowledge"))
    acts.append(("resolve", "Resolve"))
    options = [
        Option(value=EscalationChoice(escalation_id=view.id, act=act).dump(), label=label) for act, label in acts
    ]
    return SectionBlock(
        text=truncate(text), accessory=OverflowMenuElement(action_id=Action.ESCALATION_MENU, options=options)
    )


def _mark(view: EscalationView) -> str:
    if view.state != "open":
        return ":white_check_mark:"
    return ":eyes:" if view.acknowledged_at else ":rotating_light:"


def _state(view: EscalationView) -> str:
    if view.state != "open":
        who = "itself" if view.resolved_by == "system" else f"<@{view.resolved_by}>"
        return f"_Resolved by {who} {slack_time(view.resolved_at or view.raised_at)}_"
    if view.acknowledged_by and view.acknowledged_at:
        return f"_Acknowledged by <@{view.acknowledged_by}> {slack_time(view.acknowledged_at)}_"
    return f"_Open since {slack_time(view.raised_at)}, with the {view.rung.label}_"


def _others(rest: Sequence[EscalationView]) -> str:
    """ "Also: M-40, M-41, … and N more", whole keys only (never cut inside one)."""
    shown: list[str] = []
    length = 0
    for view in rest:
        if length + len(view.key) + 2 > OTHERS_CHARACTERS:
            break
        shown.append(view.key)
        length += len(view.key) + 2
    more = len(rest) - len(shown)
    tail = f" and {more} more" if more else ""
    return (
        f"Also: {', '.join(shown)}{tail}. *Acknowledge all* stops them climbing; each resolves when its cause clears."
    )
