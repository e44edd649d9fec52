"""several workers: one open red episode per task, send slots shared by the senders

Revision ID: open_red_episode_unique
Revises: group_chats
Create Date: 2026-12-02

Before the index exists, duplicate open episodes left by concurrent planning passes
are closed (the oldest one of each task stays open), so the index can be built.
``sendslot`` holds the rate limits the outbox senders of all workers share.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "open_red_episode_unique"
down_revision: str | None = "group_chats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.execute(
        "UPDATE redepisode SET ended_at = started_at "
        "WHERE ended_at IS NULL AND id NOT IN ("
        "SELECT keep FROM (SELECT MIN(id) AS keep FROM redepisode "
        "WHERE ended_at IS NULL GROUP BY task_id) AS oldest)"
    )
    op.create_index(
        "uq_redepisode_open_task",
        "redepisode",
        ["task_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "sendslot",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("next_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("sendslot")
    op.drop_index("uq_redepisode_open_task", table_name="redepisode")
