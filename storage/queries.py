"""Keyword-only query functions over the tables. No Slack here; callers own the session."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.enums import CheckinState, Level
from domain.figures import Month
from storage.models import (
    AuditLog,
    CheckIn,
    Dependency,
    DigestRun,
    Evidence,
    Measure,
    MeasureMonth,
    Outbox,
    Person,
    Risk,
    Unit,
)
from storage.types import SendState, machine_now, now_of

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


# ---- audit ------------------------------------------------------------------------------------
def record_audit(
    *,
    session: Session,
    actor: str,
    entity: str,
    entity_key: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        entity=entity,
        entity_key=entity_key,
        action=action,
        detail=json.dumps(detail or {}, default=_jsonable, sort_keys=True),
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)


# ---- leased work ------------------------------------------------------------------------------
def claimable(table: type[Outbox] | type[DigestRun]) -> sa.ColumnElement[bool]:
    """Owed and not held: pending, or being sent by a process whose lease has run out (outbox rows and
    digest runs are claimed alike)."""
    leased_out = (col(table.state) == SendState.SENDING) & (col(table.lease_until) < machine_now())
    return (col(table.state) == SendState.PENDING) | leased_out


# ---- people -----------------------------------------------------------------------------------
def get_person(*, session: Session, slack_id: str) -> Person | None:
    return session.get(Person, slack_id)


def upsert_person(
    *,
    session: Session,
    slack_id: str,
    name: str,
    email: str | None,
    tz: str,
    is_workspace_admin: bool,
    active: bool = True,
) -> Person:
    person = session.get(Person, slack_id) or Person(slack_id=slack_id)
    person.name, person.email, person.tz = name, email, tz
    person.is_workspace_admin, person.active = is_workspace_admin, active
    person.refreshed_at = now_of(session)
    session.add(person)
    return person


def ensure_person_rows(*, session: Session, slack_ids: Iterable[str | None]) -> None:
    """Make sure a row exists for each id (details are refreshed from users.info later)."""
    wanted = {i for i in slack_ids if i}
    if not wanted:
        return
    known = set(session.exec(select(col(Person.slack_id)).where(col(Person.slack_id).in_(wanted))).all())
    for slack_id in sorted(wanted - known):
        session.add(Person(slack_id=slack_id, refreshed_at=NEVER))
    session.flush()


# ---- units ------------------------------------------------------------------------------------
def find_units_by_name(*, session: Session, name: str) -> Sequence[Unit]:
    return session.exec(select(Unit).where(sa.func.lower(col(Unit.name)) == name.strip().lower())).all()


def get_child_unit(*, session: Session, parent_id: int | None, name: str) -> Unit | None:
    query = select(Unit).where(Unit.name == name)
    query = query.where(col(Unit.parent_id).is_(None) if parent_id is None else Unit.parent_id == parent_id)
    return session.exec(query).first()


def all_units(*, session: Session) -> Sequence[Unit]:
    return session.exec(select(Unit).order_by(col(Unit.id))).all()


def path_in(units_by_id: Mapping[int | None, Unit], unit: Unit) -> list[Unit]:
    """The unit and its ancestors, organization first, from units already loaded (no queries)."""
    path = [unit]
    while path[0].parent_id in units_by_id:
        path.insert(0, units_by_id[path[0].parent_id])
    return path


def unit_path(*, session: Session, unit: Unit) -> list[Unit]:
    """The unit and its ancestors, organization first."""
    path = [unit]
    while path[0].parent_id is not None:
        parent = session.get(Unit, path[0].parent_id)
        if parent is None:
            break
        path.insert(0, parent)
    return path


def descendant_package_ids(*, session: Session, unit: Unit) -> list[int]:
    """Ids of the measure packages at or below `unit` (one query per level, at most five)."""
    frontier, packages = [unit], []
    while frontier:
        packages += [u.id for u in frontier if u.level == Level.PACKAGE and u.id is not None]
        parent_ids = [u.id for u in frontier if u.level != Level.PACKAGE]
        frontier = (
            list(session.exec(select(Unit).where(col(Unit.parent_id).in_(parent_ids))).all()) if parent_ids else []
        )
    return packages


# ---- measures ---------------------------------------------------------------------------------
def get_measure(*, session: Session, key: str) -> Measure | None:
    """Keys are stored in capitals (storage.models.Measure.key), so any case finds the measure through
    the key's unique index (`upper(key) = …` read every row: an import of 50,000 lines read 50,000
    rows per line)."""
    return session.exec(select(Measure).where(col(Measure.key) == key.strip().upper())).first()


def get_measures_by_keys(*, session: Session, keys: Iterable[str]) -> dict[str, Measure]:
    wanted = {k.strip().upper() for k in keys}
    if not wanted:
        return {}
    found = session.exec(select(Measure).where(col(Measure.key).in_(wanted))).all()
    return {m.key: m for m in found}


def find_measure_by_title(*, session: Session, package_id: int, title: str) -> Measure | None:
    return session.exec(select(Measure).where(Measure.package_id == package_id, Measure.title == title)).first()


def next_measure_number(*, session: Session) -> int:
    return (session.exec(select(sa.func.max(col(Measure.number)))).one() or 0) + 1


def _in_a_role(slack_id: str) -> sa.ColumnElement[bool]:
    return sa.or_(
        col(Measure.owner_id) == slack_id, col(Measure.sponsor_id) == slack_id, col(Measure.controller_id) == slack_id
    )


def measures_for_person(*, session: Session, slack_id: str, limit: int = 200) -> Sequence[Measure]:
    """Measures where the person is owner, sponsor or controller."""
    query = select(Measure).where(_in_a_role(slack_id)).order_by(col(Measure.number))
    return session.exec(query.limit(limit)).all()


def count_measures_for_person(*, session: Session, slack_id: str) -> int:
    return session.exec(select(sa.func.count()).select_from(Measure).where(_in_a_role(slack_id))).one()


def measures_in_packages(*, session: Session, package_ids: Sequence[int], limit: int = 200) -> Sequence[Measure]:
    if not package_ids:
        return []
    query = select(Measure).where(col(Measure.package_id).in_(package_ids)).order_by(col(Measure.number))
    return session.exec(query.limit(limit)).all()


def count_measures_in_packages(*, session: Session, package_ids: Sequence[int]) -> int:
    if not package_ids:
        return 0
    query = select(sa.func.count()).select_from(Measure).where(col(Measure.package_id).in_(package_ids))
    return session.exec(query).one()


def months_of(*, session: Session, measure_id: int) -> Sequence[MeasureMonth]:
    query = select(MeasureMonth).where(MeasureMonth.measure_id == measure_id).order_by(col(MeasureMonth.month))
    return session.exec(query).all()


def month_series(*, session: Session, measure_id: int) -> list[Month]:
    """The measure's months as the money definitions take them (domain/figures.py)."""
    return [
        Month(m.month, m.plan, m.forecast, m.actual, m.decided_plan)
        for m in months_of(session=session, measure_id=measure_id)
    ]


