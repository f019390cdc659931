"""working calendars: an organization's working days and holiday region, a person's own (and their
quiet hours), when a deferred message may go out, and which go out at any hour

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("working_days", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column("holidays", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("working_days", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column("holidays", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.add_column(sa.Column("quiet_start", sa.Time(), nullable=True))
        batch.add_column(sa.Column("quiet_end", sa.Time(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("not_before", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("urgent")
        batch.drop_column("not_before")
    with op.batch_alter_table("person") as batch:
        for column in ("quiet_end", "quiet_start", "holidays", "working_days"):
            batch.drop_column(column)
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("holidays")
        batch.drop_column("working_days")
