"""storage.digests, storage.digest_data and storage.tree: subscriptions, one run per period, leased
runs, what a unit's digest loads."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import select

from domain.enums import Cadence, ImplStatus, PotentialStatus, Stage
from storage.digest_data import load_digest
from storage.digests import claim_runs, finish_run, plan_digests, subscribe, unsubscribe
from storage.models import AuditLog, DigestRun, Measure, Unit
from storage.tree import UnitTree
from storage.types import SendState
from tests.conftest import ADMIN, Clock
from tests.factories import make_measure, make_tree
from tests.storage.conftest import Transaction

FRIDAY_16 = datetime(2027, 3, 5, 16, 0, tzinfo=UTC)


def subscribed(db: Transaction, clock: Clock) -> tuple[int, int]:
    with db() as session:
        package = make_tree(session)
        org = session.exec(select(Unit).where(Unit.parent_id.is_(None))).one()  # type: ignore[union-attr]
        sub = subscribe(session=session, channel="C0OPS", unit_id=org.id or 0, cadence=Cadence.WEEKLY, weekday=4,
                        at=time(16, 0), actor=ADMIN, now=clock(), timezone="UTC")  # fmt: skip
        return sub.id or 0, package.id or 0


def test_a_subscription_owes_one_run_per_period(db: Transaction, clock: Clock) -> None:
    sub_id, _ = subscribed(db, clock)  # the clock: Monday 2027-03-01 12:00 UTC
    with db() as session:
        assert plan_digests(session=session, now=FRIDAY_16 - timedelta(minutes=1)) == 0
        assert plan_digests(session=session, now=FRIDAY_16) == 1
        assert plan_digests(session=session, now=FRIDAY_16 + timedelta(hours=1)) == 0
        assert plan_digests(session=session, now=FRIDAY_16 + timedelta(days=7)) == 1
        runs = session.exec(select(DigestRun).order_by(DigestRun.period_start)).all()
        assert runs[1].since == runs[0].period_start  # each covers what changed since the one before
    with db() as session:
        unsubscribe(session=session, subscription_id=sub_id, actor=ADMIN)
        assert session.exec(select(DigestRun)).all() == []
        actions = session.exec(select(AuditLog.action)).all()
        assert actions.count("digest_subscribed") == 1 and actions.count("digest_removed") == 1


def test_a_claimed_run_is_leased_then_finished_or_retried(db: Transaction, clock: Clock) -> None:
    subscribed(db, clock)
    with db() as session:
        plan_digests(session=session, now=FRIDAY_16)
        (run,) = claim_runs(session=session, now=FRIDAY_16, lease=timedelta(minutes=5))
        assert run.channel == "C0OPS"
    with db() as session:
        assert claim_runs(session=session, now=FRIDAY_16, lease=timedelta(minutes=5)) == []  # held
        finish_run(session=session, run_id=run.run_id, now=FRIDAY_16, error="ratelimited", permanent=False)
    with db() as session:
        assert session.get(DigestRun, run.run_id).state == SendState.PENDING  # type: ignore[union-attr]
        (again,) = claim_runs(session=session, now=FRIDAY_16, lease=timedelta(minutes=5))
        finish_run(session=session, run_id=again.run_id, now=FRIDAY_16, error=None, permanent=False)
    with db() as session:
        assert session.get(DigestRun, run.run_id).state == SendState.SENT  # type: ignore[union-attr]


def test_a_units_digest_counts_its_measures_and_lists_what_needs_attention(db: Transaction, clock: Clock) -> None:
    with db() as session:
        package = make_tree(session)
        make_measure(session, package=package, stage=Stage.DI3, title="Decided")
        late = make_measure(session, package=package, stage=Stage.DI2, title="Late")
        late.impl_status = ImplStatus.OFF_TRACK
        session.add(late)
        short = make_measure(session, package=package, stage=Stage.DI3, title="Green work, red money")
        short.impl_status, short.potential_status = ImplStatus.ON_TRACK, PotentialStatus.OFF_TRACK
        session.add(short)
        other = make_tree(session, names=("Other org", "P", "Q", "R", "S"))
        make_measure(session, package=other, title="Elsewhere")
        org = session.exec(select(Unit).where(Unit.name == "Acme")).one()
    with db() as session:
        data = load_digest(session=session, unit_id=org.id or 0, now=clock(), since=clock() - timedelta(days=7))
        assert sum(group.measures for group in data.groups) == 3  # not the other organization's
        assert {a.key for a in data.attention} == {late.key, short.key}
        assert [a.key for a in data.green_red] == [short.key] and data.green_red_total == 1
        assert {c.key for c in data.changes} == {"M-1", "M-2", "M-3"}  # created this week
        assert len(session.exec(select(Measure)).all()) == 4


def test_the_tree_gives_each_unit_its_organizations_timezone(db: Transaction) -> None:
    with db() as session:
        package = make_tree(session)
        make_tree(session, names=("Other org", "P", "Q", "R", "S"))
        org = session.exec(select(Unit).where(Unit.name == "Acme")).one()
        org.timezone = "Europe/Berlin"
        session.add(org)
        session.flush()
        tree = UnitTree.load(session=session)
        other = session.exec(select(Unit).where(Unit.name == "S")).one()
        assert tree.timezone_of(package.id or 0) == "Europe/Berlin"
        assert tree.timezone_of(other.id or 0) == "UTC"  # none set: UTC
        assert [u.name for u in tree.named("  acme ")] == ["Acme"]
