"""Digest rendering as a pure function: rollups, block limits and the counting of what was cut."""

from __future__ import annotations

import json

from messages.digest import MAX_THREAD_MESSAGES, render_digest
from storage.digest_rollup import by_child, rollup
from tests.factories import digest_data


def test_rollup_sums_counts_and_money_and_splits_by_child() -> None:
    d = digest_data(0)
    total = rollup(d.groups, d.money, closed_through=d.closed_through)
    assert (total.measures, total.in_progress, total.stages["DI0"]) == (18, 15, 3)
    assert (total.plan, total.actual) == (12_000, 1_600)
    assert total.forecast == 2 * 800 + 10 * 900  # closed months settled by their actuals, open ones expected
    assert (total.blocked, total.overdue, total.impl["off_track"]) == (2, 1, 5)
    children = dict(by_child(d))
    assert children["Procurement"].plan == 12_000 and children["Logistics"].plan == 0
    assert children["Logistics"].measures == 8


def test_every_message_stays_within_slack_limits_and_what_is_cut_is_counted() -> None:
    digest = render_digest(digest_data(5_000, loaded=1_000))
    assert len(digest.summary.blocks) <= 50
    assert 1 <= len(digest.thread) <= MAX_THREAD_MESSAGES
    for message in [digest.summary, *digest.thread]:
        blocks = [b.to_dict() for b in message.blocks]
        assert len(blocks) <= 50 and message.text
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
        assert sum(len(b.get("text", {}).get("text", "")) for b in blocks) <= 12_500  # Slack's msg_too_long
    text = json.dumps([b.to_dict() for m in digest.thread for b in m.blocks], ensure_ascii=False)
    listed = text.count("• *M-")
    more = int(text.split("… and ")[1].split(" more")[0])
    assert listed + more == 5_000
    assert "blocked by legal" in text  # a line per measure: newlines in what people typed are flattened


def test_a_small_unit_says_none_where_there_is_nothing() -> None:
    digest = render_digest(digest_data(0))
    text = json.dumps([b.to_dict() for b in digest.summary.blocks], ensure_ascii=False)
    assert "*Approvals waiting* (0)\\n_None._" in text and "*Overdue check-ins* (1) M-1" in text
