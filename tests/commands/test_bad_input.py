"""Bad input at scale (hypothesis, 10,000 cases in all: 2,500 `/measure` texts, 1,000 modal
submissions, 4,000 CSV files and 2,500 interaction payloads). No unhandled exception, every one
answered with a clear message, and nothing written on rejection.

The slash commands, modals and clicks go through the real stack — signed HTTP requests to the
running aiohttp app, the bot's replies read from the Slack stand-in, the database fingerprinted
before and after. The app runs in a thread of its own so hypothesis can drive it example by
example. SQLite only: these are about input handling, not the database (the rest of the suite
runs both).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.standin.client import Reply
from commands.importer import read_rows
from messages.ids import Action, Callback
from tests.conftest import OWNER, STRANGER
from tests.livebot import LiveBot, live_bot

T = TypeVar("T")
GENERIC_ERROR = "something went wrong on our side"


def cases(count: int) -> Any:
    return settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    with live_bot(f"sqlite:///{tmp_path_factory.mktemp('bad-input') / 'bot.db'}") as bot:
        yield bot


def answered_cleanly(live: LiveBot, user: str, before_said: int, reply: Reply) -> str:
    assert reply.status == 200, reply.text
    said = live.said_to(user)
    if reply.text.startswith("{"):  # answered in the ack itself (an ephemeral reply, as Slack allows)
        said.append(str(reply.json().get("text", "")))
    assert len(said) > before_said, "no answer at all"
    assert all(GENERIC_ERROR not in text for text in said[before_said:]), said[before_said:]
    return said[-1]


# ---- /measure text ---------------------------------------------------------------------------------
SUBCOMMANDS = [
    "",
    "help",
    "new",
    "list",
    "show",
    "edit",
    "gate",
    "hold",
    "resume",
    "cancel",
    "structure",
    "digest",
    "rules",
    "away",
    "delegate",
    "M-1",
    "list mine",
    "digest preview",
]
WORDS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "M-1",
            "M-0",
            "m-99999999999",
            "<@U0SPONSOR>",
            "<@U0NOBODY|x>",
            "<#C0X|x>",
            "until",
            "2027-02-30",
            "tomorrow",
            "25:00",
            "mon",
            "weekly",
            "Acme",
            "Ops",
            "x=y",
            "tolerance=-5",
            "&amp;",
            "<!here>",
        ]
    ),
)


@given(head=st.sampled_from(SUBCOMMANDS), words=st.lists(WORDS, max_size=6))
@cases(2500)
def test_any_measure_text_from_a_stranger_is_answered_and_writes_nothing(
    live: LiveBot, head: str, words: list[str]
) -> None:
    text = " ".join([head, *words])[:3000]
    before, before_said = live.fingerprint(), len(live.said_to(STRANGER))
    views_before = len(live.slack.calls("views.open"))
    reply = live.run(live.client.command(STRANGER, text))
    live.settle()
    if len(live.slack.calls("views.open")) == views_before:  # a form opening (`new`) is an answer too
        answered_cleanly(live, STRANGER, before_said, reply)
    assert live.fingerprint() == before  # a stranger with no role: nothing they type changes anything


# ---- modal values --------------------------------------------------------------------------------------
MODAL_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1e9",
            "12k",
            "1.5m",
            "2027-13-01",
            "2027-01: 10k",
            "high: x | y",
            "M-1, M-9",
            "none",
            "http://",
            "javascript:x",
            "x" * 3001,
        ]
    ),
)


def new_measure_form(live: LiveBot) -> dict[str, Any]:
    """The New measure modal, opened once through /measure new and submitted many times."""
    if not hasattr(live, "form"):
        live.run(live.client.command(OWNER, "new"))
        live.settle()
        live.form = live.slack.last_view(OWNER)  # type: ignore[attr-defined]
    view: dict[str, Any] = live.form  # type: ignore[attr-defined]
    assert view["callback_id"] == Callback.NEW_MEASURE
    return view


TEXT_FIELDS = [
    "title",
    "description",
    "baseline",
    "target",
    "one_time_cost",
    "monthly_plan",
    "risks",
    "dependencies",
    "evidence",
    "checkin_time",
    "business_unit",
    "function",
]


@given(fields=st.dictionaries(st.sampled_from(TEXT_FIELDS), MODAL_TEXT, max_size=12), with_package=st.booleans())
@cases(1000)
def test_any_new_measure_form_is_refused_inline_with_nothing_written_or_created_once(
    live: LiveBot, fields: dict[str, str], with_package: bool
) -> None:
    view = new_measure_form(live)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    values: dict[str, Any] = {k: v for k, v in fields.items() if k in inputs}
    if with_package:
        element = inputs["package"]
        options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
        values["package"] = options[0]["value"]
    before = live.fingerprint()
    reply = live.run(live.client.submit(OWNER, view, values))
    live.settle()
    assert reply.status == 200
    body = json.loads(reply.text) if reply.text else {}
    if body.get("response_action") == "errors":
        assert body["errors"] and all(isinstance(m, str) and m.strip() for m in body["errors"].values())
        assert live.fingerprint() == before
    else:
        assert live.fingerprint() != before  # accepted: it was stored (once, in one transaction)


# ---- CSV rows ------------------------------------------------------------------------------------------
COLUMNS = [
    "organization",
    "portfolio",
    "program",
    "project",
    "package",
    "key",
    "title",
    "owner",
    "sponsor",
    "controller",
    "business_unit",
    "function",
    "baseline",
    "target",
    "due",
    "stage",
    "cadence",
    "colour",
]
CELL = st.one_of(
    st.text(alphabet=string.printable, max_size=20),
    st.sampled_from(
        ["", "M-1", "DI9", "DI2", "weekly fri 25:00", "2027-06-30", "U0OWNER", "nobody@example", "12k", '"', ",", "\n"]
    ),
)


@given(
    header=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=18),
    rows=st.lists(st.lists(CELL, max_size=20), max_size=5),
)
@cases(4000)
def test_any_csv_is_read_without_crashing_and_every_bad_row_is_named(header: list[str], rows: list[list[str]]) -> None:
    text = "\n".join(",".join(json.dumps(c) if c else "" for c in line) for line in [header, *rows])
    parsed, errors = read_rows(text)  # never raises, whatever the file
    for error in errors:
        assert error.strip() and ("line" in error.lower() or "column" in error.lower() or "header" in error.lower()), (
            error
        )
    if errors:
        assert not parsed  # all or nothing: a file with a bad row yields no rows to write


# ---- interaction payloads ---------------------------------------------------------------------------
BUTTONS = [a for a in Action]
VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            '{"key": "M-1"}',
            '{"checkin_id": 999999}',
            '{"request_id": -1, "step": 0}',
            '{"escalation_id": "x"}',
            "{}",
            "[]",
            "null",
            '{"key": "M-1", "x": 1}',
        ]
    ),
)


@given(action=st.sampled_from(BUTTONS), value=VALUES)
@cases(2500)
def test_any_click_with_a_forged_or_stale_value_is_answered_and_changes_nothing(
    live: LiveBot, action: Action, value: str
) -> None:
    user = STRANGER  # on no measure: every click of theirs is refused, or out of date
    message = {"channel": live.slack.dm_channel(user), "ts": "1.000001", "text": "", "blocks": []}
    before, before_said = live.fingerprint(), len(live.said_to(user))
    views_before = len(live.slack.calls("views.open"))
    reply = live.run(live.client.click(user, action, value, message=message))
    live.settle()
    assert reply.status == 200
    opened = len(live.slack.calls("views.open")) > views_before
    if not opened:  # a form opening (Edit on a measure one may edit) is an answer too
        answered_cleanly(live, user, before_said, reply)
    assert live.fingerprint() == before
