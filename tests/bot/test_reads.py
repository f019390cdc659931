"""Read-only work takes no write lock: while another process holds the database's write lock,
lists, cards and App Home still answer (on SQLite they would otherwise wait in the busy handler)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import select

from storage.models import AuditLog
from tests.conftest import OWNER, Bot
from tests.factories import add_people, make_measure, make_tree


def hold_write_lock(bot: Bot, release: threading.Event, held: threading.Event) -> None:
    """Another process's writer: the write lock taken and kept until `release`."""
    engine = sa.create_engine(bot.engine.url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("LOCK TABLE measure IN EXCLUSIVE MODE")  # readers pass, writers wait
        held.set()
        release.wait(30)
        connection.exec_driver_sql("ROLLBACK")
    engine.dispose()


async def test_lists_cards_and_home_answer_while_another_process_writes(bot: Bot) -> None:
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, package=make_tree(session))
    await bot.client.command(OWNER, "list mine")  # people refreshed once, before the lock is taken
    await bot.settle()
    release, held = threading.Event(), threading.Event()
    writer = threading.Thread(target=hold_write_lock, args=(bot, release, held))
    writer.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        await bot.client.command(OWNER, "list mine")
        await bot.client.command(OWNER, "show M-1")
        await asyncio.wait_for(bot.settle(), 5)
        elapsed = time.monotonic() - started
        texts = [r.get("text", "") for r in bot.slack.responses(OWNER)]
        assert "Your measures" in texts[-2] and "M-1" in texts[-1]
        assert elapsed < 3, f"reads waited {elapsed:.1f} s for the writer"
    finally:
        release.set()
        writer.join()


async def test_a_write_attempted_in_a_read_fails_instead_of_waiting(bot: Bot) -> None:
    def write(session: object) -> None:
        session.add(AuditLog(actor=OWNER, entity="measure", entity_key="M-1", action="x"))  # type: ignore[attr-defined]
        session.flush()  # type: ignore[attr-defined]

    with pytest.raises(sa.exc.DBAPIError, match=r"readonly|read-only"):
        await bot.app.deps.read(write)
    with bot.session() as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "x")).all() == []
