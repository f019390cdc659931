"""Threshold rules and the escalation ladder, as plain code (no database, no Slack).

A rule names a *cause*; while the cause lasts for a measure there is at most one escalation for it.
An escalation starts on a rung of the ladder owner → sponsor → the portfolio's steering channel and
climbs a rung each time it waits `step_hours` without an acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.enums import Stage
from domain.weights import StageWeights


class Cause(StrEnum):
    CHECKIN_OVERDUE = "checkin_overdue"
    OFF_TRACK_TWICE = "off_track_twice"
    SHORTFALL = "shortfall"
    APPROVAL_OVERDUE = "approval_overdue"
    DEPENDENCY = "dependency_off_track"

    @property
    def label(self) -> str:
        return CAUSE_LABELS[self]


CAUSE_LABELS = {
    Cause.CHECKIN_OVERDUE: "Check-in overdue",
    Cause.OFF_TRACK_TWICE: "Off track in two check-ins in a row",
    Cause.SHORTFALL: "Potential shortfall beyond the tolerance",
    Cause.APPROVAL_OVERDUE: "Approval waiting too long",
    Cause.DEPENDENCY: "At risk by dependency",
}


class Rung(IntEnum):
    OWNER = 0
    SPONSOR = 1
    STEERING = 2

    @property
    def label(self) -> str:
        return ("owner", "sponsor", "steering channel")[self]


# Where each cause enters the ladder. The owner already had a prompt and a reminder before a check-in
# is overdue, and reported the off-track status and the forecast themselves: those go to the sponsor.
# A dependency going off track is news to the dependent measure's owner: it starts with them.
START_RUNG = {
    Cause.CHECKIN_OVERDUE: Rung.SPONSOR,
    Cause.OFF_TRACK_TWICE: Rung.SPONSOR,
    Cause.SHORTFALL: Rung.SPONSOR,
    Cause.APPROVAL_OVERDUE: Rung.SPONSOR,
    Cause.DEPENDENCY: Rung.OWNER,
}


class PortfolioRules(BaseModel):
    """A portfolio's rules (`/measure rules <portfolio> …`); stored as JSON on the unit."""

    model_config = ConfigDict(extra="ignore")

    checkin_overdue: bool = True
    off_track_twice: bool = True
    shortfall: bool = True
    approval_overdue: bool = True
    dependency: bool = True
    approval_days: int | None = Field(default=None, ge=1, le=90)  # None: APPROVAL_REPORT_HOURS
    step_hours: int = Field(default=24, ge=1, le=24 * 30)
    weights: StageWeights = Field(default_factory=StageWeights)  # realisation weight per stage (domain/weights.py)
    # How many of the latest closed months of the plan DI5 wants validated actuals for (None: all).
    di5_months: int | None = Field(default=None, ge=1, le=120)
    # Causes whose escalation messages reach people at any time, outside their working calendar too.
    urgent: list[Cause] = Field(default_factory=list)
    # From this stage on the plan is the baseline: it changes only by an approved re-baseline.
    plan_frozen_from: Stage = Stage.DI3

    @classmethod
    def parse(cls, raw: str | None) -> PortfolioRules:
        if not raw:
            return cls()
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return cls()

    def enabled(self, cause: Cause) -> bool:
        return bool(getattr(self, RULE_SWITCHES[cause]))

    def is_urgent(self, cause: Cause) -> bool:
        return cause in self.urgent


RULE_SWITCHES = {
    Cause.CHECKIN_OVERDUE: "checkin_overdue",
    Cause.OFF_TRACK_TWICE: "off_track_twice",
    Cause.SHORTFALL: "shortfall",
    Cause.APPROVAL_OVERDUE: "approval_overdue",
    Cause.DEPENDENCY: "dependency",
}


@dataclass(frozen=True)
class Ladder:
    """Who is on each rung for one measure (None: nobody there, the rung is passed over)."""

    owner: str | None
    sponsor: str | None
    steering_channel: str | None

    def recipient(self, rung: int) -> str | None:
        return (self.owner, self.sponsor, self.steering_channel)[rung]

    def first_from(self, rung: int) -> int | None:
        """The first rung at or above `rung` that has someone on it."""
        return next((r for r in range(rung, len(Rung)) if self.recipient(r)), None)


def climb_to(
    *, ladder: Ladder, rung: int, rung_started_at: datetime, acknowledged: bool, now: datetime, step: timedelta
) -> int | None:
    """The rung an open escalation moves to at `now`, or None when it stays where it is."""
    if acknowledged or now < rung_started_at + step:
        return None
    return ladder.first_from(rung + 1)
