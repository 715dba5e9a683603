"""Imports: Harvest's time report, clients and projects, and Toggl's account data

The import runs' CHECK on `format` lists the new formats. Nothing else changes.

Revision ID: c4f7a9e2d1b3
Revises: 7362ec745268
Create Date: 2026-12-04 07:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'c4f7a9e2d1b3'
down_revision: str | None = '7362ec745268'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMATS_BEFORE = ("toggl_csv", "clockify_csv", "native_csv")
_NEW_FORMATS = (
    "harvest_csv",
    "harvest_clients_csv",
    "harvest_projects_csv",
    "toggl_account_zip",
)


def upgrade() -> None:
    _allow_formats((*_FORMATS_BEFORE, *_NEW_FORMATS))


def downgrade() -> None:
    listed = ", ".join(f"'{name}'" for name in _NEW_FORMATS)
    op.execute(f"DELETE FROM import_runs WHERE format IN ({listed})")
    _allow_formats(_FORMATS_BEFORE)


def _allow_formats(formats: Sequence[str]) -> None:
    """The import runs' CHECK on `format`, listing `formats`."""
    listed = ", ".join(f"'{name}'" for name in formats)
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_import_runs_importformat'), type_='check')
        batch_op.create_check_constraint('importformat', f"format IN ({listed})")
