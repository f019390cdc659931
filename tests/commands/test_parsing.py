from __future__ import annotations

from datetime import date, time

import pytest

from domain.enums import Cadence, Severity
from domain.money import DEFAULT_STYLE, parse_monthly_plan
from domain.parsing import (
    InputError,
    parse_date,
    parse_keys,
    parse_risks,
    parse_schedule,
    parse_urls,
    parse_user_mention,
    split_command,
)


def test_dates() -> None:
    assert parse_date(" 2027-03-31 ") == date(2027, 3, 31)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        parse_date("31/03/2027")


def test_schedules() -> None:
    assert parse_schedule("") == parse_schedule("weekly")
    schedule = parse_schedule("biweekly thu 14:30")
    assert (schedule.cadence, schedule.weekday, schedule.at) == (Cadence.BIWEEKLY, 3, time(14, 30))
    assert parse_schedule("Monthly").cadence is Cadence.MONTHLY
    for bad in ("daily", "weekly funday", "weekly 25:00", "weekly mon 09:00 extra"):
        with pytest.raises(InputError):
            parse_schedule(bad)


def test_mentions_and_keys() -> None:
    assert parse_user_mention("<@U012AB|ann>") == "U012AB"
    assert parse_user_mention("U012AB") == "U012AB"
    assert parse_user_mention("procurement") is None
    assert parse_keys("m-3, M-1 M-3") == ["M-1", "M-3"]
    with pytest.raises(InputError):
        parse_keys("M-1, X")


def test_monthly_plan_and_risks() -> None:
    plan = parse_monthly_plan("2027-01: 10k\n\n2027-02 = 5000", DEFAULT_STYLE)
    assert plan == {date(2027, 1, 1): 10_000, date(2027, 2, 1): 5_000}
    for bad in ("2027-13: 1", "Jan: 1", "2027-01: 1\n2027-01: 2", "2027-01: many"):
        with pytest.raises(InputError, match="line"):
            parse_monthly_plan(bad, DEFAULT_STYLE)
    risks = parse_risks("HIGH: supplier delay | second supplier\nlow: rain")
    assert [(r.severity, r.text, r.mitigation) for r in risks] == [
        (Severity.HIGH, "supplier delay", "second supplier"),
        (Severity.LOW, "rain", ""),
    ]
    with pytest.raises(InputError, match="line 1"):
        parse_risks("dire: everything")


def test_urls_and_command_lines() -> None:
    assert parse_urls("https://a.example/x\nhttp://b.example") == ["https://a.example/x", "http://b.example"]
    with pytest.raises(InputError):
        parse_urls("javascript:alert(1)")
    assert split_command("") == split_command("help")
    line = split_command("  LIST  Packaging  unit ")
    assert (line.name, line.args) == ("list", ["Packaging", "unit"])
