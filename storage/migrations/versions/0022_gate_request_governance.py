"""gate requests keep the governance version they were made under

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gate_request") as batch:
        batch.add_column(sa.Column("governance_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gate_request") as batch:
        batch.drop_column("governance_version")
