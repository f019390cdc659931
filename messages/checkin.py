"""Check-in messages, rendered from plain data (no database, no Slack)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from domain.enums import CheckinState, ImplStatus
from messages.blockkit import Rendered
from messages.ids import Action
from messages.payloads import CheckinAnswer, CheckinRef
from messages.text import STATUS_EMOJI, escape, slack_time, status_text, truncate, year_text
from storage.checkin_cycles import PER_PROMPT
from storage.checkins import PromptItem

MAX_WITH_BUTTONS = PER_PROMPT  # two blocks each, within Slack's 50 blocks per message
QUICK = (
    (Action.CHECKIN_ON_TRACK, ImplStatus.ON_TRACK, "On track"),
    (Action.CHECKIN_AT_RISK, ImplStatus.AT_RISK, "At risk"),
    (Action.CHECKIN_OFF_TRACK, ImplStatus.OFF_TRACK, "Off track"),
)


def prompt_message(items: Sequence[PromptItem], *, now: datetime) -> Rendered:
    keys = ", ".join(i.key for i in items)
    blocks: list[Block] = [
        HeaderBlock(text="Your check-in"),
        ContextBlock(elements=[MarkdownTextObject(text=window_text(items))]),
    ]
    for item in items[:MAX_WITH_BUTTONS]:
        blocks.append(SectionBlock(text=truncate(_item_text(item), 3000)))
        if now < item.cycle_end and item.status != CheckinState.SKIPPED:
            blocks.append(ActionsBlock(block_id=f"checkin-{item.checkin_id}", elements=_buttons(item)))
    rest = items[MAX_WITH_BUTTONS:]
    if rest:  # only a prompt owed before prompts were split at PER_PROMPT (storage/checkin_cycles) holds more
        more = ", ".join(i.key for i in rest)
        blocks.append(SectionBlock(text=truncate(f"Also due: {more}. Answer them with `/measure show <key>`.", 3000)))
    answered = sum(1 for i in items if i.status == CheckinState.ANSWERED)
    text = f"Check-in: {len(items)} due ({keys}); {answered} answered"
    return Rendered(truncate(text, 3000), blocks)


def window_text(items: Sequence[PromptItem]) -> str:
    """The windows, as the sweep applies them: an answer due at `answer_by` (the overdue delay of the
    owner's working time past the prompt; then it is overdue and goes to the sponsor, at that very
    instant), and answers open to change until the cycle ends. A cycle that ends first is never
    overdue, and its prompt promises no such thing."""
    count = f"{len(items)} measure{'s' if len(items) != 1 else ''} to report on."
    closes = min(i.cycle_end for i in items)
    answer_by = min((i.answer_by for i in items if i.answer_by is not None), default=None)
    if answer_by is None or answer_by >= closes:
        return f"{count} You can answer and change your answers until {slack_time(closes)}."
    return (
        f"{count} Please answer by {slack_time(answer_by)}: unanswered then, a check-in is overdue and goes to "
        f"your sponsor. You can change your answers until {slack_time(closes)}."
    )


def _item_text(item: PromptItem) -> str:
    head = f"*{item.key}* {escape(truncate(item.title, 150))}"
    potential = status_text(item.potential_status, potential=True)
    now = f"Implementation {status_text(item.impl_status)} · potential {potential}"
    if item.year is not None and (item.year.figures.plan or item.year.figures.forecast):
        now += f" · {year_text(item.year.period, item.year.figures, item.year.style)}"
    if item.status == CheckinState.ANSWERED and item.answered_status and item.answered_at:
        emoji = STATUS_EMOJI.get(item.answered_status, ":white_check_mark:")
        label = ImplStatus(item.answered_status).label
        recorded = f":white_check_mark: Recorded {emoji} {label} {slack_time(item.answered_at)}"
        return f"{head}\n{recorded}\n{now}"
    if item.status == CheckinState.SKIPPED:
        return f"{head}\n:fast_forward: Skipped this cycle"
    return f"{head}\n{now}"


def _buttons(item: PromptItem) -> list[ButtonElement]:
    buttons = [
        ButtonElement(
            text=label,
            action_id=action,
            value=CheckinAnswer(checkin_id=item.checkin_id, status=status).dump(),
            style="primary" if item.answered_status == status else None,
        )
        for action, status, label in QUICK
    ]
    ref = CheckinRef(checkin_id=item.checkin_id).dump()
    buttons.append(ButtonElement(text="Update…", action_id=Action.CHECKIN_UPDATE, value=ref))
    if item.status == CheckinState.PENDING:
        buttons.append(ButtonElement(text="Skip this cycle", action_id=Action.CHECKIN_SKIP, value=ref))
    return buttons


def reminder_message(keys: Sequence[str]) -> Rendered:
    text = f"Reminder: your check-in for {', '.join(keys)} is still open. Answer in the check-in message above."
    return Rendered(truncate(text, 3000), [SectionBlock(text=truncate(":alarm_clock: " + text, 3000))])


def delivery_failure_message(*, recipient: str, kind: str, error: str) -> Rendered:
    what = kind.replace("_", " ")
    where = f"<#{recipient}>" if recipient[:1] in ("C", "G") else f"<@{recipient}> ({recipient})"
    text = f"Could not deliver a {what} to {where}: Slack said {error}. Nothing more will be tried."
    return Rendered(text, [SectionBlock(text=":warning: " + text)])
