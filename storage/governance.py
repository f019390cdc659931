"""An organization's governance document, versioned: applied whole (checked against the database:
its organization, its portfolios and the people it names must exist) or not at all, and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from domain.enums import Level
from domain.governance import Governance, GovernanceRefused, PortfolioGovernance, governance_from_text
from storage.governance_rules import write_portfolio_rules
from storage.governance_tables import GovernanceVersion
from storage.models import Person, Unit
from storage.queries import record_audit, unit_path


def store_governance(
    *, session: Session, governance: Governance, document: str, actor: str, now: datetime
) -> GovernanceVersion:
    """The next version of the organization's document; GovernanceRefused (nothing written) when
    what it names is not in the database, each with its path."""
    organization = _organization_named(session, governance.organization)
    if organization is None or organization.id is None:
        raise GovernanceRefused([("organization", f"there is no organization called “{governance.organization}”")])
    errors = _unknown_portfolios(session, organization.id, governance) + _unknown_people(session, governance)
    if errors:
        raise GovernanceRefused(errors)
    last = _latest(session, organization.id)
    version = GovernanceVersion(organization_id=organization.id, version=(last.version if last else 0) + 1,
                                document=document, applied_by=actor, applied_at=now)  # fmt: skip
    session.add(version)
    session.flush()
    record_audit(session=session, actor=actor, entity="unit", entity_key=str(organization.id),
                 action="governance_applied", detail={"version": version.version})  # fmt: skip
    write_portfolio_rules(session=session, organization_id=organization.id, governance=governance,
                          version=version.version, actor=actor)  # fmt: skip
    return version


def current_governance(*, session: Session, organization: str) -> GovernanceVersion | None:
    """The latest version of the organization's document (the one `store_governance` numbers from)."""
    found = _organization_named(session, organization)
    return _latest(session, found.id) if found is not None and found.id is not None else None


@dataclass(frozen=True)
class PolicyInForce:
    """A portfolio's governance as its organization's latest file says (None: no file, or the file
    leaves the portfolio out: the default method), and that file's version."""

    version: int | None = None
    policy: PortfolioGovernance | None = None


def policy_in_force(*, session: Session, package_id: int) -> PolicyInForce:
    """The governance that decides a measure of this package now."""
    unit = session.get(Unit, package_id)
    by_level = {u.level: u for u in unit_path(session=session, unit=unit)} if unit is not None else {}
    organization, portfolio = by_level.get(Level.ORGANIZATION), by_level.get(Level.PORTFOLIO)
    latest = _latest(session, organization.id) if organization is not None and organization.id is not None else None
    if latest is None:
        return PolicyInForce()
    portfolios = governance_from_text(latest.document).portfolios  # checked when it was applied
    named = {name.lower(): policy for name, policy in portfolios.items()}
    return PolicyInForce(latest.version, named.get(portfolio.name.lower()) if portfolio else None)


def _organization_named(session: Session, name: str) -> Unit | None:
    return session.exec(
        select(Unit).where(Unit.level == Level.ORGANIZATION, func.lower(Unit.name) == name.lower())
    ).first()


def _latest(session: Session, organization_id: int) -> GovernanceVersion | None:
    return session.exec(
        select(GovernanceVersion).where(GovernanceVersion.organization_id == organization_id)
        .order_by(col(GovernanceVersion.version).desc())
    ).first()  # fmt: skip


def _unknown_portfolios(session: Session, organization_id: int, governance: Governance) -> list[tuple[str, str]]:
    names = {
        u.name.lower()
        for u in session.exec(select(Unit).where(Unit.parent_id == organization_id, Unit.level == Level.PORTFOLIO))
    }
    return [(f"portfolios.{name}", f"{governance.organization} has no portfolio called “{name}”")
            for name in governance.portfolios if name.lower() not in names]  # fmt: skip


def _unknown_people(session: Session, governance: Governance) -> list[tuple[str, str]]:
    named = {
        (f"portfolios.{portfolio}.gates.{stage}.approvers", step.id)
        for portfolio, rules in governance.portfolios.items()
        for stage, gate in rules.gates.items()
        for approver in gate.approvers or ()
        for step in (approver.all_of or (approver,))
        if step.kind == "person"
    }
    known = set(session.exec(select(Person.slack_id).where(col(Person.slack_id).in_({i for _, i in named}))).all())
    return sorted((path, f"<@{person}> is not a person of this workspace") for path, person in named
                  if person not in known)  # fmt: skip
