"""Working calendars (domain/calendar.py): pure, with German public holidays from the holidays package."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar, check_region, parse_working_days, working_days_text
from domain.parsing import InputError

BERLIN = ZoneInfo("Europe/Berlin")
BAVARIA = WorkingCalendar(region="DE-BY", tz=BERLIN)
QUIET = WorkingCalendar(region="DE-BY", quiet=(time(18), time(8)), tz=BERLIN)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("mon,tue,thu", {0, 1, 3}),
        ("Mon-Wed, Fri", {0, 1, 2, 4}),
    ],
)
def test_working_days_are_read_as_people_write_them(text: str, days: set[int]) -> None:
    assert parse_working_days(text) == frozenset(days)


@pytest.mark.parametrize("text", ["", "weekdays", "mon-", "mo-fr", "mon..fri"])
def test_other_working_days_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(InputError, match="mon-fri"):
        parse_working_days(text)


def test_working_days_read_back_as_typed() -> None:
    assert working_days_text(parse_working_days("mon-fri")) == "mon-fri"
    assert working_days_text(parse_working_days("mon,wed,fri")) == "mon,wed,fri"


def test_holiday_regions_are_countries_or_subdivisions() -> None:
    assert (check_region("de"), check_region("DE-by"), check_region("none")) == ("DE", "DE-BY", "")
    for bad in ("XX", "DE-XX", "Bavaria"):
        with pytest.raises(InputError, match="DE-BY"):
            check_region(bad)


def test_a_german_public_holiday_and_a_weekend_are_no_working_days() -> None:
    assert not BAVARIA.is_working_day(berlin(2027, 1, 6).date())  # Epiphany, in Bavaria
    assert WorkingCalendar(region="DE-BE", tz=BERLIN).is_working_day(berlin(2027, 1, 6).date())  # not in Berlin
    assert not BAVARIA.is_working_day(berlin(2027, 3, 29).date())  # Easter Monday, everywhere in Germany
    assert not BAVARIA.is_working_day(berlin(2027, 3, 27).date())  # a Saturday
    assert BAVARIA.is_working_day(berlin(2027, 3, 30).date())


def test_a_check_in_due_on_easter_monday_goes_out_on_tuesday_at_the_same_local_time() -> None:
    assert BAVARIA.same_time_next_working_day(berlin(2027, 3, 29, 9)) == berlin(2027, 3, 30, 9)
    assert BAVARIA.same_time_next_working_day(berlin(2027, 3, 26, 9)) == berlin(2027, 3, 30, 9)  # Good Friday
    assert BAVARIA.same_time_next_working_day(berlin(2027, 3, 24, 9)) == berlin(2027, 3, 24, 9)  # a Wednesday


def test_quiet_hours_and_weekends_hold_a_message_until_the_next_working_instant() -> None:
    assert QUIET.next_working_time(berlin(2027, 3, 24, 19)) == berlin(2027, 3, 25, 8)  # an evening
    assert QUIET.next_working_time(berlin(2027, 3, 24, 6)) == berlin(2027, 3, 24, 8)  # an early morning
    assert QUIET.next_working_time(berlin(2027, 3, 25, 20)) == berlin(2027, 3, 30, 8)  # Thursday night → Tuesday
    assert QUIET.next_working_time(berlin(2027, 3, 24, 10)) == berlin(2027, 3, 24, 10)  # working time: at once
    assert not QUIET.is_working_time(berlin(2027, 3, 24, 18)) and QUIET.is_working_time(berlin(2027, 3, 24, 17, 59))


def test_delays_count_the_hours_of_working_days_only() -> None:
    friday_9 = berlin(2027, 3, 19, 9)
    assert BAVARIA.add_working(friday_9, timedelta(hours=48)) == berlin(2027, 3, 23, 9)  # Tuesday 09:00
    assert BAVARIA.add_working(friday_9, timedelta(hours=10)) == berlin(2027, 3, 19, 19)
    before_easter = berlin(2027, 3, 25, 9)  # Thursday; Friday and Monday are holidays
    assert BAVARIA.add_working(before_easter, timedelta(hours=24)) == berlin(2027, 3, 30, 9)
    assert WorkingCalendar(days=frozenset(range(7))).add_working(friday_9, timedelta(hours=48)) == friday_9 + timedelta(
        days=2
    )


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=24 * 14),
)
def test_working_time_added_is_never_less_than_the_delay_and_ends_on_a_working_day(start: datetime, hours: int) -> None:
    end = BAVARIA.add_working(start, timedelta(hours=hours))
    assert end >= start + timedelta(hours=hours) - timedelta(hours=1)  # an hour of daylight saving at most
    if hours:
        local = end.astimezone(BERLIN)
        assert BAVARIA.is_working_day(local.date()) or local.time() == time(0)
    nxt = QUIET.next_working_time(start)
    assert nxt >= start and QUIET.is_working_time(nxt)
