"""The governance document (issue 17) as plain functions: the issue's example is read; every bad
input is refused with its path, all of them at once; the defaults decide exactly as today's gates;
a portfolio's own criteria and approvers, with segregation of duties at every step."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.enums import Severity, Stage
from domain.gate_policy import DEFAULT_GATES, GateFacts, NoApprover, approval_steps, effective_gate, readiness
from domain.governance import Approver, Criterion, FieldType, GovernanceRefused, Rule, parse_governance
from domain.measure_schema import MeasureDraft
from domain.parsing import RiskLine
from domain.stage_gates import FORWARD, MeasureFacts, missing_for

EXAMPLE = {
    "organization": "Acme",
    "portfolios": {
        "Commercial": {
            "tolerance": 10,
            "weights": {"DI1": 10, "DI2": 25, "DI3": 50, "DI4": 90, "DI5": 100},
            "plan_frozen_from": "DI3",
            "fields": [
                {"name": "customer_segment", "label": "Customer segment", "type": "select",
                 "options": ["SMB", "Enterprise"]},
                {"name": "contract_ref", "label": "Contract reference", "type": "text"},
            ],
            "gates": {
                "DI2": {"requires": ["due", "monthly_plan_sums_to_target", "risks_or_none", "dependencies_stated",
                                     "customer_segment"]},
                "DI3": {"approvers": ["sponsor", {"person": "U0FINANCE"}]},
                "DI4": {"requires": [{"evidence": 2}]},
                "DI5": {"requires": ["actuals_validated"], "approvers": ["controller", "sponsor"]},
            },
        }
    },
    "kpis": [{"name": "Client response time", "unit": "hours", "direction": "lower", "baseline": 48,
              "target": 24.5, "target_date": "2027-12-31"}],
}  # fmt: skip

DRAFT = MeasureDraft(
    title="Consolidate suppliers", package_id=1, owner_id="U0O", sponsor_id="U0S", controller_id="U0C",
    business_unit="Consumer", function="Procurement", baseline=1_000_000, target=120_000, due=date(2027, 6, 30),
    monthly_plan={date(2027, m, 1): 10_000 for m in range(1, 13)},
    risks=[RiskLine(Severity.HIGH, "supplier delay", "second supplier")], dependency_keys=[], dependencies_stated=True,
    evidence_urls=["https://example.com/done"],
)  # fmt: skip


def test_the_issues_example_is_read() -> None:
    governance = parse_governance(EXAMPLE)
    commercial = governance.portfolios["Commercial"]
    assert governance.organization == "Acme" and commercial.tolerance == 10 and commercial.weights is not None
    assert commercial.weights[Stage.DI3] == 50 and commercial.plan_frozen_from is Stage.DI3
    assert parse_governance({"organization": "Acme", "portfolios": {"Ops": {}}}).portfolios["Ops"].weights is None
    assert [f.type for f in commercial.fields] == [FieldType.SELECT, FieldType.TEXT]
    assert commercial.gates[Stage.DI3].approvers == (Approver("sponsor"), Approver("person", "U0FINANCE"))
    assert commercial.gates[Stage.DI3].requires is None  # left to the default
    assert commercial.gates[Stage.DI4].requires == (Criterion(Rule.EVIDENCE, 2),)
    [kpi] = governance.kpis
    assert (kpi.higher_is_better, kpi.target, kpi.target_date) == (False, Decimal("24.5"), date(2027, 12, 31))


def test_every_error_is_named_with_its_path_and_nothing_is_taken() -> None:
    bad = {
        "organization": "Acme",
        "portfolios": {"Commercial": {
            "gates": {"DI9": {}, "DI2": {"requires": ["due", "budget_owner"]}, "DI3": {"approvers": []},
                      "DI4": {"approvers": [{"person": "not-an-id"}, {"all_of": ["sponsor"]}]}},
            "fields": [{"name": "x", "label": "X", "type": "colour"}],
            "weights": {"DI3": 120}, "colour": "red", "tolerance": 0, "plan_frozen_from": "DI1",
        }},
        "kpis": [{"name": "NPS", "unit": "points", "direction": "up", "baseline": 10}],
    }  # fmt: skip
    with pytest.raises(GovernanceRefused) as refused:
        parse_governance(bad)
    paths = {path for path, _ in refused.value.errors}
    assert paths >= {
        "portfolios.Commercial.gates.DI9", "portfolios.Commercial.gates.DI2.requires[1]",
        "portfolios.Commercial.gates.DI3.approvers", "portfolios.Commercial.gates.DI4.approvers[0]",
        "portfolios.Commercial.gates.DI4.approvers[1]", "portfolios.Commercial.fields[0].type",
        "portfolios.Commercial.weights.DI3", "portfolios.Commercial.colour", "kpis[0].direction", "kpis[0].target",
        "kpis[0].target_date", "portfolios.Commercial.tolerance", "portfolios.Commercial.plan_frozen_from",
    }, refused.value.errors  # fmt: skip
    assert "budget_owner" in dict(refused.value.errors)["portfolios.Commercial.gates.DI2.requires[1]"]


def _variants() -> list[MeasureDraft]:
    blanks = {"owner_id": None, "due": None, "monthly_plan": {}, "risks": [], "dependencies_stated": False,
              "evidence_urls": [], "target": 999, "title": ""}  # fmt: skip
    return [replace(DRAFT, **dict(combo)) for n in range(3) for combo in itertools.combinations(blanks.items(), n)]


@pytest.mark.parametrize("unvalidated", [None, (), (date(2027, 1, 1),)])
def test_without_a_governance_file_the_gates_decide_as_today(unvalidated: tuple[date, ...] | None) -> None:
    for draft, stage in itertools.product(_variants(), FORWARD):
        facts = MeasureFacts(draft=draft, unvalidated_months=unvalidated)
        assert readiness(None, stage, GateFacts(facts)) == missing_for(stage, facts), (stage, draft)
    assert [a.kind for a in DEFAULT_GATES[Stage.DI5].approvers or ()] == ["controller", "sponsor"]
    assert [a.kind for a in DEFAULT_GATES[Stage.DI3].approvers or ()] == ["sponsor"]


def test_a_portfolios_own_criteria_custom_fields_and_evidence_count() -> None:
    commercial = parse_governance(EXAMPLE).portfolios["Commercial"]
    facts = GateFacts(MeasureFacts(draft=DRAFT, unvalidated_months=()))
    assert readiness(commercial, Stage.DI2, facts) == ["a customer segment"]
    ready = replace(facts, custom={"customer_segment": "SMB"})
    assert readiness(commercial, Stage.DI3, ready) == []
    assert readiness(commercial, Stage.DI4, ready) == ["evidence that the activities are done (2 links)"]
    two = GateFacts(replace(facts.measure, draft=replace(DRAFT, evidence_urls=["https://a", "https://b"])),
                    custom={"customer_segment": "SMB"})  # fmt: skip
    assert readiness(commercial, Stage.DI5, two) == []


def test_approvers_in_order_with_segregation_of_duties_at_every_step() -> None:
    commercial = parse_governance(EXAMPLE).portfolios["Commercial"]
    people = {"sponsor_id": "U0S", "controller_id": "U0C", "members": {"S0PMO": frozenset({"U0A", "U0B"})}}
    steps = approval_steps(effective_gate(commercial, Stage.DI3), requester="U0O", **people)  # type: ignore[arg-type]
    assert [s.deciders for s in steps] == [frozenset({"U0S"}), frozenset({"U0FINANCE"})]
    with pytest.raises(NoApprover):  # the finance approver asks for the gate: nobody else may decide that step
        approval_steps(effective_gate(commercial, Stage.DI3), requester="U0FINANCE", **people)  # type: ignore[arg-type]
    group = parse_governance({"organization": "Acme", "portfolios": {"P": {"gates": {"DI3": {"approvers": [
        {"all_of": ["sponsor", {"usergroup": "S0PMO"}]}]}}}}}).portfolios["P"]  # fmt: skip
    steps = approval_steps(effective_gate(group, Stage.DI3), requester="U0A", **people)  # type: ignore[arg-type]
    assert [s.deciders for s in steps] == [frozenset({"U0S"}), frozenset({"U0B"})]  # the requester's group: the others
