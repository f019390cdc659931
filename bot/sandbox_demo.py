"""The sandbox's demo organization: two portfolios, their programs, forty measures at every stage,
two months of check-in history, a weekly digest, steering channels and an approval waiting.

Written through the same storage functions the bot uses (measures, gate requests) and, for the
history, as rows the check-ins would have left; all of it as of the sandbox clock's `now`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from domain.enums import Cadence, CheckinState, Level, Severity, Stage
from domain.governance import governance_from_text
from domain.measure_schema import MeasureDraft
from domain.parsing import RiskLine
from domain.stage_gates import RequestKind
from domain.status import got_worse, potential_status
from storage.custom_values import set_values
from storage.digests import subscribe
from storage.gate_requests import request_gate
from storage.governance import store_governance
from storage.measures import create_measure, facts_of
from storage.models import AuditLog, CheckIn, Evidence, Measure, MeasureMonth, Unit
from storage.tree import UnitTree
from storage.types import clock_at

ADA, OLIVIA, KENJI, PRIYA, SAM, CHRIS = "U0ADA", "U0OLIVIA", "U0KENJI", "U0PRIYA", "U0SAM", "U0CHRIS"
FRIDA = "U0FRIDA"
OWNERS = (OLIVIA, KENJI, PRIYA)
CHANNELS = {"C0OPSWEEKLY": "ops-weekly", "C0OPSSTEER": "ops-steering", "C0COMSTEER": "commercial-steering"}
ORGANIZATION = "Acme"
# portfolio -> steering channel, programs -> projects -> packages
TREE = {
    "Operations": ("C0OPSSTEER", {
        "Procurement": {"Suppliers": ["Packaging", "Raw materials"], "Indirect spend": ["Facilities"]},
        "Manufacturing": {"Plant Leipzig": ["Energy", "Yield"], "Plant Osaka": ["Maintenance"]},
    }),
    "Commercial": ("C0COMSTEER", {
        "Pricing": {"Price realisation": ["Discount discipline"]},
        "Sales excellence": {"Key accounts": ["Churn"], "Inside sales": ["Lead handling"]},
    }),
}  # fmt: skip
TITLES = [
    "Consolidate packaging suppliers", "Renegotiate film contracts", "Switch pallet supplier", "Bundle resin volumes",
    "Tender cleaning services", "Cut office space", "Heat recovery on line 3", "LED retrofit", "Compressed air leaks",
    "Scrap reduction on press 7", "First-pass yield program", "Predictive maintenance pilot", "Spare parts pooling",
    "Discount approval workflow", "Price floor for long tail", "Freight surcharge pass-through", "Churn early warning",
    "Key account renewals", "Lead routing rules", "Inside sales scripts", "Supplier payment terms",
    "Energy tariff switch", "Steam trap survey", "Changeover time reduction", "Quality gate automation",
    "Rebate clean-up", "Contract price audit",
    "Renewal playbook", "Cross-sell bundles", "Quote turnaround", "Dual sourcing of caps", "Carton size harmonisation",
    "Night shift energy", "Water recycling", "Lubricant standardisation", "Tooling life extension",
    "Minimum order surcharge", "Service tier pricing", "Partner channel margins", "Win-back campaign",
]  # fmt: skip
STAGES = [Stage.DI0] * 4 + [Stage.DI1] * 6 + [Stage.DI2] * 8 + [Stage.DI3] * 10 + [Stage.DI4] * 7 + [Stage.DI5] * 4
STAGES += [Stage.ON_HOLD]  # forty in all
# The recent history of a few measures, so the digest, App Home and escalations have something to show.
TROUBLED = {12: ["on_track", "at_risk", "off_track", "off_track"], 20: ["on_track", "at_risk", "at_risk"]}
SHORT = {15: 0.7, 22: 0.85}  # forecast as a share of the plan: 30% and 15% short
WEEKS_OF_HISTORY = 8
# Commercial's own method (docs/governance.md): a customer segment before DI2, finance signs DI3 after the sponsor.
GOVERNANCE = f"""\
organization: {ORGANIZATION}
portfolios:
  Commercial:
    fields:
      - {{name: customer_segment, label: Customer segment, type: select, options: [SMB, Mid-market, Enterprise]}}
      - {{name: contract_ref, label: Contract reference, type: text}}
    gates:
      DI2: {{requires: [due, monthly_plan_sums_to_target, risks_or_none, dependencies_stated, customer_segment]}}
      DI3: {{approvers: [sponsor, {{person: {FRIDA}}}]}}
