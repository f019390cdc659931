"""organization keys: a measure's key as the organization has it (OPS-12, FIN-2024-003: up to 24
characters) and an organization's prefix for the keys of measures created in Slack

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("measure") as batch:
        batch.alter_column(
            "key", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=24), existing_nullable=False,
        )  # fmt: skip
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("key_prefix", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("key_prefix")
    with op.batch_alter_table("measure") as batch:
        batch.alter_column(
            "key", existing_type=sqlmodel.sql.sqltypes.AutoString(length=24),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16), existing_nullable=False,
        )  # fmt: skip
