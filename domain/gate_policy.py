"""Gate readiness and approvers under a portfolio's governance (domain/governance.py), as plain
functions. `DEFAULT_GATES` is today's method, taken from the measure schema (each field's
`required_at`) and `stage_gates.approval_chain`: a portfolio without a governance file is decided
exactly as before (tests/domain/test_gate_policy.py compares them on many drafts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.enums import Stage
from domain.governance import Approver, Criterion, Gate, PortfolioGovernance, Rule
from domain.measure_schema import BY_NAME, FIELDS, is_present
from domain.stage_gates import FORWARD, GateRefused, MeasureFacts, Role, actuals_gap, plan_gap

# The schema's fields that are more than "set", and the rule each is.
_RULE_OF_FIELD = {"monthly_plan": Rule.MONTHLY_PLAN_SUMS_TO_TARGET, "risks": Rule.RISKS_OR_NONE,
                  "dependency_keys": Rule.DEPENDENCIES_STATED, "evidence_urls": Rule.EVIDENCE}  # fmt: skip
_FIELD_OF_RULE: dict[str, str] = {rule: name for name, rule in _RULE_OF_FIELD.items()}


def _default_requires(stage: Stage) -> tuple[Criterion, ...]:
    found = [Criterion(_RULE_OF_FIELD.get(f.name, f.name)) for f in FIELDS if f.required_at is stage]
    return (*found, Criterion(Rule.ACTUALS_VALIDATED)) if stage is Stage.DI5 else tuple(found)


SPONSOR, CONTROLLER = Approver("sponsor"), Approver("controller")
DEFAULT_GATES: Mapping[Stage, Gate] = {
    stage: Gate(_default_requires(stage), (CONTROLLER, SPONSOR) if stage is Stage.DI5 else (SPONSOR,))
    for stage in FORWARD
}


@dataclass(frozen=True)
class GateFacts:
    """What the gates look at: the measure (`MeasureFacts`) and its custom fields' values."""

    measure: MeasureFacts
    custom: Mapping[str, Any] = field(default_factory=dict)


def effective_gate(policy: PortfolioGovernance | None, stage: Stage) -> Gate:
    """The portfolio's gate into `stage`, what it leaves out taken from the default."""
    default = DEFAULT_GATES[stage]
    own = policy.gates.get(stage) if policy else None
    if own is None:
        return default
    return Gate(own.requires if own.requires is not None else default.requires,
                own.approvers if own.approvers is not None else default.approvers)  # fmt: skip


def readiness(policy: PortfolioGovernance | None, stage: Stage, facts: GateFacts) -> list[str]:
    """What `facts` lack to enter `stage` under `policy`: every gate's criteria up to it, in words
    for the requester (empty when ready)."""
    missing: list[str] = []
    for step in FORWARD[: FORWARD.index(stage) + 1] if stage in FORWARD else []:
        for criterion in effective_gate(policy, step).requires or ():
            gap = _gap(criterion, facts, policy)
            if gap:
                missing.append(gap)
    return missing


def _gap(criterion: Criterion, facts: GateFacts, policy: PortfolioGovernance | None) -> str:
    draft = facts.measure.draft
    name = criterion.name
    if name == Rule.ACTUALS_VALIDATED:
        unvalidated = facts.measure.unvalidated_months
        return "" if unvalidated == () else actuals_gap(unvalidated, facts.measure.di5_months)
    if name == Rule.EVIDENCE:
        if len(draft.evidence_urls or []) >= criterion.count:
            return ""
        words = BY_NAME["evidence_urls"].missing
        return words if criterion.count == 1 else f"{words.split(' (')[0]} ({criterion.count} links)"
    field_name = _FIELD_OF_RULE.get(name, name)
    if field_name in BY_NAME:
        if is_present(BY_NAME[field_name], draft):
            return ""
        return (
            plan_gap(draft, facts.measure.style)
            if name == Rule.MONTHLY_PLAN_SUMS_TO_TARGET
            else BY_NAME[field_name].missing
        )
    value = facts.custom.get(name)
    if value not in (None, "", []):
        return ""
    label = next((f.label for f in policy.fields if f.name == name), name) if policy else name
    return f"a {label.lower()}" if label[:1].lower() not in "aeiou" else f"an {label.lower()}"


