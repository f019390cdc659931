"""storage.checkin_cycles and storage.checkins: cycles opened once, one prompt per owner, who may
answer until when, what an answer and a skip record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from domain.enums import CheckinState, ImplStatus, Stage
from storage.checkin_cycles import open_cycles, plan_prompts, plan_reminders
from storage.checkins import Answer, CommentRequired, Refused, answerable, prompt_items_of, record_answer, skip
from storage.models import AuditLog, CheckIn, Measure, Outbox
from storage.outbox import CheckinsPayload, Kind, payload_of
from tests.conftest import OWNER, SPONSOR, Clock
from tests.factories import make_measure, make_tree
from tests.storage.conftest import Transaction


def due_measures(db: Transaction, clock: Clock) -> None:
    """Three measures of one owner and one of another, all due at the test clock's now."""
    with db() as session:
        package = make_tree(session)
        for number in range(3):
            make_measure(session, package=package, title=f"Owner's {number}")
        make_measure(session, package=package, title="Sponsor's", owner_id=SPONSOR, sponsor_id=OWNER)
        make_measure(session, package=package, title="An idea", stage=Stage.DI0)  # not checked in
        for measure in session.exec(select(Measure)).all():
            measure.next_checkin_at = clock() - timedelta(minutes=1)
            session.add(measure)


def test_a_cycle_opens_once_and_each_owner_is_prompted_once(db: Transaction, clock: Clock) -> None:
    due_measures(db, clock)
    with db() as session:
        assert open_cycles(session=session, now=clock()) == (5, 4)
        assert plan_prompts(session=session, now=clock()) == (4, 2)
    with db() as session:  # the same sweep again: nothing new
        assert open_cycles(session=session, now=clock())[1] == 0
        assert plan_prompts(session=session, now=clock()) == (0, 0)
        prompts = session.exec(select(Outbox).where(Outbox.kind == Kind.PROMPT)).all()
        by_owner = {p.recipient: payload_of(p) for p in prompts}
        assert set(by_owner) == {OWNER, SPONSOR}
        owners_prompt = by_owner[OWNER]
        assert isinstance(owners_prompt, CheckinsPayload) and len(owners_prompt.checkin_ids) == 3
        items = prompt_items_of(session=session, prompt_ids=[p.id or 0 for p in prompts])
        assert sorted(len(i) for i in items.values()) == [1, 3]


def test_who_may_answer_until_when(db: Transaction, clock: Clock) -> None:
    due_measures(db, clock)
    with db() as session:
        open_cycles(session=session, now=clock())
        checkin = session.exec(select(CheckIn).where(CheckIn.owner_id == OWNER)).first()
        assert checkin is not None
        checkin_id, closes = checkin.id or 0, checkin.cycle_end
    with db() as session:
        with pytest.raises(Refused, match="Only the owner"):
            answerable(session=session, checkin_id=checkin_id, user_id=SPONSOR, now=clock())
        with pytest.raises(Refused, match="has closed"):
            answerable(session=session, checkin_id=checkin_id, user_id=OWNER, now=closes)
        checkin, measure = answerable(session=session, checkin_id=checkin_id, user_id=OWNER, now=clock())
        record_answer(session=session, checkin=checkin, measure=measure, answer=Answer(ImplStatus.ON_TRACK),
                      user_id=OWNER, now=clock())  # fmt: skip
        with pytest.raises(Refused, match="already answered"):
            skip(session=session, checkin=checkin, measure=measure, user_id=OWNER)
    with db() as session:
        stored = session.get(CheckIn, checkin_id)
        assert stored is not None and stored.status == CheckinState.ANSWERED and stored.answered_at == clock()
        assert session.exec(select(AuditLog.action).where(AuditLog.action == "checkin_answered")).all()


def test_a_worse_status_needs_a_comment_and_a_skip_is_recorded(db: Transaction, clock: Clock) -> None:
    due_measures(db, clock)
    with db() as session:
        open_cycles(session=session, now=clock())
        first, second = session.exec(select(CheckIn).where(CheckIn.owner_id == OWNER)).all()[:2]
        measure = session.get(Measure, first.measure_id)
        assert measure is not None
        with pytest.raises(CommentRequired):
            record_answer(session=session, checkin=first, measure=measure, answer=Answer(ImplStatus.OFF_TRACK),
                          user_id=OWNER, now=clock())  # fmt: skip
        other = session.get(Measure, second.measure_id)
        assert other is not None
        skip(session=session, checkin=second, measure=other, user_id=OWNER)
        assert second.status == CheckinState.SKIPPED
        with pytest.raises(Refused, match="skipped"):
            answerable(session=session, checkin_id=second.id or 0, user_id=OWNER, now=clock())


def test_a_reminder_is_owed_once_for_what_is_still_unanswered(db: Transaction, clock: Clock) -> None:
    due_measures(db, clock)
    with db() as session:
        open_cycles(session=session, now=clock())
        plan_prompts(session=session, now=clock())
        for checkin in session.exec(select(CheckIn)).all():  # the prompts went out
            checkin.prompted_at = clock()
            session.add(checkin)
    later = clock() + timedelta(hours=25)
    with db() as session:
        assert plan_reminders(session=session, now=later, after=timedelta(hours=24)) == 2
        assert plan_reminders(session=session, now=later, after=timedelta(hours=24)) == 0
