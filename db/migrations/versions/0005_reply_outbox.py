"""replies committed with their update until sent; polled updates kept until handled

Revision ID: reply_outbox
Revises: open_red_episode_unique
Create Date: 2026-12-03

Rows handled before this revision have no stored replies: they count as answered.
``inboxupdate`` holds a polled Zalo update from its fetch until it is handled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "reply_outbox"
down_revision: str | None = "open_red_episode_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processedupdate") as batch:
        batch.add_column(
            sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("answered_at", db.types.UTCDateTime(), nullable=True))
    op.create_table(
        "inboxupdate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("inboxupdate")
    with op.batch_alter_table("processedupdate") as batch:
        batch.drop_column("answered_at")
        batch.drop_column("replies")
        batch.drop_column("chat_id")