"""
SEGMENTS = ("SMB", "Mid-market", "Enterprise")


def seed(*, session: Session, now: datetime) -> int:
    """Create the demo organization (once: the caller checks the database is empty). Returns the
    number of measures created."""
    packages = _tree(session)
    weekly = subscribe(
        session=session, channel="C0OPSWEEKLY", unit_id=_portfolio(session, "Operations"), cadence=Cadence.WEEKLY,
        weekday=4, at=time(16, 0), actor=ADA, now=now,
    )  # fmt: skip
    weekly.next_at -= timedelta(days=7)  # last week's is owed: the first sweep posts it, so #ops-weekly has one
    session.add(weekly)
    created = []
    for index, (title, stage) in enumerate(zip(TITLES, STAGES, strict=True)):
        owner = OWNERS[index % len(OWNERS)]
        detailed = stage not in (Stage.DI0, Stage.DI1)  # planned, with risks and dependencies stated
        target = 12_000 * (5 + (index * 7) % 45)  # a multiple of 12: the monthly plan sums to it
        draft = MeasureDraft(
            title=title, package_id=packages[index % len(packages)], owner_id=owner, sponsor_id=SAM,
            controller_id=CHRIS, business_unit="Consumer" if index % 2 else "Industrial",
            function="Procurement" if index < 14 else "Operations" if index < 26 else "Sales",
            baseline=target * 8, target=target, due=date(now.year, 12, 31) if stage != Stage.DI0 else None,
            monthly_plan={date(now.year, m, 1): target // 12 for m in range(1, 13)} if detailed else None,
            risks=[RiskLine(Severity.MEDIUM, "supplier capacity", "second source")] if detailed else None,
            dependency_keys=[] if detailed else None, dependencies_stated=detailed,
            stage=stage,
        )  # fmt: skip
        created_at = now - timedelta(weeks=10)
        with clock_at(session, created_at):  # its audit record says when, ten weeks ago
            measure = create_measure(session=session, draft=draft, actor=ADA, now=created_at)
        if stage == Stage.ON_HOLD:
            measure.held_from_stage = Stage.DI3
        created.append(measure)
    session.flush()
    for index, measure in enumerate(created):
        _history(session, measure, index, now)
    _evidence_and_actuals(session, created, now)
    _commercial_governance(session, created, packages, now)
    waiting = created[STAGES.index(Stage.DI2)]  # a DI2 → DI3 request waiting for Sam
    request_gate(session=session, measure=waiting, facts=facts_of(session=session, measure=waiting),
                 kind=RequestKind.ADVANCE, requester=waiting.owner_id or ADA, admin=False, now=now - timedelta(days=1),
                 reason="")  # fmt: skip
    return len(created)


def _commercial_governance(session: Session, created: list[Measure], packages: list[int], now: datetime) -> None:
    """The demo's governance file, applied as `python -m bot governance apply` would; Commercial's
    measures from DI2 on carry the customer segment it asks for there."""
    store_governance(session=session, governance=governance_from_text(GOVERNANCE), document=GOVERNANCE, actor=ADA,
                     now=now - timedelta(weeks=10))  # fmt: skip
    commercial = set(packages) & set(UnitTree.load(session=session).packages_under(_portfolio(session, "Commercial")))
    for index, measure in enumerate(created):
        if measure.package_id in commercial and Stage(measure.stage) not in (Stage.DI0, Stage.DI1):
            set_values(session=session, measure=measure, values={"customer_segment": SEGMENTS[index % 3]},
                       actor=measure.owner_id or ADA, now=now - timedelta(weeks=9))  # fmt: skip


def _tree(session: Session) -> list[int]:
    # The demo works every day, so whoever tries the sandbox on a weekend sees it all at once (a real
    # organization keeps `mon-fri` and its holidays: docs/checkins.md#working-calendars).
    organization = Unit(level=Level.ORGANIZATION, name=ORGANIZATION, timezone="Europe/Berlin", working_days="mon-sun")
    session.add(organization)
    session.flush()
    packages = []
    for portfolio_name, (steering, programs) in TREE.items():
        portfolio = _add(session, Level.PORTFOLIO, portfolio_name, organization.id)
        portfolio.steering_channel, portfolio.tolerance_pct = steering, 10
        for program_name, projects in programs.items():
            program = _add(session, Level.PROGRAM, program_name, portfolio.id)
            for project_name, package_names in projects.items():
                project = _add(session, Level.PROJECT, project_name, program.id)
                packages += [_add(session, Level.PACKAGE, name, project.id).id or 0 for name in package_names]
    return packages


def _add(session: Session, level: Level, name: str, parent_id: int | None) -> Unit:
    unit = Unit(level=level, name=name, parent_id=parent_id)
    session.add(unit)
    session.flush()
    return unit


def _portfolio(session: Session, name: str) -> int:
    unit = session.exec(select(Unit).where(Unit.level == Level.PORTFOLIO, Unit.name == name)).one()
    return unit.id or 0


def _history(session: Session, measure: Measure, index: int, now: datetime) -> None:
    """Weekly answered check-ins for the last weeks, as the owner would have left them."""
    if measure.stage not in (Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4):
        return
    statuses = TROUBLED.get(index, ["on_track"] * 4)
    share = SHORT.get(index)
    plan = measure.target or 0
    forecast = int(plan * share) if share else plan
    potential = potential_status(forecast=forecast, plan=plan)
    monday = (now - timedelta(days=now.weekday())).replace(hour=8, minute=0, second=0, microsecond=0)
    previous = "not_started"
    for week in range(WEEKS_OF_HISTORY, 0, -1):
        start = monday - timedelta(weeks=week)
        status = statuses[max(0, len(statuses) - week)] if week <= len(statuses) else "on_track"
        checkin = CheckIn(
            measure_id=measure.id or 0,
            owner_id=measure.owner_id or ADA,
            cycle_start=start,
            cycle_end=start + timedelta(weeks=1),
            status=CheckinState.ANSWERED,
            prompted_at=start,
            answered_at=start + timedelta(hours=2),
            answered_by=measure.owner_id,
            impl_status=status,
            potential_status=potential,
            forecast_year=forecast,
            comment="supplier slipped" if got_worse(previous, status) else "",
            created_at=start,
        )
        session.add(checkin)
        session.add(AuditLog(at=start + timedelta(hours=2), actor=measure.owner_id or ADA, entity="measure",
                             entity_key=measure.key, action="checkin_answered",
                             detail=json.dumps({"impl_status": status, "forecast_year": forecast})))  # fmt: skip
        previous = status
    measure.impl_status, measure.potential_status, measure.forecast_year = previous, potential, forecast
    measure.off_track_streak = sum(1 for _ in _trailing(statuses, "off_track"))
    measure.blockers = "waiting for the supplier audit" if index in TROUBLED else ""
    session.add(measure)


def _trailing(statuses: list[str], wanted: str) -> list[str]:
    run = []
    for status in reversed(statuses):
        if status != wanted:
            break
        run.append(status)
    return run


def _evidence_and_actuals(session: Session, measures: list[Measure], now: datetime) -> None:
    for measure in measures:
        if measure.stage in (Stage.DI4, Stage.DI5):
            session.add(
                Evidence(measure_id=measure.id or 0, url=f"https://wiki.acme.example/{measure.key}", added_by=ADA)
            )
        if measure.stage in (Stage.DI3, Stage.DI4, Stage.DI5):
            for month in range(1, now.month):
                row = session.get(MeasureMonth, (measure.id, date(now.year, month, 1)))
                if row is not None and row.plan is not None:
                    row.actual = int(row.plan * (0.9 if measure.stage == Stage.DI3 else 1.02))
                    session.add(row)
