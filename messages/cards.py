"""Pure rendering: data in, Block Kit out (slack_sdk models). No database, no Slack calls."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from domain.enums import ImplStatus, PotentialStatus, Stage
from domain.figures import Figures, Period
from domain.money import DEFAULT_STYLE, MoneyStyle, format_signed
from domain.weights import weighted_total
from messages.ids import INPUT, Action, Callback, Field
from messages.payloads import MeasureRef
from messages.text import (
    MAX_MESSAGE_BLOCKS,
    STATUS_EMOJI,
    escape,
    figures_text,
    money,
    pack_lines,
    slack_date,
    status_text,
    truncate,
    weight_text,
    year_text,
)
from storage.models import Measure
from storage.year_figures import YearFigures


@dataclass(frozen=True)
class MeasureCard:
    measure: Measure
    package_path: str
    year: Figures  # the organization's fiscal year holding today (docs/money.md)
    whole: Figures  # the plan's whole horizon
    period: str  # the fiscal year's name: 2027, or FY2028 when it starts in another month than January
    horizon: Period | None  # the first and last month of the plan, None without months
    risks: Sequence[tuple[str, str, str]]
    dependency_keys: Sequence[str]
    evidence_urls: Sequence[str]
    missing_for_next: Sequence[str]
    next_stage: Stage | None
    can_edit: bool
    can_request: bool = False
    open_escalations: Sequence[str] = ()  # labels of the causes of its open escalations
    style: MoneyStyle = DEFAULT_STYLE  # how the measure's organization writes amounts
    weight: int = 0  # its stage's realisation weight in its portfolio, in % (domain/weights.py)
    # Its portfolio's custom fields that hold a value: (label, value as shown, whether it is a person's mention).
    custom: Sequence[tuple[str, str, bool]] = ()


def _person(slack_id: str | None) -> str:
    return f"<@{slack_id}>" if slack_id else "_not set_"


def _unmet_at_import(flag: str | None) -> str:
    """“Imported at DI3 without …”, when a migration placed the measure below its stage's criteria."""
    try:
        found = json.loads(flag) if flag else None
    except ValueError:
        return ""
    if not isinstance(found, dict) or not found.get("missing"):
        return ""
    missing = ", ".join(escape(str(item)) for item in found["missing"])
    return f":warning: Imported at {escape(str(found.get('stage', '')))} without {missing}."


def _decided_line(card: MeasureCard) -> str:
    """The plan frozen at the decision beside the current one, once the measure is decided."""
    decided, current, style = card.whole.decided_plan, card.whole.plan, card.style
    if not decided:
        return ""
    gap = "" if decided == current else f" ({format_signed(current - decided, style)} re-baselined)"
    return f"\n*Plan at the decision* (DI3) {money(decided, style)} · *current plan* {money(current, style)}{gap}"


def _weighted_line(card: MeasureCard) -> str:
    """The forecasts at the stage's weight, beside the unweighted ones (the Härtegrad view)."""
    style, pct = card.style, card.weight
    year, whole = weighted_total([(card.year.forecast, pct)]), weighted_total([(card.whole.forecast, pct)])
    return (
        f"*Weighted* ({Stage(card.measure.stage).label} at {weight_text(pct, style)}) — forecast {money(year, style)}"
        f" of {money(card.year.forecast, style)} in {card.period} · {money(whole, style)} of"
        f" {money(card.whole.forecast, style)} over the whole plan"
    )


