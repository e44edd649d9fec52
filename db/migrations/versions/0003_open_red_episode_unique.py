"""at most one open red episode per task (several workers planning at once)

Revision ID: open_red_episode_unique
Revises: feedback_tables
Create Date: 2026-12-02

Before the index exists, duplicate open episodes left by concurrent planning passes
are closed (the oldest one of each task stays open), so the index can be built.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "open_red_episode_unique"
down_revision: str | None = "feedback_tables"
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


def downgrade() -> None:
    op.drop_index("uq_redepisode_open_task", table_name="redepisode")
