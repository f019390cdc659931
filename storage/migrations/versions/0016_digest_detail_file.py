"""digest detail file: whether a digest run's spreadsheet of every measure went out (attached when
its thread could not show everything it lists)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest_run") as batch:
        batch.add_column(sa.Column("detail_sent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("digest_run") as batch:
        batch.drop_column("detail_sent")
