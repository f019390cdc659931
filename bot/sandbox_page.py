"""The sandbox workspace in a browser: channels and DMs, the bot's messages drawn from their Block
Kit, App Home, modals as forms, a slash-command box, demo people to act as, and a clock to play
time forward with. Every button, select and modal submission is sent to the bot as the same signed
payload Slack would send (bot/standin/client.py); the page only draws what the stand-in recorded.

Server-rendered (jinja2) with a few lines of JavaScript that reload the page when the stand-in has
seen new Web API calls; no network, no CDN.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlmodel import Session, col, select

from bot.sandbox_demo import CHANNELS
from bot.standin.client import SignedClient
from bot.standin.records import Message
from bot.standin.server import SlackStandIn
from reminders.sweep import sweep
from slackkit.context import Deps
from storage.models import DigestSubscription, Measure
from storage.types import utcnow

EMOJI = {
    "large_green_circle": "🟢", "large_yellow_circle": "🟡", "red_circle": "🔴", "white_circle": "⚪",
    "white_check_mark": "✅", "rotating_light": "🚨", "warning": "⚠️", "alarm_clock": "⏰", "fast_forward": "⏩",
    "eyes": "👀", "hourglass": "⌛", "hourglass_flowing_sand": "⏳", "leftwards_arrow_with_hook": "↩️",
    "lock": "🔒", "no_entry": "⛔",
}  # fmt: skip
ROLES = {"U0ADA": "admin", "U0OLIVIA": "owner", "U0KENJI": "owner", "U0PRIYA": "owner", "U0SAM": "sponsor",
         "U0CHRIS": "controller"}  # fmt: skip


class SandboxClock:
    """The bot's clock in the sandbox: the real time plus however far the page has played ahead."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance_to(self, instant: datetime) -> None:
        self.offset += max(timedelta(0), instant - self())


@dataclass
class PageState:
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # view id -> block id -> message
    typed: dict[str, dict[str, Any]] = field(default_factory=dict)  # view id -> what was typed, as Slack keeps it
    notice: str = ""


_TOKEN = re.compile(
    r"&lt;(!date\^[^|&]*\|(?P<date>.*?)|@(?P<user>[UW][A-Z0-9]+)(?:\|[^&]*)?|#(?P<channel>[CG][A-Z0-9]+)(?:\|[^&]*)?"
    r"|(?P<url>https?://[^|&]+)(?:\|(?P<label>.*?))?)&gt;"
)


def mrkdwn(text: str | None, users: dict[str, Any]) -> Markup:
    """Slack's mrkdwn as HTML: escaped first, then dates as their fallback, mentions as @names,
    channels as #names, links, *bold*, _italic_, `code`, :emoji: and line breaks."""

    def token(match: re.Match[str]) -> str:
        if match["date"] is not None:
            return f'<span class="date">{match["date"]}</span>'
        if match["user"]:
            name = users.get(match["user"], {}).get("real_name", match["user"])
            return f'<span class="mention">@{html.escape(name)}</span>'
        if match["channel"]:
            return f'<span class="mention">#{CHANNELS.get(match["channel"], match["channel"])}</span>'
        return f'<a href="{match["url"]}" target="_blank" rel="noopener">{match["label"] or match["url"]}</a>'

    escaped = html.escape(text or "", quote=False)
    out = _TOKEN.sub(token, escaped)
    # Slack's own escapes (&lt; &gt; &amp; for literal characters) were escaped once more above.
    out = out.replace("&amp;lt;", "&lt;").replace("&amp;gt;", "&gt;").replace("&amp;amp;", "&amp;")
    out = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])", r"<i>\1</i>", out)
    out = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", out)
    out = re.sub(r":([a-z_]+):", lambda m: EMOJI.get(m[1], m[0]), out)
    return Markup(out.replace("\n", "<br>"))


