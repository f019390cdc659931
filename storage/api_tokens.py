"""API tokens (made, listed and revoked by admins) and the remembered answers of idempotent writes.

A token is `pk_` and 43 random URL-safe characters, shown once; the database keeps its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.policy import TokenScope
from storage.api_tables import ApiReplay, ApiToken
from storage.queries import record_audit

PREFIX = "pk_"
REPLAYS_KEPT = timedelta(hours=24)  # a retry comes within minutes; the sweep forgets older answers


@dataclass(frozen=True)
class TokenHolder:
    """Who is calling the API: the token's id, its name (the actor in the audit trail) and scope."""

    id: int
    name: str
    scope: TokenScope

    @property
    def actor(self) -> str:
        return f"api:{self.name}"


@dataclass(frozen=True)
class Replay:
    fingerprint: str
    status: int
    body: str


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, session: Session, name: str, scope: TokenScope, actor: str, now: datetime) -> str | None:
    """A new token's secret (the only time it exists in the clear), or None if the name is taken
    (revoked tokens keep their names: the audit trail names them)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, scope=scope, digest=digest_of(secret), created_by=actor, created_at=now)
    try:
        with session.begin_nested():
            session.add(token)
            session.flush()
    except IntegrityError:
        return None
    record_audit(session=session, actor=actor, entity="api_token", entity_key=name, action="api_token_created",
                 detail={"scope": scope})  # fmt: skip
    return secret


def tokens(*, session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.name))).all())


def revoke_token(*, session: Session, name: str, actor: str, now: datetime) -> bool:
    """Revoke the active token called `name`; False if there is none. Its writes stop at once, its
    reads within a second (commands/api/access.KnownTokens)."""
    token = session.exec(
        select(ApiToken).where(ApiToken.name == name, col(ApiToken.revoked_at).is_(None)).with_for_update()
    ).first()
    if token is None:
        return False
    token.revoked_at, token.revoked_by = now, actor
    session.add(token)
    record_audit(session=session, actor=actor, entity="api_token", entity_key=name, action="api_token_revoked")
    return True


def holder_of(*, session: Session, secret: str) -> TokenHolder | None:
    return holder_on(connection=session.connection(), secret=secret)


_T = ApiToken.__table__  # type: ignore[attr-defined]
_ACTIVE = sa.select(_T.c.id, _T.c.name, _T.c.scope).where(
    _T.c.digest == sa.bindparam("digest"), _T.c.revoked_at.is_(None)
)


def holder_on(*, connection: Connection, secret: str) -> TokenHolder | None:
    """The active token whose secret this is (looked up by its hash), or None."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    row = connection.execute(_ACTIVE, {"digest": digest_of(secret)}).first()
    return TokenHolder(row.id, row.name, TokenScope(row.scope)) if row else None


def replay_of(*, session: Session, token_id: int, key: str) -> Replay | None:
    found = session.exec(
        select(ApiReplay).where(ApiReplay.token_id == token_id, ApiReplay.idempotency_key == key)
    ).first()
    return Replay(found.fingerprint, found.status, found.body) if found else None


def remember_replay(*, session: Session, token_id: int, key: str, replay: Replay, now: datetime) -> None:
    """Kept in the write's own transaction: the write and its remembered answer commit together. Two
    retries racing each other meet at the unique key: the second's transaction fails and writes nothing."""
    session.add(ApiReplay(token_id=token_id, idempotency_key=key, fingerprint=replay.fingerprint,
                          status=replay.status, body=replay.body, created_at=now))  # fmt: skip
    session.flush()


def forget_replays(*, session: Session, now: datetime, keep: timedelta) -> int:
    """Delete remembered answers older than `keep` (a retry comes within minutes, not days)."""
    result = session.exec(delete(ApiReplay).where(col(ApiReplay.created_at) < now - keep))
    return int(result.rowcount or 0)
