"""Vocabulary of the domain, stored as plain strings (no database enum types to migrate)."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    ORGANIZATION = "organization"
    PORTFOLIO = "portfolio"
    PROGRAM = "program"
    PROJECT = "project"
    PACKAGE = "package"

    @property
    def child(self) -> Level | None:
        order = list(Level)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None

    @property
    def label(self) -> str:
        return "measure package" if self is Level.PACKAGE else self.value


class Stage(StrEnum):
    DI0 = "DI0"
    DI1 = "DI1"
    DI2 = "DI2"
    DI3 = "DI3"
    DI4 = "DI4"
    DI5 = "DI5"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.DI0: "DI0 Idea",
    Stage.DI1: "DI1 Identified",
    Stage.DI2: "DI2 Detailed",
    Stage.DI3: "DI3 Decided",
    Stage.DI4: "DI4 Implemented",
    Stage.DI5: "DI5 Realised",
    Stage.ON_HOLD: "On hold",
    Stage.CANCELLED: "Cancelled",
}


class ImplStatus(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class PotentialStatus(StrEnum):
    UNKNOWN = "unknown"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"

    @property
    def label(self) -> str:
        return "no forecast yet" if self is PotentialStatus.UNKNOWN else self.value.replace("_", " ")


class CheckinState(StrEnum):
    """Where one measure's check-in for one cycle stands."""

    PENDING = "pending"
    ANSWERED = "answered"
    SKIPPED = "skipped"


class Cadence(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
