"""Working calendars: which days a person works (weekdays, less the public holidays of a region) and
their quiet hours, in their timezone. Pure functions over a `WorkingCalendar`; public holidays come
from the `holidays` package (a country or subdivision code such as `DE` or `DE-BY`).

- A check-in due on a non-working day goes out on the next working day at the same local time.
- Delays (reminder, overdue) count the hours of working days only: 48 hours after Friday 09:00 is
  Tuesday 09:00 for a Monday-to-Friday week.
- Nothing is sent outside working time (a non-working day, or the quiet hours): it waits for the
  next working instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as public_holidays

from domain.parsing import InputError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONDAY_TO_FRIDAY = frozenset(range(5))
DEFAULT_WORKING_DAYS = "mon-fri"


def parse_working_days(text: str) -> frozenset[int]:
    """`mon-fri`, `sun-thu`, `mon,tue,thu` or `mon-wed,fri` -> weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for part in text.strip().lower().replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        if first not in DAY_NAMES or (dash and last not in DAY_NAMES):
            raise InputError(f"“{text[:40]}” is not a set of working days: write e.g. mon-fri or mon,tue,thu")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last if dash else first)
        days.update((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return frozenset(days)


def working_days_text(days: frozenset[int]) -> str:
    """The days as people type them back (`mon-fri`, `mon,wed,fri`)."""
    ordered = sorted(days)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{DAY_NAMES[ordered[0]]}-{DAY_NAMES[ordered[-1]]}"
    return ",".join(DAY_NAMES[d] for d in ordered)


def check_region(text: str) -> str:
    """A holiday region: `none`, a country (`DE`) or a country and subdivision (`DE-BY`)."""
    code = text.strip().upper()
    if code in ("", "NONE"):
        return ""
    country, _dash, subdivision = code.partition("-")
    supported = public_holidays.list_supported_countries()
    if country not in supported or (subdivision and subdivision not in [s.upper() for s in supported[country]]):
        raise InputError(f"“{text[:20]}” is not a holiday region: use a country or subdivision code like DE or DE-BY")
    return code


@lru_cache(maxsize=256)
def _holidays(region: str, year: int) -> frozenset[date]:
    country, _dash, subdivision = region.partition("-")
    found = public_holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())


@dataclass(frozen=True)
class WorkingCalendar:
    days: frozenset[int] = MONDAY_TO_FRIDAY
    region: str = ""  # "" for no public holidays
    quiet: tuple[time, time] | None = None  # local [start, end): e.g. 18:00-08:00 (may cross midnight)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and not (self.region and day in _holidays(self.region, day.year))

    def is_quiet(self, local: time) -> bool:
        if self.quiet is None or self.quiet[0] == self.quiet[1]:
            return False
        start, end = self.quiet
        return start <= local < end if start < end else local >= start or local < end

    def is_working_time(self, instant: datetime) -> bool:
        local = instant.astimezone(self.tz)
        return self.is_working_day(local.date()) and not self.is_quiet(local.time())

    def next_working_time(self, instant: datetime) -> datetime:
        """The first instant at or after `instant` that is working time (a working day, not quiet)."""
        if not self.days:
            return instant  # nobody works on no day: never hold anything back forever
        local = instant.astimezone(self.tz)
        for _ in range(370 * 2):  # a year of days, each tried at its start and at its quiet end
            if self.is_working_time(local):
                return local.astimezone(UTC)
            quiet_end = self._quiet_end_today(local) if self.is_working_day(local.date()) else None
            local = quiet_end or datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.tz)
        return instant

    def _quiet_end_today(self, local: datetime) -> datetime | None:
        if self.quiet is None:
            return None
        end = datetime.combine(local.date(), self.quiet[1], tzinfo=self.tz)
        return end if end > local else None

    def same_time_next_working_day(self, instant: datetime) -> datetime:
        """`instant` when its day is a working day, else the same local time on the next one."""
        local = instant.astimezone(self.tz)
        day = local.date()
        for _ in range(370):
            if self.is_working_day(day) or not self.days:
                return datetime.combine(day, local.time(), tzinfo=self.tz).astimezone(UTC)
            day += timedelta(days=1)
        return instant

    def add_working(self, start: datetime, delta: timedelta) -> datetime:
        """`start` plus `delta` counted on working days only (whole local days; quiet hours count)."""
        if not self.days:
            return start + delta
        local, left = start.astimezone(self.tz), delta
        for _ in range(370 * 4):
            midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.tz)
            if self.is_working_day(local.date()):
                if local + left <= midnight:
                    return (local + left).astimezone(UTC)
                left -= midnight - local
            local = midnight
        return start + delta
