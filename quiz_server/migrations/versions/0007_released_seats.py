"""Released seats: a roster member's seat the organizer freed for re-claiming from another device

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(
            sa.Column("released", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("released")
