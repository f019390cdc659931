from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from domain.enums import Cadence
from domain.schedule import CheckinSchedule, cycle_at, next_cycle_start, zone

NY, TOKYO, BERLIN = zone("America/New_York"), zone("Asia/Tokyo"), zone("Europe/Berlin")
WEEKLY_MON_9 = CheckinSchedule(Cadence.WEEKLY, 0, time(9, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_weekly_cycle_in_the_owners_timezone_across_the_dst_change() -> None:
    # New York moves to daylight time on Sunday 2027-03-14: 09:00 is 14:00 UTC before, 13:00 after.
    before = cycle_at(WEEKLY_MON_9, NY, utc(2027, 3, 10, 12))
    assert before.start == utc(2027, 3, 8, 14) and before.end == utc(2027, 3, 15, 13)
    after = cycle_at(WEEKLY_MON_9, NY, utc(2027, 3, 15, 13))
    assert after.start == utc(2027, 3, 15, 13)
    assert cycle_at(WEEKLY_MON_9, NY, utc(2027, 3, 15, 12, 59)).start == utc(2027, 3, 8, 14)
    # And back in November (2027-11-07).
    assert cycle_at(WEEKLY_MON_9, NY, utc(2027, 11, 8, 14)).start == utc(2027, 11, 8, 14)


def test_tokyo_has_no_dst() -> None:
    cycle = cycle_at(WEEKLY_MON_9, TOKYO, utc(2027, 3, 15, 0, 0))
    assert cycle.start == utc(2027, 3, 15, 0) and cycle.end == utc(2027, 3, 22, 0)


def test_biweekly_cycles_are_two_weeks_long_on_even_weeks() -> None:
    schedule = CheckinSchedule(Cadence.BIWEEKLY, 3, time(14, 30))
    cycle = cycle_at(schedule, zone("UTC"), utc(2027, 3, 20))
    assert cycle.end - cycle.start == (cycle.end - cycle.start).__class__(days=14)
    assert cycle.start.weekday() == 3 and cycle.start.time() == time(14, 30)
    assert cycle_at(schedule, zone("UTC"), cycle.end).start == cycle.end


def test_monthly_is_the_first_weekday_of_each_month() -> None:
    schedule = CheckinSchedule(Cadence.MONTHLY, 0, time(9, 0))
    cycle = cycle_at(schedule, BERLIN, utc(2027, 3, 20))
    assert cycle.start == utc(2027, 3, 1, 8)  # CET: UTC+1
    assert cycle.end == utc(2027, 4, 5, 7)  # CEST: UTC+2
    # Before the first Monday of the month, the cycle is last month's.
    assert cycle_at(schedule, BERLIN, utc(2027, 2, 1, 7)).start == utc(2027, 1, 4, 8)


def test_a_local_time_in_the_spring_forward_gap_is_taken_an_hour_later() -> None:
    schedule = CheckinSchedule(Cadence.WEEKLY, 6, time(2, 30))  # Sundays 02:30; Berlin skips 02:00-03:00 on 2027-03-28
    cycle = cycle_at(schedule, BERLIN, utc(2027, 3, 28, 12))
    assert cycle.start == utc(2027, 3, 28, 1, 30)  # 03:30 CEST


@pytest.mark.parametrize("cadence", list(Cadence))
def test_cycles_tile_time_without_gaps(cadence: Cadence) -> None:
    schedule = CheckinSchedule(cadence, 2, time(17, 45))
    instant = utc(2026, 12, 1)
    for _ in range(60):
        cycle = cycle_at(schedule, NY, instant)
        assert cycle.contains(instant)
        nxt = cycle_at(schedule, NY, cycle.end)
        assert nxt.start == cycle.end
        instant = nxt.start


def test_next_cycle_start_and_unknown_zones() -> None:
    assert next_cycle_start(WEEKLY_MON_9, TOKYO, utc(2027, 3, 15, 0)) == utc(2027, 3, 22, 0)
    assert str(zone("Mars/Olympus")) == "UTC" and str(zone(None)) == "UTC"