def card_blocks(card: MeasureCard) -> list[Block]:
    m = card.measure
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{m.key} · {m.title}", 150)),
        ContextBlock(elements=[MarkdownTextObject(text=truncate(escape(card.package_path), 2000))]),
    ]
    if card.open_escalations:
        flags = " · ".join(f":rotating_light: {label}" for label in card.open_escalations)
        blocks.append(SectionBlock(text=truncate(f"*Escalated:* {flags}")))
    unmet = _unmet_at_import(m.unmet_at_import)
    if unmet:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(unmet, 2000))]))
    if m.description:
        blocks.append(SectionBlock(text=truncate(escape(m.description), 1500)))
    blocks.append(
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Stage*\n{Stage(m.stage).label}"),
                MarkdownTextObject(text=f"*Due*\n{slack_date(m.due) if m.due else '_not set_'}"),
                MarkdownTextObject(text=f"*Implementation*\n{status_text(m.impl_status)}"),
                MarkdownTextObject(text=f"*Potential*\n{status_text(m.potential_status, potential=True)}"),
                MarkdownTextObject(text=f"*Owner*\n{_person(m.owner_id)}"),
                MarkdownTextObject(text=f"*Sponsor*\n{_person(m.sponsor_id)}"),
                MarkdownTextObject(text=f"*Controller*\n{_person(m.controller_id)}"),
                MarkdownTextObject(
                    text=f"*Business unit · function*\n{escape(m.business_unit or '—')} · {escape(m.function or '—')}"
                ),
            ]
        )
    )
    style = card.style
    span = f" ({card.horizon.start:%Y-%m} – {card.horizon.end:%Y-%m})" if card.horizon else ""
    blocks.append(
        SectionBlock(
            text=(
                f"*Value {card.period}* — {figures_text(card.year, style)}\n*Whole plan*{span} —"
                f" {figures_text(card.whole, style)}{_decided_line(card)}\n{_weighted_line(card)}\n"
                f"Baseline {money(m.baseline, style)}"
                f" · target {money(m.target, style)} · one-time cost {money(m.one_time_cost, style)}"
            )
        )
    )
    details = _details(card)
    if details:
        blocks.append(SectionBlock(text=truncate(details)))
    if card.next_stage is not None:
        if card.missing_for_next:
            text = f"To reach *{card.next_stage.label}* it still needs: {', '.join(card.missing_for_next)}."
        else:
            text = f"Ready to request *{card.next_stage.label}*."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 2000))]))
    ref = MeasureRef(key=m.key).dump()
    buttons = [ButtonElement(text="Edit", action_id=Action.EDIT_MEASURE, value=ref)] if card.can_edit else []
    if card.can_request and card.next_stage is not None and not card.missing_for_next:
        label = f"Request {card.next_stage.value}"
        buttons.append(ButtonElement(text=label, action_id=Action.REQUEST_GATE, value=ref, style="primary"))
    if buttons:
        blocks.append(ActionsBlock(block_id="measure_actions", elements=buttons))
    return blocks


def _details(card: MeasureCard) -> str:
    lines = []
    if card.risks:
        lines.append("*Risks*")
        lines += [
            f"• _{sev}_ {escape(text)}" + (f" — {escape(mit)}" if mit else "") for sev, text, mit in card.risks[:10]
        ]
    elif card.measure.no_known_risks:
        lines.append("*Risks* none known")
    if card.dependency_keys:
        lines.append(f"*Depends on* {', '.join(card.dependency_keys)}")
    if card.evidence_urls:
        lines.append(
            "*Evidence* " + " · ".join(f"<{url}|link {i}>" for i, url in enumerate(card.evidence_urls[:10], 1))
        )
    lines += [
        f"*{escape(label)}* {shown if mention else escape(truncate(shown, 200))}"
        for label, shown, mention in card.custom
    ]
    return "\n".join(lines)


def card_fallback(card: MeasureCard) -> str:
    m = card.measure
    return (
        f"{m.key} {escape(m.title)}: {Stage(m.stage).label}, implementation {ImplStatus(m.impl_status).label}, "
        f"potential {PotentialStatus(m.potential_status).label}"
    )


def measure_line(measure: Measure, year: YearFigures | None = None) -> str:
    owner = f"<@{measure.owner_id}>" if measure.owner_id else "no owner"
    money_part = ""
    if year is not None and (year.figures.plan or year.figures.forecast):
        money_part = f" · {year_text(year.period, year.figures, year.style)}"
    return (
        f"*{measure.key}* {escape(truncate(measure.title, 120))} · {Stage(measure.stage).label} · "
        f"{STATUS_EMOJI.get(measure.impl_status, ':white_circle:')}/"
        f"{STATUS_EMOJI.get(measure.potential_status, ':white_circle:')} · {owner}{money_part}"
    )


