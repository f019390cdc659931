"""The embedded default: with no Slack token, a local sandbox workspace on SQLite.

It starts the Slack stand-in (the Web API the bot talks to) with the sandbox page on it
(bot/sandbox_page.py), and loads the demo organization (bot/sandbox_demo.py) on the first start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session, SQLModel

from bot.sandbox_demo import seed
from bot.standin.records import StandInState
from bot.standin.server import SlackStandIn
from slackkit.settings import Settings
from slackkit.web_client import make_web_client
from storage.queries import all_units, upsert_person

DEMO_PEOPLE = [
    ("U0ADA", "Ada Admin", "ada@acme.example", "Europe/London", True),
    ("U0OLIVIA", "Olivia Owner", "olivia@acme.example", "Europe/Berlin", False),
    ("U0KENJI", "Kenji Owner", "kenji@acme.example", "Asia/Tokyo", False),
    ("U0PRIYA", "Priya Owner", "priya@acme.example", "America/New_York", False),
    ("U0SAM", "Sam Sponsor", "sam@acme.example", "America/New_York", False),
    ("U0CHRIS", "Chris Controller", "chris@acme.example", "Europe/Paris", False),
    ("U0FRIDA", "Frida Finance", "frida@acme.example", "Europe/Berlin", False),  # approves Commercial's DI3
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


def load_demo(session: Session, *, now: datetime) -> int | None:
    """Load the demo organization, once (when the database has no units). Returns how many measures
    it created, or None when there was data already."""
    if all_units(session=session):
        return None
    add_people(session)
    return seed(session=session, now=now)


def add_people(session: Session) -> None:
    for user_id, name, email, tz, admin in DEMO_PEOPLE:
        upsert_person(session=session, slack_id=user_id, name=name, email=email, tz=tz, is_workspace_admin=admin)


def wipe(session: Session) -> None:
    """Delete every row (the sandbox's reset), children before parents."""
    for table in reversed(SQLModel.metadata.sorted_tables):
        session.execute(table.delete())


def reset_standin(standin: SlackStandIn) -> None:
    """Forget every message, view and call the stand-in recorded; keep its people."""
    users = standin.state.users
    standin.state = StandInState(users=users)
