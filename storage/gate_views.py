"""What a gate message shows, loaded in one go (sync; inside a transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from domain.figures import Figures, Month, figures, fiscal_year, last_closed_month
from domain.money import DEFAULT_STYLE, MoneyStyle
from domain.schedule import zone
from domain.stage_gates import RequestKind
from storage.gate_requests import chain_of, proposed_plan_of
from storage.models import GateDecision, GateRequest, Measure
from storage.organization import organization_of, settings_of
from storage.queries import evidence_of, month_series, risks_of
from storage.types import now_of


@dataclass(frozen=True)
class DecisionLine:
    step: int
    role: str
    decided_by: str
    decision: str
    reason: str
    decided_at: datetime


@dataclass(frozen=True)
class GateView:
    request_id: int
    kind: str
    key: str
    title: str
    from_stage: str
    to_stage: str
    requested_by: str
    requested_at: datetime
    reason: str
    baseline: int | None
    target: int | None
    year: Figures  # the organization's fiscal year holding today, by domain/figures.py
    whole: Figures  # the plan's whole horizon
    period: str  # the fiscal year's name
    risks: list[tuple[str, str, str]]
    evidence: list[str]
    chain: list[tuple[str, str]]
    step: int
    step_started_at: datetime
    state: str
    decisions: list[DecisionLine]
    style: MoneyStyle = DEFAULT_STYLE  # how the measure's organization writes amounts
    proposed: RebaselineFigures | None = None  # a re-baseline's plans, side by side


@dataclass(frozen=True)
class RebaselineFigures:
    decided: int  # the plan at the decision (DI3), whole horizon
    current: int  # the plan now
    proposed: int  # the plan asked for
    months_changed: int


def gate_view(*, session: Session, request_id: int) -> GateView | None:
    request = session.get(GateRequest, request_id)
    measure = session.get(Measure, request.measure_id) if request else None
    if request is None or measure is None:
        return None
    mid = measure.id or 0
    months = month_series(session=session, measure_id=mid)
    settings = settings_of(organization_of(session=session, unit_id=measure.package_id))
    today = now_of(session).astimezone(zone(settings.timezone)).date()
    closed, fiscal = last_closed_month(today), fiscal_year(today, settings.fiscal_year_start)
    decisions = session.exec(
        select(GateDecision).where(GateDecision.request_id == request_id).order_by(col(GateDecision.step))
    ).all()
    return GateView(
        request_id=request_id, kind=request.kind, key=measure.key, title=measure.title,
        from_stage=request.from_stage, to_stage=request.to_stage, requested_by=request.requested_by,
        requested_at=request.requested_at, reason=request.reason, baseline=measure.baseline, target=measure.target,
        year=figures(months, closed_through=closed, period=fiscal), whole=figures(months, closed_through=closed),
        period=fiscal.name,
        risks=[(r.severity, r.text, r.mitigation) for r in risks_of(session=session, measure_id=mid)],
        evidence=[e.url for e in evidence_of(session=session, measure_id=mid)],
        chain=[(str(role), person) for role, person in chain_of(request)], step=request.step,
        step_started_at=request.step_started_at, state=request.state,
        decisions=[DecisionLine(d.step, d.role, d.decided_by, d.decision, d.reason, d.decided_at) for d in decisions],
        style=settings.style, proposed=_rebaseline_figures(request, months),
    )  # fmt: skip


def _rebaseline_figures(request: GateRequest, months: list[Month]) -> RebaselineFigures | None:
    if request.kind != RequestKind.REBASELINE:
        return None
    proposed = proposed_plan_of(request)
    current = {m.month: m.plan for m in months if m.plan is not None}
    changed = sum(1 for month in set(current) | set(proposed) if current.get(month) != proposed.get(month))
    decided = sum(m.decided_plan or 0 for m in months)
    return RebaselineFigures(decided, sum(current.values()), sum(proposed.values()), changed)
