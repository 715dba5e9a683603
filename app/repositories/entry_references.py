"""What time entries point at (members, projects, tasks, tags), read inside one workspace.

Every statement is built once, over table columns with bind parameters, and runs on the
unit of work's connection: a write checks its references without building, hashing or
compiling a statement, and without loading objects.
"""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, String, and_, bindparam, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Client, Membership, Project, ProjectMember, Tag, Task, TimeEntry
from app.db.prepared import Prepared, read_rows
from app.enums import ProjectVisibility
from app.repositories.projects import tracked

_PROJECTS = Project.__table__.c
_CLIENTS = Client.__table__.c
_TASKS = Task.__table__.c
_TAGS = Tag.__table__.c
_PROJECT_MEMBERS = ProjectMember.__table__
_MEMBER = _PROJECT_MEMBERS.alias("member")

# What `projects.visible_to` says, for the user in the `user_id` parameter.
_SEEN = or_(
    _PROJECTS.visibility == ProjectVisibility.PUBLIC,
    _PROJECTS.id.in_(
        select(_PROJECT_MEMBERS.c.project_id).where(
            _PROJECT_MEMBERS.c.user_id == bindparam("user_id")
        )
    ),
)
_MEMBERSHIP = select(Membership).where(
    Membership.workspace_id == bindparam("workspace_id"),
    Membership.user_id == bindparam("user_id"),
)
_PROJECT_COLUMNS = (
    _PROJECTS.id,
    _PROJECTS.is_billable,
    _PROJECTS.hourly_rate_cents,
    _MEMBER.c.hourly_rate_cents.label("member_rate_cents"),
    _SEEN.label("visible"),
    (_PROJECTS.archived_at.is_not(None) | _CLIENTS.archived_at.is_not(None)).label("archived"),
    _PROJECTS.deleted_at.is_not(None).label("deleted"),
    _PROJECTS.estimate_seconds,
    _PROJECTS.budget_cents,
)
_PROJECT = Prepared(
    select(*_PROJECT_COLUMNS)
    .select_from(
        Project.__table__.outerjoin(Client.__table__, _CLIENTS.id == _PROJECTS.client_id).outerjoin(
            _MEMBER,
            and_(_MEMBER.c.project_id == _PROJECTS.id, _MEMBER.c.user_id == bindparam("user_id")),
        )
    )
    .where(
        _PROJECTS.id == bindparam("project_id"), _PROJECTS.workspace_id == bindparam("workspace_id")
    )
)
# The live tags among the `tag_ids` parameter, comma-separated, as one value.
_LIVE_TAGS_TOGETHER = (
    select(func.aggregate_strings(cast(_TAGS.id, String), ","))
    .where(
        _TAGS.id.in_(bindparam("tag_ids", expanding=True)),
        _TAGS.workspace_id == bindparam("workspace_id"),
        _TAGS.deleted_at.is_(None),
    )
    .scalar_subquery()
    .label("live_tag_ids")
)
# `_PROJECT` and `_LIVE_TAGS_TOGETHER` in one round trip: a write naming both checks them
# at once. One row always comes back; its project columns are null when there is none.
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_PROJECT_AND_TAGS = Prepared(
    select(*_PROJECT_COLUMNS, _LIVE_TAGS_TOGETHER).select_from(
        _ONE_ROW.outerjoin(
            Project.__table__,
            and_(
                _PROJECTS.id == bindparam("project_id"),
                _PROJECTS.workspace_id == bindparam("workspace_id"),
            ),
        )
        .outerjoin(Client.__table__, _CLIENTS.id == _PROJECTS.client_id)
        .outerjoin(
            _MEMBER,
            and_(_MEMBER.c.project_id == _PROJECTS.id, _MEMBER.c.user_id == bindparam("user_id")),
        )
    )
)
_TASK = Prepared(
    select(_TASKS.id, _TASKS.project_id, _SEEN.label("visible"))
    .select_from(Task.__table__.join(Project.__table__, _PROJECTS.id == _TASKS.project_id))
    .where(
        _TASKS.id == bindparam("task_id"),
        _TASKS.workspace_id == bindparam("workspace_id"),
        _TASKS.deleted_at.is_(None),
    )
)
_LIVE_TAGS = Prepared(
    select(_TAGS.id).where(
        _TAGS.id.in_(bindparam("tag_ids", expanding=True)),
        _TAGS.workspace_id == bindparam("workspace_id"),
        _TAGS.deleted_at.is_(None),
    )
)


class EntryReferenceRepository:
    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def _read(self, prepared: Prepared, **parameters: Any) -> list[Any]:
        return await read_rows(
            self.session, prepared, {"workspace_id": self.workspace_id, **parameters}
        )

    async def membership(self, user_id: uuid.UUID) -> Membership | None:
        parameters = {"workspace_id": self.workspace_id, "user_id": user_id}
        return (await self.session.scalars(_MEMBERSHIP, parameters)).one_or_none()

    async def project(self, project_id: uuid.UUID, user_id: uuid.UUID) -> Row[Any] | None:
        """The project as `user_id` meets it, deleted or archived ones included: id,
        is_billable, hourly_rate_cents, member_rate_cents, visible, archived, deleted,
        estimate_seconds, budget_cents."""
        rows = await self._read(_PROJECT, project_id=project_id, user_id=user_id)
        return rows[0] if rows else None

    async def project_and_tags(
        self, project_id: uuid.UUID, user_id: uuid.UUID, tag_ids: Collection[uuid.UUID]
    ) -> tuple[tuple[Any, ...] | None, set[uuid.UUID]]:
        """`project` and `live_tag_ids` in one statement."""
        [row] = await self._read(
            _PROJECT_AND_TAGS, project_id=project_id, user_id=user_id, tag_ids=list(tag_ids)
        )
        *project, live = row
        live_ids = {uuid.UUID(tag_id) for tag_id in live.split(",")} if live else set()
        return (tuple(project) if project[0] is not None else None), live_ids

    async def progress(self, project_id: uuid.UUID) -> Row[Any] | None:
        """The project's estimate and budget with the seconds and billable rate-seconds
        tracked on it, in one statement; None when it has neither target (then nothing is
        summed) or no finished entry."""
        has_target = or_(Project.estimate_seconds.is_not(None), Project.budget_cents.is_not(None))
        statement = (
            tracked(Project.estimate_seconds, Project.budget_cents)
            .select_from(Project)
            .join(TimeEntry, TimeEntry.project_id == Project.id)
            .where(
                Project.id == project_id,
                Project.workspace_id == self.workspace_id,
                has_target,
            )
            .group_by(Project.id, Project.estimate_seconds, Project.budget_cents)
        )
        return (await self.session.execute(statement)).one_or_none()

    async def task(self, task_id: uuid.UUID, user_id: uuid.UUID) -> Row[Any] | None:
        """The live task as `user_id` meets it: id, project_id, visible."""
        rows = await self._read(_TASK, task_id=task_id, user_id=user_id)
        return rows[0] if rows else None

    async def live_tag_ids(self, tag_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        if not tag_ids:
            return set()
        return {row.id for row in await self._read(_LIVE_TAGS, tag_ids=list(tag_ids))}