def attach_page(
    standin: SlackStandIn, *, bot_url: str, signing_secret: str, deps: Deps, clock: SandboxClock,
    reset: Callable[[], Awaitable[None]],
) -> None:  # fmt: skip
    """The sandbox page and its form handlers, on the stand-in's web app."""
    templates = Environment(loader=PackageLoader("bot.standin", "templates"), autoescape=select_autoescape())
    templates.filters["mrkdwn"] = lambda text: mrkdwn(text, standin.state.users)
    client = SignedClient(bot_url=bot_url, signing_secret=signing_secret, standin=standin)
    state = PageState()
    people = [(uid, u["real_name"], ROLES.get(uid, "")) for uid, u in standin.state.users.items()]

    async def page(request: web.Request) -> web.Response:
        me = request.query.get("as", people[0][0])
        where = request.query.get("in", "dm")
        if where == "home":
            await client.open_home(me)
            await _settle(standin)
        now = clock()
        upcoming = await deps.read(lambda s: _upcoming(s, now))
        html_text = templates.get_template("page.html").render(
            me=me, where=where, people=people, now=now, upcoming=upcoming, notice=state.notice,
            channels=[(cid, name) for cid, name in CHANNELS.items()], dm=standin.dm_channel(me),
            conversation=_conversation(standin, standin.dm_channel(me) if where == "dm" else where, me),
            home=standin.state.home.get(me), ephemeral=_ephemeral(standin, me), modal=_modal(standin, me, state),
            version=len(standin.state.calls),
        )  # fmt: skip
        state.notice = ""
        return web.Response(text=html_text, content_type="text/html")

    async def command(request: web.Request) -> web.Response:
        form = await request.post()
        me, text = str(form["as"]), str(form.get("text", "")).strip()
        await client.command(me, escaped_mentions(text.removeprefix("/measure").strip(), standin.state.users))
        await _settle(standin)
        return _back(form)

    async def click(request: web.Request) -> web.Response:
        """A button (or a menu's option) on a message, in a view (App Home, a modal) or on an ephemeral
        reply: sent with the container Slack would name."""
        form = await request.post()
        me, view_id, menu = str(form["as"]), str(form.get("view_id", "")), bool(form.get("menu"))
        action, value, block_id = (
            str(form["action_id"]),
            str(form.get("value", "")),
            str(form.get("block_id") or "actions"),
        )
        message = _find(standin, str(form.get("channel", "")), str(form.get("ts", "")))
        view = standin.state.views.get(view_id) or next(
            (h for h in standin.state.home.values() if h.get("id") == view_id), None
        ) if view_id else None  # fmt: skip
        if message is not None:
            body = {"channel": message.channel, "ts": message.ts, "text": message.text, "blocks": message.blocks}
            await client.click(me, action, value, message=body, block_id=block_id, menu=menu)
        elif view is not None:
            await client.click(me, action, value, view=view, block_id=block_id, menu=menu)
        elif form.get("channel") == "ephemeral":  # no message to point at: the bot answers by DM
            await client.click(me, action, value, block_id=block_id, menu=menu)
        await _settle(standin)
        return _back(form)

    async def submit(request: web.Request) -> web.Response:
        form = await request.post()
        me, view_id = str(form["as"]), str(form["view_id"])
        view = standin.state.views.get(view_id)
        if view is not None:
            values = _values(view, form)
            reply = await client.submit(me, view, values)
            answer = reply.json() if reply.text else {}
            if answer.get("response_action") == "errors":  # Slack keeps what was typed beside the errors
                state.errors[view_id], state.typed[view_id] = answer.get("errors", {}), values
            elif answer.get("response_action") == "update":
                standin.state.views[view_id] = {**answer["view"], "id": view_id, "user_id": me}
                state.errors.pop(view_id, None)
                state.typed.pop(view_id, None)
            else:
                _close(standin, me, view_id, state)
            await _settle(standin)
        return _back(form)

    async def close(request: web.Request) -> web.Response:
        form = await request.post()
        _close(standin, str(form["as"]), str(form["view_id"]), state)
        return _back(form)

    async def advance(request: web.Request) -> web.Response:
        form = await request.post()
        target = await _target(deps, clock, str(form["to"]))
        if target is None:
            state.notice = "Nothing is scheduled: no measure takes check-ins and no channel has a digest."
        else:
            clock.advance_to(target)
            report = await sweep(deps, now=clock())
            state.notice = f"Played forward to {clock():%a %d %b %H:%M} UTC: {report.summary()}."
        await _settle(standin)
        return _back(form)

    async def reset_all(request: web.Request) -> web.Response:
        form = await request.post()
        await reset()
        state.errors.clear()
        state.notice = "The sandbox was reset: the demo organization is loaded again."
        return _back(form)

    async def version(_request: web.Request) -> web.Response:
        return web.json_response({"version": len(standin.state.calls)})

    routes = [("GET", "/", page), ("POST", "/sandbox/command", command), ("POST", "/sandbox/click", click),
              ("POST", "/sandbox/submit", submit), ("POST", "/sandbox/close", close),
              ("POST", "/sandbox/clock", advance), ("POST", "/sandbox/reset", reset_all),
              ("GET", "/sandbox/version", version)]  # fmt: skip
    for method, path, handler in routes:
        standin.app.router.add_route(method, path, handler)


