"""What a digest shows, loaded for a unit at any level with a fixed number of queries (however many
measures are below it), then rolled up by plain functions.

Value counts in the plan from DI3 (Decided) on, as the spec says: plan, forecast and actual totals and
the chart are over measures in DI3–DI5, for the organization's fiscal year, by the definitions of
domain/figures.py (docs/money.md). Money is read from the money rollup (storage/money.py: measure
months already summed per package, in the columns of figures.MonthTotal), counts are made in
Python over one narrow pass of the unit's measures.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.enums import ImplStatus, Stage
from domain.escalation_rules import Cause, Rung
from domain.figures import MonthTotal, Period, fiscal_year, last_closed_month
from domain.money import DEFAULT_STYLE, MoneyStyle
from domain.schedule import zone
from domain.weights import WEIGHTED_STAGES
from storage.models import AuditLog, Escalation, Evidence, GateRequest, Measure, MoneyRollup
from storage.organization import organization_in, settings_of
from storage.tree import UnitTree

COMMITTED = (Stage.DI3, Stage.DI4, Stage.DI5)
IN_PROGRESS = (Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4)
MAX_CHANGES = 2000
MAX_ATTENTION = 1000  # more than a digest's thread can show
CHANGE_ACTIONS = ("created", "stage_changed", "status_changed", "held", "resumed", "rebaselined")


class StageGroup(NamedTuple):
    """The unit's measures of one package, stage and implementation status, counted and summed."""

    package_id: int
    stage: str
    impl_status: str
    measures: int
    target: int
    blocked: int  # how many report blockers
    overdue: int  # how many have an overdue check-in

    @property
    def in_progress(self) -> bool:
        return self.stage in IN_PROGRESS


class Attention(NamedTuple):
    """A measure in progress that is at risk or off track, in either status."""

    key: str
    title: str
    owner_id: str | None
    impl_status: str
    potential_status: str
    blockers: str


@dataclass(frozen=True)
class PackageMonth:
    """Money of the committed measures (DI3–DI5) of one package in one month of the fiscal year."""

    package_id: int
    total: MonthTotal


@dataclass(frozen=True)
class StageForecast:
    """The fiscal year's forecast of one package's measures at one stage (DI0–DI5), and that stage's
    realisation weight in the package's portfolio (domain/weights.py)."""

    package_id: int
    stage: str
    forecast: int
    weight: int


@dataclass(frozen=True)
class Change:
    at: datetime
    key: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Waiting:
    key: str
    title: str
    to_stage: str
    since: datetime


@dataclass(frozen=True)
class Raised:
    key: str
    title: str
    cause: Cause
    rung: Rung
    since: datetime


@dataclass(frozen=True)
class DigestData:
    unit_name: str
    unit_path: str
    child_level: str | None
    now: datetime
    since: datetime
    period: Period  # the organization's fiscal year holding `now`, in its timezone
    closed_through: date  # its last closed month
    groups: list[StageGroup]
    potential: Counter[str]  # potential statuses of the measures in progress
    owners: Counter[str]  # owners of the measures in progress, with how many each
    delivered_with_evidence: int  # implemented or realised measures with evidence linked
    attention: list[Attention]  # the worst first, at most MAX_ATTENTION
    attention_total: int
    child_of_package: dict[int, str]  # package id -> the name of the unit's child it sits under
    money: list[PackageMonth]
    changes: list[Change]
    approvals: list[Waiting]
    escalations: list[Raised]
    style: MoneyStyle = DEFAULT_STYLE  # how the unit's organization writes amounts
    staged: list[StageForecast] = field(default_factory=list)  # for the weighted forecast
    # "Green work, red money": in progress, implementation on track, potential at risk or off track
    green_red: list[Attention] = field(default_factory=list)  # the worst first, at most MAX_ATTENTION
    green_red_total: int = 0

    @property
    def year(self) -> str:
        return self.period.name


