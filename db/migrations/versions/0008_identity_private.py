"""chat identities: whether the chat id is a private chat with the bot

Revision ID: identity_private
Revises: province_officer
Create Date: 2026-12-03

A Zalo user first seen writing in a group has an identity whose id was never used as a
private chat: Zalo does not document that a user's id in a group is their private chat
id, so the outbox does not write to it until the person writes privately. Existing
identities were made from private chats (or by an admin): they stay private.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_private"
down_revision: str | None = "province_officer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chatidentity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("chatidentity", schema=None) as batch_op:
        batch_op.drop_column("private")
