"""Who may do what, checked on the server: every role × every guarded action, through signed
requests. Only the entitled change anything; everyone else is told why and nothing is stored.
Also: no secret ever reaches a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlmodel import select

from domain.enums import PotentialStatus, Stage
from domain.policy import POLICY, Deed, Role
from messages.ids import Action, Callback, Field
from reminders.sweep import sweep
from storage.models import DigestSubscription, Escalation, GateDecision, GateRequest, Measure, Unit
from tests.conftest import ADMIN, CONTROLLER, OWNER, SIGNING_SECRET, SPONSOR, STRANGER, TOKEN, Bot
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import WED, last_dm, press

ROLES = {"owner": OWNER, "sponsor": SPONSOR, "controller": CONTROLLER, "admin": ADMIN, "stranger": STRANGER}
# The roles each test person holds on the one measure of these tests (the sponsor approves its gates).
HOLDS = {
    "owner": {Role.ANYONE, Role.OWNER},
    "sponsor": {Role.ANYONE, Role.SPONSOR, Role.APPROVER},
    "controller": {Role.ANYONE, Role.CONTROLLER},
    "admin": {Role.ANYONE, Role.ADMIN},
    "stranger": {Role.ANYONE},
}
DEEDS = {
    "edit": Deed.EDIT, "request gate": Deed.REQUEST_GATE, "hold": Deed.HOLD, "approve": Deed.DECIDE,
    "reject": Deed.DECIDE, "acknowledge": Deed.ACKNOWLEDGE, "note": Deed.NOTE, "resolve": Deed.RESOLVE,
    "configure digest": Deed.CONFIGURE_DIGEST, "configure rules": Deed.CONFIGURE_RULES,
    "configure structure": Deed.CONFIGURE_STRUCTURE, "configure organization": Deed.CONFIGURE_ORGANIZATION,
    "enter actuals": Deed.ENTER_ACTUALS,
}  # fmt: skip


def entitled(action: str) -> set[str]:
    """Who may, read from the policy's table (domain/policy.py): the test holds the bot to it."""
    return {role for role, holds in HOLDS.items() if POLICY[DEEDS[action]] & holds}


def setup(bot: Bot) -> None:
    bot.clock.set(WED)
    with bot.session() as session:
        add_people(session, bot.slack)
        make_measure(session, package=make_tree(session), stage=Stage.DI2, now=WED)


async def approval_message(bot: Bot) -> dict[str, Any]:
    await bot.client.command(OWNER, "gate M-1")
    await bot.settle()
    return last_dm(bot, SPONSOR, "Approval:")


async def escalation_message(bot: Bot) -> dict[str, Any]:
    with bot.session() as session:
        measure = session.exec(select(Measure)).one()
        measure.potential_status = PotentialStatus.OFF_TRACK
        session.add(measure)
    await sweep(bot.app.deps, now=bot.clock())
    return last_dm(bot, SPONSOR, "Escalation")


def opened_modal(bot: Bot, user: str) -> bool:
    return any(c.args.get("trigger_id", "").endswith(user) for c in bot.slack.calls("views.open"))


async def edit(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "edit M-1")
    await bot.settle()
    return opened_modal(bot, user)


async def request_gate(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "gate M-1")
    await bot.settle()
    with bot.session() as session:
        return session.exec(select(GateRequest)).first() is not None


async def approve(bot: Bot, user: str) -> bool:
    await press(bot, user, Action.GATE_APPROVE, await approval_message(bot))
    with bot.session() as session:
        return session.exec(select(GateDecision)).first() is not None


async def reject(bot: Bot, user: str) -> bool:
    await press(bot, user, Action.GATE_REJECT, await approval_message(bot))
    return opened_modal(bot, user)  # the reason modal; a refusal is said instead


async def acknowledge(bot: Bot, user: str) -> bool:
    await press(bot, user, Action.ESCALATION_ACK, await escalation_message(bot))
    with bot.session() as session:
        return session.exec(select(Escalation)).one().acknowledged_by == user


