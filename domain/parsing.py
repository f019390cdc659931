"""Pure parsers for what people type (amounts: domain/money.py): dates, cadences, mentions, plan and risk lines.

Each raises `InputError` with a sentence meant for the person who typed the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from domain.enums import WEEKDAYS, Cadence, Severity


class InputError(ValueError):
    """A value someone typed is not usable; str(error) is the friendly explanation."""


def bounded(text: str, *, limit: int, what: str) -> str:
    """`text` when it fits in `limit` characters; otherwise refused (never cut without a word)."""
    if len(text) > limit:
        raise InputError(f"{what} can be at most {limit:,} characters; this one has {len(text):,}. Shorten it.")
    return text


def too_long(text: str, *, limit: int, what: str) -> str | None:
    """`bounded`'s sentence when `text` does not fit, else None: for an inline modal error."""
    try:
        bounded(text, limit=limit, what=what)
    except InputError as error:
        return str(error)
    return None


MAX_AMOUNT = 10**15  # whole currency units; larger figures are refused (domain/money.py)


def parse_date(text: str) -> date:
    raw = text.strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"“{raw}” is not a date: use YYYY-MM-DD, like 2027-03-31") from None


def parse_time(text: str) -> time:
    raw = text.strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InputError(f"“{raw}” is not a time of day: use HH:MM, like 09:00")
    return time(int(match[1]), int(match[2]))


def parse_weekday(text: str) -> int:
    raw = text.strip().lower()[:3]
    if raw not in WEEKDAYS:
        raise InputError(f"“{text.strip()}” is not a weekday: use mon, tue, wed, thu, fri, sat or sun")
    return WEEKDAYS.index(raw)


def parse_cadence_word(text: str) -> Cadence:
    raw = text.strip().lower().replace("-", "")
    aliases = {"everytwoweeks": "biweekly", "fortnightly": "biweekly", "2weeks": "biweekly"}
    raw = aliases.get(raw.replace(" ", ""), raw)
    try:
        return Cadence(raw)
    except ValueError:
        raise InputError(f"“{text.strip()}” is not a cadence: use weekly, biweekly or monthly") from None


@dataclass(frozen=True)
class Schedule:
    cadence: Cadence = Cadence.WEEKLY
    weekday: int = 0
    at: time = time(9, 0)


def parse_schedule(text: str) -> Schedule:
    """'weekly', 'biweekly thu', 'monthly mon 14:30' (defaults: weekly, Monday, 09:00)."""
    words = text.split()
    if not words:
        return Schedule()
    if len(words) > 3:
        raise InputError(f"“{text.strip()}” is not a cadence: use e.g. “weekly mon 09:00”")
    cadence = parse_cadence_word(words[0])
    weekday, at = 0, time(9, 0)
    for word in words[1:]:
        if ":" in word:
            at = parse_time(word)
        else:
            weekday = parse_weekday(word)
    return Schedule(cadence, weekday, at)


def _slack_id(text: str, sigil: str, first: str) -> str | None:
    """Slack's escaped reference ('<@U123|ann>', '<#C123|general>') or a bare id -> the id, which
    starts with one of `first`; anything else -> None."""
    raw = text.strip()
    match = re.fullmatch(rf"<{sigil}([{first}][A-Z0-9]{{2,31}})(?:\|[^>]*)?>", raw)
    if match:
        return match[1]
    return raw if re.fullmatch(rf"[{first}][A-Z0-9]{{2,31}}", raw) else None  # ids fit in 32 characters


def parse_user_mention(text: str) -> str | None:
    """'<@U123|ann>' or 'U123' -> 'U123'; anything else -> None."""
    return _slack_id(text, "@", "UW")


def parse_channel(text: str) -> str | None:
    """'<#C123|general>' or 'C123' -> 'C123'; anything else (a bare '#name') -> None."""
    return _slack_id(text, "#", "CG")


# An organization's own keys: letters, digits and dashes, starting with a letter, with a dash, at most
# 24 characters (`OPS-12`, `FIN-2024-003`, `M-7`). Stored and compared in capitals.
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$")
KEY_LENGTH = 24
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}$")


def parse_key(text: str) -> str:
    raw = text.strip()
    if len(raw) > KEY_LENGTH or not _KEY.match(raw):
        shown = raw if len(raw) <= 40 else raw[:39] + "…"
        raise InputError(
            f"“{shown}” is not a measure key: keys are letters, digits and dashes, start with a letter and hold a "
            f"dash, at most {KEY_LENGTH} characters (M-12, OPS-12, FIN-2024-003)"
        )
    return raw.upper()  # in any case: ops-12 is OPS-12


def parse_key_prefix(text: str) -> str:
    """An organization's prefix of the keys of measures created in Slack (`OPS` makes OPS-13)."""
    raw = text.strip()
    if not _PREFIX.match(raw):
        raise InputError(f"“{raw[:40]}” is not a key prefix: 1 to 10 letters and digits, starting with a letter")
    return raw.upper()


def parse_keys(text: str | None) -> list[str]:
    if not text or not text.strip():
        return []
    keys = [parse_key(part) for part in re.split(r"[,\s]+", text.strip()) if part]
    return sorted(set(keys), key=key_order)


def key_order(key: str) -> tuple[tuple[int, int | str], ...]:
    """Keys in the order people count them: M-2 before M-10, FIN-2024-003 by its parts."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in key.split("-"))


@dataclass(frozen=True)
class RiskLine:
    severity: Severity
    text: str
    mitigation: str


def parse_risks(text: str | None) -> list[RiskLine]:
    """Lines like 'high: supplier delay | second supplier lined up'."""
    risks = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        severity_word, sep, rest = line.partition(":")
        try:
            severity = Severity(severity_word.strip().lower())
        except ValueError:
            severity = None
        if not sep or severity is None or not rest.strip():
            raise InputError(
                f"line {number}: write each risk as “low|medium|high: risk | mitigation”, "
                "like “high: supplier delay | second supplier”"
            )
        risk_text, _, mitigation = rest.partition("|")
        where = f"Line {number}: the risk"
        risks.append(
            RiskLine(
                severity,
                bounded(risk_text.strip(), limit=500, what=where),
                bounded(mitigation.strip(), limit=500, what=f"Line {number}: the mitigation"),
            )
        )
    return risks


_URL = re.compile(r"^https?://[^\s<>|]+$")


def parse_urls(text: str | None) -> list[str]:
    urls = []
    for line in (text or "").split():
        if not _URL.match(line):
            raise InputError(f"“{line}” is not a link: evidence must be http(s) links, one per line")
        urls.append(bounded(line, limit=1000, what="A link"))
    return urls


@dataclass(frozen=True)
class CommandLine:
    name: str
    args: list[str]


def split_command(text: str) -> CommandLine:
    words = text.split()
    if not words:
        return CommandLine("help", [])
    return CommandLine(words[0].lower(), words[1:])
