"""Questions: the copy a fact was checked against, and quality-check warnings an editor accepted

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question") as batch:
        batch.add_column(sa.Column("source_copy", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("reviewed", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("question") as batch:
        batch.drop_column("reviewed")
        batch.drop_column("source_copy")
