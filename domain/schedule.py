"""Check-in cycles: plain functions over a cadence, a weekday, a local time and a timezone.

A cycle starts at the owner's local time on a start date and ends where the next one starts.
- weekly: every week on the weekday;
- biweekly: the weekday of every other week (even weeks counted from Monday 2024-01-01);
- monthly: the first such weekday of each month.
Local times are converted with zoneinfo, so 09:00 stays 09:00 across daylight-saving changes. A
local time that does not exist (the spring-forward gap) is taken with the offset before the
change, i.e. an hour later on the wall clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.enums import Cadence, Stage


def away_on(person_away_until: date | None, tz: str | None, instant: datetime) -> bool:
    return person_away_until is not None and person_away_until >= instant.astimezone(zone(tz)).date()


BIWEEKLY_EPOCH = date(2024, 1, 1)  # a Monday


@dataclass(frozen=True)
class CheckinSchedule:
    cadence: Cadence
    weekday: int  # 0 = Monday
    at: time


@dataclass(frozen=True)
class Cycle:
    start: datetime  # UTC
    end: datetime  # UTC: the next cycle's start

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def zone(name: str | None) -> ZoneInfo:
    """The named timezone; UTC for an unknown or missing name (Slack users always have one)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def cycle_at(schedule: CheckinSchedule, tz: ZoneInfo, now: datetime) -> Cycle:
    """The cycle that contains `now`."""
    start_date = _latest_start_on_or_before(schedule, now.astimezone(tz).date())
    start = _instant(start_date, schedule.at, tz)
    if start > now:  # today is a start date but its local time has not come yet
        start_date = _previous_start(schedule, start_date)
        start = _instant(start_date, schedule.at, tz)
    return Cycle(start, _instant(_next_start(schedule, start_date), schedule.at, tz))


def next_cycle_start(schedule: CheckinSchedule, tz: ZoneInfo, now: datetime) -> datetime:
    """When the first cycle after `now` begins (a new measure is first prompted then)."""
    return cycle_at(schedule, tz, now).end


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _latest_weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _first_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def _shift_month(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _latest_start_on_or_before(schedule: CheckinSchedule, day: date) -> date:
    if schedule.cadence is Cadence.MONTHLY:
        candidate = _first_weekday_of_month(day.year, day.month, schedule.weekday)
        if candidate > day:
            candidate = _first_weekday_of_month(*_shift_month(day, -1), schedule.weekday)
        return candidate
    candidate = _latest_weekday_on_or_before(day, schedule.weekday)
    if schedule.cadence is Cadence.BIWEEKLY and ((candidate - BIWEEKLY_EPOCH).days // 7) % 2:
        candidate -= timedelta(days=7)
    return candidate


def _step(schedule: CheckinSchedule) -> timedelta:
    return timedelta(days=14 if schedule.cadence is Cadence.BIWEEKLY else 7)


def _previous_start(schedule: CheckinSchedule, start: date) -> date:
    if schedule.cadence is Cadence.MONTHLY:
        return _first_weekday_of_month(*_shift_month(start, -1), schedule.weekday)
    return start - _step(schedule)


def _next_start(schedule: CheckinSchedule, start: date) -> date:
    if schedule.cadence is Cadence.MONTHLY:
        return _first_weekday_of_month(*_shift_month(start, 1), schedule.weekday)
    return start + _step(schedule)


ACTIVE_STAGES = frozenset({Stage.DI1, Stage.DI2, Stage.DI3, Stage.DI4})


class Scheduled(Protocol):
    """What a schedule is computed from: a measure's cadence, owner and stage (a table row will do)."""

    cadence: str
    checkin_weekday: int
    checkin_time: time
    owner_id: str | None
    stage: str


def schedule_of(measure: Scheduled) -> CheckinSchedule:
    return CheckinSchedule(Cadence(measure.cadence), measure.checkin_weekday, measure.checkin_time)


def next_checkin_for(measure: Scheduled, owner_tz: str | None, now: datetime) -> datetime | None:
    """When `measure` is next prompted: the next cycle start in its owner's timezone, or None when it
    takes no check-ins (no owner; an idea, realised, on hold or cancelled)."""
    if measure.owner_id is None or measure.stage not in ACTIVE_STAGES:
        return None
    return next_cycle_start(schedule_of(measure), zone(owner_tz), now)
