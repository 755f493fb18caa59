"""The organizers' audit log, and archiving contests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:40:00
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", quiz_server.models.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=True),
        sa.Column("contest_title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entry_contest", "audit_entry", ["contest_id", "id"])
    op.create_index("ix_audit_entry_user_id", "audit_entry", ["user_id"])
    with op.batch_alter_table("contest") as batch:
        batch.add_column(sa.Column("archived_at", quiz_server.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.drop_column("archived_at")
    op.drop_index("ix_audit_entry_user_id", table_name="audit_entry")
    op.drop_index("ix_audit_entry_contest", table_name="audit_entry")
    op.drop_table("audit_entry")
