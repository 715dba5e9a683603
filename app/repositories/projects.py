import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Project, ProjectMember
from app.enums import ProjectVisibility
from app.repositories.catalog import ArchivableRepository


def visible_to(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Projects a member may see: the public ones and the private ones they belong to."""
    memberships = select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)
    return or_(Project.visibility == ProjectVisibility.PUBLIC, Project.id.in_(memberships))


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
