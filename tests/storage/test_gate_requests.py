"""storage.gate_requests and storage.gate_views: a request, its chain, decisions once each, the
stage moved by the last approval, delegates, aging."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from domain.enums import Stage
from domain.stage_gates import GateRefused, RequestKind
from storage.gate_requests import (
    Decision,
    decide,
    delegate,
    plan_gate_aging,
    put_on_hold,
    request_gate,
    resume_from_hold,
    waiting_for,
)
from storage.gate_views import gate_view
from storage.measures import facts_of
from storage.models import AuditLog, Evidence, GateRequest, Measure, MeasureMonth, Outbox
from storage.outbox import Kind
from tests.conftest import CONTROLLER, OWNER, SPONSOR, STRANGER, Clock
from tests.factories import make_measure, make_tree
from tests.storage.conftest import Transaction


def open_request(db: Transaction, clock: Clock, stage: Stage = Stage.DI2) -> int:
    with db() as session:
        measure = make_measure(session, package=make_tree(session), stage=stage)
        request = request_gate(session=session, measure=measure, facts=facts_of(session=session, measure=measure),
                               kind=RequestKind.ADVANCE, requester=OWNER, admin=False, now=clock())  # fmt: skip
        return request.id or 0


def test_a_request_owes_its_approver_a_message_and_shows_in_their_queue(db: Transaction, clock: Clock) -> None:
    request_id = open_request(db, clock)
    with db() as session:
        view = gate_view(session=session, request_id=request_id)
        assert view is not None and (view.key, view.to_stage, view.chain) == ("M-1", Stage.DI3, [("sponsor", SPONSOR)])
        assert [o.kind for o in session.exec(select(Outbox)).all()] == [Kind.GATE_APPROVAL]
        assert [key for key, *_ in waiting_for(session=session, user_id=SPONSOR)] == ["M-1"]
        measure = session.exec(select(Measure)).one()
        with pytest.raises(GateRefused, match="already has a request"):
            request_gate(session=session, measure=measure, facts=facts_of(session=session, measure=measure),
                         kind=RequestKind.ADVANCE, requester=OWNER, admin=False, now=clock())  # fmt: skip
        with pytest.raises(GateRefused, match="Only the owner"):
            request_gate(session=session, measure=measure, facts=facts_of(session=session, measure=measure),
                         kind=RequestKind.CANCEL, requester=STRANGER, admin=False, now=clock())  # fmt: skip


def test_the_last_approval_moves_the_stage_and_a_step_is_decided_once(db: Transaction, clock: Clock) -> None:
    with db() as session:  # DI4 -> DI5: the controller, then the sponsor
        measure = make_measure(session, package=make_tree(session), stage=Stage.DI4)
        session.add(Evidence(measure_id=measure.id or 0, url="https://wiki.example/done", added_by=OWNER))
        for month in session.exec(select(MeasureMonth)).all():  # the closed months' actuals, validated
            if month.month < date(2027, 3, 1):
                month.actual, month.actual_validated_by, month.actual_validated_at = 9_000, CONTROLLER, clock()
                session.add(month)
        session.flush()
        facts = facts_of(session=session, measure=measure)
        request = request_gate(session=session, measure=measure, facts=facts, kind=RequestKind.ADVANCE,
                               requester=OWNER, admin=False, now=clock())  # fmt: skip
        request_id = request.id or 0
    with db() as session:
        with pytest.raises(GateRefused):
            decide(
                session=session,
                request_id=request_id,
                step=0,
                user_id=SPONSOR,
                decision=Decision.APPROVED,
                reason="",
                now=clock(),
            )  # fmt: skip  (step 0 is the controller's)
        request = decide(session=session, request_id=request_id, step=0, user_id=CONTROLLER,
                         decision=Decision.APPROVED, reason="", now=clock())  # fmt: skip
        assert request.step == 1 and session.exec(select(Measure.stage)).one() == Stage.DI4
    with db() as session, pytest.raises(GateRefused, match="already been decided"):
        decide(session=session, request_id=request_id, step=0, user_id=CONTROLLER, decision=Decision.APPROVED,
               reason="", now=clock())  # fmt: skip
    with db() as session:
        decide(session=session, request_id=request_id, step=1, user_id=SPONSOR, decision=Decision.APPROVED,
               reason="", now=clock())  # fmt: skip
        assert session.exec(select(Measure.stage)).one() == Stage.DI5
        actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions[-2:] == ["stage_changed", "gate_approved"]


def test_a_delegate_decides_for_the_approver_until_the_day_given(db: Transaction, clock: Clock) -> None:
    request_id = open_request(db, clock)
    with db() as session:
        delegate(session=session, delegator=SPONSOR, delegate_id=CONTROLLER, until=clock().date())
    with db() as session:
        decide(session=session, request_id=request_id, step=0, user_id=CONTROLLER, decision=Decision.REJECTED,
               reason="not yet", now=clock())  # fmt: skip
        request = session.get(GateRequest, request_id)
        assert request is not None and request.state == Decision.REJECTED
        assert session.exec(select(Measure.stage)).one() == Stage.DI2  # a rejection moves nothing


def test_hold_remembers_the_stage_and_resume_returns_to_it(db: Transaction, clock: Clock) -> None:
    with db() as session:
        measure = make_measure(session, package=make_tree(session), stage=Stage.DI3)
        put_on_hold(session=session, measure=measure, user_id=SPONSOR, reason="budget freeze", now=clock())
        assert (measure.stage, measure.held_from_stage) == (Stage.ON_HOLD, Stage.DI3)
        resume_from_hold(session=session, measure=measure, user_id=SPONSOR, now=clock())
        assert measure.stage == Stage.DI3


def test_a_waiting_approval_is_reminded_once_then_reported(db: Transaction, clock: Clock) -> None:
    open_request(db, clock)
    aging = {"remind_after": timedelta(days=1), "report_after": timedelta(days=3)}
    with db() as session:
        assert plan_gate_aging(session=session, now=clock() + timedelta(hours=2), **aging) == 0
        assert plan_gate_aging(session=session, now=clock() + timedelta(days=1, hours=1), **aging) == 1
        assert plan_gate_aging(session=session, now=clock() + timedelta(days=2), **aging) == 0
        assert plan_gate_aging(session=session, now=clock() + timedelta(days=4), **aging) == 1
        kinds = sorted(o.kind for o in session.exec(select(Outbox)).all())
        assert kinds == [Kind.GATE_APPROVAL, Kind.GATE_REMINDER]
