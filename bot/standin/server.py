"""A local stand-in for Slack's Web API.

It records every call the bot makes, keeps the messages, views and App Home tabs it was sent,
serves users with timezones, and can inject 429 + Retry-After, 5xx and error replies or enforce a
per-second rate limit. Tests and the sandbox both use it; it is not a mock of the bot's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.standin.files import FileMethods
from bot.standin.records import (
    RESPONSE_URL_USES,
    TEAM_ID,
    Call,
    Fault,
    JsonDict,
    Message,
    StandInState,
    blocks_of,
    json_arg,
    message_problem,
    page,
    read_args,
    text_length,
)
from bot.standin.users import UserMethods

BOT_USER_ID = "U0PACEBOT"


class SlackStandIn(FileMethods, UserMethods):
    """The Web API at `{url}/api/<method>` and response URLs at `{url}/response/<id>`."""

    def __init__(
        self, *, token: str, app_token: str | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.socket_acks: dict[str, JsonDict] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self.state = StandInState()
        self._clock = clock
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self.url = ""
        self.app = web.Application()
        self.app.router.add_post("/api/{method}", self._api)
        self.app.router.add_get("/api/{method}", self._api)
        self.app.router.add_post("/response/{response_id}", self._response)
        self.app.router.add_get("/socket", self._socket)
        self.app.router.add_get("/_calls", self._calls)
        self.app.router.add_post("/upload/{file_id}", self._upload)
        self.app.router.add_get("/files/{file_id}", self._file)
        self.auto_users = False  # treat any U… id as a user (benchmarks with thousands of people)
        self.held: dict[str, asyncio.Event] = {}  # calls of these methods wait until the event is set
        self._handlers: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update_message,
            "chat.delete": self._delete_message,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._lookup_by_email,
            "usergroups.users.list": self._usergroups_users_list,
            "apps.connections.open": self._connections_open,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # ---- set-up, used by tests and the sandbox ----------------------------------------------
    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait until the returned event is set: a test proves that an ack did not
        wait for such a call (it could not have been answered while the call was held)."""
        self.held[method] = asyncio.Event()
        return self.held[method]

    def dms(self, user_id: str) -> list[Message]:
        return [m for m in self.state.messages.get(self.dm_channel(user_id), []) if m.ephemeral_to is None]

    def inject(self, method: str, *, times: int = 1, **fault: Any) -> None:
        """Answer the next `times` calls of `method` with this fault (status/error/retry_after/delay)."""
        for _ in range(times):
            self.state.faults[method].append(Fault(**fault))

    def rate_limit(self, method: str, per_second: int) -> None:
        self.state.rate_limits[method] = per_second

    def new_response_url(self, user_id: str) -> str:
        response_id = f"R{next(self._ids):08d}"
        self.state.response_users[response_id] = user_id
        return f"{self.url}/response/{response_id}"

    # ---- inspection ---------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self.state.calls if method is None or c.method == method]

    def responses(self, user_id: str | None = None) -> list[JsonDict]:
        """What the bot sent to response URLs (ephemeral replies), oldest first."""
        return [
            body
            for response_id, bodies in self.state.responses.items()
            if user_id is None or self.state.response_users.get(response_id) == user_id
            for body in bodies
        ]

    def last_view(self, user_id: str) -> JsonDict:
        stack = self.state.open_views.get(user_id) or []
        if not stack:
            raise LookupError(f"no modal is open for {user_id}")
        return self.state.views[stack[-1]]

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every recorded call)."""
        async with self._changed:
            result = predicate()
            deadline = time.monotonic() + timeout
            while not result:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the stand-in did not see what the test waited for")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
                result = predicate()
            return result

    # ---- HTTP -------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await read_args(request)
        call = Call(method, args, time.time())
        self.state.calls.append(call)
        if method in self.held:
            await self.held[method].wait()
        try:
            limited = self._limited(method) or await self._fault(method, args)
            if limited is not None:
                call.status = limited.status
                return limited
            expected = self.app_token if method == "apps.connections.open" else self.token
            if request.headers.get("Authorization", "") != f"Bearer {expected}":
                return web.json_response({"ok": False, "error": "invalid_auth"})
            handler = self._handlers.get(method)
            if handler is None:
                return web.json_response({"ok": False, "error": "unknown_method"})
            return web.json_response(handler(args))
        finally:
            await self._notify()

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        if len(self.state.responses[request.match_info["response_id"]]) >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")  # as Slack: five uses of a response URL
        self.state.responses[request.match_info["response_id"]].append(body)
        self.state.calls.append(Call("response_url", body, time.time()))
        await self._notify()
        return web.Response(text="ok")

    async def _calls(self, request: web.Request) -> web.Response:
        """What was called, for a test or benchmark in another process: method, status, time, channel,
        and the size of what it carried (blocks, characters of block text). `?count=1`: only how many
        (cheap to poll, whatever was sent)."""
        method = request.query.get("method")
        if request.query.get("count"):
            return web.json_response({"count": len(self.calls(method))})
        calls = [
            {"method": c.method, "status": c.status, "at": c.at, "channel": c.args.get("channel"),
             "blocks": len(blocks_of(c.args)), "characters": sum(text_length(b) for b in blocks_of(c.args))}
            for c in self.calls(method)
        ]  # fmt: skip
        return web.json_response(calls)

    # ---- Socket Mode ----------------------------------------------------------------------------
    def _connections_open(self, _args: JsonDict) -> JsonDict:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "standin"}})
        await self._notify()
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.socket_acks[ack["envelope_id"]] = ack
                await self._notify()
        self._sockets.remove(socket)
        return socket

    async def send_envelope(self, kind: str, payload: JsonDict) -> str:
        """Deliver a request over Socket Mode (kind: slash_commands, interactive, events_api)."""
        await self.wait_for(lambda: self._sockets)
        envelope_id = f"env-{next(self._ids)}"
        await self._sockets[-1].send_json(
            {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        )
        return envelope_id

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _limited(self, method: str) -> web.Response | None:
        per_second = self.state.rate_limits.get(method)
        if per_second is None:
            return None
        now = self._clock()
        window = self.state.windows[method]
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= per_second:
            retry_after = max(1, int(window[0] + 1.0 - now + 0.999))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )
        window.append(now)
        return None

    async def _fault(self, method: str, args: JsonDict) -> web.Response | None:
        queue = self.state.faults.get(method)
        fault = next((f for f in queue or [] if f.channel in (None, args.get("channel"))), None)
        if fault is None:
            return None
        queue.remove(fault)  # type: ignore[union-attr]
        if fault.delay:
            await asyncio.sleep(fault.delay)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        if fault.status == 200 and fault.error is None:
            return None
        body = {"ok": False, "error": fault.error or f"http_{fault.status}"}
        return web.json_response(body, status=fault.status, headers=headers)

    # ---- Web API methods ----------------------------------------------------------------------
    def _next_ts(self) -> str:
        """Slack's message ts: the time it was posted, unique in the workspace (microseconds)."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _channel(self, channel: str | None) -> str | None:
        if not channel:
            return None
        if channel[0] in "UW":
            known = channel in self.state.users or self.auto_users
            return self.dm_channel(channel) if known else None
        return channel

    def _inactive(self, channel: str | None) -> bool:
        user = self.state.users.get(channel or "")
        return bool(user and user["deleted"])

    def _auth_test(self, _args: JsonDict) -> JsonDict:
        return {"ok": True, "team_id": TEAM_ID, "team": "Sandbox", "user_id": BOT_USER_ID, "bot_id": "B0PACE"}

    def _post_message(self, args: JsonDict) -> JsonDict:
        if self._inactive(args.get("channel")):
            return {"ok": False, "error": "account_inactive"}
        channel = self._channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = message_problem(args)
        if problem:
            return {"ok": False, "error": problem}
        message = Message(channel, self._next_ts(), args.get("text", ""), blocks_of(args), args.get("thread_ts"))
        metadata = json_arg(args.get("metadata"))
        message.metadata = metadata if isinstance(metadata, dict) else None
        self.state.messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": {"text": message.text}}

    def _conversations_open(self, args: JsonDict) -> JsonDict:
        users = str(args.get("users", "")).split(",")
        channel = self._channel(users[0]) if len(users) == 1 else None
        if channel is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": channel}}

    def _conversations_history(self, args: JsonDict) -> JsonDict:
        """Newest first, from `oldest` on, without thread replies (as Slack)."""
        oldest = float(args.get("oldest") or 0)
        found = [m for m in reversed(self.state.messages.get(str(args.get("channel")), [])) if m.ephemeral_to is None]
        found = [m for m in found if float(m.ts) >= oldest and m.thread_ts in (None, m.ts)]  # no thread replies
        return page(found, args)

    def _conversations_replies(self, args: JsonDict) -> JsonDict:
        """A thread: its parent message first, then the replies, oldest first."""
        messages = self.state.messages.get(str(args.get("channel")), [])
        parent = [m for m in messages if m.ts == args.get("ts") and m.ephemeral_to is None]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in messages if m.thread_ts == args.get("ts") and m.ts != args.get("ts")]
        return page([*parent, *replies], args)

    def _post_ephemeral(self, args: JsonDict) -> JsonDict:
        channel = self._channel(args.get("channel"))
        if channel is None or not args.get("user"):
            return {"ok": False, "error": "channel_not_found" if channel is None else "user_not_found"}
        message = Message(channel, self._next_ts(), args.get("text", ""), blocks_of(args), None, args["user"])
        self.state.messages[channel].append(message)
        return {"ok": True, "message_ts": message.ts}

    def _find(self, args: JsonDict) -> Message | None:
        for message in self.state.messages.get(args.get("channel", ""), []):
            if message.ts == args.get("ts"):
                return message
        return None

    def _update_message(self, args: JsonDict) -> JsonDict:
        message = self._find(args)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        problem = message_problem(args)
        if problem:
            return {"ok": False, "error": problem}
        message.text, message.blocks = args.get("text", message.text), blocks_of(args)
        message.updated += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _delete_message(self, args: JsonDict) -> JsonDict:
        message = self._find(args)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.state.messages[message.channel].remove(message)
        return {"ok": True}

    def _views_open(self, args: JsonDict) -> JsonDict:
        view = json_arg(args.get("view"))
        if not args.get("trigger_id") or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks", [])) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        user_id = str(args["trigger_id"]).split(".")[-1]
        view_id = f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "hash": f"h{view_id}", "user_id": user_id}
        self.state.views[view_id] = stored
        self.state.open_views[user_id].append(view_id)
        return {"ok": True, "view": stored}

    def _views_update(self, args: JsonDict) -> JsonDict:
        view = json_arg(args.get("view"))
        old = self.state.views.get(args.get("view_id", ""))
        if old is None or not isinstance(view, dict):
            return {"ok": False, "error": "not_found"}
        self.state.views[old["id"]] = {
            **view,
            "id": old["id"],
            "hash": old["hash"],
            "user_id": old["user_id"],
        }
        return {"ok": True, "view": self.state.views[old["id"]]}

    def _views_publish(self, args: JsonDict) -> JsonDict:
        view = json_arg(args.get("view"))
        user_id = str(args.get("user_id") or "")
        known = user_id in self.state.users or (self.auto_users and user_id.startswith(("U", "W")))
        if not known or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments" if known else "user_not_found"}
        if len(view.get("blocks", [])) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        home_id = f"VH{user_id}"  # as Slack: a person's App Home keeps its view id across publishes
        self.state.home[user_id] = {**view, "id": home_id, "hash": f"h{home_id}", "user_id": user_id}
        return {"ok": True, "view": self.state.home[user_id]}
