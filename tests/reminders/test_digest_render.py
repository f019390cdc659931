"""Digest rendering as a pure function: rollups, block limits and the counting of what was cut."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

from reminders.digest_data import Attention, DigestData, PackageMonth, StageGroup, by_child, rollup
from reminders.digest_render import MAX_THREAD_MESSAGES, render_digest

NOW = datetime(2027, 3, 5, 15, tzinfo=UTC)


def data(attention: int, loaded: int | None = None) -> DigestData:
    groups = [
        StageGroup(1, "DI3", "on_track", 10, 100_000, 2, 1, 500_000, 4),
        StageGroup(2, "DI1", "off_track", 5, 50_000, 0, 0, 0, 5),
        StageGroup(2, "DI0", "not_started", 3, 30_000, 0, 0, 0, 3),
    ]
    money = [PackageMonth(1, date(2027, m, 1), 1_000, 900, 800 if m < 3 else None, 400) for m in range(1, 13)]
    rows = [
        Attention(f"M-{n}", "A title " * 20, "U1", "off_track", "at_risk", "blocked\nby legal")
        for n in range(attention)
    ]
    return DigestData(
        unit_name="Ops", unit_path="Acme › Ops", child_level="program", now=NOW, since=NOW, year=2027,
        groups=groups, potential=Counter({"at_risk": 15}), owners=Counter({"U1": 15}), delivered_with_evidence=0,
        attention=rows[: loaded if loaded is not None else attention], attention_total=attention, overdue_keys=["M-1"],
        child_of_package={1: "Procurement", 2: "Logistics"}, money=money, changes=[], approvals=[], escalations=[],
    )  # fmt: skip


def test_rollup_sums_counts_and_money_and_splits_by_child() -> None:
    d = data(0)
    total = rollup(d.groups, d.money)
    assert (total.measures, total.in_progress, total.stages["DI0"]) == (18, 15, 3)
    assert (total.plan, total.actual) == (12_000, 1_600)
    assert total.forecast == 500_000 + 12 * 400  # the owners' forecasts, plus the plan where none was given
    assert (total.blocked, total.overdue, total.impl["off_track"]) == (2, 1, 5)
    children = dict(by_child(d))
    assert children["Procurement"].plan == 12_000 and children["Logistics"].plan == 0
    assert children["Logistics"].measures == 8


def test_every_message_stays_within_slack_limits_and_what_is_cut_is_counted() -> None:
    digest = render_digest(data(5_000, loaded=1_000))
    assert len(digest.summary.blocks) <= 50
    assert 1 <= len(digest.thread) <= MAX_THREAD_MESSAGES
    for message in [digest.summary, *digest.thread]:
        blocks = [b.to_dict() for b in message.blocks]
        assert len(blocks) <= 50 and message.text
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    text = json.dumps([b.to_dict() for m in digest.thread for b in m.blocks], ensure_ascii=False)
    listed = text.count("• *M-")
    more = int(text.split("… and ")[1].split(" more")[0])
    assert listed + more == 5_000
    assert "blocked by legal" in text  # a line per measure: newlines in what people typed are flattened


def test_a_small_unit_says_none_where_there_is_nothing() -> None:
    digest = render_digest(data(0))
    text = json.dumps([b.to_dict() for b in digest.summary.blocks], ensure_ascii=False)
    assert "*Approvals waiting* (0)\\n_None._" in text and "*Overdue check-ins* (1) M-1" in text
