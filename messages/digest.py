"""The digest as Slack messages: a summary inside the block limits, and the detail as thread replies
(pure: DigestData in, messages out; the text bodies come from templates/digest.j2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from domain.enums import ImplStatus, PotentialStatus, Stage
from domain.money import MoneyStyle, format_signed
from messages.blockkit import Rendered
from messages.text import escape, money, pack_lines, percent, slack_time, status_text, truncate
from storage.digest_data import IN_PROGRESS, DigestData
from storage.digest_rollup import by_child, unit_rollup

SHOWN_IN_SUMMARY = 8
MAX_THREAD_MESSAGES = 12
# Slack refuses a message whose block text is much over 12,000 characters (msg_too_long,
# msg_blocks_too_long), far below 50 blocks of 3,000: a thread part holds at most four sections.
MAX_PART_SECTIONS = 4


@dataclass(frozen=True)
class Digest:
    summary: Rendered
    thread: list[Rendered]
    cut: int = 0  # items the thread could not show: then every measure goes with it as a spreadsheet


@lru_cache(maxsize=8)
def _template(style: MoneyStyle) -> Any:
    """The digest's macros, with the amounts filters of one organization's way of writing money."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("messages", "templates"),
        autoescape=False,  # Slack mrkdwn, not HTML: user text goes through the `esc` filter
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=lambda v: money(v, style), esc=escape, oneline=lambda v: escape(" ".join(str(v).split())),
        when=slack_time, short=truncate, signed=lambda v: format_signed(v, style),
        percent=lambda v: percent(v, style),
        status=lambda v, potential=False: status_text(v or "unknown", potential=potential),
        stage=lambda v: Stage(v).label,
    )  # fmt: skip
    env.globals.update(
        impl_order=[s.value for s in ImplStatus], potential_order=[s.value for s in PotentialStatus],
        in_progress=[s.value for s in IN_PROGRESS], value_stages=[s.value for s in Stage if s != Stage.CANCELLED],
    )  # fmt: skip
    return env.get_template("digest.j2").module


def _text(style: MoneyStyle, macro: str, *args: Any) -> str:
    return truncate(str(getattr(_template(style), macro)(*args)).strip())


def _lines(style: MoneyStyle, macro: str, items: Sequence[Any]) -> list[str]:
    """One line per item, from one call of a `…_lines` macro (a call per line would cost ten times more)."""
    if not items:
        return []
    text = str(getattr(_template(style), macro)(items))
    return [truncate(line, 2900) for line in text.split("\n") if line.strip()]


LEGEND = (
    ":large_green_circle: on track · :large_yellow_circle: at risk · :red_circle: off track · "
    ":white_circle: no status or forecast yet. Implementation is the work, potential is the money."
)


def render_digest(data: DigestData, *, cadence: str = "weekly") -> Digest:
    """The summary reads in 30 seconds: value and both statuses first, then the measures whose work is
    green while their money is red, the five questions, counts of what waits (each list once, in the
    thread), a legend, and the figures of each unit below as fields."""
    total, style = unit_rollup(data), data.style
    lists: dict[str, tuple[Sequence[Any], str]] = {
        "Changes since the last digest": (data.changes, "change_lines"),
        "Approvals waiting": (data.approvals, "approval_lines"),
        "Open escalations": (data.escalations, "escalation_lines"),
    }
    context = f"{escape(data.unit_path)} · as of {slack_time(data.now)} · changes since {slack_time(data.since)}"
    green_red = _lines(style, "attention_lines", data.green_red[:SHOWN_IN_SUMMARY])
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{cadence.capitalize()} digest · {data.unit_name}", 150)),
        ContextBlock(elements=[MarkdownTextObject(text=truncate(context, 2000))]),
        SectionBlock(
            text="\n".join(
                (
                    _text(style, "headline", total, data.year),
                    _text(style, "statuses", total, data.potential),
                    _text(style, "weighted", total),
                )
            )
        ),
        SectionBlock(text=_text(style, "section", GREEN_RED, green_red, data.green_red_total, "More in the thread.")),
        SectionBlock(text=_text(style, "questions", total, data)),
    ]
    for title, (items, line) in lists.items():
        if title == "Open escalations":
            blocks.append(SectionBlock(text=truncate(_escalation_counts(data))))
            continue
        lines = _lines(style, line, items[:SHOWN_IN_SUMMARY])
        blocks.append(SectionBlock(text=_text(style, "section", title, lines, len(items), "More in the thread.")))
    blocks += _by_unit_fields(data)
    blocks.append(SectionBlock(text=_text(style, "value_by_stage", total)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=LEGEND)]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="The detail and the value chart are in the thread.")]))
    summary_text = (
        f"{cadence.capitalize()} digest for {escape(data.unit_name)}: plan {money(total.plan, style)}, forecast "
        f"{money(total.forecast, style)}, actual {money(total.actual, style)}; {total.in_progress} in progress, "
        f"{total.impl['off_track']} off track, {data.green_red_total} with work on track but value at risk, "
        f"{len(data.escalations)} open escalations"
    )
    thread, cut = _thread(data, lists)
    return Digest(Rendered(truncate(summary_text), blocks), thread, cut)