def risks_of(*, session: Session, measure_id: int) -> Sequence[Risk]:
    return session.exec(select(Risk).where(Risk.measure_id == measure_id).order_by(col(Risk.id))).all()


def evidence_of(*, session: Session, measure_id: int) -> Sequence[Evidence]:
    return session.exec(select(Evidence).where(Evidence.measure_id == measure_id).order_by(col(Evidence.id))).all()


def dependency_keys_of(*, session: Session, measure_id: int) -> list[str]:
    query = (
        select(col(Measure.key))
        .join(Dependency, col(Dependency.depends_on_id) == col(Measure.id))
        .where(Dependency.measure_id == measure_id)
        .order_by(col(Measure.number))
    )
    return list(session.exec(query).all())


def open_checkins_of(*, session: Session, owner_id: str, now: datetime) -> list[tuple[int, str, str, datetime]]:
    """(check-in id, key, title, closes at) of the owner's unanswered check-ins in open cycles."""
    query = (
        select(col(CheckIn.id), col(Measure.key), col(Measure.title), col(CheckIn.cycle_end))
        .join(Measure, col(Measure.id) == col(CheckIn.measure_id))
        .where(CheckIn.owner_id == owner_id, CheckIn.status == CheckinState.PENDING, col(CheckIn.cycle_end) > now)
        .where(col(CheckIn.prompted_at).is_not(None))
        .order_by(col(CheckIn.cycle_end), col(Measure.number))
    )
    return [tuple(row) for row in session.exec(query).all()]  # type: ignore[misc]
