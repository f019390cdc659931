"""the plan frozen at the decision (DI3) per month, summed in the money rollup; a re-baseline
request's proposed plan; and the flag of a measure an import placed below its stage's criteria

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("measure") as batch:
        batch.add_column(sa.Column("unmet_at_import", sa.Text(), nullable=True))
    with op.batch_alter_table("measure_month") as batch:
        batch.add_column(sa.Column("decided_plan", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("money_rollup") as batch:
        batch.add_column(sa.Column("decided_plan", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("gate_request") as batch:
        batch.add_column(sa.Column("proposed_plan", sa.Text(), nullable=True))
    # Measures already decided keep the plan they have as the one decided (nothing older is known).
    op.execute(
        "UPDATE measure_month SET decided_plan = plan WHERE plan IS NOT NULL AND measure_id IN "
        "(SELECT id FROM measure WHERE stage IN ('DI3', 'DI4', 'DI5') "
        "OR (stage = 'on_hold' AND held_from_stage IN ('DI3', 'DI4')))"
    )
    op.execute(
        "UPDATE money_rollup SET decided_plan = COALESCE((SELECT SUM(mm.decided_plan) FROM measure_month mm "
        "JOIN measure m ON m.id = mm.measure_id WHERE m.package_id = money_rollup.package_id "
        "AND mm.month = money_rollup.month AND m.stage = money_rollup.stage), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("gate_request") as batch:
        batch.drop_column("proposed_plan")
    with op.batch_alter_table("money_rollup") as batch:
        batch.drop_column("decided_plan")
    with op.batch_alter_table("measure_month") as batch:
        batch.drop_column("decided_plan")
    with op.batch_alter_table("measure") as batch:
        batch.drop_column("unmet_at_import")
