"""Retention: the sweep prunes sent messages older than the retention that nothing can update any
more, in bounded batches, and keeps what is history (check-ins and their answers, escalations, the
audit trail). Through the sweep, both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from domain.policy import TokenScope
from storage.api_tables import ApiReplay, ApiToken
from storage.api_tokens import Replay, create_token, holder_of, remember_replay
from storage.escalation_tables import EscalationCopy
from storage.models import AuditLog, CheckIn, Escalation, Outbox
from storage.outbox import Kind
from storage.retention import prune_outbox
from tests.commands.test_escalations import STEERING, set_rules
from tests.conftest import OWNER, Bot
from tests.playbook import NY_MON_9, setup_measures, tick

OVERDUE_AT = NY_MON_9 + timedelta(hours=49)
LATER = NY_MON_9 + timedelta(days=95)


def kinds(bot: Bot) -> list[str]:
    with bot.session() as session:
        return sorted(m.kind for m in session.exec(select(Outbox)).all())


async def test_old_sent_messages_are_pruned_unless_an_open_escalation_shows_them(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate suppliers"), (OWNER, "Renegotiate film"))
    assert "Saved" in await set_rules(bot, f"steering=<#{STEERING}|steering> step-hours=24")
    await tick(bot, NY_MON_9)  # the owner's prompt, never answered
    assert (await tick(bot, OVERDUE_AT)).escalations.raised == 2  # the sponsor's listing of both
    assert Kind.PROMPT in kinds(bot) and Kind.ESCALATIONS in kinds(bot)
    with bot.session() as session:
        audit_before = len(session.exec(select(AuditLog)).all())
        first = session.exec(select(Escalation)).first()
        assert first is not None
        first.acknowledged_at = OVERDUE_AT  # acknowledged: it no longer climbs while we wait
        session.add(first)

    # 95 days later: the prompt and the reminder are plumbing; the listing shows open escalations.
    with bot.session() as session:
        pruned = prune_outbox(session=session, now=LATER, keep=timedelta(days=90))
    assert pruned >= 1 and Kind.PROMPT not in kinds(bot) and Kind.ESCALATIONS in kinds(bot)
    with bot.session() as session:
        checkins = session.exec(select(CheckIn)).all()
        assert len(checkins) == 2 and {c.prompt_id for c in checkins} == {None}  # kept, the prompt forgotten
        assert len(session.exec(select(AuditLog)).all()) == audit_before  # history is never pruned
        for escalation in session.exec(select(Escalation)).all():
            escalation.state = "resolved"
            session.add(escalation)
    # Resolved, nothing can update the listing any more: the sweep prunes it and its copies.
    report = await tick(bot, LATER)
    assert report.pruned >= 1
    with bot.session() as session:
        assert session.exec(select(EscalationCopy)).all() == []
        assert all(m.created_at >= LATER - timedelta(days=90) for m in session.exec(select(Outbox)).all())
        assert len(session.exec(select(Escalation)).all()) == 2  # the escalations themselves are history


async def test_pruning_goes_in_bounded_batches(bot: Bot) -> None:
    setup_measures(bot, *[(OWNER, f"Measure {n}") for n in range(3)])
    await tick(bot, NY_MON_9)
    await tick(bot, NY_MON_9 + timedelta(hours=25))  # the reminder
    later = LATER
    with bot.session() as session:
        sent = len(session.exec(select(Outbox)).all())
        assert sent >= 2
        assert prune_outbox(session=session, now=later, keep=timedelta(days=90), batch=1) == 1
    with bot.session() as session:
        assert len(session.exec(select(Outbox)).all()) == sent - 1
        assert prune_outbox(session=session, now=later, keep=timedelta(days=90)) == sent - 1


async def test_the_apis_remembered_answers_are_forgotten_after_a_day_and_tokens_kept(bot: Bot) -> None:
    with bot.session() as session:
        secret = create_token(session=session, name="erp", scope=TokenScope.WRITE, actor=OWNER, now=NY_MON_9)
        holder = holder_of(session=session, secret=secret or "")
        assert holder is not None
        for key, at in (("old", NY_MON_9), ("recent", NY_MON_9 + timedelta(hours=20))):
            remember_replay(session=session, token_id=holder.id, key=key, replay=Replay("f", 200, "{}"), now=at)
    await tick(bot, NY_MON_9 + timedelta(hours=25))
    with bot.session() as session:
        assert [r.idempotency_key for r in session.exec(select(ApiReplay)).all()] == ["recent"]
        assert len(session.exec(select(ApiToken)).all()) == 1
