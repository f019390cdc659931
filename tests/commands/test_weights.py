"""Realisation weights by stage (the Härtegrad): set per portfolio with a signed `/measure rules`,
shown on the card beside the unweighted forecast; bad weights change nothing."""

from __future__ import annotations

import json

from sqlmodel import select

from domain.enums import Stage
from domain.escalation_rules import PortfolioRules
from storage.models import AuditLog, Unit
from tests.conftest import ADMIN, OWNER, Bot
from tests.playbook import setup_measures


async def command(bot: Bot, user: str, text: str) -> str:
    await bot.client.command(user, text)
    await bot.settle()
    return str(bot.slack.responses(user)[-1]["text"])


async def card_text(bot: Bot) -> str:
    await bot.client.command(OWNER, "show M-1")
    await bot.settle()
    return json.dumps(bot.slack.responses(OWNER)[-1]["blocks"], ensure_ascii=False)


def stored_weights(bot: Bot) -> dict[str, int]:
    with bot.session() as session:
        ops = session.exec(select(Unit).where(Unit.name == "Ops")).one()
        weights = PortfolioRules.parse(ops.rules).weights
    return {stage: weights.of(stage) for stage in ("DI0", "DI1", "DI2", "DI3", "DI4", "DI5")}


def weight_changes(bot: Bot) -> int:
    with bot.session() as session:
        return len(session.exec(select(AuditLog).where(AuditLog.action == "rules_changed")).all())


async def test_the_card_shows_the_forecast_at_its_portfolios_weight(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"), stage=Stage.DI3)  # plan 10k a month in 2027
    # The defaults first: DI3 counts half.
    assert "*Weighted* (DI3 Decided at 50%) — forecast €60,000 of €120,000 in 2027" in await card_text(bot)
    reply = await command(bot, ADMIN, "rules Ops weight-DI3=65 weight-di4=95%")
    assert "Saved." in reply and "DI3 65%, DI4 95%, DI5 100%" in reply
    assert stored_weights(bot) == {"DI0": 0, "DI1": 10, "DI2": 25, "DI3": 65, "DI4": 95, "DI5": 100}
    assert weight_changes(bot) == 1
    card = await card_text(bot)
    assert "*Weighted* (DI3 Decided at 65%) — forecast €78,000 of €120,000 in 2027" in card
    assert "€78,000 of €120,000 over the whole plan" in card


async def test_weights_that_fall_or_do_not_parse_change_nothing(bot: Bot) -> None:
    setup_measures(bot, (OWNER, "Consolidate"))
    before = stored_weights(bot)
    refusals = {
        "rules Ops weight-DI4=40": "DI4 weighs 40%, less than the stage before it (50%)",
        "rules Ops weight-DI3=150": "weight-di3 takes a whole percentage from 0 to 100",
        "rules Ops weight-DI9=5": "stages with a weight are DI0, DI1, DI2, DI3, DI4, DI5",
        "rules Ops weight-DI2=2.5": "not “2.5”",
        "rules Ops weight-DI1=30 weight-DI2=20": "DI2 weighs 20%, less than the stage before it (30%)",
    }
    for text, reason in refusals.items():
        reply = await command(bot, ADMIN, text)
        assert reply.startswith("Nothing was changed") and reason in reply, (text, reply)
    assert "Only admins" in await command(bot, OWNER, "rules Ops weight-DI3=60")
    assert stored_weights(bot) == before and weight_changes(bot) == 0
    assert "DI3 50%" in await command(bot, OWNER, "rules Ops")  # anyone may read them
