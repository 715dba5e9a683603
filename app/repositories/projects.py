import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.expressions import elapsed_seconds
from app.db.models import Project, ProjectMember, TimeEntry
from app.enums import ProjectVisibility
from app.repositories.catalog import ArchivableRepository


def visible_to(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Projects a member may see: the public ones and the private ones they belong to."""
    memberships = select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)
    return or_(Project.visibility == ProjectVisibility.PUBLIC, Project.id.in_(memberships))


def tracked(*columns: ColumnElement[object]) -> Select[tuple[object, ...]]:
    """`columns`, then the seconds of the finished live entries (of the projects the caller
    joins or groups by) and their billable seconds times cents per hour."""
    seconds = elapsed_seconds(TimeEntry.start_at, TimeEntry.end_at)
    billed = and_(TimeEntry.billable.is_(True), TimeEntry.hourly_rate_cents.is_not(None))
    return select(
        *columns,
        func.coalesce(func.sum(seconds), 0),
        func.coalesce(func.sum(case((billed, seconds * TimeEntry.hourly_rate_cents), else_=0)), 0),
    ).where(TimeEntry.deleted_at.is_(None), TimeEntry.end_at.is_not(None))


class ProjectRepository(ArchivableRepository[Project]):
    """Projects of one workspace; built with `viewer_id`, only those that member may see.

    Routes get it from `app.api.deps.visible`, so the visibility rule cannot be forgotten.
    """

    model = Project
    conflict_detail = "A project with this name already exists in the workspace."
    not_found_detail = "Project not found."

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, *, viewer_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(session, workspace_id)
        self.viewer_id = viewer_id

    def scope(self, statement: Select[tuple[Project]]) -> Select[tuple[Project]]:
        statement = super().scope(statement)
        if self.viewer_id is None:
            return statement
        return statement.where(visible_to(self.viewer_id))

    async def tracked(self, project_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
        """Seconds and billable rate-seconds tracked on each of these projects, in one
        statement; a project without entries is absent."""
        if not project_ids:
            return {}
        statement = (
            tracked(TimeEntry.project_id)
            .where(
                TimeEntry.workspace_id == self.workspace_id,
                TimeEntry.project_id.in_(project_ids),
            )
            .group_by(TimeEntry.project_id)
        )
        rows = await self.session.execute(statement)
        return {project_id: (int(seconds), int(rate)) for project_id, seconds, rate in rows}

    def search(
        self,
        query: str | None,
        *,
        include_deleted: bool,
        archived: bool = False,
        client_ids: Sequence[uuid.UUID] = (),
    ) -> Select[tuple[Project]]:
        statement = super().search(query, include_deleted=include_deleted, archived=archived)
        if client_ids:
            statement = statement.where(Project.client_id.in_(client_ids))
        return statement