GREEN_RED = "Green work, red money: on track, value at risk"
MAX_UNIT_FIELDS = 10  # Slack's limit for a section's fields


def _escalation_counts(data: DigestData) -> str:
    """Open escalations counted by cause (the list is in the thread, once)."""
    if not data.escalations:
        return "*Open escalations* (0) _None._"
    by_cause = Counter(e.cause for e in data.escalations)
    counts = " · ".join(f"{n} {cause.label.lower()}" for cause, n in sorted(by_cause.items(), key=lambda c: -c[1]))
    return f"*Open escalations* ({len(data.escalations)}): {counts}. The list is in the thread."


def _by_unit_fields(data: DigestData) -> list[Block]:
    """The figures of each unit one level down, as a section's fields (at most ten; the rest, and
    every unit's statuses, in the thread's "By …" part)."""
    children = by_child(data)
    if len(children) < 2:
        return []
    shown = children[: MAX_UNIT_FIELDS if len(children) <= MAX_UNIT_FIELDS else MAX_UNIT_FIELDS - 1]
    fields = [
        MarkdownTextObject(text=truncate(
            f"*{escape(truncate(name, 80))}*\n{money(r.forecast, data.style)} of {money(r.plan, data.style)} plan "
            f"({format_signed(r.forecast - r.plan, data.style)}) · {r.in_progress} in progress", 2000))
        for name, r in shown
    ]  # fmt: skip
    if len(children) > len(shown):
        fields.append(MarkdownTextObject(text=f"*{len(children) - len(shown)} more*\nin the thread"))
    level = (data.child_level or "unit").replace("package", "measure package")
    return [SectionBlock(text=f"*By {level}* (forecast of plan, {data.year})", fields=fields)]


def _thread(data: DigestData, lists: dict[str, Any]) -> tuple[list[Rendered], int]:
    parts: list[tuple[str, list[str], int]] = []  # title, lines, how many more were not even loaded
    children = by_child(data)
    if len(children) > 1 or (children and children[0][0] != data.unit_name):
        level = (data.child_level or "unit").replace("package", "measure package")
        parts.append((f"By {level}", _lines(data.style, "child_lines", children), 0))
    if data.green_red_total > SHOWN_IN_SUMMARY:
        green_red = _lines(data.style, "attention_lines", data.green_red)
        parts.append((GREEN_RED, green_red, data.green_red_total - len(data.green_red)))
    attention = _lines(data.style, "attention_lines", data.attention)
    parts.append(("Measures that need attention", attention, data.attention_total - len(data.attention)))
    for title, (items, line) in lists.items():
        if len(items) > SHOWN_IN_SUMMARY or (title == "Open escalations" and items):  # the summary counts them
            parts.append((title, _lines(data.style, line, items), 0))
    messages: list[Rendered] = []
    cut = 0
    for title, lines, unloaded in parts:
        room = MAX_THREAD_MESSAGES - len(messages)
        more, not_shown = _messages(data.unit_name, title, lines, room=room, unloaded=unloaded)
        messages += more
        cut += not_shown
    return messages, cut


def _messages(
    unit: str, title: str, lines: Sequence[str], *, room: int, unloaded: int = 0
) -> tuple[list[Rendered], int]:
    """`lines` under a heading, as many thread messages as they need (each within 50 blocks), at most
    `room`; what does not fit (and the `unloaded` items beyond `lines`) is counted in a closing line.
    Returns the messages and how many items they do not show."""
    if room <= 0:
        return [], len(lines) + unloaded
    if not lines:
        return [_part(unit, title, [SectionBlock(text=f"*{title}*\n_None._")])], unloaded
    messages: list[Rendered] = []
    rest, part = list(lines), 1
    while rest and len(messages) < room:
        sections = pack_lines(rest, max_sections=MAX_PART_SECTIONS)
        shown = sum((s.text.text.count("\n") + 1) for s in sections if s.text)
        rest = rest[shown:]
        heading = f"*{title}*" + (f" (part {part})" if part > 1 or rest else "")
        blocks: list[Block] = [SectionBlock(text=heading), *sections]
        if (rest and len(messages) + 1 == room) or (not rest and unloaded):
            blocks.append(_more(len(rest) + unloaded))
        messages.append(_part(unit, title, blocks))
        part += 1
    return messages, len(rest) + unloaded


def _more(count: int) -> Block:
    text = f"… and {count} more. Every measure, with its figures, is in the spreadsheet attached to the digest."
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _part(unit: str, title: str, blocks: list[Block]) -> Rendered:
    return Rendered(truncate(f"Digest for {escape(unit)}: {title}"), blocks)
