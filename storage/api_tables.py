"""The API's tables (re-exported by storage.models, where every table is found): the bearer tokens
admins create for ERP and BI tools, and the answers to writes sent with an `Idempotency-Key`."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class ApiToken(SQLModel, table=True):
    """A token is shown once, when it is made; only its SHA-256 is kept (a random 256-bit secret needs
    no slow hash: there is nothing to guess). Revoked tokens stay, so the audit trail names them."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    scope: str = Field(max_length=8)  # domain.policy.TokenScope
    digest: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=32)


class ApiReplay(SQLModel, table=True):
    """A write's answer under its token and `Idempotency-Key`, stored in the write's transaction: a
    retry gets the same answer and changes nothing; the same key with another request is refused."""

    __tablename__ = "api_replay"
    __table_args__ = (sa.UniqueConstraint("token_id", "idempotency_key", name="uq_api_replay_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    idempotency_key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)  # SHA-256 of method, path and body
    status: int
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
