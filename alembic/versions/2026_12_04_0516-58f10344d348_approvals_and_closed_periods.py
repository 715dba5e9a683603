"""approvals and closed periods

Closed time: the workspace's `locked_before`, and the approvals table of submitted periods
with the totals they were decided on. Existing rows keep everything open.

Revision ID: 58f10344d348
Revises: f1c91d6b8737
Create Date: 2026-12-04 05:16:51.282143
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = '58f10344d348'
down_revision: str | None = 'f1c91d6b8737'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('approvals',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('submitted', 'approved', 'rejected', 'withdrawn', 'reopened', name='approvalstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('submitted_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', app.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('seconds', sa.BigInteger(), nullable=True),
    sa.Column('billable_seconds', sa.BigInteger(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_approvals_ends_after_start')),
    sa.CheckConstraint('length(note) <= 2000', name=op.f('ck_approvals_note_length')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_approvals_period_not_empty')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_approvals_decided_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_approvals_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_approvals_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_workspace_id_state'), ['workspace_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_workspace_id_user_id_starts_at'), ['workspace_id', 'user_id', 'starts_at'], unique=False)

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_before', app.db.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('locked_before')

    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_workspace_id_user_id_starts_at'))
        batch_op.drop_index(batch_op.f('ix_approvals_workspace_id_state'))

    op.drop_table('approvals')
