"""storage.outbox and storage.events: typed payloads, one row per key, what a transaction owed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.events import forget_old_events, remember
from storage.models import Outbox, ProcessedEvent
from storage.outbox import (
    ApprovalPayload,
    FailurePayload,
    GatePayload,
    Kind,
    owe,
    owe_failure_reports,
    owed_in,
    payload_of,
)
from storage.types import SendState
from tests.conftest import ADMIN, OWNER, SPONSOR, Clock
from tests.storage.conftest import Transaction


def test_each_kind_carries_its_own_payload_model(db: Transaction) -> None:
    with db() as session:
        row = owe(session=session, kind=Kind.GATE_APPROVAL, key="1:0", recipient=SPONSOR,
                  payload=ApprovalPayload(request_id=1, step=0))  # fmt: skip
        assert payload_of(row) == ApprovalPayload(request_id=1, step=0) and row.state == SendState.PENDING
        with pytest.raises(TypeError, match="carries a ApprovalPayload"):
            owe(session=session, kind=Kind.GATE_APPROVAL, key="1:1", recipient=SPONSOR,
                payload=GatePayload(request_id=1))  # fmt: skip
        assert owed_in(session) == [row.id]


def test_a_message_is_owed_once_per_key(db: Transaction) -> None:
    with db() as session:
        owe(session=session, kind=Kind.GATE_OUTCOME, key="7", recipient=OWNER, payload=GatePayload(request_id=7))
    with pytest.raises(IntegrityError), db() as session:
        owe(session=session, kind=Kind.GATE_OUTCOME, key="7", recipient=OWNER, payload=GatePayload(request_id=7))
    with db() as session:
        assert len(session.exec(select(Outbox)).all()) == 1
        assert owed_in(session) == []  # a new transaction owes nothing yet


def test_failure_reports_go_to_every_admin_but_the_one_it_failed_for(db: Transaction) -> None:
    with db() as session:
        owe_failure_reports(session=session, key="5", recipient=ADMIN, kind=Kind.PROMPT, error="account_inactive",
                            admins=frozenset({ADMIN, SPONSOR}))  # fmt: skip
        (report,) = session.exec(select(Outbox)).all()
    assert report.recipient == SPONSOR
    assert payload_of(report) == FailurePayload(recipient=ADMIN, kind=Kind.PROMPT, error="account_inactive")


def test_an_event_is_remembered_for_a_day(db: Transaction, clock: Clock) -> None:
    with db() as session:
        remember(session=session, event_id="Ev1", now=clock())
    with pytest.raises(IntegrityError), db() as session:
        remember(session=session, event_id="Ev1", now=clock())
    with db() as session:
        forget_old_events(session=session, now=clock() + timedelta(hours=23))
        assert session.get(ProcessedEvent, "Ev1") is not None
        forget_old_events(session=session, now=clock() + timedelta(days=1, minutes=1))
        assert session.get(ProcessedEvent, "Ev1") is None
