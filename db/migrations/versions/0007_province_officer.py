"""the province tier: a province officer's province

Revision ID: province_officer
Revises: broadcast_schedule
Create Date: 2026-12-03

A province officer is a person of no commune with the ``province`` role; ``province``
names the province whose communes (``commune.province``) they read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "province_officer"
down_revision: str | None = "broadcast_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("province", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("province")
