"""people directory: a person's account may be deactivated; when the workspace's people were last listed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 05:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "directory_sync",
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("synced_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace"),
    )


def downgrade() -> None:
    op.drop_table("directory_sync")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("active")
