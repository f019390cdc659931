"""An organization's governance document, versioned: applied whole (checked against the database:
its organization, its portfolios and the people it names must exist) or not at all, and audited."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from domain.enums import Level
from domain.governance import Governance, GovernanceRefused
from storage.governance_tables import GovernanceVersion
from storage.models import Person, Unit
from storage.queries import record_audit


def store_governance(
    *, session: Session, governance: Governance, document: str, actor: str, now: datetime
) -> GovernanceVersion:
    """The next version of the organization's document; GovernanceRefused (nothing written) when
    what it names is not in the database, each with its path."""
    organization = session.exec(
        select(Unit).where(Unit.level == Level.ORGANIZATION, func.lower(Unit.name) == governance.organization.lower())
    ).first()
    if organization is None or organization.id is None:
        raise GovernanceRefused([("organization", f"there is no organization called “{governance.organization}”")])
    errors = _unknown_portfolios(session, organization.id, governance) + _unknown_people(session, governance)
    if errors:
        raise GovernanceRefused(errors)
    last = session.exec(
        select(func.max(GovernanceVersion.version)).where(GovernanceVersion.organization_id == organization.id)
    ).one()
    version = GovernanceVersion(organization_id=organization.id, version=(last or 0) + 1, document=document,
                                applied_by=actor, applied_at=now)  # fmt: skip
    session.add(version)
    session.flush()
    record_audit(session=session, actor=actor, entity="unit", entity_key=str(organization.id),
                 action="governance_applied", detail={"version": version.version})  # fmt: skip
    return version


def current_governance(*, session: Session, organization: str) -> GovernanceVersion | None:
    query = (
        select(GovernanceVersion)
        .join(Unit, col(Unit.id) == col(GovernanceVersion.organization_id))
        .where(func.lower(Unit.name) == organization.lower(), Unit.level == Level.ORGANIZATION)
        .order_by(col(GovernanceVersion.version).desc())
    )
    return session.exec(query).first()


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
