"""The app factory: `create_app(settings, ...)` builds the Bolt AsyncApp with every feature registered."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from slackkit.context import Deps, make_deps
from slackkit.pacing import Pacer
from slackkit.settings import Settings
from storage.types import utcnow

Listener = Callable[..., Awaitable[Any]]


class InFlight:
    """Counts listener runs still going after their ack, so shutdown and tests can wait for them."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __enter__(self) -> None:
        self.count += 1
        self._idle.clear()

    def __exit__(self, *_exc: object) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


class PacekeeperApp(AsyncApp):
    """An AsyncApp that carries its dependencies, records what it listens to (checked against the
    manifest by a test), and tracks listener runs in flight."""

    def __init__(self, *, deps: Deps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deps = deps
        self.inflight = InFlight()
        self.registered: dict[str, set[str]] = defaultdict(set)

    def _tracked(self, kind: str, constraint: object, register: Callable[[Listener], Any]) -> Callable[[Listener], Any]:
        self.registered[kind].add(str(constraint))

        def decorate(func: Listener) -> Any:
            @functools.wraps(func)
            async def tracked(**kwargs: Any) -> Any:
                with self.inflight:
                    return await func(**kwargs)

            register(tracked)
            return func

        return decorate

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracked("command", command, super().command(command, *args, **kwargs))

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracked("event", event, super().event(event, *args, **kwargs))

    def action(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracked("action", constraints, super().action(constraints, *args, **kwargs))

    def view(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracked("view", constraints, super().view(constraints, *args, **kwargs))


def create_app(
    settings: Settings,
    *,
    engine: Engine,
    client: AsyncWebClient | None = None,
    clock: Callable[[], datetime] = utcnow,
    pacer: Pacer | None = None,
) -> PacekeeperApp:
    from bot import errors, guards
    from commands import checkin, escalations, gates, home, measure, router, structure

    deps = make_deps(settings, engine=engine, client=client, clock=clock, pacer=pacer)
    app = PacekeeperApp(
        deps=deps,
        client=deps.client,
        signing_secret=settings.signing_secret,
        logger=logging.getLogger("pacekeeper.bolt"),
        process_before_response=False,
    )

    @app.middleware
    async def with_deps(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        context["deps"] = deps  # every listener names `deps` among its arguments and gets these
        return await next()

    for feature in (errors, guards, router, measure, structure, gates, escalations, checkin, home):
        feature.register(app)
    return app
