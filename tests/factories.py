"""Factories for test data: rows written through the storage functions the bot uses, and plain data
for the pure functions (rendering, rollups)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from bot.standin.server import SlackStandIn
from domain.enums import Level, Severity
from domain.figures import MonthTotal, Period
from domain.measure_schema import MeasureDraft
from domain.parsing import RiskLine
from slackkit.people import store_user
from storage.digest_data import Attention, DigestData, PackageMonth, StageGroup
from storage.measures import create_measure
from storage.models import Measure, Unit
from storage.queries import get_child_unit
from storage.types import now_of
from tests.conftest import CONTROLLER, OWNER, SPONSOR


def make_tree(
    session: Session, *, names: tuple[str, ...] = ("Acme", "Ops", "Procurement", "Suppliers", "Packaging")
) -> Unit:
    """Organization > … > package, created as needed; returns the package."""
    parent: Unit | None = None
    for level, name in zip(Level, names, strict=True):
        parent_id = parent.id if parent else None
        unit = get_child_unit(session=session, parent_id=parent_id, name=name)
        if unit is None:
            unit = Unit(level=level, name=name, parent_id=parent_id)
            session.add(unit)
            session.flush()
        parent = unit
    assert parent is not None
    return parent


def complete_draft(package_id: int, **overrides: Any) -> MeasureDraft:
    """A draft that meets DI1 and DI2 entry criteria."""
    draft = MeasureDraft(
        title="Consolidate suppliers",
        package_id=package_id,
        owner_id=OWNER,
        sponsor_id=SPONSOR,
        controller_id=CONTROLLER,
        business_unit="Consumer",
        function="Procurement",
        baseline=1_000_000,
        target=120_000,
        due=date(2027, 6, 30),
        monthly_plan={date(2027, m, 1): 10_000 for m in range(1, 13)},
        risks=[RiskLine(Severity.HIGH, "supplier delay", "second supplier")],
        dependency_keys=[],
        dependencies_stated=True,
    )
    return replace(draft, **overrides)


def make_measure(
    session: Session, *, package: Unit | None = None, actor: str = OWNER, now: datetime | None = None,
    key: str | None = None, **overrides: Any,
) -> Measure:  # fmt: skip
    package = package or make_tree(session)
    assert package.id is not None
    draft = complete_draft(package.id, **overrides)
    return create_measure(session=session, draft=draft, actor=actor, now=now or now_of(session), key=key)


def add_people(session: Session, standin: SlackStandIn) -> None:
    """Store the stand-in's users as the bot would after users.info (names, timezones)."""
    for user in standin.state.users.values():
        store_user(session=session, user=user)


DIGEST_NOW = datetime(2027, 3, 5, 15, tzinfo=UTC)


def digest_data(attention: int, loaded: int | None = None) -> DigestData:
    """What a digest of a unit with `attention` measures needing attention shows (`loaded` of them listed)."""
    groups = [
        StageGroup(1, "DI3", "on_track", 10, 100_000, 2, 1),
        StageGroup(2, "DI1", "off_track", 5, 50_000, 0, 0),
        StageGroup(2, "DI0", "not_started", 3, 30_000, 0, 0),
    ]
    money = [
        PackageMonth(1, MonthTotal(date(2027, m, 1), 1_000, 900, 800 if m < 3 else 900, 800 if m < 3 else None))
        for m in range(1, 13)
    ]
    rows = [
        Attention(f"M-{n}", "A title " * 20, "U1", "off_track", "at_risk", "blocked\nby legal")
        for n in range(attention)
    ]
    return DigestData(
        unit_name="Ops", unit_path="Acme › Ops", child_level="program", now=DIGEST_NOW, since=DIGEST_NOW,
        period=Period(date(2027, 1, 1), date(2027, 12, 1)), closed_through=date(2027, 2, 1),
        groups=groups, potential=Counter({"at_risk": 15}), owners=Counter({"U1": 15}), delivered_with_evidence=0,
        attention=rows[: loaded if loaded is not None else attention], attention_total=attention,
        child_of_package={1: "Procurement", 2: "Logistics"}, money=money, changes=[], approvals=[], escalations=[],
    )  # fmt: skip