def escaped_mentions(text: str, users: dict[str, dict[str, Any]]) -> str:
    """`@Sam Sponsor`, `@Sam` or `@sam.sponsor` as Slack's client sends them in a command whose
    manifest says `should_escape: true`: `<@U0SAM|sam.sponsor>`. Longer names first, whole words only."""
    names = []
    for user_id, user in users.items():
        profile = user.get("profile") or {}
        for name in {user.get("real_name"), profile.get("display_name"), user.get("name")} - {None, ""}:
            names.append((str(name), user_id, str(user.get("name") or user_id)))
    for name, user_id, handle in sorted(names, key=lambda n: -len(n[0])):
        text = re.sub(rf"(?<![\w<|])@{re.escape(name)}(?![\w.])", f"<@{user_id}|{handle}>", text, flags=re.IGNORECASE)
    return text


def _back(form: Any) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/?as={form['as']}&in={form.get('in', 'dm')}")


async def _settle(standin: SlackStandIn, quiet: float = 0.3, limit: float = 8.0) -> None:
    """Wait until the bot has stopped calling the Web API for a moment (its work after the ack)."""
    loop = asyncio.get_running_loop()
    deadline, seen, since = loop.time() + limit, -1, loop.time()
    while loop.time() < deadline:
        count = len(standin.state.calls)
        if count != seen:
            seen, since = count, loop.time()
        elif loop.time() - since >= quiet:
            return
        await asyncio.sleep(0.05)


def _find(standin: SlackStandIn, channel: str, ts: str) -> Message | None:
    return next((m for m in standin.state.messages.get(channel, []) if m.ts == ts), None)


def _conversation(standin: SlackStandIn, channel: str, me: str) -> list[tuple[Message, list[Message]]]:
    """Top-level messages (not ephemerals for others) with their thread replies."""
    messages = [m for m in standin.state.messages.get(channel, []) if m.ephemeral_to in (None, me)]
    replies: dict[str, list[Message]] = {}
    for m in messages:
        if m.thread_ts:
            replies.setdefault(m.thread_ts, []).append(m)
    return [(m, replies.get(m.ts, [])) for m in messages if not m.thread_ts]


def _ephemeral(standin: SlackStandIn, me: str) -> list[dict[str, Any]]:
    bodies = [
        b for rid, bs in standin.state.responses.items() if standin.state.response_users.get(rid) == me for b in bs
    ]
    return bodies[-4:]


def _modal(standin: SlackStandIn, me: str, state: PageState) -> dict[str, Any] | None:
    open_ids = standin.state.open_views.get(me) or []
    if not open_ids:
        return None
    view = standin.state.views[open_ids[-1]]
    return {"view": view, "errors": state.errors.get(view["id"], {}), "typed": state.typed.get(view["id"], {})}


def _close(standin: SlackStandIn, me: str, view_id: str, state: PageState) -> None:
    if view_id in standin.state.open_views.get(me, []):
        standin.state.open_views[me].remove(view_id)
    state.errors.pop(view_id, None)
    state.typed.pop(view_id, None)


def _values(view: dict[str, Any], form: Any) -> dict[str, Any]:
    """The form's fields as the values a Slack user would have entered, by input block."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        block_id, kind = block["block_id"], block["element"]["type"]
        if kind in ("checkboxes", "multi_users_select"):
            values[block_id] = [str(v) for v in form.getall(block_id, [])]
        else:
            raw = str(form.get(block_id, "")).strip()
            values[block_id] = raw or None if kind != "plain_text_input" else raw
    return values


async def _target(deps: Deps, clock: SandboxClock, to: str) -> datetime | None:
    now = clock()
    if to.endswith("h") and to[:-1].isdigit():
        return now + timedelta(hours=int(to[:-1]))
    if to.endswith("d") and to[:-1].isdigit():
        return now + timedelta(days=int(to[:-1]))
    upcoming = await deps.read(lambda s: _upcoming(s, now))
    return upcoming.get(to)


def _upcoming(session: Session, now: datetime) -> dict[str, datetime | None]:
    """When the next check-in cycle and the next digest begin."""
    checkin = session.exec(
        select(sa.func.min(col(Measure.next_checkin_at))).where(col(Measure.next_checkin_at) > now)
    ).one()
    digest = session.exec(
        select(sa.func.min(col(DigestSubscription.next_at))).where(col(DigestSubscription.next_at) > now)
    ).one()
    return {"checkin": checkin, "digest": digest}
