"""What the API reads: measures as plain records (a page of them, or one with its months), each with
its unit path and its organization's currency.

Read with SQLAlchemy Core on a bare connection (no ORM session, no objects): any number of
measures by key is two statements — their rows joined with their five units, then their months
with their custom field values — and a page is one whatever its size (and the unit tree's, to find a
unit by name). The API's p99 under load is measured against a bare aiohttp handler
(bench/api_latency.py); ORM loading cost five times as much per request.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from domain.enums import Level
from domain.money import valid_style
from storage.models import Measure, MeasureFieldValue, MeasureMonth, Unit
from storage.tree import UnitTree

MAX_PAGE = 500
_M, _MONTH, _UNIT = Measure.__table__, MeasureMonth.__table__, Unit.__table__  # type: ignore[attr-defined]
_VALUE = MeasureFieldValue.__table__  # type: ignore[attr-defined]
_FIELDS = ("id", "key", "title", "description", "package_id", "stage", "held_from_stage", "impl_status",
           "potential_status", "owner_id", "sponsor_id", "controller_id", "due", "baseline", "target",
           "one_time_cost", "version", "updated_at")  # fmt: skip


class MeasureRecord(NamedTuple):
    id: int
    key: str
    title: str
    description: str
    package_id: int
    stage: str
    held_from_stage: str | None
    impl_status: str
    potential_status: str
    owner_id: str | None
    sponsor_id: str | None
    controller_id: str | None
    due: date | None
    baseline: int | None
    target: int | None
    one_time_cost: int | None
    version: int
    updated_at: datetime


class ApiMonth(NamedTuple):
    month: date
    plan: int | None
    forecast: int | None
    actual: int | None
    actual_validated: bool


@dataclass(frozen=True)
class ApiMeasure:
    measure: MeasureRecord
    path: dict[str, str]  # level -> name, organization to measure package
    currency: str
    months: list[ApiMonth] | None = None  # only for one measure
    # Only for one measure: its custom fields' values, canonical (domain/custom_fields.py), by name.
    fields: dict[str, str] | None = None


@dataclass(frozen=True)
class ApiPage:
    measures: list[ApiMeasure]
    next_after: int | None  # the cursor of the next page, None on the last


class UnitNotFound(Exception):
    """No unit, or more than one, has the name: the sentence says which."""


_MEASURE_COLUMNS = [_M.c[name] for name in _FIELDS]


def _measures_with_path() -> sa.Select[Any]:
    """A measure's row with the names of its package and the four units above it, and its
    organization's currency and locale: the tree has exactly these five levels (domain.enums.Level)."""
    units = [_UNIT.alias(f"unit_{level}") for level in Level]  # organization … package
    joined = _M.outerjoin(units[-1], units[-1].c.id == _M.c.package_id)
    for upper, lower in zip(units[-2::-1], units[:0:-1], strict=True):
        joined = joined.outerjoin(upper, upper.c.id == lower.c.parent_id)
    names = [unit.c.name for unit in units]
    return sa.select(*_MEASURE_COLUMNS, *names, units[0].c.currency, units[0].c.locale).select_from(joined)


_WITH_PATH = _measures_with_path()


def measure_detail(*, connection: Connection, key: str) -> ApiMeasure | None:
    return measure_details(connection=connection, keys=[key]).get(key.upper())


_MANY = _WITH_PATH.where(_M.c.key.in_(sa.bindparam("keys", expanding=True)))
_IDS: sa.BindParameter[int] = sa.bindparam("ids", expanding=True)
# Their months and their custom field values in one statement (a field's row has no month, a
# month's row no name): a third round trip cost the API's p99 under load (docs/api.md).
_MANY_MONTHS = sa.union_all(
    sa.select(_MONTH.c.measure_id, _MONTH.c.month, _MONTH.c.plan, _MONTH.c.forecast, _MONTH.c.actual,
              _MONTH.c.actual_validated_by, sa.cast(sa.null(), _VALUE.c.name.type).label("name"),
              sa.cast(sa.null(), _VALUE.c.value.type).label("value"))
    .where(_MONTH.c.measure_id.in_(_IDS))
    .where(sa.or_(_MONTH.c.plan.is_not(None), _MONTH.c.forecast.is_not(None), _MONTH.c.actual.is_not(None))),
    sa.select(_VALUE.c.measure_id, sa.cast(sa.null(), _MONTH.c.month.type), sa.cast(sa.null(), _MONTH.c.plan.type),
              sa.cast(sa.null(), _MONTH.c.forecast.type), sa.cast(sa.null(), _MONTH.c.actual.type),
              sa.cast(sa.null(), _MONTH.c.actual_validated_by.type), _VALUE.c.name, _VALUE.c.value)
    .where(_VALUE.c.measure_id.in_(_IDS)),
).order_by(sa.literal_column("measure_id"), sa.literal_column("month"))  # fmt: skip


def measure_details(*, connection: Connection, keys: Collection[str]) -> dict[str, ApiMeasure]:
    """Several measures with their months and custom field values, by upper-case key, in two
    statements whatever their number (the API answers concurrent reads of single measures with one
    of these)."""
    if not keys:
        return {}
    rows = connection.execute(_MANY, {"keys": sorted({key.upper() for key in keys})}).all()
    months: dict[int, list[ApiMonth]] = {row.id: [] for row in rows}
    values: dict[int, dict[str, str]] = {row.id: {} for row in rows}
    if months:
        for m in connection.execute(_MANY_MONTHS, {"ids": list(months)}):
            if m[6] is not None:
                values[m[0]][m[6]] = m[7]
            else:
                months[m[0]].append(ApiMonth(m[1], m[2], m[3], m[4], m[5] is not None))
    found = {}
    for row in rows:
        record = _record(row)
        found[row.key] = ApiMeasure(record.measure, record.path, record.currency, months[row.id], values[row.id])
    return found


def measure_page(*, connection: Connection, unit: str | None, after: int, limit: int) -> ApiPage:
    """Up to `limit` measures (of the unit named, else all) with an id above `after`, by id."""
    query = _WITH_PATH.where(_M.c.id > after).order_by(_M.c.id).limit(limit + 1)
    if unit is not None:  # the tree as everything else walks it (storage/tree.py), on this connection
        tree = UnitTree.load(session=Session(bind=connection))
        named = tree.named(unit)
        if len(named) != 1:
            raise UnitNotFound(tree.describe_matches(unit, named))
        query = query.where(_M.c.package_id.in_(tree.packages_under(named[0].id or 0)))
    found = connection.execute(query).all()
    shown = [_record(row) for row in found[:limit]]
    return ApiPage(shown, found[limit - 1].id if len(found) > limit else None)


def _record(row: Sequence[Any]) -> ApiMeasure:
    fields = len(_FIELDS)
    names = row[fields : fields + len(Level)]
    path = {str(level): name for level, name in zip(Level, names, strict=True) if name is not None}
    style = valid_style(row[-2], row[-1])
    return ApiMeasure(MeasureRecord._make(row[:fields]), path, style.currency)
