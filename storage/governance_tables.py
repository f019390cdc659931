"""The governance table (re-exported by storage.models, where every table is found): each version of
an organization's governance document, as applied (docs/governance.md)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class GovernanceVersion(SQLModel, table=True):
    """Versions are numbered per organization from 1 and never changed: a gate request can name the
    version it was made under, and the audit trail says who applied which."""

    __tablename__ = "governance_version"
    __table_args__ = (sa.UniqueConstraint("organization_id", "version", name="uq_governance_version"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="unit.id")
    version: int
    document: str = Field(sa_type=sa.Text)  # the file as applied (YAML)
    applied_by: str = Field(max_length=32)
    applied_at: datetime = Field(sa_type=UTCDateTime)


class MeasureFieldValue(SQLModel, table=True):
    """A measure's value of one of its portfolio's custom fields, in the canonical text
    `domain.custom_fields.read_value` makes (an amount in whole units, a date in ISO, a person's id)."""

    __tablename__ = "measure_field_value"

    measure_id: int = Field(foreign_key="measure.id", primary_key=True)
    name: str = Field(max_length=40, primary_key=True)
    value: str = Field(sa_type=sa.Text)
