"""What the Slack stand-in keeps (calls, messages, views, faults, uploads) and how it reads and checks
what it is sent, as Slack does: the wire helpers of bot/standin/server.py."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JsonDict = dict[str, Any]
TEAM_ID = "T0SANDBOX"

RESPONSE_URL_USES = 5  # Slack accepts five messages per response URL (within 30 minutes)
BLOCKS_CHARACTERS = 13_000  # about where Slack answers msg_blocks_too_long (the blocks' text)


@dataclass
class Call:
    method: str
    args: JsonDict
    at: float
    status: int = 200  # the HTTP status the stand-in answered (429 for a rate-limited call)


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    channel: str | None = None  # only calls for this channel (None: the next call, whatever it is for)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    updated: int = 0
    files: list[JsonDict] = field(default_factory=list)
    metadata: JsonDict | None = None


@dataclass
class StandInState:
    users: dict[str, JsonDict] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    views: dict[str, JsonDict] = field(default_factory=dict)
    open_views: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    home: dict[str, JsonDict] = field(default_factory=dict)
    responses: dict[str, list[JsonDict]] = field(default_factory=lambda: defaultdict(list))
    response_users: dict[str, str] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    rate_limits: dict[str, int] = field(default_factory=dict)
    windows: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    uploads: dict[str, JsonDict] = field(default_factory=dict)  # file id -> name, length, and bytes once sent
    usergroups: dict[str, list[str]] = field(default_factory=dict)  # subteam id (S…) -> its members' ids


def page(found: list[Message], args: JsonDict) -> JsonDict:
    """One page of messages, `limit` long, with a cursor; metadata when asked for."""
    limit, start = int(args.get("limit") or 100), int(args.get("cursor") or 0)
    with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
    messages = [
        {"type": "message", "ts": m.ts, "text": m.text, **({"thread_ts": m.thread_ts} if m.thread_ts else {}),
         **({"metadata": m.metadata} if with_metadata and m.metadata else {})}
        for m in found[start : start + limit]
    ]  # fmt: skip
    more = start + limit < len(found)
    return {"ok": True, "messages": messages, "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip


def message_problem(args: JsonDict) -> str | None:
    blocks = blocks_of(args)
    if not args.get("text") and not blocks:
        return "no_text"
    if len(blocks) > 50:
        return "invalid_blocks"
    if sum(text_length(b) for b in blocks) > BLOCKS_CHARACTERS:
        return "msg_blocks_too_long"  # as Slack, for a message far below 50 blocks of 3,000 characters
    return None


def text_length(value: Any) -> int:
    """The characters of every `text` string in a block, however deep."""
    if isinstance(value, dict):
        own = len(value["text"]) if isinstance(value.get("text"), str) else 0
        return own + sum(text_length(v) for k, v in value.items() if k != "text" or not isinstance(v, str))
    if isinstance(value, list):
        return sum(text_length(v) for v in value)
    return 0


def blocks_of(args: JsonDict) -> list[JsonDict]:
    blocks = json_arg(args.get("blocks"))
    return blocks if isinstance(blocks, list) else []


def json_arg(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


async def read_args(request: web.Request) -> JsonDict:
    args: JsonDict = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        else:
            args.update(dict(await request.post()))
    return args
