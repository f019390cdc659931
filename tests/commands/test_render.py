"""Rendering stays inside Block Kit's limits whatever the data."""

from __future__ import annotations

from datetime import date

from domain.enums import Stage
from domain.figures import Figures
from messages.cards import MeasureCard, card_blocks, list_blocks
from messages.text import slack_date
from storage.models import Measure


def measure(number: int, title: str = "t") -> Measure:
    return Measure(number=number, key=f"M-{number}", title=title, package_id=1, owner_id="U1", stage=Stage.DI2)


def test_a_long_list_fits_one_message() -> None:
    measures = [measure(n, "word " * 40) for n in range(1, 1001)]
    blocks = [b.to_dict() for b in list_blocks("All", measures, total=1000)]
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "Showing" in blocks[-1]["elements"][0]["text"]


def test_the_card_escapes_text_and_truncates_long_fields() -> None:
    m = measure(1, "<!channel> " + "x" * 400)
    m.description = "<script>" + "y" * 5000
    m.due = date(2027, 6, 30)
    card = MeasureCard(
        m,
        "A › B",
        Figures(10, 0, 8),
        Figures(10, 0, 8),
        "2027",
        None,
        [("high", "r" * 900, "")],
        [],
        [],
        ["an owner"],
        Stage.DI3,
        False,
    )
    blocks = [b.to_dict() for b in card_blocks(card)]
    text = str(blocks)
    mrkdwn = str([b for b in blocks if b["type"] != "header"])  # a plain_text header never pings anyone
    assert "<!channel>" not in mrkdwn and "&lt;script&gt;" in mrkdwn
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "variance -€2 (-20.0%)" in text and "Edit" not in text
    assert slack_date(date(2027, 6, 30)) in text


def test_date_tokens_carry_a_fallback() -> None:
    assert slack_date(date(2027, 1, 2)) == "<!date^1798891200^{date_short}|2027-01-02>"
