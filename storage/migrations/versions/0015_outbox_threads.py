"""outbox threads: a message owed as a reply in the thread of another owed message (a steering
channel's escalations: the summary is posted, the detail in its thread)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("thread_of", sa.Integer(), nullable=True))
        batch.create_index("ix_outbox_thread_of", ["thread_of"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_thread_of")
        batch.drop_column("thread_of")
