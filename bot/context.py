"""What listeners and sweeps need: settings, the database, the Web API client and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.pacing import Pacer
from bot.settings import Settings
from storage.db import session_scope

T = TypeVar("T")


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    client: AsyncWebClient
    clock: Callable[[], datetime]
    pacer: Pacer

    async def transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one short transaction on a worker thread (the event loop stays free)."""
        return await asyncio.to_thread(self._run, work)

    def _run(self, work: Callable[[Session], T]) -> T:
        with session_scope(self.engine) as session:
            return work(session)


def make_deps(
    settings: Settings,
    *,
    engine: Engine,
    client: AsyncWebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    pacer: Pacer | None = None,
) -> Deps:
    from bot.slack_client import make_web_client
    from storage.types import utcnow

    pacer = pacer or Pacer(settings.send_rate)
    client = client or make_web_client(settings, pacer)
    return Deps(settings=settings, engine=engine, client=client, clock=clock or utcnow, pacer=pacer)
