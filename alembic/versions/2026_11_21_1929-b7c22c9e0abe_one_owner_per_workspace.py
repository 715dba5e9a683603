"""one owner per workspace, no superuser flag

A workspace's owner is the user named by `workspaces.owner_user_id`; other memberships that
held the role `owner` become admins, and an index keeps it to one. `users.is_superuser`
granted nothing and goes.

Revision ID: b7c22c9e0abe
Revises: 35dd9def9a7f
Create Date: 2026-11-21 19:29:17.818083
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7c22c9e0abe'
down_revision: str | None = '35dd9def9a7f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OWNER = sa.text("role = 'owner'")


def upgrade() -> None:
    op.execute(
        "UPDATE memberships SET role = 'admin' WHERE role = 'owner' AND user_id <> "
        "(SELECT owner_user_id FROM workspaces WHERE workspaces.id = memberships.workspace_id)"
    )
    op.execute(
        "UPDATE memberships SET role = 'owner' WHERE user_id = "
        "(SELECT owner_user_id FROM workspaces WHERE workspaces.id = memberships.workspace_id)"
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(
            'uq_memberships_workspace_id_owner',
            ['workspace_id'],
            unique=True,
            postgresql_where=_OWNER,
            sqlite_where=_OWNER,
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_superuser')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_superuser', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_memberships_workspace_id_owner', postgresql_where=_OWNER, sqlite_where=_OWNER
        )
