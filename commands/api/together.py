"""Reads of single measures that arrive together are answered by one read of the database.

`GET /measures/{key}` is what an ERP or BI tool calls in bursts (a measure after another, many
clients at once). Each request joins a queue; while one read is on its way to the database, those
that arrive wait for the next, which looks up all their tokens and fetches all their measures in two
statements (`storage.api_measures.measure_details`) — the DataLoader pattern. A request never sees
data older than itself: the read that answers it starts after it arrived. At most `most` requests
share a read. A failed read fails each of its requests (answered 500, logged), not the queue.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.engine import Connection

from commands.api.access import KnownTokens
from slackkit.context import Deps
from storage.api_measures import ApiMeasure, measure_details
from storage.api_tokens import TokenHolder

Found = tuple[TokenHolder | None, ApiMeasure | None]  # the token's holder (None: unknown), the measure


@dataclass
class _Wanted:
    secret: str
    key: str
    answer: asyncio.Future[Found] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class MeasureReads:
    def __init__(self, *, deps: Deps, tokens: KnownTokens, most: int = 500) -> None:
        self.deps, self.tokens, self.most = deps, tokens, most
        self._waiting: list[_Wanted] = []
        self._reader: asyncio.Task[None] | None = None

    async def one(self, *, secret: str, key: str) -> Found:
        wanted = _Wanted(secret, key)
        self._waiting.append(wanted)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_while_waiting())
        return await wanted.answer

    async def _read_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
                try:
                    found = await self.deps.read_rows(partial(self._fetch, batch=batch))
                except Exception as error:
                    for wanted in batch:
                        if not wanted.answer.done():  # a request whose client left is cancelled
                            wanted.answer.set_exception(error)
                    continue
                for wanted, answer in zip(batch, found, strict=True):
                    if not wanted.answer.done():
                        wanted.answer.set_result(answer)
        finally:
            self._reader = None

    def _fetch(self, connection: Connection, *, batch: list[_Wanted]) -> list[Found]:
        holders = {secret: self.tokens.holder(connection, secret) for secret in {w.secret for w in batch}}
        measures = measure_details(connection=connection, keys={w.key for w in batch})
        return [(holders[w.secret], measures.get(w.key.upper())) for w in batch]
