"""What an applied governance file sets on its portfolios: tolerance, stage weights and the stage
from which a plan is frozen. The file is their source while it names them: applying it writes them
on the portfolio (in the same transaction as the version, audited), and `/measure rules` refuses to
change them (`set_by_file`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from domain.enums import Level, Stage
from domain.escalation_rules import PortfolioRules
from domain.governance import Governance, PortfolioGovernance
from domain.stage_gates import plan_frozen
from domain.weights import StageWeights
from storage.measures import freeze_plan
from storage.models import Measure
from storage.queries import record_audit
from storage.tree import UnitTree


def set_by_file(policy: PortfolioGovernance | None) -> dict[str, str]:
    """The `/measure rules` settings the file in force decides, by the field they set."""
    if policy is None:
        return {}
    named = {"tolerance_pct": policy.tolerance, "weights": policy.weights, "plan_frozen_from": policy.plan_frozen_from}
    words = {"tolerance_pct": "tolerance", "weights": "weight-…", "plan_frozen_from": "plan_frozen_from"}
    return {field: words[field] for field, value in named.items() if value is not None}


def write_portfolio_rules(
    *, session: Session, organization_id: int, governance: Governance, version: int, actor: str
) -> None:
    """Each portfolio the file names takes the tolerance, weights and frozen stage it sets."""
    tree = UnitTree.load(session=session)
    portfolios = {u.name.lower(): u for u in tree.children.get(organization_id, []) if u.level == Level.PORTFOLIO}
    for name, policy in governance.portfolios.items():
        portfolio = portfolios[name.lower()]  # store_governance checked that each exists
        rules = PortfolioRules.parse(portfolio.rules)
        changes: dict[str, Any] = {}
        if policy.tolerance is not None and policy.tolerance != portfolio.tolerance_pct:
            changes["tolerance_pct"] = [portfolio.tolerance_pct, policy.tolerance]
            portfolio.tolerance_pct = policy.tolerance
        if policy.weights is not None:
            weights = StageWeights(**{str(stage): weight for stage, weight in policy.weights.items()})
            if weights != rules.weights:
                changes["weights"] = [rules.weights.changed(), weights.changed()]
                rules = rules.model_copy(update={"weights": weights})
        frozen_from = policy.plan_frozen_from
        if frozen_from is not None and frozen_from != rules.plan_frozen_from:
            changes["plan_frozen_from"] = [rules.plan_frozen_from, frozen_from]
            _freeze_newly_frozen(session, tree.packages_under(portfolio.id or 0), rules.plan_frozen_from, frozen_from)
            rules = rules.model_copy(update={"plan_frozen_from": frozen_from})
        if changes:
            portfolio.rules = rules.model_dump_json()
            session.add(portfolio)
            record_audit(session=session, actor=actor, entity="unit", entity_key=str(portfolio.id),
                         action="rules_changed", detail={**changes, "governance_version": version})  # fmt: skip


def _freeze_newly_frozen(session: Session, package_ids: list[int], before: Stage, after: Stage) -> None:
    """Measures whose plan the new frozen stage freezes keep the plan they have now as the one decided."""
    measures = session.exec(select(Measure).where(col(Measure.package_id).in_(package_ids))).all()
    for measure in measures:
        stage, held = Stage(measure.stage), measure.held_from_stage
        if plan_frozen(stage, held, frozen_from=after) and not plan_frozen(stage, held, frozen_from=before):
            freeze_plan(session=session, measure_id=measure.id or 0)
