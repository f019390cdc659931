"""KPI status against the straight path (issue 17): a KPI is expected to move in a straight line
from its baseline (on the day it was set) to its target (on its target date); a value is on track
while it is behind that path by at most the portfolio's tolerance — a share of the whole
improvement, baseline to target — at risk within twice that, off track beyond. Being ahead of the
path is on track. Exact: Decimal throughout. Pure: no database, no Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.enums import PotentialStatus


@dataclass(frozen=True)
class KpiPath:
    baseline: Decimal
    target: Decimal
    start: date  # the day the baseline holds
    target_date: date
    higher_is_better: bool

    def expected_on(self, day: date) -> Decimal:
        """Where the path is on `day`: the baseline before it starts, the target once it is due."""
        if day <= self.start:
            return self.baseline
        if day >= self.target_date:
            return self.target
        elapsed = Decimal((day - self.start).days) / Decimal((self.target_date - self.start).days)
        return self.baseline + (self.target - self.baseline) * elapsed

    def behind(self, value: Decimal, day: date) -> Decimal:
        """How far `value` is behind the path on `day`, in the KPI's unit (negative: ahead)."""
        expected = self.expected_on(day)
        return expected - value if self.higher_is_better else value - expected


def kpi_status(path: KpiPath, value: Decimal | None, day: date, *, tolerance_pct: int = 10) -> PotentialStatus:
    """On track, at risk or off track on `day`; unknown without a value or without an improvement to make."""
    span = abs(path.target - path.baseline)
    if value is None or span == 0:
        return PotentialStatus.UNKNOWN
    allowed = span * tolerance_pct / 100
    behind = path.behind(value, day)
    if behind <= allowed:
        return PotentialStatus.ON_TRACK
    if behind <= 2 * allowed:
        return PotentialStatus.AT_RISK
    return PotentialStatus.OFF_TRACK
