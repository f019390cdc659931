"""A page of a measure's history or of a search, with "More" while there is more (pure: data in,
blocks out; each page far inside one message's limits)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from domain.enums import ImplStatus, PotentialStatus, Stage
from domain.measure_schema import audit_label
from messages.blockkit import Rendered
from messages.ids import Action
from messages.payloads import PageRef
from messages.text import escape, pack_lines, slack_time, truncate
from storage.history import Found, HistoryEntry

PAGE = 15


def history_page(key: str, title: str, entries: Sequence[HistoryEntry], *, offset: int, total: int) -> Rendered:
    heading = f"*History of {key}* “{escape(truncate(title, 120))}” · {offset + 1}–{offset + len(entries)} of {total}"
    if not entries:
        heading = f"*History of {key}*: nothing recorded yet."
    lines = [_history_line(entry) for entry in entries]
    blocks: list[Block] = [SectionBlock(text=heading), *pack_lines(lines, max_sections=4)]
    blocks += _more("history", key, offset + len(entries), total)
    return Rendered(truncate(f"History of {key}, newest first"), blocks)


def _history_line(entry: HistoryEntry) -> str:
    who = f"<@{entry.actor}>" if entry.actor[:1] in ("U", "W") else entry.actor
    when = slack_time(entry.at)
    if entry.action == "answered":
        return f"• {when} {who} answered: {_answer(entry.detail)}"
    return f"• {when} {who} {entry.action.replace('_', ' ')}{_changes(entry.detail)}"


def _answer(detail: dict[str, Any]) -> str:
    parts = []
    if detail.get("implementation"):
        parts.append(f"work {ImplStatus(detail['implementation']).label}")
    if detail.get("potential"):
        parts.append(f"value {PotentialStatus(detail['potential']).label}")
    for name in ("blockers", "comment"):
        if detail.get(name):
            parts.append(f"{name}: “{escape(truncate(' '.join(str(detail[name]).split()), 300))}”")
    return ", ".join(parts) or "no details"


def _changes(detail: dict[str, Any]) -> str:
    """ ": stage DI2 → DI3, owner <@U1> → <@U2>" for what changed (at most four fields)."""
    shown = []
    for name, value in detail.items():
        if isinstance(value, list) and len(value) == 2 and not isinstance(value[0], dict | list):
            shown.append(f"{audit_label(name)} {_value(name, value[0])} → {_value(name, value[1])}")
    return (": " + ", ".join(shown[:4])) if shown else ""


def _value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name == "stage" and value in {s.value for s in Stage}:
        return Stage(value).label
    if isinstance(value, str) and value[:1] in ("U", "W") and value[1:].isalnum() and value.isupper():
        return f"<@{value}>"
    return escape(truncate(" ".join(str(value).split()), 80))


def search_page(text: str, found: Sequence[Found], *, offset: int, total: int) -> Rendered:
    if not found:
        return Rendered(f"No measure matches “{escape(truncate(text, 80))}”.", [])
    heading = f"*Measures matching “{escape(truncate(text, 80))}”* · {offset + 1}–{offset + len(found)} of {total}"
    lines = [
        f"• *{f.key}* {escape(truncate(f.title, 100))} · {Stage(f.stage).label}"
        + (f" · <@{f.owner_id}>" if f.owner_id else "")
        for f in found
    ]
    blocks: list[Block] = [SectionBlock(text=heading), *pack_lines(lines, max_sections=4)]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="`/measure show <key>` opens one.")]))
    blocks += _more("search", text, offset + len(found), total)
    return Rendered(truncate(f"{total} measures match “{escape(truncate(text, 80))}”"), blocks)


def _more(what: str, subject: str, shown_through: int, total: int) -> list[Block]:
    if shown_through >= total:
        return []
    ref = PageRef(what=what, subject=subject, offset=shown_through)
    button = ButtonElement(text=f"More ({total - shown_through} left)", action_id=Action.PAGE_MORE, value=ref.dump())
    return [ActionsBlock(elements=[button])]
