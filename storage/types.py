"""Column types shared by the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


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


def utcnow() -> datetime:
    return datetime.now(UTC)


_BUSINESS_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("pacekeeper_business_clock", default=None)


def business_now() -> datetime:
    """When things happen for the audit trail and created-at stamps: the app's injected clock inside
    its transactions (so `tick --now` and the sandbox's clock control stamp their own time), else
    the real one. Leases and caches use `utcnow`, the machine's clock."""
    clock = _BUSINESS_CLOCK.get()
    return clock() if clock is not None else utcnow()


@contextmanager
def business_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    token = _BUSINESS_CLOCK.set(clock)
    try:
        yield
    finally:
        _BUSINESS_CLOCK.reset(token)
