"""events

One record of every change: the events table, and the per-workspace counter that numbers
them in commit order. Nothing existing changes.

Revision ID: 78646bbc88a4
Revises: a8eb664b357e
Create Date: 2026-12-04 04:34:39.855670
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.types

revision: str = '78646bbc88a4'
down_revision: str | None = 'a8eb664b357e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event_counters',
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_event_counters_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_event_counters'))
    )
    op.create_table('events',
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('origin', sa.Enum('api', 'cli', 'import', name='eventorigin', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('occurred_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('project_id', sa.Uuid(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_events_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('workspace_id', 'sequence', name=op.f('uq_events_workspace_id_sequence'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_workspace_id_subject_id'), ['workspace_id', 'subject_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_workspace_id_subject_id'))
        batch_op.drop_index(batch_op.f('ix_events_occurred_at'))

    op.drop_table('events')
    op.drop_table('event_counters')
