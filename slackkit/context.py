"""What listeners and sweeps need: settings, the database, the Web API client and the clock."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from slackkit.pacing import Pacer
from slackkit.settings import Settings
from storage.db import create_read_engine, session_scope

T = TypeVar("T")
_SQLITE_WRITER = threading.Lock()


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    client: AsyncWebClient
    clock: Callable[[], datetime]
    pacer: Pacer
    http: aiohttp.ClientSession | None = None
    workers: ProcessPoolExecutor | None = None
    reader: Engine | None = None  # where `read` runs (storage.db.create_read_engine); else `engine`
    # Publishes a person's App Home again (set by the app factory: commands/home.republish); a click
    # made on App Home calls it after its work, so what was acted on shows its new state there.
    home_refresh: Callable[[Deps, str], Awaitable[None]] | None = None
    # Waits (briefly, bounded) while requests wait for their ack (set by the app factory): the clock's
    # work calls it between its steps, so a burst of clicks is answered before the sweep goes on.
    acks_waiting: Callable[[], Awaitable[object]] | None = None

    async def acks_first(self) -> None:
        """Let the requests waiting for their ack go first (the sweep's steps call this)."""
        if self.acks_waiting is not None:
            await self.acks_waiting()

    async def offload(self, work: Callable[..., T], *args: Any) -> T:
        """Run pure CPU-bound work (rendering a fan-out's Block Kit) off the event loop: in the
        worker process when one was started (no GIL shared with the senders), else on a thread."""
        if self.workers is None:
            return await asyncio.to_thread(work, *args)
        return await asyncio.get_running_loop().run_in_executor(self.workers, work, *args)

    def start_workers(self) -> None:
        """Start the worker process (`serve` and `tick` do; it takes a second or two to import)."""
        if self.workers is None:
            self.workers = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            self.workers.submit(_warm_up)

    async def aclose(self) -> None:
        """Close the Web API client's connections and stop the worker process (at shutdown)."""
        if self.http is not None and not self.http.closed:
            await self.http.close()
        if self.workers is not None:
            self.workers.shutdown(wait=False, cancel_futures=True)
        if self.reader is not None and self.reader.pool is not self.engine.pool:
            self.reader.dispose()

    async def transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one short transaction on a worker thread (the event loop stays free)."""
        return await asyncio.to_thread(self._run, work)

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run read-only `work` (lists, cards, App Home, what a modal shows) in its own transaction
        that takes no write lock: on SQLite it never queues behind writers; a write there fails."""
        return await asyncio.to_thread(self._read, work)

    async def read_rows(self, work: Callable[[Connection], T]) -> T:
        """Short read-only work on a bare connection (SQLAlchemy Core: no session, no objects), for a
                hot path such as the API's reads; like `read`, its own transaction without a write lock.

                On SQLite it runs on the event loop: a read in WAL mode never waits for a lock, and one
                measure's two statements take about 0.3 ms, while handing them to a thread cost 1-2 ms under
                load (the GIL passed back and forth; bench/api_latency.py: p99 6x a bare handler on a thread,
                1.7x on the loop). Elsewhere (a database across the network) it runs on a thread: on the loop,
        each request would hold it for its round trips (on PostgreSQL that measured worse, 11x against 8x;
        psycopg's async mode, tried, gave 9x: there the database's own work is what costs)."""
        engine = self.reader or self.engine
        if engine.dialect.name == "sqlite":
            return self._read_rows(work)
        return await asyncio.to_thread(self._read_rows, work)

    def _read_rows(self, work: Callable[[Connection], T]) -> T:
        with (self.reader or self.engine).connect() as connection:
            return work(connection)

    def _read(self, work: Callable[[Session], T]) -> T:
        with session_scope(self.reader or self.engine, clock=self.clock) as session:
            return work(session)

    def _run(self, work: Callable[[Session], T]) -> T:
        if self.engine.dialect.name != "sqlite":
            with session_scope(self.engine, clock=self.clock) as session:
                return work(session)
        # SQLite has one writer at a time: queue this process's transactions here rather than in
        # SQLite's busy handler, which sleeps and retries (other processes still wait there).
        with _SQLITE_WRITER, session_scope(self.engine, clock=self.clock) as session:
            return work(session)


def freeze_startup_heap() -> None:
    """Leave what start-up built (modules, the app, slack-sdk's and SQLAlchemy's classes) out of
    every later garbage collection, as Python's docs suggest for long-running servers (`gc.freeze`).
    Otherwise each full collection walks all of it: a pause of 70-120 ms of the event loop, about
    once a second during a fan-out, which delays acks and Web API calls alike."""
    gc.collect()
    gc.freeze()


def _exit_with_parent(parent_pid: int) -> None:
    """In the worker: exit when the process that started it is gone. A parent killed with SIGKILL (a
    container stopped hard, the crash test) never shuts the pool down, and the worker would wait on
    its queue forever."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _warm_up() -> None:
    import messages.checkin  # noqa: F401  (load the Block Kit models before the first fan-out)


def make_deps(
    settings: Settings,
    *,
    engine: Engine,
    client: AsyncWebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    pacer: Pacer | None = None,
) -> Deps:
    from slackkit.web_client import make_web_client
    from storage.types import utcnow

    pacer = pacer or Pacer(settings.send_rate)
    http = None
    if client is None:
        http = _shared_session(settings.slack_timeout)
        client = make_web_client(settings, pacer, http)
    reader = create_read_engine(engine)
    return Deps(
        settings=settings, engine=engine, client=client, clock=clock or utcnow, pacer=pacer, http=http, reader=reader
    )


def _shared_session(timeout: float) -> aiohttp.ClientSession | None:
    """A connection pool for the Web API client, when there is an event loop to own it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    # slack-sdk takes the timeout of a session it is given from the session itself
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64), timeout=aiohttp.ClientTimeout(total=timeout))