def load_digest(*, session: Session, unit_id: int, now: datetime, since: datetime) -> DigestData:
    """Everything a digest shows, in a fixed number of queries: aggregates where the unit is large,
    rows only where they are listed (and then at most what a thread can show)."""
    tree = UnitTree.load(session=session)
    unit = tree.units[unit_id]
    packages = tree.packages_under(unit_id)
    in_unit = col(Measure.package_id).in_(packages)
    children = tree.children.get(unit_id, [])
    child_of = {package: child.name for child in children for package in tree.packages_under(child.id or 0)}
    scan = _scan(session, in_unit)
    settings = settings_of(organization_in(tree.units, unit_id))
    today = now.astimezone(zone(settings.timezone)).date()
    period = fiscal_year(today, settings.fiscal_year_start)
    closed = last_closed_month(today)
    return DigestData(
        unit_name=unit.name,
        unit_path=tree.path_text(unit_id),
        child_level=children[0].level if children else None,
        now=now,
        since=since,
        period=period,
        closed_through=closed,
        groups=scan.groups,
        potential=scan.potential,
        owners=scan.owners,
        delivered_with_evidence=_delivered_with_evidence(session, in_unit),
        attention=_attention(session, in_unit) if scan.attention_total else [],
        attention_total=scan.attention_total,
        green_red=_attention(session, in_unit, green_red=True) if scan.green_red_total else [],
        green_red_total=scan.green_red_total,
        child_of_package=child_of,
        money=_money(session, packages, period),
        changes=_changes(session, in_unit, since),
        approvals=_approvals(session, in_unit),
        escalations=_escalations(session, in_unit),
        style=settings.style,
        staged=_staged(session, tree, packages, period, closed),
    )


_IN_PROGRESS = col(Measure.stage).in_([str(s) for s in IN_PROGRESS])
_BAD = (ImplStatus.AT_RISK, ImplStatus.OFF_TRACK)


@dataclass
class _Scan:
    groups: list[StageGroup]
    potential: Counter[str]
    owners: Counter[str]
    attention_total: int
    green_red_total: int = 0


def _scan(session: Session, in_unit: Any) -> _Scan:
    """One pass over the unit's measures (narrow columns, no titles), counted here: cheaper than a
    GROUP BY per figure, each of which would read every row again."""
    query = (
        sa.select(
            col(Measure.package_id),
            col(Measure.stage),
            col(Measure.impl_status),
            col(Measure.potential_status),
            col(Measure.owner_id),
            col(Measure.target),
            col(Measure.blockers) != "",
            col(Measure.overdue_checkin_id).is_not(None),
        )
        .where(in_unit)
        .order_by(col(Measure.id))
    )
    sums: dict[tuple[int, str, str], list[int]] = {}
    potential: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    attention = green_red = 0
    rows = session.connection().execute(query).all()  # Core rows: no ORM bookkeeping for 10,000 of them
    for package, stage, impl, pot, owner, target, blocked, late in rows:
        row = sums.setdefault((package, stage, impl), [0, 0, 0, 0])
        row[0] += 1
        row[1] += target or 0
        row[2] += bool(blocked)
        row[3] += bool(late)
        if stage in IN_PROGRESS:
            potential[pot] += 1
            if owner:
                owners[owner] += 1
            attention += impl in _BAD or pot in _BAD
            green_red += impl == "on_track" and pot in _BAD
    groups = [StageGroup(package, stage, impl, *values) for (package, stage, impl), values in sums.items()]
    return _Scan(groups, potential, owners, attention, green_red)


def _delivered_with_evidence(session: Session, in_unit: Any) -> int:
    query = (
        select(sa.func.count(sa.distinct(col(Evidence.measure_id))))
        .join(Measure, col(Measure.id) == col(Evidence.measure_id))
        .where(in_unit, col(Measure.stage).in_([Stage.DI4, Stage.DI5]))
    )
    return int(session.exec(query).one() or 0)


def _attention(session: Session, in_unit: Any, *, green_red: bool = False) -> list[Attention]:
    """Measures in progress at risk or off track (in either status), the worst first; with
    `green_red`, only those whose work is on track while their value is not."""
    needs = sa.or_(col(Measure.impl_status).in_(_BAD), col(Measure.potential_status).in_(_BAD))
    if green_red:
        needs = sa.and_(col(Measure.impl_status) == "on_track", col(Measure.potential_status).in_(_BAD))
    statuses = (Measure.impl_status, Measure.potential_status)
    severity = [sa.case({"off_track": 0, "at_risk": 1}, value=status, else_=2) for status in statuses]
    query = (
        sa.select(
            col(Measure.key),
            col(Measure.title),
            col(Measure.owner_id),
            col(Measure.impl_status),
            col(Measure.potential_status),
            col(Measure.blockers),
        )
        .where(in_unit, _IN_PROGRESS, needs)
        .order_by(*severity, col(Measure.number))
        .limit(MAX_ATTENTION)
    )
    return [Attention(*row) for row in session.execute(query).all()]


