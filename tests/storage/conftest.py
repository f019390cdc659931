"""Storage tests call the storage functions directly, in transactions on the injected test clock,
on SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import session_scope
from storage.models import Person
from tests.conftest import CONTROLLER, OWNER, SPONSOR, Clock

Transaction = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def db(engine: Engine, clock: Clock) -> Transaction:
    """`with db() as session:` one transaction, stamped by the test clock; the three people exist."""
    with session_scope(engine, clock=clock) as session:
        for slack_id, tz in ((OWNER, "Europe/Berlin"), (SPONSOR, "UTC"), (CONTROLLER, "America/New_York")):
            session.add(Person(slack_id=slack_id, name=slack_id, tz=tz, refreshed_at=clock()))
    return lambda: session_scope(engine, clock=clock)
