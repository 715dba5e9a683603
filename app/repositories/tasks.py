import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Project, Task
from app.repositories.catalog import CatalogRepository
from app.repositories.projects import visible_to


class TaskRepository(CatalogRepository[Task]):
    """Tasks of one workspace; built with `viewer_id`, only those of projects that member sees."""

    model = Task
    conflict_detail = "A task with this name already exists in the project."
    not_found_detail = "Task not found."

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, *, viewer_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(session, workspace_id)
        self.viewer_id = viewer_id

    def scope(self, statement: Select[tuple[Task]]) -> Select[tuple[Task]]:
        statement = super().scope(statement)
        if self.viewer_id is None:
            return statement
        projects = select(Project.id).where(
            Project.workspace_id == self.workspace_id, visible_to(self.viewer_id)
        )
        return statement.where(Task.project_id.in_(projects))

    def search(
        self,
        query: str | None,
        *,
        include_deleted: bool,
        project_ids: Sequence[uuid.UUID] = (),
        done: bool | None = None,
    ) -> Select[tuple[Task]]:
        statement = super().search(query, include_deleted=include_deleted)
        if project_ids:
            statement = statement.where(Task.project_id.in_(project_ids))
        if done is not None:
            done_at = Task.done_at
            statement = statement.where(done_at.is_not(None) if done else done_at.is_(None))
        return statement
