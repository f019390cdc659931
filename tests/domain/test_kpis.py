"""KPI status against the straight path from baseline to target, with the portfolio's tolerance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.enums import PotentialStatus
from domain.kpis import KpiPath, kpi_status

# Client response time, lower is better: 48 h on 1 January 2027, 24 h by 31 December 2027.
RESPONSE = KpiPath(Decimal(48), Decimal(24), date(2027, 1, 1), date(2027, 12, 31), higher_is_better=False)
# Net promoter score, higher is better: 10 to 40 over the same year.
NPS = KpiPath(Decimal(10), Decimal(40), date(2027, 1, 1), date(2027, 12, 31), higher_is_better=True)
HALFWAY = date(2027, 7, 2)  # 182 of 364 days


def test_the_path_runs_straight_from_baseline_to_target_and_holds_at_either_end() -> None:
    assert RESPONSE.expected_on(date(2026, 12, 1)) == 48 and RESPONSE.expected_on(date(2028, 3, 1)) == 24
    assert RESPONSE.expected_on(HALFWAY) == 36 and NPS.expected_on(HALFWAY) == 25
    assert isinstance(RESPONSE.expected_on(date(2027, 2, 1)), Decimal)  # exact, never a float


@pytest.mark.parametrize(
    ("path", "value", "status"),
    [
        (RESPONSE, "36", PotentialStatus.ON_TRACK),  # on the path
        (RESPONSE, "30", PotentialStatus.ON_TRACK),  # ahead of it
        (RESPONSE, "38.4", PotentialStatus.ON_TRACK),  # behind by 10% of the 24 h to gain: the tolerance
        (RESPONSE, "38.5", PotentialStatus.AT_RISK),
        (RESPONSE, "40.8", PotentialStatus.AT_RISK),  # twice the tolerance
        (RESPONSE, "41", PotentialStatus.OFF_TRACK),
        (NPS, "22", PotentialStatus.ON_TRACK),  # 3 points behind 25, of 30 to gain
        (NPS, "21.9", PotentialStatus.AT_RISK),
        (NPS, "18", PotentialStatus.OFF_TRACK),
        (NPS, "45", PotentialStatus.ON_TRACK),
    ],
)
def test_status_is_how_far_behind_the_path_a_value_is_against_the_tolerance(
    path: KpiPath, value: str, status: PotentialStatus
) -> None:
    assert kpi_status(path, Decimal(value), HALFWAY, tolerance_pct=10) == status


def test_without_a_value_or_an_improvement_the_status_is_unknown_and_the_tolerance_is_the_portfolios() -> None:
    assert kpi_status(RESPONSE, None, HALFWAY) == PotentialStatus.UNKNOWN
    flat = KpiPath(Decimal(5), Decimal(5), date(2027, 1, 1), date(2027, 12, 31), higher_is_better=True)
    assert kpi_status(flat, Decimal(4), HALFWAY) == PotentialStatus.UNKNOWN
    assert kpi_status(RESPONSE, Decimal("40"), HALFWAY, tolerance_pct=20) == PotentialStatus.ON_TRACK
    assert kpi_status(RESPONSE, Decimal("40"), HALFWAY, tolerance_pct=5) == PotentialStatus.OFF_TRACK
