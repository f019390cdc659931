"""Realisation weights by stage: defaults, a portfolio's own, exact sums rounded once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.enums import Stage
from domain.escalation_rules import PortfolioRules
from domain.weights import DEFAULT_STAGE_WEIGHTS, StageWeights, weighted, weighted_total


def test_the_defaults_are_the_hartegrad_of_the_issue() -> None:
    assert [DEFAULT_STAGE_WEIGHTS.of(s) for s in ("DI0", "DI1", "DI2", "DI3", "DI4", "DI5")] == [0, 10, 25, 50, 90, 100]
    assert DEFAULT_STAGE_WEIGHTS.of(Stage.ON_HOLD) == 0 and DEFAULT_STAGE_WEIGHTS.of(Stage.CANCELLED) == 0
    assert DEFAULT_STAGE_WEIGHTS.changed() == {}


def test_a_portfolio_keeps_the_defaults_it_does_not_set() -> None:
    rules = PortfolioRules.parse('{"weights": {"DI3": 60}}')
    assert (rules.weights.of(Stage.DI3), rules.weights.of(Stage.DI4)) == (60, 90)
    assert rules.weights.changed() == {"DI3": 60}
    assert PortfolioRules.parse("{}").weights == DEFAULT_STAGE_WEIGHTS


@pytest.mark.parametrize("weights", [{"DI4": 40}, {"DI1": 30, "DI2": 20}, {"DI0": 101}, {"DI5": -1}])
def test_weights_that_fall_or_leave_0_to_100_are_refused(weights: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        StageWeights.model_validate(weights)


def test_weighted_sums_are_exact_and_rounded_once() -> None:
    assert weighted(1, 50) + weighted(1, 50) == 1
    assert weighted_total([(1, 50), (1, 50)]) == 1  # rounding each half first would give 2
    assert weighted_total([(1, 50)]) == 1 and weighted_total([(-1, 50)]) == -1  # half away from zero
    assert weighted_total([(333_333, 10), (1, 10)]) == 33_333 and weighted_total([(333_333, 10), (2, 10)]) == 33_334
    assert weighted_total([]) == 0