def _money(session: Session, packages: Iterable[int], period: Period) -> list[PackageMonth]:
    """Committed money by package and month of the period, from the money rollup (storage/money.py)."""
    rollup = MoneyRollup
    query = (
        sa.select(
            col(rollup.package_id), col(rollup.month), sa.func.sum(rollup.plan), sa.func.sum(rollup.expected),
            sa.func.sum(rollup.settled), sa.func.sum(rollup.actual), sa.func.sum(rollup.decided_plan),
        )
        .where(
            col(rollup.package_id).in_(packages),
            col(rollup.stage).in_([str(s) for s in COMMITTED]),
            col(rollup.month).between(period.start, period.end),
        )
        .group_by(col(rollup.package_id), col(rollup.month))
    )  # fmt: skip
    return [
        PackageMonth(
            package,
            MonthTotal(
                month,
                int(plan or 0),
                int(expected or 0),
                int(settled or 0),
                None if actual is None else int(actual),
                int(decided or 0),
            ),
        )
        for package, month, plan, expected, settled, actual, decided in session.execute(query).all()
    ]


def _staged(session: Session, tree: UnitTree, packages: list[int], period: Period, closed: date) -> list[StageForecast]:
    """The fiscal year's forecast by package and stage (DI0–DI5), by the definitions: a closed month
    brings its settled sum, an open one its expected sum."""
    rollup = MoneyRollup
    month_forecast = sa.case((col(rollup.month) <= closed, rollup.settled), else_=rollup.expected)
    query = (
        sa.select(col(rollup.package_id), col(rollup.stage), sa.func.sum(month_forecast))
        .where(
            col(rollup.package_id).in_(packages),
            col(rollup.stage).in_([str(s) for s in WEIGHTED_STAGES]),
            col(rollup.month).between(period.start, period.end),
        )
        .group_by(col(rollup.package_id), col(rollup.stage))
    )
    rows = session.execute(query).all()
    return [
        StageForecast(package, stage, int(forecast or 0), tree.portfolio_rules(package)[0].weights.of(stage))
        for package, stage, forecast in rows
    ]


def _changes(session: Session, in_unit: Any, since: datetime) -> list[Change]:
    """What happened to measures since, through the (at, action) index; then which of them are the
    unit's, by key (a join would walk every measure's whole history instead)."""
    query = (
        select(col(AuditLog.at), col(AuditLog.entity_key), col(AuditLog.action), col(AuditLog.detail))
        .where(col(AuditLog.at) >= since, col(AuditLog.action).in_(CHANGE_ACTIONS), AuditLog.entity == "measure")
        .order_by(col(AuditLog.at), col(AuditLog.id))
        .limit(MAX_CHANGES * 10)
    )
    rows = session.exec(query).all()
    if not rows:
        return []
    mentioned = {row[1] for row in rows}
    keys = set(session.exec(select(col(Measure.key)).where(in_unit, col(Measure.key).in_(mentioned))).all())
    changes = [Change(at, key, action, json.loads(detail or "{}")) for at, key, action, detail in rows if key in keys]
    return changes[:MAX_CHANGES]


def _approvals(session: Session, in_unit: Any) -> list[Waiting]:
    query = (
        select(col(Measure.key), col(Measure.title), col(GateRequest.to_stage), col(GateRequest.step_started_at))
        .join(GateRequest, col(GateRequest.measure_id) == col(Measure.id))
        .where(in_unit, GateRequest.state == "open")
        .order_by(col(GateRequest.step_started_at))
    )
    return [Waiting(*row) for row in session.exec(query).all()]


def _escalations(session: Session, in_unit: Any) -> list[Raised]:
    query = (
        sa.select(
            col(Measure.key), col(Measure.title), col(Escalation.cause), col(Escalation.rung), col(Escalation.raised_at)
        )
        .join(Escalation, col(Escalation.measure_id) == col(Measure.id))
        .where(in_unit, col(Escalation.state) == "open")
        .order_by(col(Escalation.raised_at))
    )
    return [Raised(key, title, Cause(c), Rung(r), at) for key, title, c, r, at in session.execute(query).all()]
