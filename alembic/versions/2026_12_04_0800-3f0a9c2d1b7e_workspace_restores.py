"""workspace restores

Which archive each restored workspace came from, so that restoring it again creates
nothing. Nothing existing changes.

Revision ID: 3f0a9c2d1b7e
Revises: c4f7a9e2d1b3
Create Date: 2026-12-04 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = '3f0a9c2d1b7e'
down_revision: str | None = 'c4f7a9e2d1b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workspace_restores',
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('archive_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_workspace_id', sa.Uuid(), nullable=False),
    sa.Column('restored_at', app.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_workspace_restores_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_workspace_restores')),
    sa.UniqueConstraint('archive_sha256', name=op.f('uq_workspace_restores_archive_sha256'))
    )


def downgrade() -> None:
    op.drop_table('workspace_restores')
