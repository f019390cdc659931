"""Dual status rules: potential status from forecast vs plan, and what counts as getting worse."""

from __future__ import annotations

from domain.enums import ImplStatus, PotentialStatus

DEFAULT_TOLERANCE = 0.10
_RANK = {"on_track": 0, "done": 0, "not_started": 0, "unknown": 0, "at_risk": 1, "off_track": 2}


def potential_status(
    *, forecast: int | None, plan: int | None, tolerance: float = DEFAULT_TOLERANCE
) -> PotentialStatus:
    """On track when the forecast falls short of plan by at most the tolerance, at risk within twice
    the tolerance, off track beyond. Beating the plan is on track. No forecast or plan: unknown."""
    if forecast is None or plan is None or plan <= 0:
        return PotentialStatus.UNKNOWN
    shortfall = (plan - forecast) / plan
    if shortfall <= tolerance + 1e-9:
        return PotentialStatus.ON_TRACK
    if shortfall <= 2 * tolerance + 1e-9:
        return PotentialStatus.AT_RISK
    return PotentialStatus.OFF_TRACK


def got_worse(before: str | None, after: str | None) -> bool:
    """True when a status moved down (on track → at risk → off track)."""
    return _RANK.get(after or "unknown", 0) > _RANK.get(before or "unknown", 0)


def answerable_statuses() -> list[ImplStatus]:
    return [ImplStatus.ON_TRACK, ImplStatus.AT_RISK, ImplStatus.OFF_TRACK, ImplStatus.NOT_STARTED, ImplStatus.DONE]
