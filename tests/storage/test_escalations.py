"""storage.escalations: rules raise once per cause, clear when the cause goes, climb the ladder;
who may act on one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from domain.enums import ImplStatus, Stage
from domain.escalation_rules import Cause
from domain.stage_gates import RequestKind
from storage.escalation_mail import batches_showing, behind, mark_shown, versions_of
from storage.escalations import Act, EscalationRefused, act_on, open_causes_of, single_copies, sweep_escalations
from storage.gate_requests import request_gate
from storage.measures import facts_of
from storage.models import AuditLog, Escalation, EscalationCopy, Measure, Outbox
from storage.outbox import EscalationPayload, EscalationsPayload, Kind, owe, payload_of
from tests.conftest import OWNER, SPONSOR, STRANGER, Clock
from tests.factories import make_measure, make_tree
from tests.storage.conftest import Transaction

WAIT = timedelta(days=5)


def waiting_approval(db: Transaction, clock: Clock) -> int:
    with db() as session:
        measure = make_measure(session, package=make_tree(session), stage=Stage.DI2)
        request_gate(session=session, measure=measure, facts=facts_of(session=session, measure=measure),
                     kind=RequestKind.ADVANCE, requester=OWNER, admin=False, now=clock())  # fmt: skip
        return measure.id or 0


def test_an_overdue_approval_is_raised_once_and_owes_one_message(db: Transaction, clock: Clock) -> None:
    measure_id = waiting_approval(db, clock)
    with db() as session:
        assert sweep_escalations(session=session, now=clock() + timedelta(days=1), approval_after=WAIT).raised == 0
        assert sweep_escalations(session=session, now=clock() + timedelta(days=6), approval_after=WAIT).raised == 1
        assert sweep_escalations(session=session, now=clock() + timedelta(days=6), approval_after=WAIT).raised == 0
        assert open_causes_of(session=session, measure_id=measure_id) == [Cause.APPROVAL_OVERDUE.label]
        (message,) = session.exec(select(Outbox).where(Outbox.kind == Kind.ESCALATIONS)).all()
        payload = payload_of(message)
        assert isinstance(payload, EscalationsPayload) and [i.rung for i in payload.items] == [1]  # the sponsor
        escalation_id = payload.items[0].escalation_id
        copy = session.exec(select(EscalationCopy)).one()  # linked, to be updated in place once sent
        assert (copy.escalation_id, copy.outbox_id) == (escalation_id, message.id)
        assert batches_showing(session=session, escalation_ids=[escalation_id]) == []  # not sent yet


def test_a_cause_that_clears_resolves_its_escalation(db: Transaction, clock: Clock) -> None:
    with db() as session:
        package = make_tree(session)
        blocker = make_measure(session, package=package, title="Blocker", stage=Stage.DI3)
        blocked = make_measure(session, package=package, title="Blocked", stage=Stage.DI3, dependency_keys=["M-1"])
        blocker.impl_status = ImplStatus.OFF_TRACK
        session.add(blocker)
        blocked_id = blocked.id or 0
    with db() as session:
        assert sweep_escalations(session=session, now=clock(), approval_after=WAIT).raised == 1
        escalation = session.exec(select(Escalation)).one()
        assert escalation.measure_id == blocked_id
    with db() as session:
        fixed = session.exec(select(Measure).where(Measure.key == "M-1")).one()
        fixed.impl_status = ImplStatus.ON_TRACK
        session.add(fixed)
    with db() as session:
        assert sweep_escalations(session=session, now=clock() + timedelta(hours=1), approval_after=WAIT).resolved == 1
        assert open_causes_of(session=session, measure_id=blocked_id) == []


def test_who_may_acknowledge_note_and_resolve(db: Transaction, clock: Clock) -> None:
    waiting_approval(db, clock)
    with db() as session:
        sweep_escalations(session=session, now=clock() + timedelta(days=6), approval_after=WAIT)
        escalation_id = session.exec(select(Escalation.id)).one() or 0
    with db() as session, pytest.raises(EscalationRefused, match="Only"):
        act_on(session=session, escalation_id=escalation_id, user_id=STRANGER, admin=False, act=Act.ACKNOWLEDGE,
               now=clock())  # fmt: skip
    with db() as session:
        act_on(session=session, escalation_id=escalation_id, user_id=SPONSOR, admin=False, act=Act.NOTE,
               now=clock(), note="Chasing the sponsor's deputy")  # fmt: skip
        act_on(session=session, escalation_id=escalation_id, user_id=OWNER, admin=False, act=Act.ACKNOWLEDGE,
               now=clock())  # fmt: skip
        actions = session.exec(select(AuditLog.action).where(AuditLog.action.startswith("escalation"))).all()  # type: ignore[attr-defined]
        assert sorted(actions) == ["escalation_acknowledged", "escalation_note", "escalation_raised"]


def test_messages_owed_one_per_escalation_before_listings_are_still_found_to_update(
    db: Transaction, clock: Clock
) -> None:
    """Rows of the older kind (one message per escalation) still get each change shown on them."""
    waiting_approval(db, clock)
    with db() as session:
        sweep_escalations(session=session, now=clock() + timedelta(days=6), approval_after=WAIT)
        escalation_id = session.exec(select(Escalation)).one().id or 0
        for number, rung in ((escalation_id, 1), (escalation_id + 1, 2)):  # ours, and another escalation's
            old = owe(session=session, kind=Kind.ESCALATION, key=f"{number}:{rung}", recipient=SPONSOR,
                      payload=EscalationPayload(escalation_id=number, rung=rung))  # fmt: skip
            old.channel, old.ts = "D0SPONSOR", f"1.{number}"
        unsent = owe(session=session, kind=Kind.ESCALATION, key=f"{escalation_id}:2", recipient="C0STEER",
                     payload=EscalationPayload(escalation_id=escalation_id, rung=2))  # fmt: skip
        assert unsent.ts is None
        found = single_copies(session=session, escalation_ids=[escalation_id])
    assert found == [(escalation_id, "D0SPONSOR", f"1.{escalation_id}", 1)]


def test_a_listing_shown_behind_is_found_and_a_record_never_goes_back(db: Transaction, clock: Clock) -> None:
    """A refresh records the versions it rendered; a copy still behind (a refresh that raced another,
    or failed) is what the sweep refreshes next."""
    waiting_approval(db, clock)
    with db() as session:
        sweep_escalations(session=session, now=clock() + timedelta(days=6), approval_after=WAIT)
        message = session.exec(select(Outbox).where(Outbox.kind == Kind.ESCALATIONS)).one()
        message.channel, message.ts = "D0SPONSOR", "1.1"  # sent
        escalation_id = session.exec(select(Escalation)).one().id or 0
        outbox_id = message.id or 0
    with db() as session:
        assert behind(session=session) == []  # owed with its change: it shows the current state
        act_on(session=session, escalation_id=escalation_id, user_id=SPONSOR, admin=False, act=Act.ACKNOWLEDGE,
               now=clock() + timedelta(days=6))  # fmt: skip
    with db() as session:
        assert behind(session=session) == [escalation_id]
        mark_shown(session=session, outbox_id=outbox_id, versions={escalation_id: 0})  # an older render: no step back
        assert behind(session=session) == [escalation_id]
        mark_shown(
            session=session, outbox_id=outbox_id, versions=versions_of(session=session, escalation_ids=[escalation_id])
        )
        assert behind(session=session) == []
