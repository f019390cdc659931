"""The embedded default: with no Slack token, a local sandbox workspace on SQLite.

It starts the Slack stand-in (the Web API the bot talks to, plus a page that shows what the bot
posted and lets you type `/measure …` as any demo person), and loads a demo organization on the
first start.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.standin.client import SignedClient
from bot.standin.server import SlackStandIn
from commands.importer import ImportReport, apply_rows, read_rows, resolve_people
from storage.db import session_scope
from storage.queries import all_units

DEMO_CSV = Path(__file__).with_name("sandbox_demo.csv")
DEMO_PEOPLE = [
    ("U0ADA", "Ada Admin", "ada@acme.example", "Europe/London", True),
    ("U0OLIVIA", "Olivia Owner", "olivia@acme.example", "Europe/Berlin", False),
    ("U0KENJI", "Kenji Owner", "kenji@acme.example", "Asia/Tokyo", False),
    ("U0PRIYA", "Priya Owner", "priya@acme.example", "America/New_York", False),
    ("U0SAM", "Sam Sponsor", "sam@acme.example", "America/New_York", False),
    ("U0CHRIS", "Chris Controller", "chris@acme.example", "Europe/Paris", False),
]


def demo_standin(settings: Settings) -> SlackStandIn:
    standin = SlackStandIn(token=settings.bot_token)
    for user_id, name, email, tz, admin in DEMO_PEOPLE:
        standin.add_user(user_id, name=name, email=email, tz=tz, is_admin=admin)
    return standin


@asynccontextmanager
async def sandbox_directory(settings: Settings) -> AsyncIterator[AsyncWebClient]:
    """A Web API client on a short-lived stand-in that knows the demo people (for `import`)."""
    standin = demo_standin(settings)
    runner = web.AppRunner(standin.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        yield make_web_client(settings.with_overrides(api_url=f"http://127.0.0.1:{port}/api/"))
    finally:
        await runner.cleanup()


async def seed_demo(*, engine: Engine, standin_client: AsyncWebClient) -> ImportReport | None:
    """Load the demo organization through the importer, once (when the database has no units)."""

    def has_units() -> bool:
        with session_scope(engine) as session:
            return bool(all_units(session=session))

    if await asyncio.to_thread(has_units):
        return None
    rows, errors = read_rows(DEMO_CSV.read_text())
    assert not errors, errors
    users, _unknown = await resolve_people(standin_client, [ref for row in rows for ref in row.people.values()])

    def write() -> ImportReport:
        with session_scope(engine) as session:
            return apply_rows(session=session, rows=rows, users=users)

    return await asyncio.to_thread(write)


_TOKEN = re.compile(r"<(!date\^[^|>]*\|([^>]*)|@([UW][A-Z0-9]+)(?:\|[^>]*)?|(https?://[^|>]+)(?:\|([^>]*))?)>")


def slack_text(text: str, users: dict[str, Any]) -> str:
    """Slack's markup as a reader sees it: date tokens as their fallback, mentions as @names, links
    as their labels (the page escapes the result)."""

    def show(match: re.Match[str]) -> str:
        date_fallback, user_id, url, label = match.group(2), match.group(3), match.group(4), match.group(5)
        if date_fallback is not None:
            return date_fallback
        if user_id is not None:
            return "@" + (users.get(user_id, {}).get("real_name") or user_id)
        return label or url or match.group(0)

    return _TOKEN.sub(show, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def attach_page(standin: SlackStandIn, *, bot_url: str, signing_secret: str) -> None:
    """The sandbox page on the stand-in: messages per channel and DM, App Home tabs, a command box."""
    templates = Environment(loader=PackageLoader("bot.standin", "templates"), autoescape=select_autoescape())
    templates.filters["slack"] = lambda text: slack_text(text or "", standin.state.users)
    client = SignedClient(bot_url=bot_url, signing_secret=signing_secret, standin=standin)

    async def page(request: web.Request) -> web.Response:
        html = templates.get_template("page.html").render(
            state=standin.state, people=DEMO_PEOPLE, me=request.query.get("as", DEMO_PEOPLE[0][0])
        )
        return web.Response(text=html, content_type="text/html")

    async def command(request: web.Request) -> web.Response:
        form = await request.post()
        user_id, text = str(form.get("user", "")), str(form.get("text", "")).strip()
        if user_id in standin.state.users:
            reply = await client.command(user_id, text.removeprefix("/measure").strip())
            if reply.status != 200:
                standin.state.responses["sandbox"].append({"text": f"The bot answered HTTP {reply.status}"})
            await asyncio.sleep(0.3)  # let the bot's reply arrive before the page is drawn again
        raise web.HTTPSeeOther(f"/?as={user_id}")

    standin.app.router.add_get("/", page)
    standin.app.router.add_post("/sandbox/command", command)
