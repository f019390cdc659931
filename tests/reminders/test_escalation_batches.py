"""One message per person per sweep: every escalation raised to or climbing to one person (or one
steering channel) in a sweep arrives as one message that lists them, grouped by cause, each with its
menu while there is room and "Acknowledge all" per cause, updated in place. Signed requests, the
sweep and the stand-in, both databases."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.standin.records import Message
from messages.ids import Action
from messages.payloads import EscalationChoice
from storage.models import AuditLog, Escalation, Outbox
from storage.types import machine_now
from tests.commands.test_escalations import STEERING, set_rules
from tests.conftest import OWNER, SPONSOR, STRANGER, Bot
from tests.playbook import NY_MON_9, message_of, setup_measures, tick

OVERDUE_AT = NY_MON_9 + timedelta(hours=49)  # the prompt went unanswered for 48 hours


def listings(bot: Bot, user_or_channel: str) -> list[Message]:
    channel = bot.slack.dm_channel(user_or_channel) if user_or_channel.startswith("U") else user_or_channel
    return [m for m in bot.slack.state.messages.get(channel, []) if "escalation" in m.text.lower()]


def menu_values(message: Message) -> list[EscalationChoice]:
    choices = []
    for block in message.blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow":
            choices += [EscalationChoice.load(option["value"]) for option in accessory["options"]]
    return [c for c in choices if c is not None]


def group_buttons(message: Message) -> list[dict[str, Any]]:
    return [
        block["accessory"]
        for block in message.blocks
        if (block.get("accessory") or {}).get("action_id") == Action.ESCALATION_ACK_GROUP
    ]


async def overdue_under_one_sponsor(bot: Bot, count: int) -> Message:
    setup_measures(bot, *[(OWNER, f"Measure {n}") for n in range(count)])
    assert "Saved" in await set_rules(bot, f"steering=<#{STEERING}|steering> step-hours=24")
    await tick(bot, NY_MON_9)  # the owner's prompt, never answered
    report = await tick(bot, OVERDUE_AT)
    assert report.escalations.raised == count and report.escalations.messages == 1
    [listing] = listings(bot, SPONSOR)
    return listing


async def test_thirty_overdue_check_ins_under_one_sponsor_arrive_as_one_dm(bot: Bot) -> None:
    listing = await overdue_under_one_sponsor(bot, 30)
    posts = [c.args["channel"] for c in bot.slack.calls("chat.postMessage")]
    assert posts.count(SPONSOR) == 1 and posts.count(OWNER) == 3  # the owner: two prompts (23 + 7), a reminder
    shown = json.dumps(listing.blocks)
    assert listing.text.startswith("30 escalations for you: 30 check-in overdue")
    assert "*30* Check-in overdue" in shown and len(listing.blocks) <= 50
    assert {c.escalation_id for c in menu_values(listing)} == set(range(1, 31))  # each with its menu
    assert [b["text"]["text"] for b in group_buttons(listing)] == ["Acknowledge all 30"]
    assert listings(bot, OWNER) == [] and listings(bot, STEERING) == []
    assert listing.updated == 0  # rendered as it is when it went out: the sweep does not update it again
    # The next sweep, the causes still there: nothing more is sent.
    await tick(bot, OVERDUE_AT + timedelta(minutes=5))
    assert len(listings(bot, SPONSOR)) == 1


async def test_escalations_climbing_at_once_reach_the_steering_channel_as_one_post(bot: Bot) -> None:
    listing = await overdue_under_one_sponsor(bot, 30)
    for choice in [c for c in menu_values(listing) if c.act == "acknowledge"][:13]:  # 13 acknowledged one by one
        reply = await bot.client.click(
            SPONSOR, Action.ESCALATION_MENU, choice.dump(), message=message_of(listing), menu=True
        )
        assert reply.status == 200
    await bot.settle()
    with bot.session() as session:
        acknowledged = session.exec(select(Escalation).where(Escalation.acknowledged_by == SPONSOR)).all()
        assert len(acknowledged) == 13
    updated = listings(bot, SPONSOR)[0]
    assert updated.updated >= 1 and "Acknowledge all 17" in json.dumps(updated.blocks)  # updated in place

    report = await tick(bot, OVERDUE_AT + timedelta(hours=24))
    assert report.escalations.climbed == 17 and report.escalations.messages == 1
    [post, detail] = listings(bot, STEERING)
    assert post.thread_ts is None and detail.thread_ts == post.ts  # one post; its detail in its thread
    assert post.text.startswith("17 escalations in this portfolio: 17 check-in overdue")
    assert menu_values(post) == [] and "in the thread" in json.dumps(post.blocks)  # a summary: counts, no rows
    assert [b["text"]["text"] for b in group_buttons(post)] == ["Acknowledge all 17"]
    assert len({c.escalation_id for c in menu_values(detail)}) == 17  # each with its menu, in the thread
    assert len(listings(bot, SPONSOR)) == 1  # the sponsor's own listing says where they went, no new DM
    assert "with the steering channel" in json.dumps(listings(bot, SPONSOR)[0].blocks)

    # Acting from the thread updates both the reply and the summary in place.
    choice = next(c for c in menu_values(detail) if c.act == "acknowledge")
    click = await bot.client.click(
        SPONSOR, Action.ESCALATION_MENU, choice.dump(), message=message_of(detail), menu=True
    )
    assert click.status == 200
    await bot.settle()
    post, detail = listings(bot, STEERING)
    assert post.updated and detail.updated and "Acknowledge all 16" in json.dumps(post.blocks)
    assert len(listings(bot, STEERING)) == 2


async def test_a_steering_reply_that_failed_goes_out_alone_with_the_next_sweep(bot: Bot) -> None:
    """The summary went out, its reply did not (Slack failed it): the next sweep posts the reply in
    the summary's thread, once, and does not post the summary again. A reply whose outcome was never
    recorded is looked up in the thread first, and not posted twice."""
    await overdue_under_one_sponsor(bot, 3)
    bot.slack.inject("chat.postMessage", channel=STEERING)  # the summary passes …
    bot.slack.inject("chat.postMessage", channel=STEERING, error="internal_error")  # … its reply fails
    report = await tick(bot, OVERDUE_AT + timedelta(hours=24))
    assert report.escalations.climbed == 3 and report.delivery.retry == 1
    [post] = listings(bot, STEERING)
    await tick(bot, OVERDUE_AT + timedelta(hours=24, minutes=5))
    [again, reply] = listings(bot, STEERING)
    assert again.ts == post.ts and reply.thread_ts == post.ts and len(menu_values(reply)) >= 3
    # The reply's outcome lost (as if its process died): the next claim finds it in the thread.
    with bot.session() as session:
        row = session.exec(select(Outbox).where(Outbox.ts == reply.ts)).one()
        row.state, row.ts, row.lease_until = "sending", None, machine_now() - timedelta(minutes=1)
        session.add(row)
    await tick(bot, OVERDUE_AT + timedelta(hours=25))
    assert len(listings(bot, STEERING)) == 2
    assert bot.slack.calls("conversations.replies")
    with bot.session() as session:
        assert session.exec(select(Outbox).where(Outbox.id == row.id)).one().ts == reply.ts


async def test_acknowledge_all_acts_on_what_the_person_may_and_audits_each(bot: Bot) -> None:
    listing = await overdue_under_one_sponsor(bot, 5)
    [button] = group_buttons(listing)
    stranger = await bot.client.click(
        STRANGER, Action.ESCALATION_ACK_GROUP, button["value"], message=message_of(listing)
    )
    assert stranger.status == 200
    await bot.settle()
    assert "5 you may not act on" in bot.slack.responses(STRANGER)[-1]["text"]
    with bot.session() as session:
        assert session.exec(select(Escalation).where(Escalation.acknowledged_at.is_not(None))).all() == []  # type: ignore[union-attr]

    await bot.client.click(SPONSOR, Action.ESCALATION_ACK_GROUP, button["value"], message=message_of(listing))
    await bot.settle()
    assert bot.slack.responses(SPONSOR)[-1]["text"] == "Acknowledged 5 escalations."
    with bot.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "escalation_acknowledged")).all()
        assert len(audit) == 5 and {a.actor for a in audit} == {SPONSOR}
    after = listings(bot, SPONSOR)[0]
    assert group_buttons(after) == [] and json.dumps(after.blocks).count(":eyes:") >= 5
    # Acknowledged: nothing climbs a day later.
    assert (await tick(bot, OVERDUE_AT + timedelta(hours=25))).escalations.climbed == 0


async def test_a_single_escalation_is_still_shown_in_full(bot: Bot) -> None:
    listing = await overdue_under_one_sponsor(bot, 1)
    assert listing.text.startswith("Escalation (open): Check-in overdue — M-1")
    assert Action.ESCALATION_RESOLVE in json.dumps(listing.blocks)
