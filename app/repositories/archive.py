"""A whole workspace, table by table: read in keyset batches for its full export, and
written back with Core inserts by a restore into a new workspace."""

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Sessions
from app.db.integrity import describe
from app.db.models import (
    Approval,
    Event,
    Invitation,
    Membership,
    Project,
    ProjectMember,
    TimeEntry,
    User,
    Webhook,
    Workspace,
    WorkspaceRestore,
)
from app.pagination import SortKey
from app.repositories.time_entries import TAG_IDS

_RESTORES = WorkspaceRestore.__table__
_WORKSPACES = Workspace.__table__
_USERS = User.__table__


def people(workspace_id: uuid.UUID) -> ColumnElement[Any]:
    """Everyone a workspace's rows name: members, former members with time or approvals,
    inviters, deciders, project creators and the events' actors."""
    named = union(
        *(
            select(column).where(column.table.c.workspace_id == workspace_id)
            for column in (
                Membership.__table__.c.user_id,
                TimeEntry.__table__.c.user_id,
                Approval.__table__.c.user_id,
                Approval.__table__.c.decided_by_user_id,
                ProjectMember.__table__.c.user_id,
                Invitation.__table__.c.invited_by_user_id,
                Project.__table__.c.created_by_user_id,
                Event.__table__.c.actor_id,
                Webhook.__table__.c.created_by_user_id,
            )
        ),
        select(_WORKSPACES.c.owner_user_id).where(_WORKSPACES.c.id == workspace_id),
    ).subquery()
    return _USERS.c.id.in_(select(named.c[0]))


async def batches(
    sessions: Sessions,
    table: Table,
    columns: Sequence[Any],
    where: ColumnElement[bool],
    size: int,
    *,
    order: SortKey | None = None,
) -> AsyncIterator[list[Any]]:
    """The rows of `table` that `where` picks, `size` at a time in the order of `order`
    (default: by id), each batch read on a reading session of its own: no transaction stays
    open between batches, and no more than one batch is held. A big table needs an `order`
    its workspace's index serves, or each batch sorts every row of the workspace again."""
    key = order or SortKey(table.c.id, table.c.id)
    after: tuple[Any, uuid.UUID] | None = None
    while True:
        statement = select(*columns).where(where).order_by(*key.order_by()).limit(size)
        if after is not None:
            statement = statement.where(key.after(*after))
        async with sessions.reading() as session:
            rows = list((await session.execute(statement)).all())
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]
        after = (getattr(last, key.column.key), last.id)


# Entries by start, as the workspace's (workspace_id, start_at) index holds them; events by
# their number, as the unique (workspace_id, sequence) index does.
ENTRIES_ORDER = SortKey(TimeEntry.__table__.c.start_at, TimeEntry.__table__.c.id)
EVENTS_ORDER = SortKey(Event.__table__.c.sequence, Event.__table__.c.id)


def entry_columns() -> list[Any]:
    """An entry's columns and its tags' ids (comma-separated), for the export."""
    return [*TimeEntry.__table__.c, TAG_IDS]


class ArchiveRepository:
    """A restore's reads and writes, in the unit of work's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def taken(self, table: Table, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `ids` the table holds already."""
        wanted = list(ids)
        if not wanted:
            return set()
        found = await self.session.execute(select(table.c.id).where(table.c.id.in_(wanted)))
        return set(found.scalars())

    async def accounts(self, emails: Iterable[str]) -> dict[str, uuid.UUID]:
        """The ids of the accounts with these emails (lower-cased)."""
        wanted = list(emails)
        if not wanted:
            return {}
        found = await self.session.execute(
            select(_USERS.c.email, _USERS.c.id).where(_USERS.c.email.in_(wanted))
        )
        return {email: user_id for email, user_id in found}

    async def emails(self, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        found = await self.session.execute(
            select(_USERS.c.id, _USERS.c.email).where(_USERS.c.id.in_(list(user_ids)))
        )
        return {user_id: email for user_id, email in found}

    async def restored(self, archive_sha256: str) -> tuple[uuid.UUID, bool] | None:
        """The workspace an archive was restored into, and whether it is still live."""
        found = await self.session.execute(
            select(_RESTORES.c.workspace_id, _WORKSPACES.c.deleted_at.is_(None))
            .join(_WORKSPACES, _WORKSPACES.c.id == _RESTORES.c.workspace_id)
            .where(_RESTORES.c.archive_sha256 == archive_sha256)
        )
        row = found.first()
        return (row[0], bool(row[1])) if row else None

    async def forget_restore(self, archive_sha256: str) -> None:
        await self.session.execute(
            delete(_RESTORES).where(_RESTORES.c.archive_sha256 == archive_sha256)
        )

    async def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> str | None:
        """Insert `rows` in a savepoint; None, or what the database refused them for."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(table), list(rows))
        except IntegrityError as error:
            return _refusal(error)
        return None


def _refusal(error: IntegrityError) -> str:
    problem = describe(error)
    return f"the database refuses it ({problem.violation.value}: {problem.subject})"
