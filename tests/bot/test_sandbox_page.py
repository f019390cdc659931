"""The sandbox page's drawing of Slack markup, and its clock."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox_page import SandboxClock, mrkdwn


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
