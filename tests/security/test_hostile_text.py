"""User data never becomes Slack markup: every message kind the bot sends, rendered from hostile titles,
unit names, risks, blockers, comments, notes and reasons, carries no mention, broadcast or link of theirs.

Played through the real stack (signed commands, clicks and modals; the sweep; the stand-in records every
Web API call and response-URL post), then every piece of mrkdwn the bot sent is scanned.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import timedelta
from typing import Any

from domain.enums import ImplStatus, Severity, Stage
from domain.parsing import RiskLine
from messages.ids import Action, Field
from tests.conftest import ADMIN, OWNER, SPONSOR, Bot
from tests.factories import add_people, make_measure, make_tree
from tests.playbook import NY_MON_9, WED, button_value, last_dm, prompt_of, tick

EVIL = (
    "<!channel> <!everyone> <!here> <@U0EVIL> <#C0EVIL> <!subteam^S0EVIL> <https://evil.example|click here> "
    "@channel @here"
)
STEERING = "C0STEER"
DIGEST_CHANNEL = "C0OPS"
# What must never appear in mrkdwn the bot sends: a broadcast, a mention or a link taken from user data.
LEAKS = re.compile(
    r"<!(channel|everyone|here|subteam)|<@U0EVIL|<#C0EVIL|<https://evil|(?<![\w\u2060])@(channel|here)\b"
)


def mrkdwn_of(value: Any, *, plain: bool = False) -> list[str]:
    """Every string Slack reads as mrkdwn in a call's arguments: `text` fallbacks, mrkdwn text objects,
    section texts and fields (plain_text objects are shown as typed and are left out)."""
    found: list[str] = []
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, dict):
        kind = value.get("type")
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                if kind != "plain_text" and not plain:
                    found.append(item)
            else:
                found += mrkdwn_of(item, plain=plain or kind == "plain_text")
    elif isinstance(value, list):
        for item in value:
            found += mrkdwn_of(item, plain=plain)
    return found


def hostile_setup(bot: Bot) -> None:
    bot.clock.set(WED)
    with bot.session() as session:
        add_people(session, bot.slack)
        package = make_tree(session, names=("Acme", "Ops", f"Prog {EVIL}", f"Proj {EVIL}", f"Pack {EVIL}"))
        make_measure(
            session, package=package, title=f"T {EVIL}"[:200], description=EVIL, business_unit=EVIL[:100],
            function=EVIL[:100], risks=[RiskLine(Severity.HIGH, EVIL, EVIL)], stage=Stage.DI1, now=WED,
        )  # fmt: skip
        # Never answered, with a gate request left waiting: reminders, overdue, approval aging.
        make_measure(session, package=package, title=f"U {EVIL}"[:200], stage=Stage.DI1, now=WED)


async def command(bot: Bot, user: str, text: str) -> None:
    reply = await bot.client.command(user, text)
    assert reply.status == 200, reply.text
    await bot.settle()


async def test_no_markup_from_user_data_survives_in_any_message(bot: Bot) -> None:
    hostile_setup(bot)
    await command(bot, ADMIN, f"rules Ops steering=<#{STEERING}|steering> step-hours=24")
    await command(bot, ADMIN, f"digest <#{DIGEST_CHANNEL}|ops> Ops weekly mon 16:00")
    await command(bot, ADMIN, f"digest <#C0PACK|pack> Pack {EVIL} weekly mon 16:00")  # a hostile unit's own digest
    assert "Digest 2" in bot.slack.responses(ADMIN)[-1]["text"]
    await command(bot, OWNER, "show M-1")
    await command(bot, OWNER, "list mine")
    await command(bot, OWNER, f"list Pack {EVIL}")

    # The check-in prompt; the owner answers with hostile blockers and comment and a short forecast.
    await tick(bot, NY_MON_9)
    prompt = prompt_of(bot, OWNER)
    await bot.client.click(OWNER, Action.CHECKIN_UPDATE, button_value(prompt, Action.CHECKIN_UPDATE), message=prompt)
    await bot.settle()
    values = {Field.STATUS: ImplStatus.OFF_TRACK, Field.BLOCKERS: EVIL, Field.COMMENT: EVIL, Field.FORECAST_YEAR: "1k"}
    assert (await bot.client.submit(OWNER, bot.slack.last_view(OWNER), values)).status == 200
    await bot.settle()

    # The shortfall escalates to the sponsor, who adds a hostile note; unacknowledged, it climbs.
    await tick(bot, NY_MON_9 + timedelta(hours=1))
    escalation = last_dm(bot, SPONSOR, "Escalation")
    await bot.client.click(SPONSOR, Action.ESCALATION_NOTE, button_value(escalation, Action.ESCALATION_NOTE),
                           message=escalation)  # fmt: skip
    await bot.settle()
    assert (await bot.client.submit(SPONSOR, bot.slack.last_view(SPONSOR), {Field.NOTE: EVIL})).status == 200
    await bot.settle()
    await tick(bot, NY_MON_9 + timedelta(hours=26))
    await tick(bot, NY_MON_9 + timedelta(hours=49))  # M-2's check-in is overdue

    # A gate request, rejected with a hostile reason; a hostile hold reason; one left waiting.
    await command(bot, OWNER, "gate M-2")
    await command(bot, OWNER, "gate M-1")
    approval = last_dm(bot, SPONSOR, "Approval: ")
    await bot.client.click(SPONSOR, Action.GATE_REJECT, button_value(approval, Action.GATE_REJECT), message=approval)
    await bot.settle()
    assert (await bot.client.submit(SPONSOR, bot.slack.last_view(SPONSOR), {Field.REASON: EVIL})).status == 200
    await bot.settle()
    await command(bot, OWNER, f"hold M-1 {EVIL}")

    # The digest (summary and thread) and App Home.
    await tick(bot, NY_MON_9 + timedelta(days=7, hours=2))
    for person in (OWNER, SPONSOR):
        await bot.client.open_home(person)
        await bot.settle()

    sent = [(call.method, text) for call in bot.slack.calls() for text in mrkdwn_of(call.args)]
    kinds = {method for method, _ in sent}
    assert {"chat.postMessage", "chat.update", "views.publish", "response_url"} <= kinds, kinds
    assert any("Digest" in text for _, text in sent) and any("Escalation" in text for _, text in sent)
    assert {"C0PACK", DIGEST_CHANNEL, STEERING} <= {call.args.get("channel") for call in bot.slack.calls()}
    assert any("T &lt;!channel&gt;" in text for _, text in sent)  # the title is shown, escaped
    said = "\n".join(text for _, text in sent)
    for kind in ("Reminder: your check-in", "Reminder: M-2 is waiting", "Check-in overdue", "Approval: ", "Notes"):
        assert kind in said, kind  # every kind of message was played
    leaks = [(method, text[:300]) for method, text in sent if LEAKS.search(text)]
    assert leaks == [], "\n".join(f"{m}: {t}" for m, t in leaks)


def test_the_scanner_finds_markup() -> None:
    """The scan above can fail: raw markup in a fallback or a mrkdwn field is found, plain_text is not."""
    call = {
        "text": "hi <!channel>",
        "blocks": json.dumps([{"type": "header", "text": {"type": "plain_text", "text": "<!here>"}},
                              {"type": "section", "fields": [{"type": "mrkdwn", "text": "<@U0EVIL>"}]}]),
    }  # fmt: skip
    found = mrkdwn_of(call)
    assert found == ["hi <!channel>", "<@U0EVIL>"]
    assert all(LEAKS.search(text) for text in found)
    assert not LEAKS.search("T &lt;!channel&gt; @\u2060channel")
