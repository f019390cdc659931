"""`python -m bot governance apply FILE` and `governance show ORG`: an organization's governance
document (docs/governance.md), read as YAML, checked whole — its form (domain/governance.py), then
what it names in the database — and stored as the organization's next version, or refused with every
error and its path, nothing stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain.governance import GovernanceRefused, governance_from_text
from storage.governance import current_governance, store_governance


@dataclass(frozen=True)
class GovernanceOutcome:
    ok: bool
    text: str


def apply_governance(session: Session, document: str, *, actor: str, now: datetime) -> GovernanceOutcome:
    try:
        governance = governance_from_text(document)
        version = store_governance(session=session, governance=governance, document=document, actor=actor, now=now)
    except GovernanceRefused as refused:
        lines = "\n".join(f"  {path or '(the file)'}: {reason}" for path, reason in refused.errors)
        return GovernanceOutcome(False, f"Nothing applied; fix these and apply it again:\n{lines}")
    portfolios = ", ".join(governance.portfolios) or "none"
    return GovernanceOutcome(True, f"Applied version {version.version} of {governance.organization}'s governance "
                                   f"(portfolios: {portfolios}; {len(governance.kpis)} KPIs).")  # fmt: skip


def show_governance(session: Session, organization: str) -> GovernanceOutcome:
    version = current_governance(session=session, organization=organization)
    if version is None:
        return GovernanceOutcome(True, f"# {organization} has no governance file: every portfolio uses the default "
                                       "gates (docs/governance.md).")  # fmt: skip
    header = f"# version {version.version}, applied by {version.applied_by} on {version.applied_at:%Y-%m-%d %H:%M} UTC"
    return GovernanceOutcome(True, f"{header}\n{version.document.rstrip()}")
