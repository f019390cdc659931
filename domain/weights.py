"""Realisation weights by stage: the "Härtegrad" of German savings controlling.

A measure's forecast counts at the weight of its stage: an idea (DI0) is worth nothing yet, a
decided measure (DI3) half, a realised one (DI5) all of it. A portfolio sets its own weights with
`/measure rules <portfolio> weight-DI3=60 …`; the ones it does not set keep the defaults. Weights
never fall from one stage to the next (a later stage is never worth less). A measure on hold or
cancelled counts at 0 %: nobody is realising it. The weighted figure is exact until it is shown:
sums of forecast × weight / 100 as Decimal, rounded half up to whole units once, at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.enums import Stage

WEIGHTED_STAGES = (Stage.DI0, Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4, Stage.DI5)
DEFAULT_WEIGHTS = {Stage.DI0: 0, Stage.DI1: 10, Stage.DI2: 25, Stage.DI3: 50, Stage.DI4: 90, Stage.DI5: 100}


def _weight(stage: Stage) -> int:
    return Field(default=DEFAULT_WEIGHTS[stage], ge=0, le=100)


class StageWeights(BaseModel):
    """A portfolio's weight per stage, in percent (whole numbers 0–100)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    DI0: int = _weight(Stage.DI0)
    DI1: int = _weight(Stage.DI1)
    DI2: int = _weight(Stage.DI2)
    DI3: int = _weight(Stage.DI3)
    DI4: int = _weight(Stage.DI4)
    DI5: int = _weight(Stage.DI5)

    @model_validator(mode="after")
    def _never_falls(self) -> StageWeights:
        values = [self.of(stage) for stage in WEIGHTED_STAGES]
        for earlier, later, stage in zip(values, values[1:], WEIGHTED_STAGES[1:], strict=False):
            if later < earlier:
                raise ValueError(f"{stage} weighs {later}%, less than the stage before it ({earlier}%)")
        return self

    def of(self, stage: Stage | str) -> int:
        """The weight of a stage in percent; 0 on hold or cancelled."""
        return int(getattr(self, str(stage))) if stage in WEIGHTED_STAGES else 0

    def changed(self) -> dict[str, int]:
        """The weights that differ from the defaults."""
        return {str(s): self.of(s) for s in WEIGHTED_STAGES if self.of(s) != DEFAULT_WEIGHTS[s]}


DEFAULT_STAGE_WEIGHTS = StageWeights()


def weighted(amount: int, percent: int) -> Decimal:
    """An amount at a weight, exactly."""
    return Decimal(amount) * percent / 100


def weighted_total(parts: Iterable[tuple[int, int]]) -> int:
    """Σ amount × weight / 100 over (amount, percent) pairs, rounded half up once, at the end."""
    total = sum((weighted(amount, percent) for amount, percent in parts), Decimal(0))
    return int(total.quantize(Decimal(1), ROUND_HALF_UP))
