"""What no listener has to check again: the person acting has a Slack user id the database can hold,
and nothing a person typed into a command or a form holds a NUL byte (PostgreSQL refuses one in text).

Runs after Bolt verified the request (see `bot/web.py`), before any listener. A refused request is
answered at once with a clear sentence on the surface it came from, and nothing is stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from slackkit.people import SLACK_USER_ID

log = logging.getLogger("pacekeeper.guards")

NUL_TEXT = "That text contains a character Pacekeeper cannot store (a NUL byte). Remove it and try again."
BAD_USER = "Pacekeeper cannot act for this Slack account (its user id is not one it knows how to store)."


def acting_user(body: dict[str, Any]) -> object:
    """The acting user's id as the body gives it (a command's `user_id`, an interaction's `user.id`)."""
    if "user_id" in body:
        return body["user_id"]
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) else None


def typed_strings(body: dict[str, Any]) -> Iterator[tuple[str | None, str]]:
    """(block id or None, text) for what a person typed: a command's text, the values of a submitted
    view and the state carried in its private metadata. (A click's value that holds a NUL byte is not
    one of ours: the listener's typed model refuses it and says the button is out of date.)"""
    if isinstance(body.get("text"), str):
        yield None, body["text"]
    view = body.get("view")
    if isinstance(view, dict) and body.get("type") == "view_submission":
        if isinstance(view.get("private_metadata"), str):
            yield None, view["private_metadata"]
        values = (view.get("state") or {}).get("values") or {}
        if isinstance(values, dict):
            for block_id, actions in values.items():
                for text in _strings(actions):
                    yield str(block_id), text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def refusal(body: dict[str, Any]) -> BoltResponse | None:
    """The answer to a request no listener should see, or None to let it through."""
    user = acting_user(body)
    if user is not None and not (isinstance(user, str) and SLACK_USER_ID.fullmatch(user)):
        return _answer(body, BAD_USER, block_id=None)
    for block_id, text in typed_strings(body):
        if "\x00" in text:
            return _answer(body, NUL_TEXT, block_id=block_id)
    return None


def _answer(body: dict[str, Any], text: str, *, block_id: str | None) -> BoltResponse:
    log.warning("refused a %s: %s", body.get("type") or body.get("command") or "request", text)
    if body.get("type") == "view_submission" and block_id is not None:
        answer: dict[str, Any] = {"response_action": "errors", "errors": {block_id: text}}
    elif body.get("type") == "view_submission":
        answer = {"response_action": "push", "view": _notice_view(text)}
    elif "command" in body:
        answer = {"response_type": "ephemeral", "text": text}
    else:  # a click: Slack shows nothing for an ack body; the log line above is the record
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})


def _notice_view(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Pacekeeper"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text}}],
    }


async def refuse_unstorable(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
    refused = refusal(body)
    return refused if refused is not None else await next()


def register(app: AsyncApp) -> None:
    app.middleware(refuse_unstorable)
