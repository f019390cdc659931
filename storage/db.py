"""Engines, sessions and migrations.

Sessions are short: open one per unit of work with `session_scope`, never across a Slack call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.money import track_money
from storage.types import Clock, stamp_new_rows

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def create_read_engine(engine: Engine) -> Engine:
    """Where read-only work runs. On SQLite, a second pool whose transactions begin DEFERRED on
    `query_only` connections: under WAL, readers never wait for the writer (nor for each other)
    and see one snapshot each; a write attempted there fails at once instead of taking the lock.
    On PostgreSQL the same pool, its transactions begun READ ONLY (MVCC readers never wait for
    writers either; a write there fails the same way)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(postgresql_readonly=True)
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine  # (an in-memory database is one connection's: a second pool would not see it)
    reader = sa.create_engine(
        engine.url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8, max_overflow=8
    )
    sa.event.listen(reader, "connect", _sqlite_read_only)
    sa.event.listen(reader, "begin", _sqlite_begin_deferred)
    return reader


def _sqlite_read_only(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_begin_deferred(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN")  # a read snapshot from the first read; no lock taken


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin_immediate
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: no fsync per commit, still crash-consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: sa.Connection) -> None:
    """Take SQLite's write lock at the start of every transaction: two processes on one file (serve
    and a tick, say) then wait for each other instead of failing on a stale read snapshot."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine, *, clock: Clock) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises. `clock` is the
    one every timestamp written in it comes from (`storage.types.now_of`)."""
    with Session(engine, expire_on_commit=False, info={"clock": clock}) as session:
        track_money(session)
        sa.event.listen(session, "before_flush", stamp_new_rows)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Apply every migration not yet applied (idempotent)."""
    command.upgrade(alembic_config(url), "head")


def is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
