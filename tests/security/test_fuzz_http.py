"""A hypothesis fuzz of raw HTTP bodies and headers against the running bot, unsigned and signed, on
SQLite and PostgreSQL: never a 500 or a traceback; an unsigned request never causes an outgoing call
or a write; a signed one is answered 200 (a listener ran), 400 (it does not parse) or 404 (nothing
listens for it), and writes nothing it was not asked to."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import OWNER, SIGNING_SECRET, scratch_postgres
from tests.livebot import LiveBot, live_bot

FORM = "application/x-www-form-urlencoded"
CASES = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    if request.param == "sqlite":
        with live_bot(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'bot.db'}") as bot:
            yield bot
        return
    with scratch_postgres() as url, live_bot(url) as bot:
        yield bot


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def slack_like(live: LiveBot) -> st.SearchStrategy[tuple[bytes, str]]:
    """Bodies near what Slack sends (so that some reach listeners) and far from it."""
    url = live.slack.new_response_url(OWNER)
    fields = {"command": "/measure", "response_url": url, "team_id": "T0SANDBOX", "trigger_id": "1.2.3"}
    command = st.builds(
        lambda text, user: urlencode({**fields, "text": text, "user_id": user}).encode(),
        st.text(max_size=40),
        st.sampled_from([OWNER, "", "U" * 40, "<!channel>", "W123"]),
    )
    payload = st.builds(
        lambda kind, extra: urlencode({"payload": json.dumps({"type": kind, "response_url": url, **extra})}).encode(),
        st.sampled_from(["block_actions", "view_submission", "shortcut", "block_suggestion", "x", ""]),
        st.dictionaries(st.sampled_from(["user", "actions", "view", "team", "container", "trigger_id"]), JSONISH),
    )
    event = st.builds(
        lambda kind, inner: json.dumps({"type": kind, "event": inner, "event_id": "Ev1"}).encode(),
        st.sampled_from(["event_callback", "url_verification", "app_rate_limited", ""]),
        JSONISH,
    )
    anything = st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
    return st.tuples(
        command | payload | event | anything, st.sampled_from([FORM, "application/json", "text/plain", ""])
    )


HEADER_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    st.sampled_from(["soon", "1700000000.5", "-1", "0", "v0=00", "v0=" + "g" * 64, ""]),
)


async def post(live: LiveBot, body: bytes, content_type: str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            live.client.bot_url + "/slack/events", data=body, headers={"Content-Type": content_type, **headers}
        ) as response,  # fmt: skip
    ):
        return response.status, await response.text()


def signature(body: bytes, stamp: str) -> str:
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()


@CASES
@given(data=st.data(), timestamp=HEADER_VALUES, sig=HEADER_VALUES)
def test_unsigned_requests_never_cause_a_call_a_write_or_a_500(
    live: LiveBot, data: Any, timestamp: str, sig: str
) -> None:
    body, content_type = data.draw(slack_like(live))
    before, calls = live.fingerprint(), len(live.slack.calls())
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sig}
    status, text = live.run(post(live, body, content_type, headers))
    live.settle()
    assert status == 401 and "Traceback" not in text
    assert len(live.slack.calls()) == calls and live.fingerprint() == before


@CASES
@given(data=st.data())
def test_signed_requests_are_never_a_500(live: LiveBot, data: Any) -> None:
    body, content_type = data.draw(slack_like(live))
    stamp = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature(body, stamp)}
    status, text = live.run(post(live, body, content_type, headers))
    live.settle()
    assert status in (200, 400, 401, 404), (status, text)
    assert "Traceback" not in text
    if status == 401:  # only a body that is not UTF-8 (which Slack never signs)
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
