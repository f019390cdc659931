"""money rollup by the definitions: each month's expected (forecast, else plan) and settled (actual,
else forecast, else plan) summed per package, month and stage; no longer split by year forecast

The rollup is derived data, so the table is rebuilt and refilled from the measure months.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO money_rollup (package_id, month, stage, plan, expected, settled, actual)
SELECT measure.package_id, measure_month.month, measure.stage,
       coalesce(sum(measure_month.plan), 0),
       coalesce(sum(coalesce(measure_month.forecast, measure_month.plan, 0)), 0),
       coalesce(sum(coalesce(measure_month.actual, measure_month.forecast, measure_month.plan, 0)), 0),
       sum(measure_month.actual)
FROM measure_month JOIN measure ON measure.id = measure_month.measure_id
WHERE measure.package_id IS NOT NULL
GROUP BY measure.package_id, measure_month.month, measure.stage
"""

OLD_BACKFILL = """
INSERT INTO money_rollup (package_id, month, stage, year_forecast_given, plan, forecast, actual)
SELECT measure.package_id, measure_month.month, measure.stage, measure.forecast_year IS NOT NULL,
       coalesce(sum(measure_month.plan), 0), coalesce(sum(coalesce(measure_month.forecast, measure_month.plan)), 0),
       sum(measure_month.actual)
FROM measure_month JOIN measure ON measure.id = measure_month.measure_id
WHERE measure.package_id IS NOT NULL
GROUP BY measure.package_id, measure_month.month, measure.stage, measure.forecast_year IS NOT NULL
"""


def upgrade() -> None:
    op.drop_table("money_rollup")
    op.create_table(
        "money_rollup",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("plan", sa.BigInteger(), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("settled", sa.BigInteger(), nullable=False),
        sa.Column("actual", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("package_id", "month", "stage"),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("money_rollup")
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
    op.execute(OLD_BACKFILL)
