"""The sandbox page's drawing of Slack markup, and its clock."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.sandbox_page import EMOJI, SandboxClock, escaped_mentions, mrkdwn


def test_slack_markup_is_drawn_as_a_reader_sees_it_and_escaped() -> None:
    users = {"U0SAM": {"real_name": "Sam <Sponsor>"}}
    text = (
        "*Due* <!date^1814356800^{date_short}|2027-06-30> for <@U0SAM>, see <https://wiki.example/x|the plan> "
        "&lt;ok&gt; in <#C0OPSSTEER|x> :red_circle: _soon_ `M-1`\n<script>"
    )
    html = str(mrkdwn(text, users))
    assert "<b>Due</b>" in html and '<span class="date">2027-06-30</span>' in html
    assert "@Sam &lt;Sponsor&gt;" in html and "#ops-steering" in html and "🔴" in html
    assert '<a href="https://wiki.example/x" target="_blank" rel="noopener">the plan</a>' in html
    assert "&lt;ok&gt;" in html and "<i>soon</i>" in html and "<code>M-1</code>" in html
    assert "<br>&lt;script&gt;" in html and "<script>" not in html
    assert "@U0NOBODY" in str(mrkdwn("<@U0NOBODY|x>", users))


def test_the_clock_only_moves_forward() -> None:
    clock = SandboxClock()
    start = clock()
    clock.advance_to(start + timedelta(days=3))
    assert clock() - start >= timedelta(days=3)
    clock.advance_to(start)  # the past: nothing happens
    assert clock() - start >= timedelta(days=3)


def test_every_emoji_the_bot_writes_is_drawn_by_the_sandbox() -> None:
    """The issue's sandbox: emoji shortcodes drawn as Slack draws them. Any shortcode in the bot's
    own text (its sources and templates) that the sandbox cannot draw fails here."""
    root = Path(__file__).resolve().parents[2]
    folders = ("messages", "slackkit", "commands", "reminders", "domain")
    sources = [p for folder in folders for p in (root / folder).rglob("*") if p.suffix in (".py", ".j2")]
    used = {code for path in sources for code in re.findall(r":([a-z][a-z_]+):", path.read_text())}
    assert used - set(EMOJI) == set(), "add these to bot/sandbox_page.EMOJI"
    assert "⏳" in str(mrkdwn(":hourglass_flowing_sand: Checking", {}))


def test_a_name_typed_after_an_at_sign_reaches_the_bot_as_slack_escapes_it() -> None:
    users = {
        "U0SAM": {"real_name": "Sam Sponsor", "name": "sam.sponsor", "profile": {"display_name": "Sam"}},
        "U0SAMIRA": {"real_name": "Samira Chen", "name": "samira", "profile": {"display_name": "Samira"}},
    }
    assert escaped_mentions("list @Sam Sponsor", users) == "list <@U0SAM|sam.sponsor>"
    assert escaped_mentions("delegate @sam until 2027-04-30", users) == "delegate <@U0SAM|sam.sponsor> until 2027-04-30"
    assert escaped_mentions("list @Samira", users) == "list <@U0SAMIRA|samira>"  # not @Sam followed by "ira"
    assert escaped_mentions("list <@U0SAM|sam.sponsor> mail@Samira.com", users) == (
        "list <@U0SAM|sam.sponsor> mail@Samira.com"
    )  # already escaped, or not a mention: left alone
