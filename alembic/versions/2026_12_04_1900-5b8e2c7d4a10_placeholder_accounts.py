"""placeholder accounts

Accounts made for the people of imported or restored time are marked, so that the person
can take theirs over by signing up with its email while a deactivated account stays closed.
The placeholders made before are found as the inactive accounts whose tokens were never
revoked: deactivating an account always revokes them.

Revision ID: 5b8e2c7d4a10
Revises: 0e7ce1b2ee3c
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b8e2c7d4a10'
down_revision: str | None = '0e7ce1b2ee3c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_placeholder', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE users SET is_placeholder = true WHERE NOT is_active AND token_generation = 0"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('is_placeholder', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_placeholder')
