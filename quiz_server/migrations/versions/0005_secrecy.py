"""Seat provenance on participants and roster join attempts (fair play, rate limits)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:10:00
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "join_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("roster_entry_id", sa.Integer(), nullable=True),
        sa.Column("at", quiz_server.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contest_id"], ["contest.id"]),
        sa.ForeignKeyConstraint(["roster_entry_id"], ["roster_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_join_attempt_contest_address", "join_attempt", ["contest_id", "address", "at"]
    )
    with op.batch_alter_table("participant") as batch:
        batch.add_column(
            sa.Column("join_address", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("join_device", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("join_device")
        batch.drop_column("join_address")
    op.drop_index("ix_join_attempt_contest_address", table_name="join_attempt")
    op.drop_table("join_attempt")
