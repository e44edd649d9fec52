"""replies committed with their update, until sent (resent after a crash)

Revision ID: reply_outbox
Revises: open_red_episode_unique
Create Date: 2026-12-03

Rows handled before this revision have no stored replies: they count as answered.
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


def downgrade() -> None:
    with op.batch_alter_table("processedupdate") as batch:
        batch.drop_column("answered_at")
        batch.drop_column("replies")
        batch.drop_column("chat_id")
