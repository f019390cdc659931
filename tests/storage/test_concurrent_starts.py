"""Two processes starting at once (replicas, or two `tick`s): the first listing of the workspace's
people is claimed by one of them, and migrations are applied once. These raced in CI: the second
insert of the directory's first row failed the whole sweep on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.directory import claim_listing
from storage.models import DirectorySync
from storage.queries import NEVER
from tests.conftest import Clock, scratch_postgres

ROOT = Path(__file__).parents[2]


def test_two_first_claims_at_once_give_the_listing_to_one(engine: Engine, clock: Clock) -> None:
    first_claimed, results, errors = threading.Event(), [], []

    def claim(*, first: bool) -> None:
        try:
            with session_scope(engine, clock=clock) as session:
                results.append(claim_listing(session=session, now=clock(), every=timedelta(hours=12)))
                session.flush()
                if first:
                    first_claimed.set()
                    threading.Event().wait(0.3)  # the other one finds no row either, and inserts too
        except Exception as error:  # reported below: a thread's exception would be lost
            errors.append(error)

    one = threading.Thread(target=claim, kwargs={"first": True})
    one.start()
    first_claimed.wait(5)
    two = threading.Thread(target=claim, kwargs={"first": False})
    two.start()
    one.join(10)
    two.join(10)
    assert errors == [] and sorted(results, key=str) == sorted([NEVER, None], key=str)
    with session_scope(engine, clock=clock) as session:
        assert session.get(DirectorySync, "") is not None


def test_two_processes_migrating_one_new_postgres_database_at_once_both_succeed() -> None:
    with scratch_postgres() as migrated:
        admin = sa.create_engine(migrated.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        empty = migrated + "_empty"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{empty.rsplit("/", 1)[1]}"'))
        try:  # processes, as replicas are (alembic's context is one per process)
            migrate = [sys.executable, "-c", f"from storage.db import upgrade; upgrade({empty!r})"]
            runs = [subprocess.Popen(migrate, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)]
            failures = [run.stderr.read() for run in runs if run.wait(120) != 0 and run.stderr]
            assert failures == []
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{empty.rsplit("/", 1)[1]}" WITH (FORCE)'))
            admin.dispose()
