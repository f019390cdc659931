from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.enums import Stage
from domain.measure_schema import MeasureDraft
from domain.money import MoneyStyle
from domain.stage_gates import MeasureFacts, missing_for, next_stage, stage_for_new

IDEA = MeasureFacts(draft=MeasureDraft(title="Reuse pallets", package_id=1))
IDENTIFIED = MeasureFacts(
    draft=replace(
        IDEA.draft, owner_id="U1", sponsor_id="U2", controller_id="U3", baseline=100, target=12, business_unit="B",
        function="F",
    )
)  # fmt: skip


def detailed(**changes: object) -> MeasureFacts:
    return MeasureFacts(draft=replace(IDENTIFIED.draft, **changes))  # type: ignore[arg-type]


def test_di1_lists_everything_missing_in_words() -> None:
    assert missing_for(Stage.DI1, IDEA) == [
        "an owner", "a sponsor", "a controller", "a business unit", "a function", "a baseline", "a target value",
    ]  # fmt: skip
    assert missing_for(Stage.DI1, IDENTIFIED) == []


def test_di2_needs_a_plan_that_sums_to_the_target_risks_and_dependencies() -> None:
    assert missing_for(Stage.DI2, IDENTIFIED) == [
        "a due date", "a monthly value plan that sums to the target", "at least one risk, or “no known risks”",
        "its dependencies stated (or “none”)",
    ]  # fmt: skip
    plan = {date(2027, 1, 1): 5, date(2027, 2, 1): 7}
    ready = detailed(due=date(2027, 1, 1), monthly_plan=plan, no_known_risks=True, dependencies_stated=True)
    assert missing_for(Stage.DI2, ready) == []
    short = detailed(due=date(2027, 1, 1), monthly_plan={date(2027, 1, 1): 11}, risks=[], dependencies_stated=True)
    assert missing_for(Stage.DI2, short) == [
        "a monthly value plan that sums to the target: the monthly plan sums to €11 of the €12 target",
        "at least one risk, or “no known risks”",
    ]  # fmt: skip
    german = replace(short, style=MoneyStyle("EUR", "de"), draft=replace(short.draft, target=250_000,
                     monthly_plan={date(2027, 1, 1): 120_000, date(2027, 2, 1): 120_000}))  # fmt: skip
    assert missing_for(Stage.DI2, german)[0].endswith("sums to 240.000\xa0€ of the 250.000\xa0€ target")


def test_new_measures_start_at_di1_only_when_complete() -> None:
    assert stage_for_new(IDEA) is Stage.DI0
    assert stage_for_new(IDENTIFIED) is Stage.DI1


def test_next_stage() -> None:
    assert next_stage(Stage.DI0) is Stage.DI1
    assert next_stage(Stage.DI5) is None
    assert next_stage(Stage.ON_HOLD) is None


def test_approval_chains() -> None:
    from domain.stage_gates import RequestKind, Role, approval_chain

    assert approval_chain(RequestKind.ADVANCE, Stage.DI5) == [Role.CONTROLLER, Role.SPONSOR]
    assert approval_chain(RequestKind.ADVANCE, Stage.DI3) == [Role.SPONSOR]
    assert approval_chain(RequestKind.CANCEL, Stage.CANCELLED) == [Role.SPONSOR]


def test_plan_request_refuses_with_reasons() -> None:
    import pytest

    from domain.stage_gates import GateRefused, RequestKind, plan_request

    people = {"sponsor_id": "U2", "controller_id": "U3"}
    target, chain = plan_request(RequestKind.ADVANCE, Stage.DI0, IDENTIFIED, requester="U1", **people)
    assert target is Stage.DI1 and [p for _, p in chain] == ["U2"]
    with pytest.raises(GateRefused, match="a due date"):
        plan_request(RequestKind.ADVANCE, Stage.DI1, IDENTIFIED, requester="U1", **people)
    with pytest.raises(GateRefused, match="nobody approves their own request"):
        plan_request(RequestKind.ADVANCE, Stage.DI0, IDENTIFIED, requester="U2", **people)
    with pytest.raises(GateRefused, match="no sponsor"):
        plan_request(RequestKind.ADVANCE, Stage.DI0, IDENTIFIED, requester="U1", sponsor_id=None, controller_id="U3")
    with pytest.raises(GateRefused, match="no further gate"):
        plan_request(RequestKind.ADVANCE, Stage.DI5, IDENTIFIED, requester="U1", **people)
    with pytest.raises(GateRefused, match="on hold"):
        plan_request(RequestKind.ADVANCE, Stage.ON_HOLD, IDENTIFIED, requester="U1", **people)
    target, _ = plan_request(RequestKind.CANCEL, Stage.DI2, IDENTIFIED, requester="U1", **people)
    assert target is Stage.CANCELLED


def test_di4_and_di5_need_evidence_and_actuals() -> None:
    assert missing_for(Stage.DI4, IDENTIFIED)[-1] == "evidence that the activities are done (a link)"
    ready = replace(
        detailed(
            due=date(2027, 1, 1), monthly_plan={date(2027, 1, 1): 12}, no_known_risks=True, dependencies_stated=True,
            evidence_urls=["https://example.com/done"],
        ),
        unvalidated_months=(),
    )  # fmt: skip
    assert missing_for(Stage.DI5, ready) == []
    gap = "actuals validated by the controller for every closed month of the plan"
    assert missing_for(Stage.DI5, replace(ready, unvalidated_months=None)) == [
        f"{gap} (no month of the plan is closed yet)"
    ]
    months = tuple(date(2027, m, 1) for m in range(1, 9))
    assert missing_for(Stage.DI5, replace(ready, unvalidated_months=months)) == [
        f"{gap} (8 not yet: 2027-01, 2027-02, 2027-03, 2027-04, 2027-05, 2027-06 …)"
    ]


def test_hold_and_resume() -> None:
    import pytest

    from domain.stage_gates import GateRefused, hold, resume

    assert hold(Stage.DI3) is Stage.DI3
    assert resume(Stage.ON_HOLD, "DI3") is Stage.DI3
    for stage in (Stage.ON_HOLD, Stage.CANCELLED, Stage.DI5):
        with pytest.raises(GateRefused):
            hold(stage)
    with pytest.raises(GateRefused):
        resume(Stage.DI2, None)