def list_blocks(
    title: str, measures: Sequence[Measure], total: int, years: Mapping[int, YearFigures] | None = None
) -> list[Block]:
    """A heading and the measures, packed into sections within Slack's text and block limits."""
    blocks: list[Block] = [SectionBlock(text=truncate(title, 2000))]
    if not measures:
        blocks.append(SectionBlock(text="_No measures here yet._ Create one with `/measure new`."))
        return blocks
    lines = (measure_line(m, (years or {}).get(m.id or 0)) for m in measures)
    sections = pack_lines(lines, max_sections=MAX_MESSAGE_BLOCKS - 2)
    blocks += sections  # with the title and the "showing" line: within 50 blocks
    shown = sum(s.text.text.count("\n") + 1 for s in sections if s.text)
    if total > shown:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=f"Showing {shown} of {total}. Narrow it down with a unit or a person.")
                ]
            )
        )
    return blocks


def rebaseline_modal(*, key: str, title: str, plan_lines: str, style_hint: str) -> View:
    """A new plan for a decided measure, and why: approved like a gate (messages/approval.py)."""
    explain = (
        f"*{key}* {escape(title)}\nFrom DI3 the plan is the baseline. Propose the new plan (one month per line, "
        f"{style_hint}) and say why: the sponsor approves it (the controller first when actuals exist). The plan "
        "at the decision stays on record."
    )
    return View(
        type="modal", callback_id=Callback.REBASELINE, title=f"Re-baseline {key}"[:24], submit="Request",
        close="Cancel", private_metadata=MeasureRef(key=key).dump(),
        blocks=[
            SectionBlock(text=truncate(explain)),
            InputBlock(block_id=Field.NEW_PLAN, label="New monthly plan", element=PlainTextInputElement(
                action_id=INPUT, multiline=True, max_length=3000, initial_value=plan_lines or None)),
            InputBlock(block_id=Field.REASON, label="Reason", element=PlainTextInputElement(
                action_id=INPUT, multiline=True, max_length=2000)),
        ],
    )  # fmt: skip


def text_modal(
    *, callback_id: str, title: str, submit: str, metadata: str, explain: str, block_id: str, label: str
) -> View:
    """A modal asking for one piece of free text (a reason, a note), with a line saying who reads it."""
    return View(
        type="modal", callback_id=callback_id, title=title, submit=submit, close="Cancel", private_metadata=metadata,
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=explain)]),
            InputBlock(
                block_id=block_id, label=label,
                element=PlainTextInputElement(action_id=INPUT, multiline=True, max_length=2000),
            ),
        ],
    )  # fmt: skip


HELP = """*Pacekeeper* keeps every measure tied to an owner, a sponsor, a controller and its value.
• `/measure new` — create a measure (starts at DI0, or DI1 when it is complete)
• `/measure list [mine | @person | unit]` — list measures
• `/measure show M-12` — a measure's card
• `/measure history M-12` — its audit trail and check-in answers, newest first
• `/measure search <text>` — measures by key, title, description or owner
• `/measure export [unit]` — a spreadsheet of every measure, in your DM
• `/measure import` — send a CSV or XLSX in a DM to import it (admins; checked first)
• `/measure edit M-12` — change a measure (owner, sponsor, controller or admin)
• `/measure actuals M-12` — enter the actuals of closed months (owner or controller; the controller validates)
• `/measure rebaseline M-12` — propose a new plan for a decided measure (approved like a gate)
• `/measure gate M-12` — ask for the next stage gate (or hear what is missing)
• `/measure hold M-12 <reason>` · `/measure resume M-12` · `/measure cancel M-12 <reason>`
• `/measure delegate @person until 2027-04-30` — someone decides your approvals meanwhile
• `/measure away 2027-04-30` — no check-ins until then (`away off` when back)
• `/measure structure` — add a unit under a parent (admins)
• `/measure digest #channel <unit> [weekly|biweekly|monthly] [fri] [16:00]` — a channel's digest (admins)
• `/measure digest list` · `/measure digest remove <n>` · `/measure digest preview <unit>`
• `/measure rules <portfolio> [tolerance=10 weight-DI3=50 …]` — escalation rules, stage weights (admins change)
• `/measure field M-12 [name=value …]` — the custom fields its portfolio's governance file declares
• `/measure org [name] [currency=EUR locale=de fiscal-year-start=4 …]` — an organization's settings (admins change)
• `/measure settings` — your working days, holidays, quiet hours and language
• `/measure api-token new <name> [read|write]` · `list` · `revoke <name>` — tokens for `/api/v1/` (admins)
• `/measure help` — this help"""


def help_blocks() -> list[Block]:
    return [SectionBlock(text=HELP), DividerBlock()]
