"""The unit tree loaded in one query, for rollups and rules that walk it many times."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session

from domain.enums import Level
from domain.escalation_rules import PortfolioRules
from storage.models import Unit
from storage.queries import all_units, path_in


@dataclass
class UnitTree:
    units: dict[int | None, Unit]
    children: dict[int | None, list[Unit]] = field(default_factory=lambda: defaultdict(list))
    # package id -> its portfolio's rules: the rules sweep asks once per flagged measure
    _rules_of: dict[int, tuple[PortfolioRules, Unit | None]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def load(cls, *, session: Session) -> UnitTree:
        units = list(all_units(session=session))
        tree = cls({u.id: u for u in units})
        for unit in units:
            tree.children[unit.parent_id].append(unit)
        return tree

    def path(self, unit_id: int) -> list[Unit]:
        return path_in(self.units, self.units[unit_id])

    def path_text(self, unit_id: int) -> str:
        return " › ".join(u.name for u in self.path(unit_id))

    def packages_under(self, unit_id: int) -> list[int]:
        """The measure packages at or below the unit."""
        found, frontier = [], [self.units[unit_id]]
        while frontier:
            unit = frontier.pop()
            if unit.level == Level.PACKAGE:
                found.append(unit.id or 0)
            frontier += self.children.get(unit.id, [])
        return sorted(found)

    def ancestor_at(self, unit_id: int, level: Level) -> Unit | None:
        return next((u for u in self.path(unit_id) if u.level == level), None)

    def portfolio_rules(self, package_id: int) -> tuple[PortfolioRules, Unit | None]:
        if package_id not in self._rules_of:
            portfolio = self.ancestor_at(package_id, Level.PORTFOLIO) if package_id in self.units else None
            self._rules_of[package_id] = PortfolioRules.parse(portfolio.rules if portfolio else None), portfolio
        return self._rules_of[package_id]

    def timezone_of(self, unit_id: int) -> str:
        organization = self.ancestor_at(unit_id, Level.ORGANIZATION)
        return (organization.timezone if organization else None) or "UTC"

    def named(self, name: str) -> list[Unit]:
        wanted = " ".join(name.split()).lower()
        return [u for u in self.units.values() if u.name.lower() == wanted]

    def describe_matches(self, name: str, units: list[Unit], *, what: str = "unit") -> str:
        """Why `name` does not name exactly one unit (or `what` was looked for), for the person who typed it."""
        if not units:
            return f"There is no {what} called “{name[:80]}”."
        paths = "; ".join(self.path_text(u.id or 0) for u in units[:10])
        return f"More than one {what} is called “{name[:80]}”: {paths}."
