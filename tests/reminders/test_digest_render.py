"""Digest rendering as a pure function: rollups, block limits and the counting of what was cut."""

from __future__ import annotations

import json
from dataclasses import replace

from domain.escalation_rules import Cause, Rung
from messages.digest import MAX_THREAD_MESSAGES, render_digest
from storage.digest_data import Attention, Change, DigestData, Raised
from storage.digest_rollup import by_child, rollup
from tests.factories import DIGEST_NOW, digest_data


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
    assert "*Approvals waiting* (0)\\n_None._" in text and "*Open escalations* (0) _None._" in text
    assert "Overdue check-ins" not in text  # counted in question 4 and among the escalations: never listed twice


def summary_text(data: DigestData) -> str:
    return json.dumps([b.to_dict() for b in render_digest(data).summary.blocks], ensure_ascii=False)


def test_the_summary_reads_in_thirty_seconds() -> None:
    """The issue's digest: value and both statuses first, green work with red money next, ideas shown,
    escalations counted by cause and listed once (in the thread), a cancellation called one, a legend,
    and each unit's figures as fields."""
    green_red = [Attention(f"M-{n}", f"Green {n}", "U1", "on_track", "off_track", "") for n in range(12)]
    raised = [Raised(f"M-{n}", "t", Cause.CHECKIN_OVERDUE, Rung.SPONSOR, DIGEST_NOW) for n in range(19)]
    raised += [Raised("M-90", "t", Cause.SHORTFALL, Rung.SPONSOR, DIGEST_NOW)] * 2
    cancelled = Change(DIGEST_NOW, "M-7", "stage_changed", {"stage": ["DI1", "cancelled"]})
    data = replace(digest_data(0), green_red=green_red, green_red_total=12, escalations=raised, changes=[cancelled])
    digest = render_digest(data)
    blocks = [b.to_dict() for b in digest.summary.blocks]
    texts = [json.dumps(b, ensure_ascii=False) for b in blocks]
    headline = next(i for i, t in enumerate(texts) if "*Value 2027*" in t)
    assert "*Implementation*" in texts[headline] and "*Potential*" in texts[headline]  # both statuses, at once
    assert "Green work, red money" in texts[headline + 1] and "(12)" in texts[headline + 1]  # right after
    text = "".join(texts)
    assert "3 ideas (DI0) not yet started" in text
    assert "*Open escalations* (21): 19 check-in overdue · 2 potential shortfall beyond the tolerance" in text
    assert "M-13" not in text.split("Open escalations")[1]  # counted, not listed one per line
    assert "*M-7* *cancelled* (it was at DI1 Identified)" in text and "passed a gate" not in text
    assert "no status or forecast yet" in text  # the legend
    fields = next(b for b in blocks if b.get("fields"))
    assert len(fields["fields"]) == 2 and "Procurement" in json.dumps(fields)
    assert len(blocks) <= 50
    thread = json.dumps([b.to_dict() for part in digest.thread for b in part.blocks], ensure_ascii=False)
    assert thread.count("Check-in overdue") == 19 and "Green 11" in thread  # the lists, once, in the thread
