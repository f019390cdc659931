"""Actuals, month by month: which months take one, who may write them, and when one is locked.

A month takes an actual once it is closed (over, by the organization's date) and lies within the
plan's horizon (from its first to its last planned month). The owner or the controller enters
actuals; the controller validates them, and a validated month is locked: only the controller
changes it, and only with a reason. DI5's "actuals validated" means every closed month of the plan
has a validated actual (docs/money.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.figures import add_months


@dataclass(frozen=True)
class KnownActual:
    """A month's actual as stored, and whether the controller has validated it."""

    actual: int | None = None
    validated: bool = False


def closed_plan_months(planned: Iterable[date], closed_through: date) -> list[date]:
    """The months of the plan's horizon that are closed: the ones that take an actual."""
    months = sorted(planned)
    if not months:
        return []
    found, month = [], months[0]
    while month <= min(months[-1], closed_through):
        found.append(month)
        month = add_months(month, 1)
    return found


def entry_errors(
    entries: Mapping[date, int | None],
    *,
    open_to_entry: Iterable[date],
    known: Mapping[date, KnownActual],
    controller: bool,
    reason: str,
) -> dict[date, str]:
    """Why each entry that cannot be stored cannot (empty when all can): a month outside the closed
    months of the plan, or a validated month changed by someone other than the controller, or by
    the controller without a reason. Entries that change nothing are always fine."""
    allowed, errors = set(open_to_entry), {}
    for month, actual in entries.items():
        was = known.get(month, KnownActual())
        if actual == was.actual:
            continue
        if month not in allowed:
            errors[month] = f"{month:%Y-%m} is not a closed month of the plan: actuals are for months that are over."
        elif was.validated and not controller:
            errors[month] = f"{month:%Y-%m} was validated by the controller: only the controller changes it."
        elif was.validated and not reason.strip():
            errors[month] = f"{month:%Y-%m} was validated: give a reason to change it."
    return errors


def months_asked(closed: list[date], policy: int | None) -> list[date]:
    """The closed months DI5 asks validated actuals for: all of them, or the latest `policy`."""
    return closed[-policy:] if policy else closed


def unvalidated(months: Iterable[date], known: Mapping[date, KnownActual]) -> list[date]:
    """The months of `months` without a validated actual."""
    return [m for m in months if not (known.get(m, KnownActual()).validated and known[m].actual is not None)]
