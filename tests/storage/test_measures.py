"""storage.measures: create and update with their audit records, children, stale versions, schedule."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time

import pytest
from sqlmodel import select

from domain.enums import Stage
from domain.measure_schema import Key, MeasureDraft
from storage.measures import (
    StaleEdit,
    claim_version,
    create_measure,
    draft_from_measure,
    facts_of,
    full_draft,
    reference_errors,
    update_measure,
)
from storage.models import AuditLog, Measure
from tests.conftest import OWNER, SPONSOR, Clock
from tests.factories import complete_draft, make_tree
from tests.storage.conftest import Transaction


def test_a_complete_new_measure_starts_at_di1_an_idea_at_di0(db: Transaction, clock: Clock) -> None:
    with db() as session:
        package = make_tree(session).id or 0
        complete = create_measure(session=session, draft=complete_draft(package), actor=OWNER, now=clock())
        idea = create_measure(session=session, draft=MeasureDraft(title="Idea", package_id=package), actor=OWNER,
                              now=clock())  # fmt: skip
        assert (complete.key, complete.stage, idea.key, idea.stage) == ("M-1", Stage.DI1, "M-2", Stage.DI0)
        assert complete.next_checkin_at is not None and complete.next_checkin_at > clock()
    with db() as session:
        created = session.exec(select(AuditLog).where(AuditLog.entity_key == "M-1")).one()
        detail = json.loads(created.detail)
        assert created.action == "created" and detail["target"] == 120_000 and "monthly_plan" in detail


def test_an_update_records_exactly_what_changed_and_nothing_when_nothing_did(db: Transaction, clock: Clock) -> None:
    with db() as session:
        measure = create_measure(session=session, draft=complete_draft(make_tree(session).id or 0), actor=OWNER,
                                 now=clock())  # fmt: skip
        draft = full_draft(session=session, measure=measure)
        assert update_measure(session=session, measure=measure, draft=draft, actor=OWNER, now=clock()) == {}
        changed = replace(draft, title="Fewer suppliers", checkin_time=time(15, 0), risks=[])
        changes = update_measure(session=session, measure=measure, draft=changed, actor=SPONSOR, now=clock())
        assert changes["title"] == ["Consolidate suppliers", "Fewer suppliers"] and "risks" in changes
        assert measure.version == 2
    with db() as session:
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
        reloaded = session.exec(select(Measure)).one()
        assert actions == ["created", "edited"] and full_draft(session=session, measure=reloaded).risks == []


def test_a_draft_from_a_measure_leaves_its_children_alone(db: Transaction, clock: Clock) -> None:
    with db() as session:
        measure = create_measure(session=session, draft=complete_draft(make_tree(session).id or 0), actor=OWNER,
                                 now=clock())  # fmt: skip
        scalars = draft_from_measure(measure)
        assert scalars.monthly_plan is None and scalars.risks is None  # None: leave as they are
        update_measure(session=session, measure=measure, draft=replace(scalars, target=60_000), actor=OWNER,
                       now=clock())  # fmt: skip
        kept = full_draft(session=session, measure=measure)
        assert kept.monthly_plan == {date(2027, m, 1): 10_000 for m in range(1, 13)} and kept.risks
        assert facts_of(session=session, measure=measure).draft.target == 60_000


def test_a_stale_version_is_refused_in_the_database(db: Transaction, clock: Clock) -> None:
    with db() as session:
        measure = create_measure(session=session, draft=complete_draft(make_tree(session).id or 0), actor=OWNER,
                                 now=clock())  # fmt: skip
        claim_version(session=session, measure=measure, expected=1)
        with pytest.raises(StaleEdit):
            claim_version(session=session, measure=measure, expected=1)
        with pytest.raises(StaleEdit):
            update_measure(session=session, measure=measure, draft=replace(draft_from_measure(measure), title="x"),
                           actor=OWNER, now=clock(), expected_version=1)  # fmt: skip


def test_reference_errors_name_the_field(db: Transaction, clock: Clock) -> None:
    with db() as session:
        package = make_tree(session)
        create_measure(session=session, draft=complete_draft(package.id or 0), actor=OWNER, now=clock())
        assert reference_errors(session=session, draft=MeasureDraft(title="t", package_id=package.parent_id or 0)) == {
            Key.PACKAGE: "Choose a measure package (the lowest level of the structure).",
        }  # fmt: skip
        unknown = MeasureDraft(title="t", package_id=package.id or 0, dependency_keys=["M-1", "M-9"])
        assert set(reference_errors(session=session, draft=unknown)) == {Key.DEPENDENCIES}
        itself = MeasureDraft(title="t", package_id=package.id or 0, dependency_keys=["M-1"])
        assert reference_errors(session=session, draft=itself, key="M-1") == {
            Key.DEPENDENCIES: "A measure cannot depend on itself."
        }