async def resolve(bot: Bot, user: str) -> bool:
    await press(bot, user, Action.ESCALATION_RESOLVE, await escalation_message(bot))
    try:  # someone who may is asked why; anyone else is told, and gets no form
        view = bot.slack.last_view(user)
    except LookupError:
        view = None
    if view is not None and view.get("callback_id") == Callback.ESCALATION_RESOLVE:
        await bot.client.submit(user, view, {Field.NOTE: "done"})
        await bot.settle()
    with bot.session() as session:
        return session.exec(select(Escalation)).one().state == "resolved"


async def configure_digest(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "digest C0OPS Ops")
    await bot.settle()
    with bot.session() as session:
        return session.exec(select(DigestSubscription)).first() is not None


async def hold(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "hold M-1 waiting for the budget")
    await bot.settle()
    with bot.session() as session:
        return session.exec(select(Measure)).one().stage == Stage.ON_HOLD


async def note(bot: Bot, user: str) -> bool:
    await press(bot, user, Action.ESCALATION_NOTE, await escalation_message(bot))
    return opened_modal(bot, user)


async def configure_rules(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "rules Ops tolerance=5")
    await bot.settle()
    with bot.session() as session:
        return session.exec(select(Unit).where(Unit.name == "Ops")).one().tolerance_pct == 5


async def configure_structure(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "structure")
    await bot.settle()
    return opened_modal(bot, user)


async def configure_organization(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "org Acme currency=CHF")
    await bot.settle()
    with bot.session() as session:
        return session.exec(select(Unit).where(Unit.name == "Acme")).one().currency == "CHF"


async def enter_actuals(bot: Bot, user: str) -> bool:
    await bot.client.command(user, "actuals M-1")
    await bot.settle()
    return opened_modal(bot, user)


ACTIONS: dict[str, Callable[[Bot, str], Awaitable[bool]]] = {
    "edit": edit, "request gate": request_gate, "hold": hold, "approve": approve, "reject": reject,
    "acknowledge": acknowledge, "note": note, "resolve": resolve, "configure digest": configure_digest,
    "configure rules": configure_rules, "configure structure": configure_structure,
    "configure organization": configure_organization, "enter actuals": enter_actuals,
}  # fmt: skip


def test_every_deed_with_a_listener_is_in_the_matrix() -> None:
    tested = set(DEEDS.values())
    untested = {
        Deed.PROPOSE,
        Deed.ANSWER_CHECKIN,
        Deed.IMPORT,
        Deed.EXPORT,
        Deed.VALIDATE_ACTUALS,
        Deed.MANAGE_API_TOKENS,
    }  # in their modules
    assert tested | untested == set(Deed) and set(DEEDS) == set(ACTIONS)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_only_the_entitled_succeed(bot: Bot, action: str, role: str) -> None:
    setup(bot)
    user = ROLES[role]
    before = len(bot.slack.responses(user)) + len(bot.slack.dms(user))
    succeeded = await ACTIONS[action](bot, user)
    assert succeeded == (role in entitled(action)), f"{role} {'could' if succeeded else 'could not'} {action}"
    if not succeeded:  # told why, in words
        said = [r.get("text", "") for r in bot.slack.responses(user)] + [m.text for m in bot.slack.dms(user)]
        assert len(said) > before and any(w in said[-1] for w in ("Only", "only", "cannot", "can't", "not ")), said[-1]


async def test_no_secret_reaches_a_log_line(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG, through commands, clicks, a Web API error and a forged request."""
    for name in ("", "pacekeeper", "pacekeeper.slack_web", "pacekeeper.bolt", "slack_sdk", "slack_bolt", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test: DEBUG slows every later one
    setup(bot)
    message = await approval_message(bot)
    bot.slack.inject("chat.update", error="internal_error")
    await press(bot, SPONSOR, Action.GATE_APPROVE, message)
    forged = await bot.client.post("{}", content_type="application/json", signature="v0=forged")
    assert forged.status == 401
    text = "\n".join(f"{r.getMessage()} {json.dumps(r.__dict__, default=str)}" for r in caplog.records)
    assert len(caplog.records) > 10  # something was logged at all
    for secret in (TOKEN, SIGNING_SECRET):
        assert secret not in text
