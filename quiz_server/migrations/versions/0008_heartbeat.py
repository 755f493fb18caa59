"""The live timer's heartbeat on contests (time credit after an outage)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:50:00
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.add_column(sa.Column("heartbeat_at", quiz_server.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.drop_column("heartbeat_at")
