"""progress version: a token per commune that changes with its progress inputs

Revision ID: progress_version
Revises: identity_private
Create Date: 2026-12-03

Caches of a commune's progress view (bot.tallies.store.commune_view) check this one
row instead of reloading every tally. The global row (commune 0) is seeded with a
random token: a cache trusts a database only when that row exists.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "progress_version"
down_revision: str | None = "identity_private"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "progressversion",
        sa.Column("commune_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("commune_id"),
    )
    op.bulk_insert(table, [{"commune_id": 0, "token": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("progressversion")
