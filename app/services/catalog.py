"""The catalog that time is tracked against: clients, projects, tasks and tags, and who
belongs to a project. Admins and the owner change it; everyone reads what they may see."""

import uuid
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base
from app.db.models import Client, Project, ProjectMember, Tag, Task
from app.db.types import utcnow
from app.errors import Conflict, ReferenceMissing
from app.repositories.base import ScopedRepository
from app.repositories.clients import ClientRepository
from app.repositories.memberships import MembershipRepository
from app.repositories.project_members import ProjectMemberRepository
from app.repositories.projects import ProjectRepository
from app.repositories.tags import TagRepository
from app.repositories.tasks import TaskRepository
from app.services import policies
from app.services.caller import Caller
from app.services.entry_rules import INVALID_REFERENCE

M = TypeVar("M", bound=Base)


class CatalogService(Generic[M]):
    """Creates, changes, deletes and restores one kind of catalog row."""

    repository: ClassVar[type[ScopedRepository[Any]]]
    # A boolean the API writes (e.g. "archived") and the timestamp column that records it.
    flags: ClassVar[dict[str, str]] = {}

    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.workspace_id = caller.current_workspace().id
        self.rows: ScopedRepository[M] = self.repository(session, self.workspace_id)

    async def create(self, values: dict[str, Any]) -> M:
        policies.require_admin(self.caller)
        await self._check_references(values, None)
        return await self.rows.create(**values)

    async def update(self, row: M, changes: dict[str, Any]) -> M:
        policies.require_admin(self.caller)
        await self._check_references(changes, row)
        return await self.rows.update(row, self._flags_to_timestamps(row, changes))

    async def delete(self, row: M) -> None:
        policies.require_admin(self.caller)
        await self.rows.soft_delete(row)

    async def restore(self, row: M) -> M:
        policies.require_admin(self.caller)
        return await self.rows.restore(row)

    async def _check_references(self, values: dict[str, Any], row: M | None) -> None:
        """Refuse values that name what the row may not point at (`row` None: a new row)."""

    def _flags_to_timestamps(self, row: M, changes: dict[str, Any]) -> dict[str, Any]:
        changes = dict(changes)
        for flag, column in self.flags.items():
            if flag in changes:
                # Setting a flag that is already on keeps the moment it was first set.
                on = changes.pop(flag)
                changes[column] = (getattr(row, column) or utcnow()) if on else None
        return changes

    async def _assignable(
        self, repository: ScopedRepository[Any], row_id: uuid.UUID, *, field: str, archived: str
    ) -> None:
        """The live row that `field` names, if it can take something new."""
        found = await repository.get_or_none(row_id)
        if found is None:
            raise ReferenceMissing(repository.not_found_detail, field=field, kind=INVALID_REFERENCE)
        if found.archived_at is not None:
            raise Conflict(archived)


class ClientService(CatalogService[Client]):
    repository = ClientRepository
    flags = {"archived": "archived_at"}


class ProjectService(CatalogService[Project]):
    repository = ProjectRepository
    flags = {"archived": "archived_at"}

    async def create(self, values: dict[str, Any]) -> Project:
        return await super().create({**values, "created_by_user_id": self.caller.user_id})

    async def _check_references(self, values: dict[str, Any], row: Project | None) -> None:
        client_id = values.get("client_id")
        if client_id is not None and (row is None or client_id != row.client_id):
            await self._assignable(
                ClientRepository(self.session, self.workspace_id),
                client_id,
                field="client_id",
                archived="The client is archived; unarchive it before adding projects to it.",
            )


class TaskService(CatalogService[Task]):
    repository = TaskRepository
    flags = {"done": "done_at"}

    async def _check_references(self, values: dict[str, Any], row: Task | None) -> None:
        if row is None:
            await self._assignable(
                ProjectRepository(self.session, self.workspace_id),
                values["project_id"],
                field="project_id",
                archived="The project is archived; unarchive it before adding to it.",
            )


class TagService(CatalogService[Tag]):
    repository = TagRepository


class ProjectMemberService(CatalogService[ProjectMember]):
    """Who belongs to a project: access to a private one, and a per-person rate on it.
    Leaving a project deletes the row: there is nothing to restore."""

    repository = ProjectMemberRepository

    async def delete(self, row: ProjectMember) -> None:
        policies.require_admin(self.caller)
        await self.rows.delete(row)

    async def _check_references(self, values: dict[str, Any], row: ProjectMember | None) -> None:
        if row is None:
            members = MembershipRepository(self.session, self.workspace_id)
            if await members.find_by_user(values["user_id"]) is None:
                raise ReferenceMissing(
                    "The user is not a member of this workspace.",
                    field="user_id",
                    kind=INVALID_REFERENCE,
                )
