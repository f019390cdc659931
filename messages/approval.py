"""Gate messages, rendered from a GateView (pure: data in, blocks out)."""

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

from domain.enums import Stage
from messages.blockkit import Rendered
from messages.ids import Action
from messages.payloads import GateRef
from messages.text import escape, figures_text, money, slack_time, truncate
from storage.gate_views import GateView

VERB = {"approved": "approved", "rejected": "rejected", "changes_requested": "asked for changes"}


def _asked(view: GateView) -> str:
    if view.kind == "cancel":
        return f"cancel *{view.key}* {escape(truncate(view.title, 120))}"
    if view.proposed is not None:
        p, style = view.proposed, view.style
        return (
            f"re-baseline *{view.key}* {escape(truncate(view.title, 120))}: the plan from {money(p.current, style)} "
            f"to *{money(p.proposed, style)}* ({p.months_changed} months change; at the decision it was "
            f"{money(p.decided, style)})"
        )
    stages = f"from {Stage(view.from_stage).label} to *{Stage(view.to_stage).label}*"
    return f"move *{view.key}* {escape(truncate(view.title, 120))} {stages}"


def who(approver: str) -> str:
    """A step's approver as Slack shows it: a person, or a user group (S…) whose members decide."""
    return f"<!subteam^{approver}>" if approver.startswith("S") else f"<@{approver}>"


def _trail(view: GateView) -> str:
    lines = []
    decided = {d.step: d for d in view.decisions}
    for step, (role, person) in enumerate(view.chain):
        decision = decided.get(step)
        if decision is not None:
            by = f"<@{decision.decided_by}>" + ("" if decision.decided_by == person else f" for {who(person)}")
            why = f": “{escape(truncate(decision.reason, 300))}”" if decision.reason else ""
            lines.append(f"{step + 1}. {role} — {by} {VERB[decision.decision]} {slack_time(decision.decided_at)}{why}")
        elif view.state == "open" and step == view.step:
            lines.append(f"{step + 1}. {role} {who(person)} — waiting since {slack_time(view.step_started_at)}")
        elif view.state == "open":
            lines.append(f"{step + 1}. {role} {who(person)} — after step {step}")
    return "\n".join(lines)


def approval_message(view: GateView, step: int) -> Rendered:
    """The message to the approver of `step`: buttons while it is theirs to decide, else the record."""
    role, _person = view.chain[step]
    verb = {"cancel": "cancel", "rebaseline": "re-baseline"}.get(view.kind, f"{Stage(view.to_stage).label} for")
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Approval: {verb} {view.key}", 150)),
        SectionBlock(text=truncate(f"<@{view.requested_by}> asks you, as {role}, to {_asked(view)}.", 3000)),
    ]
    if view.reason:
        blocks.append(SectionBlock(text=truncate(f"*Reason:* {escape(view.reason)}", 3000)))
    blocks.append(
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Baseline*\n{money(view.baseline, view.style)}"),
                MarkdownTextObject(text=f"*Target*\n{money(view.target, view.style)}"),
                MarkdownTextObject(text=f"*Value {view.period}*\n{figures_text(view.year, view.style)}"),
                MarkdownTextObject(text=f"*Whole plan*\n{figures_text(view.whole, view.style)}"),
            ]
        )
    )
    details = []
    if view.risks:
        details += [f"• _{sev}_ {escape(t)}" + (f" — {escape(m)}" if m else "") for sev, t, m in view.risks[:8]]
    if view.evidence:
        details.append("*Evidence* " + " · ".join(f"<{u}|link {i}>" for i, u in enumerate(view.evidence[:8], 1)))
    if details:
        blocks.append(SectionBlock(text=truncate("*Risks*\n" * bool(view.risks) + "\n".join(details), 3000)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(_trail(view), 2900) or "—")]))
    if view.state == "open" and view.step == step:
        ref = GateRef(request_id=view.request_id, step=step).dump()
        blocks.append(
            ActionsBlock(
                block_id=f"gate-{view.request_id}-{step}",
                elements=[
                    ButtonElement(text="Approve", action_id=Action.GATE_APPROVE, value=ref, style="primary"),
                    ButtonElement(text="Request changes", action_id=Action.GATE_CHANGES, value=ref),
                    ButtonElement(text="Reject", action_id=Action.GATE_REJECT, value=ref, style="danger"),
                ],
            )
        )
    text = f"Approval: {verb} {view.key} ({_plain_state(view)})"
    return Rendered(truncate(text, 3000), blocks)


def _plain_state(view: GateView) -> str:
    if view.state == "open":
        role, person = view.chain[view.step]
        return f"waiting for the {role}, {who(person)}"
    return view.state.replace("_", " ")


def outcome_message(view: GateView) -> Rendered:
    """To the requester, once the request is decided."""
    last = view.decisions[-1] if view.decisions else None
    if view.state == "approved":
        head = f":white_check_mark: Approved: {_asked(view)}." + (
            " It is now cancelled." if view.kind == "cancel" else ""
        )
    elif view.state == "changes_requested":
        head = f":leftwards_arrow_with_hook: Changes requested before you can {_asked(view)}."
    else:
        head = f":no_entry: Rejected: {_asked(view)}."
    if last and last.reason:
        head += f"\n<@{last.decided_by}>: “{escape(truncate(last.reason, 1000))}”"
    blocks: list[Block] = [SectionBlock(text=truncate(head, 3000))]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(_trail(view), 2900) or "—")]))
    return Rendered(truncate(f"{view.key}: {view.state.replace('_', ' ')}", 3000), blocks)


def gate_reminder_message(view: GateView) -> Rendered:
    role, _person = view.chain[view.step]
    text = f"Reminder: {view.key} is waiting for your approval as {role} (asked {slack_time(view.step_started_at)})."
    return Rendered(
        truncate(text, 3000),
        [SectionBlock(text=truncate(":hourglass: " + text + " See the approval message above.", 3000))],
    )
