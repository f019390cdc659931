"""measures keep the values of their portfolio's custom fields

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measure_field_value",
        sa.Column("measure_id", sa.Integer(), sa.ForeignKey("measure.id"), primary_key=True),
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("measure_field_value")
