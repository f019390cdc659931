"""storage.types and storage.db: UTC instants, stamps from the transaction's clock, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from storage.models import AuditLog, Person
from storage.queries import record_audit
from storage.types import clock_at, now_of
from tests.conftest import OWNER, Clock
from tests.storage.conftest import Transaction


def test_new_rows_are_stamped_with_the_transactions_clock(db: Transaction, clock: Clock) -> None:
    with db() as session:
        assert now_of(session) == clock()
        record_audit(session=session, actor=OWNER, entity="measure", entity_key="M-1", action="edited")
        earlier = clock() - timedelta(weeks=10)
        with clock_at(session, earlier):
            record_audit(session=session, actor=OWNER, entity="measure", entity_key="M-2", action="edited")
        given = datetime(2020, 1, 1, tzinfo=UTC)
        session.add(AuditLog(actor=OWNER, entity="measure", entity_key="M-3", action="edited", at=given))
    with db() as session:
        stamps = {a.entity_key: a.at for a in session.exec(select(AuditLog)).all()}
    assert stamps == {"M-1": clock(), "M-2": earlier, "M-3": given}  # a stamp given is kept


def test_naive_datetimes_are_refused_and_nothing_is_written(db: Transaction) -> None:
    with pytest.raises(Exception, match="naive datetime"), db() as session:
        session.add(Person(slack_id="U0NAIVE", name="n", tz="UTC", refreshed_at=datetime(2027, 1, 1)))
        session.flush()
    with db() as session:
        assert session.get(Person, "U0NAIVE") is None


def test_a_transaction_that_raises_leaves_nothing(db: Transaction) -> None:
    with pytest.raises(RuntimeError), db() as session:
        record_audit(session=session, actor=OWNER, entity="measure", entity_key="M-9", action="edited")
        session.flush()
        raise RuntimeError("the listener failed")
    with db() as session:
        assert session.exec(select(AuditLog)).all() == []


def test_times_come_back_as_utc_from_any_zone(db: Transaction) -> None:
    berlin = datetime(2027, 3, 1, 13, 0, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    with db() as session:
        session.add(AuditLog(actor=OWNER, entity="measure", entity_key="M-1", action="x", at=berlin))
    with db() as session:
        stored = session.exec(select(AuditLog.at)).one()
    assert stored == datetime(2027, 3, 1, 13, 0, tzinfo=UTC) and stored.tzinfo is not None