@dataclass(frozen=True)
class Step:
    """One approval step, resolved: who may decide it (any one of `deciders`), or — for `all_of` —
    several steps that must each be decided."""

    label: str
    deciders: frozenset[str]
    kind: str  # the Approver's: sponsor | controller | person | usergroup
    group: str = ""  # a usergroup step's group id (S…)


class NoApprover(ValueError):
    """A step nobody may decide (no such person set, or only the requester): str() says which."""


def approval_steps(
    gate: Gate, *, sponsor_id: str | None, controller_id: str | None, requester: str,
    members: Mapping[str, frozenset[str]],
) -> list[Step]:  # fmt: skip
    """The gate's approvers as steps in order, `all_of` spread into one step each; segregation of
    duties holds for every step: the requester never decides (a group's other members may)."""
    steps: list[Step] = []
    for approver in gate.approvers or ():
        for one in approver.all_of or (approver,):
            steps.append(_step(one, sponsor_id, controller_id, requester, members))
    return steps


def _step(approver: Approver, sponsor_id: str | None, controller_id: str | None, requester: str,
          members: Mapping[str, frozenset[str]]) -> Step:  # fmt: skip
    if approver.kind in ("sponsor", "controller"):
        person = sponsor_id if approver.kind == "sponsor" else controller_id
        if person is None:
            raise NoApprover(f"It has no {approver.kind}: set one with `/measure edit` first.")
        deciders, label = frozenset({person}), approver.kind
    elif approver.kind == "person":
        deciders, label = frozenset({approver.id}), f"<@{approver.id}>"
    else:
        deciders, label = members.get(approver.id, frozenset()), f"a member of <!subteam^{approver.id}>"
    allowed = deciders - {requester}
    if not allowed:
        if approver.kind == "usergroup" and not deciders:
            raise NoApprover(
                f"{label[len('a member of ') :]} has no members to decide: an admin can add some in Slack."
            )
        raise NoApprover(f"Nobody but you could decide the step of {label}, and nobody approves their own request.")
    return Step(label, allowed, approver.kind, approver.id if approver.kind == "usergroup" else "")


def governed_chain(
    policy: PortfolioGovernance | None, stage: Stage, *, sponsor_id: str | None, controller_id: str | None,
    requester: str, members: Mapping[str, frozenset[str]] | None = None,
) -> list[tuple[Role, str]] | None:  # fmt: skip
    """The approvers the portfolio's file names for the gate into `stage`, in order, as a request
    keeps them (a usergroup step as the group's id: `members` says who may decide it); None when it
    names none (today's chain decides). GateRefused when a step has nobody who may decide."""
    own = policy.gates.get(stage) if policy else None
    if own is None or own.approvers is None:
        return None
    try:
        steps = approval_steps(own, sponsor_id=sponsor_id, controller_id=controller_id, requester=requester,
                               members=members or {})  # fmt: skip
    except NoApprover as refused:
        raise GateRefused(str(refused)) from None
    roles = {"sponsor": Role.SPONSOR, "controller": Role.CONTROLLER}
    return [(roles.get(step.kind, Role.APPROVER), step.group or next(iter(step.deciders))) for step in steps]


def usergroups_named(policy: PortfolioGovernance | None) -> set[str]:
    """The user groups (S…) the portfolio's file has approve any gate: their members are read
    (`usergroups.users.list`) before a request is made."""
    gates = policy.gates.values() if policy else ()
    return {one.id for gate in gates for approver in gate.approvers or () for one in approver.all_of or (approver,)
            if one.kind == "usergroup"}  # fmt: skip
