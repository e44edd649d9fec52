"""announcements from the dashboard: a broadcast's scheduled time and audience size

Revision ID: broadcast_schedule
Revises: reply_outbox
Create Date: 2026-12-03

``send_at`` is when a scheduled announcement goes out (its outbox rows are due then);
``audience`` is how many people were in the group, so the dashboard can say how many
could not be reached (people without a linked chat get no outbox row).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "broadcast_schedule"
down_revision: str | None = "reply_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audience", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("send_at", db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_column("send_at")
        batch_op.drop_column("audience")
