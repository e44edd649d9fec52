"""group chats linked to villages, and counts of messages the bot cannot read

Revision ID: group_chats
Revises: feedback_tables
Create Date: 2026-12-02 (written to match db/models.py GroupChat, MessageKindCount)
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = 'group_chats'
down_revision: str | None = 'feedback_tables'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('groupchat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sa.Integer(), nullable=True),
    sa.Column('linked_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['linked_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'chat_id')
    )
    with op.batch_alter_table('groupchat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupchat_village_id'), ['village_id'], unique=False)

    op.create_table('messagekindcount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'channel', 'kind')
    )


def downgrade() -> None:
    op.drop_table('messagekindcount')
    with op.batch_alter_table('groupchat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupchat_village_id'))
    op.drop_table('groupchat')
