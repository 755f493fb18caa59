"""The phone's join id on a seat: a join retried after a lost ack takes the same seat back

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("join_key", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_participant_contest_join_key", "participant", ["contest_id", "join_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_participant_contest_join_key", table_name="participant")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("join_key")
