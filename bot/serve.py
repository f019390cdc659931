"""`python -m bot serve`: the bot over HTTP (or Socket Mode), until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import create_app
from bot.sandbox import demo_standin, load_demo, reset_standin, wipe
from bot.sandbox_page import SandboxClock, attach_page
from bot.web import create_web_app
from reminders.sweep import start_scheduler, sweep
from slackkit.context import freeze_startup_heap
from slackkit.settings import Settings
from storage.db import create_db_engine, upgrade

log = logging.getLogger("pacekeeper")
DRAIN_SECONDS = 10.0


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    stop = stop or _stop_on_signals()
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_db_engine(settings.database_url)
    runners: list[web.AppRunner] = []
    clock = SandboxClock()  # the sandbox's time can be played forward; otherwise it is the real one
    app = create_app(settings, engine=engine, clock=clock)
    app.deps.start_workers()
    freeze_startup_heap()
    if settings.sandbox:
        standin = demo_standin(settings)
        standin.url = settings.api_url.removesuffix("/api/")

        async def reset() -> None:
            clock.offset = timedelta(0)
            await app.deps.transaction(wipe)
            reset_standin(standin)
            await app.deps.transaction(lambda s: load_demo(s, now=clock()))
            await sweep(app.deps, now=clock())

        attach_page(
            standin, bot_url=f"http://{settings.host}:{settings.port}", signing_secret=settings.signing_secret,
            deps=app.deps, clock=clock, reset=reset,
        )  # fmt: skip
        runners.append(await _start(standin.app, settings.host, settings.sandbox_port))
    runners.append(await _start(create_web_app(app), settings.host, settings.port))
    socket_handler = None
    if settings.socket_mode:
        socket_handler = AsyncSocketModeHandler(app, settings.app_token)
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
    scheduler = start_scheduler(app.deps)
    if settings.sandbox:
        created = await app.deps.transaction(lambda s: load_demo(s, now=clock()))
        if created is not None:
            print(f"Loaded the demo organization: {created} measures.", flush=True)
        print(f"Pacekeeper sandbox: open http://{settings.host}:{settings.sandbox_port}/ "
              f"(the bot listens on http://{settings.host}:{settings.port}/slack/events)", flush=True)  # fmt: skip
    else:
        mode = "Socket Mode" if socket_handler else f"http://{settings.host}:{settings.port}/slack/events"
        print(
            f"Pacekeeper is running ({mode}); health at http://{settings.host}:{settings.port}/healthz",
            flush=True,
        )
    await stop.wait()
    log.info("shutting down: finishing work in flight")
    scheduler.shutdown(wait=False)
    if socket_handler is not None:
        await socket_handler.close_async()  # type: ignore[no-untyped-call]
    await runners[-1].cleanup()  # stop taking requests first
    if not await app.inflight.wait_idle(DRAIN_SECONDS):
        log.warning("%d listener runs were still going after %.0fs", app.inflight.count, DRAIN_SECONDS)
    for runner in runners[:-1]:
        await runner.cleanup()
    await app.deps.aclose()
    engine.dispose()
    print("Pacekeeper stopped.", flush=True)


LISTEN_BACKLOG = 1024  # within Linux's default net.core.somaxconn (4096)


async def _start(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, handle_signals=False)
    await runner.setup()
    # A burst (a Monday morning: hundreds of clicks at once) must not overflow the listen queue: with
    # aiohttp's 128 a connection beyond it waits for TCP's retry, a whole second (docs/deployment.md).
    await web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG).start()
    return runner


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
