"""The DoI stage gates as plain functions: entry criteria, who approves each gate and in which
order, hold and resume, cancel. No database and no Slack here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.enums import Stage
from domain.measure_schema import BY_NAME, MeasureDraft, missing_at
from domain.money import DEFAULT_STYLE, MoneyStyle, format_amount

FORWARD = [Stage.DI0, Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4, Stage.DI5]
DECIDED = (Stage.DI3, Stage.DI4, Stage.DI5)  # from the decision on


def plan_frozen(stage: Stage, held_from: str | None = None, *, frozen_from: Stage = Stage.DI3) -> bool:
    """Whether the plan may change only by an approved re-baseline: at `frozen_from` (the
    portfolio's rule; the decision, DI3, by default) or later, or on hold from there."""
    frozen = FORWARD[FORWARD.index(frozen_from) :]
    return stage in frozen or (stage is Stage.ON_HOLD and held_from in frozen)


def freezes(before: Stage | None, after: Stage, *, frozen_from: Stage = Stage.DI3) -> bool:
    """Whether moving a measure from `before` (None: a new one) to `after` freezes its plan: the
    plan it has then becomes the one decided."""
    return plan_frozen(after, frozen_from=frozen_from) and (
        before is None or not plan_frozen(before, frozen_from=frozen_from)
    )


@dataclass(frozen=True)
class MeasureFacts:
    """What the gates look at: the measure's fields, and the closed months of its plan without a
    validated actual (None: no month of the plan is closed yet)."""

    draft: MeasureDraft
    unvalidated_months: tuple[date, ...] | None = None
    has_actuals: bool = False  # any month holds an actual (a re-baseline then asks the controller first)
    di5_months: int | None = None  # the portfolio's DI5 policy: the latest N closed months (None: all)
    style: MoneyStyle = DEFAULT_STYLE  # how the measure's organization writes amounts, to name a gap


PLAN_MISSING = BY_NAME["monthly_plan"].missing
ACTUALS_MISSING = "actuals validated by the controller for every closed month of the plan"


def missing_for(stage: Stage, facts: MeasureFacts) -> list[str]:
    """What `facts` lack to enter `stage`, in words for the requester (empty when ready). Each
    field says in the measure schema which gate first requires it; DI3 needs only the sponsor's
    approval of the business case, DI5 actuals validated by the controller for every closed month
    of the plan (domain/actuals.py)."""
    missing: list[str] = []
    for step in FORWARD[: FORWARD.index(stage) + 1] if stage in FORWARD else []:
        missing += [
            plan_gap(facts.draft, facts.style) if m == PLAN_MISSING else m for m in missing_at(step, facts.draft)
        ]
        if step is Stage.DI5 and facts.unvalidated_months != ():
            missing.append(actuals_gap(facts.unvalidated_months, facts.di5_months))
    return missing


def actuals_gap(unvalidated: tuple[date, ...] | None, di5_months: int | None = None) -> str:
    asked = (
        ACTUALS_MISSING
        if not di5_months
        else ACTUALS_MISSING.replace("every closed month", f"the last {di5_months} closed months")
    )
    if unvalidated is None:
        return f"{asked} (no month of the plan is closed yet)"
    shown = ", ".join(f"{m:%Y-%m}" for m in unvalidated[:6]) + (" …" if len(unvalidated) > 6 else "")
    return f"{asked} ({len(unvalidated)} not yet: {shown})"


def plan_gap(draft: MeasureDraft, style: MoneyStyle) -> str:
    """How far the monthly plan is from the target, in figures: the gate names the gap."""
    if not draft.monthly_plan or draft.target is None:
        return PLAN_MISSING
    planned = sum(draft.monthly_plan.values())
    return (
        f"{PLAN_MISSING}: the monthly plan sums to {format_amount(planned, style)}"
        f" of the {format_amount(draft.target, style)} target"
    )


def stage_for_new(facts: MeasureFacts) -> Stage:
    """A new measure starts at DI1 when it already meets DI1's entry criteria, else at DI0."""
    return Stage.DI1 if not missing_for(Stage.DI1, facts) else Stage.DI0


def next_stage(stage: Stage) -> Stage | None:
    if stage not in FORWARD or stage is Stage.DI5:
        return None
    return FORWARD[FORWARD.index(stage) + 1]


class Role(StrEnum):
    CONTROLLER = "controller"
    SPONSOR = "sponsor"
    APPROVER = "approver"  # a person the portfolio's governance file names


class RequestKind(StrEnum):
    ADVANCE = "advance"
    CANCEL = "cancel"
    REBASELINE = "rebaseline"  # a new plan for a decided measure


def approval_chain(kind: RequestKind, to_stage: Stage, *, has_actuals: bool = False) -> list[Role]:
    """Who approves, in order: the controller validates the figures before DI5, and a re-baseline
    of a measure with actuals, then the sponsor; every other gate, and a cancellation, is the
    sponsor's."""
    if (kind is RequestKind.ADVANCE and to_stage is Stage.DI5) or (kind is RequestKind.REBASELINE and has_actuals):
        return [Role.CONTROLLER, Role.SPONSOR]
    return [Role.SPONSOR]


def approver_for(role: Role, *, sponsor_id: str | None, controller_id: str | None) -> str | None:
    return sponsor_id if role is Role.SPONSOR else controller_id


class GateRefused(ValueError):
    """The request cannot be made; str() says why, for the requester."""


def plan_request(
    kind: RequestKind,
    stage: Stage,
    facts: MeasureFacts,
    *,
    requester: str,
    sponsor_id: str | None,
    controller_id: str | None,
    gaps: Callable[[Stage], list[str]] | None = None,
    chain_for: Callable[[Stage], list[tuple[Role, str]] | None] | None = None,
    frozen_from: Stage = Stage.DI3,
) -> tuple[Stage, list[tuple[Role, str]]]:
    """The target stage and the approvers in order, or GateRefused with what is missing: `gaps`
    says what the measure lacks for a stage (its portfolio's governance, domain/gate_policy.py);
    without it, today's method (`missing_for`); `chain_for` gives a gate's approvers under that
    governance (None: today's chain, `approval_chain`); a re-baseline is for plans frozen from
    `frozen_from` on."""
    if stage in (Stage.CANCELLED,) or (kind is RequestKind.ADVANCE and stage is Stage.ON_HOLD):
        raise GateRefused("It is " + ("cancelled." if stage is Stage.CANCELLED else "on hold: resume it first."))
    if kind is RequestKind.CANCEL:
        target = Stage.CANCELLED
    elif kind is RequestKind.REBASELINE:
        if not plan_frozen(stage, frozen_from=frozen_from):
            raise GateRefused(f"Its plan is not frozen before {frozen_from}: change it with `/measure edit`.")
        target = stage
    else:
        nxt = next_stage(stage)
        if nxt is None:
            raise GateRefused("It is realised (DI5): there is no further gate.")
        missing = gaps(nxt) if gaps is not None else missing_for(nxt, facts)
        if missing:
            raise GateRefused(f"Before asking for {nxt.label} it needs: {', '.join(missing)}.")
        target = nxt
        governed = chain_for(target) if chain_for is not None else None
        if governed is not None:
            return target, governed
    chain = []
    for role in approval_chain(kind, target, has_actuals=facts.has_actuals):
        person = approver_for(role, sponsor_id=sponsor_id, controller_id=controller_id)
        if person is None:
            raise GateRefused(f"It has no {role}: set one with `/measure edit` first.")
        if person == requester:
            raise GateRefused(f"You are also its {role}, and nobody approves their own request: set another {role}.")
        chain.append((role, person))
    return target, chain


def hold(stage: Stage) -> Stage:
    """Putting a measure on hold: it remembers the stage it left (returned), to resume there."""
    if stage in (Stage.ON_HOLD, Stage.CANCELLED, Stage.DI5):
        raise GateRefused(f"A measure at {stage.label} cannot be put on hold.")
    return stage


def resume(stage: Stage, held_from: str | None) -> Stage:
    if stage is not Stage.ON_HOLD or held_from is None:
        raise GateRefused("It is not on hold.")
    return Stage(held_from)
