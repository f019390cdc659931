"""Entry criteria of the DoI stages, as plain functions over a measure's facts.

The foundation uses them to decide whether `/measure new` creates a measure at DI0 or DI1, and
to tell people on the card what a measure still lacks for its next stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.enums import Stage

FORWARD = [Stage.DI0, Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4, Stage.DI5]


@dataclass(frozen=True)
class MeasureFacts:
    title: str
    package_id: int | None
    owner_id: str | None
    sponsor_id: str | None
    controller_id: str | None
    baseline: int | None
    target: int | None
    business_unit: str
    function: str
    due: date | None = None
    plan_total: int | None = None
    risk_count: int = 0
    no_known_risks: bool = False
    dependencies_stated: bool = False


def missing_for(stage: Stage, facts: MeasureFacts) -> list[str]:
    """What `facts` lack to enter `stage`, in words for the requester (empty when ready)."""
    checks: dict[Stage, list[tuple[bool, str]]] = {
        Stage.DI0: [
            (bool(facts.title.strip()), "a title"),
            (facts.package_id is not None, "a measure package"),
        ],
        Stage.DI1: [
            (facts.owner_id is not None, "an owner"),
            (facts.sponsor_id is not None, "a sponsor"),
            (facts.controller_id is not None, "a controller"),
            (facts.baseline is not None, "a baseline"),
            (facts.target is not None, "a target value"),
            (bool(facts.business_unit.strip()), "a business unit"),
            (bool(facts.function.strip()), "a function"),
        ],
        Stage.DI2: [
            (facts.due is not None, "a due date"),
            (
                facts.plan_total is not None and facts.plan_total == facts.target,
                "a monthly value plan that sums to the target",
            ),
            (facts.risk_count > 0 or facts.no_known_risks, "at least one risk, or “no known risks”"),
            (facts.dependencies_stated, "its dependencies stated (or “none”)"),
        ],
    }
    missing: list[str] = []
    for step in FORWARD[: FORWARD.index(stage) + 1] if stage in FORWARD else []:
        missing += [label for ok, label in checks.get(step, []) if not ok]
    return missing


def stage_for_new(facts: MeasureFacts) -> Stage:
    """A new measure starts at DI1 when it already meets DI1's entry criteria, else at DI0."""
    return Stage.DI1 if not missing_for(Stage.DI1, facts) else Stage.DI0


def next_stage(stage: Stage) -> Stage | None:
    if stage not in FORWARD or stage is Stage.DI5:
        return None
    return FORWARD[FORWARD.index(stage) + 1]
