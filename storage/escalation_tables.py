"""The escalation tables (re-exported by storage.models, where every table is found): an escalation,
its notes, and which messages show it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Escalation(SQLModel, table=True):
    """A measure's problem, raised by a threshold rule, climbing owner → sponsor → steering channel.

    `active_key` ("<measure id>:<cause>", and ":<check-in id>" for an overdue check-in) is set while the
    cause lasts and is unique: one escalation per measure and cause (per overdue check-in). Resolving by
    hand keeps it (no new escalation while that cause lasts); the cause clearing empties it, and
    resolves the escalation if it is still open."""

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    cause: str = Field(max_length=32)
    active_key: str | None = Field(default=None, max_length=64, unique=True)
    detail: str = Field(default="{}", sa_type=sa.Text)
    state: str = Field(default="open", max_length=16, index=True)  # open | resolved
    rung: int = 0  # index into the ladder: 0 owner, 1 sponsor, 2 steering channel
    rung_started_at: datetime = Field(sa_type=UTCDateTime)
    raised_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=32)  # a user, or "system" when the cause cleared
    refresh_pending: bool = Field(default=False, index=True)  # its messages show an older state
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # counts its changes


class EscalationNote(SQLModel, table=True):
    __tablename__ = "escalation_note"

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", index=True)
    author: str = Field(max_length=32)
    text: str = Field(max_length=2000)
    at: datetime = Field(sa_type=UTCDateTime)


class EscalationCopy(SQLModel, table=True):
    """An escalation shown in a message (an outbox row): one message per person per sweep lists all
    that reached them, so a change to one escalation updates every message that shows it."""

    __tablename__ = "escalation_copy"

    escalation_id: int = Field(foreign_key="escalation.id", primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", primary_key=True, index=True)
    rung: int  # the rung it had reached when the message was owed (whose copy it is)
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # the escalation's, as shown
