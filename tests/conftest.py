"""Shared fixtures: a migrated database (SQLite and PostgreSQL), the Slack stand-in, the running bot.

PostgreSQL runs use TEST_DATABASE_URL, or the local server at 127.0.0.1:5432 when it answers;
otherwise they are skipped with the reason. Each test session migrates a database of its own once
and every test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.app import PacekeeperApp, create_app
from bot.standin.client import SignedClient
from bot.standin.server import SlackStandIn
from bot.web import create_web_app
from slackkit.settings import Settings
from storage.db import create_db_engine, session_scope, upgrade

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SIGNING_SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"

# The people of the test workspace: (id, name, e-mail, timezone, workspace admin)
OWNER, SPONSOR, CONTROLLER, ADMIN, STRANGER, WS_ADMIN = (
    "U0OWNER",
    "U0SPONSOR",
    "U0CTRL",
    "U0ADMIN",
    "U0STRANGER",
    "U0WSADMIN",
)
PEOPLE = [
    (OWNER, "Olivia Owner", "olivia@example.com", "America/New_York", False),
    (SPONSOR, "Sam Sponsor", "sam@example.com", "Asia/Tokyo", False),
    (CONTROLLER, "Chris Controller", "chris@example.com", "Europe/Paris", False),
    (ADMIN, "Ada Admin", "ada@example.com", "Europe/London", False),
    (STRANGER, "Stan Stranger", "stan@example.com", "UTC", False),
    (WS_ADMIN, "Wanda Workspace", "wanda@example.com", "UTC", True),
]


# ---- databases ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, dropped afterwards; the test is skipped, saying why,
    when no server answers (TEST_DATABASE_URL, or the local server at 127.0.0.1:5432)."""
    admin_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    admin_url = (
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1) if "+psycopg" not in admin_url else admin_url
    )
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {admin_url} (set TEST_DATABASE_URL): {error.orig}")
    name = f"pacekeeper_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = [t for t in sa.inspect(connection).get_table_names() if t != "alembic_version"]
        connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


# ---- Slack stand-in and the running bot -----------------------------------------------------------
async def start_site(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    slack = SlackStandIn(token=TOKEN)
    for user_id, name, email, tz, admin in PEOPLE:
        slack.add_user(user_id, name=name, email=email, tz=tz, is_admin=admin)
    runner, slack.url = await start_site(slack.app)
    yield slack
    await runner.cleanup()


@pytest.fixture
def settings(standin: SlackStandIn, db_url: str) -> Settings:
    return Settings(
        bot_token=TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=f"{standin.url}/api/",
        database_url=db_url,
        admin_user_ids=frozenset({ADMIN}),
    )


class Clock:
    """The injected clock: tests set and advance it; the bot and `tick` read it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))


@dataclass
class Bot:
    app: PacekeeperApp
    url: str
    slack: SlackStandIn
    client: SignedClient
    engine: Engine
    clock: Clock

    async def settle(self) -> None:
        """Wait until every listener run has finished its work after the ack."""
        assert await self.app.inflight.wait_idle(10), "listeners still running after 10 s"

    def session(self):  # type: ignore[no-untyped-def]
        return session_scope(self.engine, clock=self.clock)


@pytest.fixture
async def bot(settings: Settings, engine: Engine, standin: SlackStandIn, clock: Clock) -> AsyncIterator[Bot]:
    app = create_app(settings, engine=engine, clock=clock)
    runner, url = await start_site(create_web_app(app))
    client = SignedClient(bot_url=url, signing_secret=SIGNING_SECRET, standin=standin)
    harness = Bot(app=app, url=url, slack=standin, client=client, engine=engine, clock=clock)
    yield harness
    await harness.settle()
    await runner.cleanup()
    await app.deps.aclose()
