"""Who is asking, read as plain rows: the account, and its membership and workspace.

Every request reads these once, to authenticate, and then only reads their values; ORM
objects would cost their identity-map state for nothing. So the read is one Core statement
over table columns and it returns frozen rows. Work that changes the account, membership or
workspace loads the ORM object by id, as any write does.
"""

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, Self

from sqlalchemy import ColumnElement, Select, and_, null, select

from app.db.models import Membership, User, Workspace
from app.enums import Role, WeekStart

_USERS = User.__table__
_MEMBERSHIPS = Membership.__table__
_WORKSPACES = Workspace.__table__


class _PlainRow:
    """Built from any object or mapping with the row's attribute names."""

    @classmethod
    def of(cls, source: Any) -> Self:
        if isinstance(source, cls):
            return source
        return cls(**{field.name: getattr(source, field.name) for field in fields(cls)})  # type: ignore[arg-type]

    @classmethod
    def columns(cls, table: Any, prefix: str) -> list[ColumnElement[Any]]:
        return [table.c[field.name].label(f"{prefix}{field.name}") for field in fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def from_row(cls, row: Any, prefix: str) -> Self | None:
        if getattr(row, f"{prefix}id") is None:
            return None
        return cls(*(getattr(row, label) for label in _labels(cls, prefix)))


@cache
def _labels(row_type: type[_PlainRow], prefix: str) -> tuple[str, ...]:
    """The labels `columns` gives a row type's fields, in the fields' order; read on every
    request, worked out once."""
    return tuple(f"{prefix}{field.name}" for field in fields(row_type))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class UserRow(_PlainRow):
    """An account, without its password hash."""

    id: uuid.UUID
    email: str
    full_name: str
    is_active: bool
    timezone: str
    week_start: WeekStart
    token_generation: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class WorkspaceRow(_PlainRow):
    id: uuid.UUID
    name: str
    owner_user_id: uuid.UUID
    currency: str
    default_hourly_rate_cents: int
    prevent_overlaps: bool
    members_can_see_rates: bool
    locked_before: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class MembershipRow(_PlainRow):
    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    hourly_rate_cents: int | None
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class Standing:
    user: UserRow
    membership: MembershipRow | None
    workspace: WorkspaceRow | None


def standing_statement(statement: Select[Any], workspace_id: Any | None) -> Select[Any]:
    """`statement` (which selects from `users`) with the user's columns, and the user's
    membership in the workspace `workspace_id` with that workspace while it is live (all
    None when there is none, or when `workspace_id` is None)."""
    statement = statement.add_columns(*UserRow.columns(_USERS, "user_"))
    if workspace_id is None:
        return statement.add_columns(null().label("membership_id"), null().label("workspace_id"))
    return (
        statement.add_columns(
            *MembershipRow.columns(_MEMBERSHIPS, "membership_"),
            *WorkspaceRow.columns(_WORKSPACES, "workspace_"),
        )
        .outerjoin(
            _MEMBERSHIPS,
            and_(
                _MEMBERSHIPS.c.user_id == _USERS.c.id,
                _MEMBERSHIPS.c.workspace_id == workspace_id,
            ),
        )
        .outerjoin(
            _WORKSPACES,
            and_(
                _WORKSPACES.c.id == _MEMBERSHIPS.c.workspace_id,
                _WORKSPACES.c.deleted_at.is_(None),
            ),
        )
    )


def standing_of(row: Any) -> Standing:
    """The rows a `standing_statement` read; a membership only with its live workspace."""
    user = UserRow.from_row(row, "user_")
    assert user is not None
    workspace = WorkspaceRow.from_row(row, "workspace_") if row.workspace_id else None
    membership = MembershipRow.from_row(row, "membership_") if workspace else None
    return Standing(user, membership, workspace)


def users_table_select() -> Select[Any]:
    """A select from `users` with no columns yet, for `standing_statement` to fill."""
    return select().select_from(_USERS)
