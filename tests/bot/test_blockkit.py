"""`blocks_json` is slack-sdk's `to_dict()`, only faster: the same JSON and the same errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RichTextBlock,
    RichTextSectionElement,
    SectionBlock,
    StaticSelectElement,
)

from messages.blockkit import blocks_json
from messages.checkin import delivery_failure_message, prompt_message, reminder_message
from messages.digest import render_digest
from storage.checkins import PromptItem
from tests.factories import digest_data

NOW = datetime(2027, 3, 8, 9, tzinfo=UTC)


def outcome(serialise: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", serialise()
    except SlackObjectFormationError as error:
        return "error", str(error)


def assert_same(blocks: list[Block]) -> None:
    assert outcome(lambda: blocks_json(blocks)) == outcome(lambda: [b.to_dict() for b in blocks])


def item(n: int, *, status: str = "pending", title: str = "Consolidate suppliers", **kw: Any) -> PromptItem:
    fields = {
        "checkin_id": n, "key": f"M-{n}", "title": title, "impl_status": "on_track",
        "potential_status": "at_risk", "status": status, "answered_status": None, "answered_at": None,
        "cycle_end": NOW + timedelta(days=7),
    } | kw  # fmt: skip
    return PromptItem(**fields)


def test_check_in_messages_in_every_state_serialise_as_slack_sdk_does() -> None:
    items = [
        item(1),
        item(2, status="answered", answered_status="off_track", answered_at=NOW),
        item(3, status="skipped"),
        item(4, title="<b>&amp; " * 40),
        *(item(n) for n in range(5, 30)),  # more than fit with buttons: the rest are listed
    ]
    for rendered in (
        prompt_message(items[:1], now=NOW),
        prompt_message(items, now=NOW),
        prompt_message(items, now=NOW + timedelta(days=8)),  # closed: no buttons
        reminder_message(["M-1", "M-2"]),
        delivery_failure_message(recipient="C123", kind="checkin_prompt", error="channel_not_found"),
    ):
        assert blocks_json(rendered.blocks) == [b.to_dict() for b in rendered.blocks]


def test_a_digest_and_its_thread_serialise_as_slack_sdk_does() -> None:
    digest = render_digest(digest_data(300))
    for message in [digest.summary, *digest.thread]:
        assert blocks_json(message.blocks) == [b.to_dict() for b in message.blocks]


def test_an_invalid_block_raises_slack_sdk_s_own_error() -> None:
    too_long = ButtonElement(text="x" * 76, action_id="a", value="v")
    for blocks in (
        [HeaderBlock(text="x" * 151)],
        [ActionsBlock(elements=[too_long])],
        [ActionsBlock(elements=[ButtonElement(text="ok", action_id=f"a{n}") for n in range(26)])],
    ):
        assert outcome(lambda b=blocks: blocks_json(b))[0] == "error"
        assert_same(blocks)


texts = st.one_of(st.text(max_size=40), st.sampled_from(["", "x" * 75, "x" * 76, "x" * 151, "x" * 3001]))
ids = st.one_of(st.none(), st.text(min_size=1, max_size=12), st.just("y" * 256))
plain = st.builds(PlainTextObject, text=texts, emoji=st.none() | st.booleans())
mrkdwn = st.builds(MarkdownTextObject, text=texts, verbatim=st.none() | st.booleans())
confirm = st.builds(ConfirmObject, title=texts, text=texts, confirm=texts, deny=texts)
button = st.builds(
    ButtonElement, text=texts, action_id=ids, value=st.none() | texts, confirm=st.none() | confirm,
    style=st.none() | st.sampled_from(["primary", "danger", "loud"]), url=st.none() | st.just("https://example.com/x"),
)  # fmt: skip
option = st.builds(Option, value=st.text(min_size=1, max_size=80), text=texts)
select = st.builds(
    StaticSelectElement, action_id=ids, placeholder=st.none() | texts, options=st.lists(option, max_size=4)
)
blocks = st.one_of(
    st.builds(SectionBlock, text=mrkdwn | plain, block_id=ids, accessory=st.none() | button | select),
    st.builds(SectionBlock, fields=st.lists(mrkdwn, min_size=1, max_size=11), block_id=ids),
    st.builds(ContextBlock, elements=st.lists(mrkdwn | plain, max_size=11)),
    st.builds(ActionsBlock, elements=st.lists(button | select, max_size=26), block_id=ids),
    st.builds(HeaderBlock, text=texts),
    st.builds(DividerBlock),
    st.builds(RichTextBlock, elements=st.just([RichTextSectionElement(elements=[])])),  # may be empty
    st.builds(ImageBlock, image_url=st.just("https://example.com/c.png"), alt_text=texts, title=st.none() | plain),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(blocks, max_size=6))
def test_any_blocks_give_the_same_json_or_the_same_error(generated: list[Block]) -> None:
    assert_same(generated)
