"""money rollup: measure months summed per package, month, stage and year forecast given

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO money_rollup (package_id, month, stage, year_forecast_given, plan, forecast, actual)
SELECT measure.package_id, measure_month.month, measure.stage, measure.forecast_year IS NOT NULL,
       coalesce(sum(measure_month.plan), 0), coalesce(sum(coalesce(measure_month.forecast, measure_month.plan)), 0),
       sum(measure_month.actual)
FROM measure_month JOIN measure ON measure.id = measure_month.measure_id
WHERE measure.package_id IS NOT NULL
GROUP BY measure.package_id, measure_month.month, measure.stage, measure.forecast_year IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "money_rollup",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("year_forecast_given", sa.Boolean(), nullable=False),
        sa.Column("plan", sa.BigInteger(), nullable=False),
        sa.Column("forecast", sa.BigInteger(), nullable=False),
        sa.Column("actual", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("package_id", "month", "stage", "year_forecast_given"),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("money_rollup")
