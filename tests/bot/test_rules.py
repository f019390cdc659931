"""The escalation ladder and portfolio rules as plain code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands.portfolio_rules import parse_settings
from domain.escalation_rules import Cause, Ladder, PortfolioRules, Rung, climb_to
from domain.parsing import InputError

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=24)


def test_a_rung_with_nobody_on_it_is_passed_over() -> None:
    ladder = Ladder(owner="U1", sponsor=None, steering_channel="C1")
    assert ladder.first_from(Rung.OWNER) == Rung.OWNER
    assert ladder.first_from(Rung.SPONSOR) == Rung.STEERING
    assert Ladder("U1", "U2", None).first_from(Rung.STEERING) is None


@pytest.mark.parametrize(
    ("rung", "waited", "acknowledged", "expected"),
    [
        (Rung.OWNER, STEP - timedelta(seconds=1), False, None),
        (Rung.OWNER, STEP, False, Rung.SPONSOR),
        (Rung.SPONSOR, STEP * 5, False, Rung.STEERING),
        (Rung.SPONSOR, STEP * 5, True, None),  # acknowledged: it stays
        (Rung.STEERING, STEP * 5, False, None),  # the top
    ],
)
def test_climbing(rung: Rung, waited: timedelta, acknowledged: bool, expected: Rung | None) -> None:
    ladder = Ladder("U1", "U2", "C1")
    moved = climb_to(
        ladder=ladder, rung=rung, rung_started_at=T0, acknowledged=acknowledged, now=T0 + waited, step=STEP
    )
    assert moved == expected


def test_rules_default_on_and_survive_bad_json() -> None:
    rules = PortfolioRules.parse("{not json")
    assert all(rules.enabled(c) for c in Cause) and rules.step_hours == 24 and rules.approval_days is None
    assert not PortfolioRules.parse('{"shortfall": false}').enabled(Cause.SHORTFALL)


def test_settings_words() -> None:
    changes = parse_settings(["steering=<#C0STEER|steer>", "tolerance=15", "approval-days=5", "overdue=off"])
    assert changes == {"steering_channel": "C0STEER", "tolerance_pct": 15, "approval_days": 5, "checkin_overdue": False}
    for bad in (["steering=#steer"], ["tolerance=lots"], ["tolerance=0"], ["colour=blue"], ["shortfall=maybe"]):
        with pytest.raises(InputError):
            parse_settings(bad)
