"""escalation copies: which message (outbox row) shows which escalation, now that one message per
person per sweep lists several; an overdue check-in's escalation keyed by its check-in

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 05:40:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_copy",
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("escalation_id", "outbox_id"),
    )
    op.create_index("ix_escalation_copy_outbox_id", "escalation_copy", ["outbox_id"])
    with op.batch_alter_table("escalation") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    # An overdue check-in is an occurrence of its own now: its escalation's active key names it, so a
    # hand-resolved one no longer blocks the next cycle's (storage/escalations.Hit.key).
    connection = op.get_bind()
    overdue = connection.execute(
        sa.text(
            "SELECT id, active_key, detail FROM escalation WHERE cause = 'checkin_overdue' AND active_key IS NOT NULL"
        )
    ).all()
    for escalation_id, key, detail in overdue:
        checkin_id = json.loads(detail or "{}").get("checkin_id")
        connection.execute(
            sa.text("UPDATE escalation SET active_key = :key WHERE id = :id"),
            {"key": f"{key}:{checkin_id}", "id": escalation_id},
        )


def downgrade() -> None:
    # Back to one key per measure and cause: the open occurrence keeps it, resolved ones let go.
    op.execute(
        "UPDATE escalation SET active_key = NULL WHERE cause = 'checkin_overdue' AND state <> 'open'"
        " AND active_key IS NOT NULL"
    )
    op.execute(
        "UPDATE escalation SET active_key = CAST(measure_id AS VARCHAR) || ':checkin_overdue'"
        " WHERE cause = 'checkin_overdue' AND active_key IS NOT NULL"
    )
    with op.batch_alter_table("escalation") as batch:
        batch.drop_column("version")
    op.drop_index("ix_escalation_copy_outbox_id", table_name="escalation_copy")
    op.drop_table("escalation_copy")
