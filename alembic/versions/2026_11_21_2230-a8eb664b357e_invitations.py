"""invitations

People join a workspace by accepting an invitation to their email. Existing memberships
stay as they are.

Revision ID: a8eb664b357e
Revises: f2864466ff4b
Create Date: 2026-11-21 22:30:13.769833
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = 'a8eb664b357e'
down_revision: str | None = 'f2864466ff4b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        'invitations',
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column(
            'role',
            sa.Enum(
                'owner', 'admin', 'member',
                name='role', native_enum=False, create_constraint=True, length=32,
            ),
            nullable=False,
        ),
        sa.Column('hourly_rate_cents', sa.Integer(), nullable=True),
        sa.Column(
            'status',
            sa.Enum(
                'pending', 'accepted', 'declined', 'revoked',
                name='invitationstatus', native_enum=False, create_constraint=True, length=32,
            ),
            nullable=False,
        ),
        sa.Column('invited_by_user_id', sa.Uuid(), nullable=True),
        sa.Column('answered_at', app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            'hourly_rate_cents >= 0', name=op.f('ck_invitations_rate_not_negative')
        ),
        sa.ForeignKeyConstraint(
            ['invited_by_user_id'], ['users.id'],
            name=op.f('fk_invitations_invited_by_user_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['workspace_id'], ['workspaces.id'],
            name=op.f('fk_invitations_workspace_id_workspaces'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)
        batch_op.create_index(
            'uq_invitations_workspace_id_email_pending',
            ['workspace_id', 'email'],
            unique=True,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )


def downgrade() -> None:
    op.drop_table('invitations')
