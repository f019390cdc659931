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

from bot.routes import Routes, action_id, callback_id
from slackkit.context import Deps, make_deps
from slackkit.pacing import Pacer
from slackkit.settings import Settings
from storage.types import utcnow

Listener = Callable[..., Awaitable[Any]]
ACKS_FIRST_AT_MOST = 0.5  # seconds work after an ack waits for other requests' acks, at most


class InFlight:
    """Counts what is still going (listener runs after their ack, requests before it), so shutdown,
    tests and the work after an ack can wait for it."""

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


class AfterAck:
    """One listener run's place among those doing their work after the ack.

    Acks come first: a run goes on past its ack only once no request is waiting for its own ack
    (or after `ACKS_FIRST_AT_MOST` seconds, so a steady stream of requests never starves it), and
    at most `Settings.after_ack_limit` runs go on at once, the rest in arrival order. In a burst
    the event loop then answers every request before it does the replies, instead of slicing its
    time (and the GIL, with the database threads) across hundreds of both."""

    def __init__(self, slots: asyncio.Semaphore, acking: InFlight) -> None:
        self._slots = slots
        self._acking = acking
        self._held = False

    async def take(self) -> None:
        await self._acking.wait_idle(ACKS_FIRST_AT_MOST)
        await self._slots.acquire()
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._slots.release()

    def wrapping(self, ack: Any) -> Callable[..., Awaitable[Any]]:
        async def ack_then_wait(*args: Any, **kwargs: Any) -> Any:
            answer = await ack(*args, **kwargs)
            await self.take()
            return answer

        return ack_then_wait


class PacekeeperApp(AsyncApp):
    """An AsyncApp that carries its dependencies, records what it listens to (checked against the
    manifest by a test), and tracks listener runs in flight."""

    def __init__(self, *, deps: Deps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deps = deps
        self.inflight = InFlight()
        self.after_ack = asyncio.Semaphore(deps.settings.after_ack_limit)
        self.acking = InFlight()  # requests received and not yet acked (bot/web.py counts them)
        self.registered: dict[str, set[str]] = defaultdict(set)
        self.actions = Routes("action", action_id)
        self.views = Routes("view", callback_id)

    def _tracked(self, kind: str, constraint: object, register: Callable[[Listener], Any]) -> Callable[[Listener], Any]:
        self.registered[kind].add(str(constraint))

        def decorate(func: Listener) -> Any:
            @functools.wraps(func)  # Bolt (and the routes) read the listener's parameters through it
            async def tracked(**kwargs: Any) -> Any:
                with self.inflight:
                    turn = AfterAck(self.after_ack, self.acking)
                    ack = kwargs.get("ack")
                    if ack is not None and ack.response is None:
                        kwargs["ack"] = turn.wrapping(ack)
                    else:  # acked before the listener began (events), or it takes no ack
                        await turn.take()
                    try:
                        return await func(**kwargs)
                    finally:
                        turn.give_back()

            register(tracked)
            return func

        return decorate

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracked("command", command, super().command(command, *args, **kwargs))

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracked("event", event, super().event(event, *args, **kwargs))

    def action(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(constraints, str) and not args and not kwargs:  # routed by its id (bot/routes.py)
            return self._tracked("action", constraints, functools.partial(self.actions.add, constraints))
        return self._tracked("action", constraints, super().action(constraints, *args, **kwargs))

    def view(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(constraints, str) and not args and not kwargs:
            return self._tracked("view", constraints, functools.partial(self.views.add, constraints))
        return self._tracked("view", constraints, super().view(constraints, *args, **kwargs))

    def seal(self) -> None:
        """Register the routes with Bolt, once every feature has added its listeners to them."""
        if self.actions:
            super().action(self.actions.pattern())(self.actions.route)
        if self.views:
            super().view(self.views.pattern())(self.views.route)


def create_app(
    settings: Settings,
    *,
    engine: Engine,
    client: AsyncWebClient | None = None,
    clock: Callable[[], datetime] = utcnow,
    pacer: Pacer | None = None,
) -> PacekeeperApp:
    from bot import errors, guards
    from commands import (
        actuals,
        checkin,
        escalations,
        gates,
        history,
        home,
        import_slack,
        measure,
        pickers,
        rebaseline,
        router,
        structure,
    )  # fmt: skip
    from commands import settings as personal_settings

    deps = make_deps(settings, engine=engine, client=client, clock=clock, pacer=pacer)
    deps.home_refresh = home.republish
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

    features = (
        errors, guards, router, measure, actuals, rebaseline, structure, gates, escalations, checkin, history, home,
        pickers, import_slack,
    )  # fmt: skip
    for feature in (*features, personal_settings):
        feature.register(app)
    app.seal()
    deps.acks_waiting = functools.partial(app.acking.wait_idle, ACKS_FIRST_AT_MOST)
    return app
