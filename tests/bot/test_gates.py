from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.gates import MeasureFacts, missing_for, next_stage, stage_for_new
from storage.enums import Stage

IDEA = MeasureFacts(
    title="Reuse pallets", package_id=1, owner_id=None, sponsor_id=None, controller_id=None,
    baseline=None, target=None, business_unit="", function="",
)  # fmt: skip
IDENTIFIED = replace(
    IDEA, owner_id="U1", sponsor_id="U2", controller_id="U3", baseline=100, target=12, business_unit="B", function="F"
)


def test_di1_lists_everything_missing_in_words() -> None:
    assert missing_for(Stage.DI1, IDEA) == [
        "an owner", "a sponsor", "a controller", "a baseline", "a target value", "a business unit", "a function",
    ]  # fmt: skip
    assert missing_for(Stage.DI1, IDENTIFIED) == []


def test_di2_needs_a_plan_that_sums_to_the_target_risks_and_dependencies() -> None:
    assert missing_for(Stage.DI2, IDENTIFIED) == [
        "a due date", "a monthly value plan that sums to the target", "at least one risk, or “no known risks”",
        "its dependencies stated (or “none”)",
    ]  # fmt: skip
    detailed = replace(IDENTIFIED, due=date(2027, 1, 1), plan_total=12, no_known_risks=True, dependencies_stated=True)
    assert missing_for(Stage.DI2, detailed) == []
    assert missing_for(Stage.DI2, replace(detailed, plan_total=11)) == ["a monthly value plan that sums to the target"]


def test_new_measures_start_at_di1_only_when_complete() -> None:
    assert stage_for_new(IDEA) is Stage.DI0
    assert stage_for_new(IDENTIFIED) is Stage.DI1


def test_next_stage() -> None:
    assert next_stage(Stage.DI0) is Stage.DI1
    assert next_stage(Stage.DI5) is None
    assert next_stage(Stage.ON_HOLD) is None
