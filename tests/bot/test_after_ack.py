"""Acks first: a listener's work after its ack waits while other requests wait for their ack, and
at most `after_ack_limit` runs do such work at once (bot/app.py, AfterAck)."""

from __future__ import annotations

import asyncio

import pytest

import bot.app
from bot.app import AfterAck, InFlight
from reminders.sweep import sweep
from tests.conftest import OWNER, Bot
from tests.playbook import NY_MON_9, setup_measures


async def test_work_after_an_ack_waits_while_another_request_waits_for_its_ack() -> None:
    acking = InFlight()
    turn = AfterAck(asyncio.Semaphore(8), acking)
    with acking:
        waiting = asyncio.create_task(turn.take())
        await asyncio.sleep(0.05)
        assert not waiting.done(), "went on while a request still waited for its ack"
    await asyncio.wait_for(waiting, 1)
    turn.give_back()


async def test_at_most_the_limit_go_on_at_once_in_arrival_order() -> None:
    slots, acking = asyncio.Semaphore(1), InFlight()
    first, second, third = (AfterAck(slots, acking) for _ in range(3))
    await first.take()
    later = [asyncio.create_task(second.take()), asyncio.create_task(third.take())]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in later)
    first.give_back()
    await asyncio.wait_for(later[0], 1)
    assert not later[1].done(), "two runs held the one slot"
    second.give_back()
    await asyncio.wait_for(later[1], 1)
    third.give_back()
    first.give_back()  # giving back twice frees nothing more
    assert slots._value == 1


async def test_a_steady_stream_of_requests_does_not_starve_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.app, "ACKS_FIRST_AT_MOST", 0.05)
    acking = InFlight()
    turn = AfterAck(asyncio.Semaphore(8), acking)
    with acking:  # never idle while it waits
        await asyncio.wait_for(turn.take(), 1)
    turn.give_back()


async def test_with_one_slot_every_concurrent_command_is_answered(bot: Bot) -> None:
    bot.app.after_ack = asyncio.Semaphore(1)
    replies = await asyncio.gather(*(bot.client.command(OWNER, "help") for _ in range(12)))
    assert all(reply.status == 200 for reply in replies)
    await bot.settle()
    helps = [r for r in bot.slack.responses(OWNER) if "Pacekeeper help" in r.get("text", "")]
    assert len(helps) == 12


async def test_the_sweep_lets_requests_waiting_for_their_ack_go_first(bot: Bot) -> None:
    """The clock's work yields between its steps while a request waits for its ack (bounded: it goes
    on after ACKS_FIRST_AT_MOST), so a burst of clicks is answered before the sweep's next step."""
    setup_measures(bot, (OWNER, "Consolidate suppliers"))
    bot.clock.set(NY_MON_9)
    with bot.app.acking:  # a request received and not yet acked
        sweeping = asyncio.create_task(sweep(bot.app.deps, now=NY_MON_9))
        await asyncio.sleep(0.2)
        assert not sweeping.done() and bot.slack.calls("chat.postMessage") == []  # it waits
    report = await asyncio.wait_for(sweeping, 10)
    assert report.prompts == 1 and len(bot.slack.calls("chat.postMessage")) == 1
