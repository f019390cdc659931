"""money rollup: how many measure months, and how many actuals, each cell sums — so that a change
updates its cell by its difference instead of re-summing the package's month

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CELL = (
    "FROM measure_month mm JOIN measure m ON m.id = mm.measure_id WHERE m.package_id = money_rollup.package_id "
    "AND mm.month = money_rollup.month AND m.stage = money_rollup.stage"
)


def upgrade() -> None:
    with op.batch_alter_table("money_rollup") as batch:
        batch.add_column(sa.Column("months", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("actuals", sa.Integer(), nullable=False, server_default="0"))
    op.execute(f"UPDATE money_rollup SET months = (SELECT COUNT(*) {CELL}), actuals = (SELECT COUNT(mm.actual) {CELL})")


def downgrade() -> None:
    with op.batch_alter_table("money_rollup") as batch:
        batch.drop_column("actuals")
        batch.drop_column("months")
