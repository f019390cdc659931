"""The running bot in a thread of its own, so that hypothesis can drive it example by example:
signed HTTP requests to the real aiohttp app, replies read from the Slack stand-in, the database
fingerprinted before and after."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.app import PacekeeperApp, create_app
from bot.standin.client import SignedClient
from bot.standin.server import SlackStandIn
from bot.web import create_web_app
from slackkit.settings import Settings
from storage.db import create_db_engine, session_scope, upgrade
from storage.types import utcnow
from tests.conftest import ADMIN, PEOPLE, SIGNING_SECRET, TOKEN, start_site
from tests.factories import add_people, make_measure, make_tree

T = TypeVar("T")


@dataclass
class LiveBot:
    loop: asyncio.AbstractEventLoop
    app: PacekeeperApp
    slack: SlackStandIn
    client: SignedClient
    engine: sa.Engine

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def settle(self) -> None:
        assert self.run(self.app.inflight.wait_idle(10)), "listener runs still going after 10 s"

    def fingerprint(self) -> tuple[int, ...]:
        """Rows in every table (one query): a rejection must leave it as it was."""
        counts = [
            sa.select(sa.func.count()).select_from(table).scalar_subquery()
            for table in SQLModel.metadata.sorted_tables
            if table.name not in ("person", "processed_event")  # refreshed caches, not writes of the input
        ]
        with self.engine.connect() as connection:
            return tuple(connection.execute(sa.select(*counts)).one())

    def said_to(self, user: str) -> list[str]:
        return [str(r.get("text", "")) for r in self.slack.responses(user)] + [m.text for m in self.slack.dms(user)]


@contextmanager
def live_bot(url: str) -> Iterator[LiveBot]:
    """The bot and the stand-in serving on a loop of their own, over a migrated database at `url`
    that holds the test people and one measure."""
    upgrade(url)
    engine = create_db_engine(url)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[PacekeeperApp, SlackStandIn, SignedClient, list[Any]]:
        slack = SlackStandIn(token=TOKEN)
        for user_id, name, email, tz, admin in PEOPLE:
            slack.add_user(user_id, name=name, email=email, tz=tz, is_admin=admin)
        slack_runner, slack.url = await start_site(slack.app)
        config = Settings(
            bot_token=TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=f"{slack.url}/api/",
            database_url=url,
            admin_user_ids=frozenset({ADMIN}),
        )
        app = create_app(config, engine=engine)
        bot_runner, bot_url = await start_site(create_web_app(app))
        return (
            app,
            slack,
            SignedClient(bot_url=bot_url, signing_secret=SIGNING_SECRET, standin=slack),
            [
                bot_runner,
                slack_runner,
            ],
        )

    app, slack, client, runners = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    with session_scope(engine, clock=utcnow) as session:
        add_people(session, slack)
        make_measure(session, package=make_tree(session), title="The one measure")
    bot = LiveBot(loop, app, slack, client, engine)
    yield bot

    async def stop() -> None:
        for runner in runners:
            await runner.cleanup()
        await app.deps.aclose()

    bot.run(stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    engine.dispose()
