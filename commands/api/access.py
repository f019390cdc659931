"""Who may call, how often, and writes that a retry cannot repeat.

Every request shows a bearer token. Its rate is counted before anything else is read (a request over
the limit costs no query); the token is looked up (by its hash) and its scope checked against the
policy (`domain.policy.token_may`) in the same transaction as the work. A write looks its token up
every time, so a revoked token writes nothing more at once; reads remember a lookup for a second
(`KnownTokens`). A write's body is parsed only after its token is known. A write sent with an
`Idempotency-Key` stores its answer in its own transaction; the same key again returns that answer
and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commands.api.errors import ApiError
from commands.api.inputs import json_body
from commands.api.limits import RateLimiter
from domain.policy import Deed, token_may
from slackkit.context import Deps
from storage.api_tokens import Replay, TokenHolder, digest_of, holder_of, holder_on, remember_replay, replay_of

T = TypeVar("T")
DEPS: web.AppKey[Deps] = web.AppKey("deps", Deps)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter", RateLimiter)
TOKENS: web.AppKey[KnownTokens] = web.AppKey("tokens")
MAX_KEY = 200


@dataclass(frozen=True)
class Caller:
    secret: str
    deps: Deps


def caller_of(request: web.Request) -> Caller:
    """The bearer token, once its rate allows the request: 401 without one, 429 over the limit."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "Send an API token: `Authorization: Bearer pk_…` "
                       "(an admin makes one with `/measure api-token new NAME`).",
                       headers={"WWW-Authenticate": 'Bearer realm="pacekeeper"'})  # fmt: skip
    secret = secret.strip()
    wait = request.app[LIMITER].wait_for(digest_of(secret))
    if wait:
        raise ApiError(429, "rate_limited", f"Too many requests with this token: try again in {wait} s.",
                       headers={"Retry-After": str(wait)})  # fmt: skip
    return Caller(secret, request.app[DEPS])


def holder(session: Session, secret: str, deeds: tuple[Deed, ...]) -> TokenHolder:
    """The token's holder, if it is active and its scope allows every one of `deeds`."""
    return allowed(holder_of(session=session, secret=secret), deeds)


def allowed(found: TokenHolder | None, deeds: tuple[Deed, ...]) -> TokenHolder:
    if found is None:
        raise ApiError(401, "unauthorized", "This API token is not known, or it was revoked.",
                       headers={"WWW-Authenticate": 'Bearer realm="pacekeeper", error="invalid_token"'})  # fmt: skip
    refused = [deed for deed in deeds if not token_may(deed, found.scope)]
    if refused:
        raise ApiError(403, "forbidden", f"The token “{found.name}” is {found.scope}-only: it may not "
                       f"{refused[0].value}. An admin can make a write token.")  # fmt: skip
    return found


class KnownTokens:
    """What a token's lookup found, for a second: a burst of reads with one token costs one lookup.
    So a token revoked on another replica stops reading there within a second; writes always look
    their token up in their own transaction."""

    def __init__(self, *, clock: Callable[[], float], keep: float = 1.0) -> None:
        self.clock, self.keep = clock, keep
        self._found: dict[str, tuple[float, TokenHolder | None]] = {}

    def holder(self, connection: Connection, secret: str) -> TokenHolder | None:
        digest, now = digest_of(secret), self.clock()
        seen = self._found.get(digest)
        if seen is None or seen[0] < now:
            if len(self._found) > 10_000:
                self._found.clear()
            seen = self._found[digest] = (now + self.keep, holder_on(connection=connection, secret=secret))
        return seen[1]


async def read(request: web.Request, work: Callable[[Connection], T]) -> T:
    """Read-only work (on a bare connection) for a token that may read everything (Deed.EXPORT)."""
    caller = caller_of(request)
    known = request.app[TOKENS]

    def checked(connection: Connection) -> T:
        allowed(known.holder(connection, caller.secret), (Deed.EXPORT,))
        return work(connection)

    return await caller.deps.read_rows(checked)


Write = Callable[[Session, TokenHolder, Any], tuple[int, dict[str, Any]]]


async def write(request: web.Request, deeds: Callable[[Any], tuple[Deed, ...]], work: Write) -> web.Response:
    """Run `work` (session, holder, the parsed body) in one transaction, once per Idempotency-Key.
    `deeds` says, from the body, what the token must be allowed to do."""
    caller = caller_of(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY:
        raise ApiError(400, "bad_idempotency_key", f"An Idempotency-Key is at most {MAX_KEY} characters.")
    raw = await request.read()
    fingerprint = hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), raw])).hexdigest()

    def run(session: Session) -> tuple[Replay, bool]:
        token = holder(session, caller.secret, ())  # known before its body is even parsed
        if key and (earlier := _earlier(session, token.id, key, fingerprint)):
            return earlier, True
        body = json_body(raw)
        allowed(token, deeds(body))
        status, answer = work(session, token, body)
        replay = Replay(fingerprint, status, json.dumps(answer))
        if key:
            remember_replay(session=session, token_id=token.id, key=key, replay=replay, now=caller.deps.clock())
        return replay, False

    def other_answer(session: Session) -> Replay | None:
        token = holder_of(session=session, secret=caller.secret)
        return _earlier(session, token.id, key, fingerprint) if token else None

    try:
        replay, replayed = await caller.deps.transaction(run)
    except IntegrityError:  # the same key, sent twice at once: the other one's answer
        if not key or not (earlier := await caller.deps.read(other_answer)):
            raise
        replay, replayed = earlier, True
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return web.Response(status=replay.status, text=replay.body, content_type="application/json", headers=headers)


def _earlier(session: Session, token_id: int, key: str, fingerprint: str) -> Replay | None:
    earlier = replay_of(session=session, token_id=token_id, key=key)
    if earlier is not None and earlier.fingerprint != fingerprint:
        raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used for another request.")
    return earlier
