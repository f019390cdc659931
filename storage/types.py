"""Column types shared by the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


class SendState(StrEnum):
    """Where a message owed (an outbox row, a digest run) stands. `sending` is held under a lease."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive, in UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The machine's clock: the default clock the app injects when it is given none."""
    return datetime.now(UTC)


def machine_now() -> datetime:
    """Real elapsed time, for leases and cache ages only: a lease is measured against other
    processes and against Slack's own message timestamps, which follow the machine, not the
    business clock (`tick --now` in the past, the sandbox played ahead)."""
    return datetime.now(UTC)


def now_of(session: Session) -> datetime:
    """Now, by the clock this transaction was opened with (`session_scope(engine, clock=...)`): the
    app's injected clock, so `tick --now` and the sandbox's clock control stamp their own time."""
    clock: Clock = session.info["clock"]
    return clock()


STAMPED = "pacekeeper_stamped"  # column info: set to the transaction's now when a row is first written


def stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: give each new row's creation stamp (`created_at`, `at`, …) the transaction's
    now, unless it was given one."""
    for row in session.new:
        for key in _stamped_keys(type(row)):
            if getattr(row, key) is None:
                setattr(row, key, now_of(session))


_STAMPED_KEYS: dict[type, tuple[str, ...]] = {}


def _stamped_keys(table: type) -> tuple[str, ...]:
    """The table's stamped columns, looked up once per class."""
    if table not in _STAMPED_KEYS:
        mapper: Any = sa.inspect(table)
        _STAMPED_KEYS[table] = tuple(c.key for c in mapper.columns if c.info.get(STAMPED))
    return _STAMPED_KEYS[table]


@contextmanager
def clock_at(session: Session, instant: datetime) -> Iterator[None]:
    """Write what happens inside as if at `instant` (the sandbox's history, ten weeks back)."""
    session.flush()  # what came before is stamped with the transaction's own clock
    clock = session.info["clock"]
    session.info["clock"] = lambda: instant
    try:
        yield
        session.flush()
    finally:
        session.info["clock"] = clock
