"""What a time entry points at (user, project, task, tags): found inside the entry's
workspace and checked, and the hourly rate those references give it."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import Client, Membership, Project, ProjectMember, Tag, Task, Workspace
from app.errors import Conflict, ValidationFailed
from app.repositories.catalog import invalid_reference
from app.repositories.projects import visible_to
from app.repositories.workspaces import WorkspaceRepository


@dataclass(frozen=True)
class ProjectForUser:
    """A project as one user meets it: can they see it, their rate on it, is it open."""

    project: Project
    visible: bool
    member_rate_cents: int | None
    client_archived: bool

    @property
    def archived(self) -> bool:
        return self.project.archived_at is not None or self.client_archived


class EntryReferences:
    """Lookups are remembered, so a bulk change over many entries asks each question once."""

    def __init__(self, session: AsyncSession, workspace: Workspace) -> None:
        self.session = session
        self.workspace = workspace
        self._memberships: dict[uuid.UUID, Membership | None] = {}
        self._projects: dict[tuple[uuid.UUID, uuid.UUID], ProjectForUser | None] = {}

    def remember(self, membership: Membership) -> None:
        """A membership the caller already holds (the request's own), saving a query."""
        self._memberships[membership.user_id] = membership

    async def member(self, user_id: uuid.UUID) -> Membership:
        membership = await self._membership(user_id)
        if membership is None:
            raise invalid_reference("user_id", "The user is not a member of this workspace.")
        return membership

    async def _membership(self, user_id: uuid.UUID) -> Membership | None:
        if user_id not in self._memberships:
            found = await WorkspaceRepository(self.session).get_membership(
                self.workspace.id, user_id
            )
            self._memberships[user_id] = found[1] if found else None
        return self._memberships[user_id]

    async def project(self, project_id: uuid.UUID, user_id: uuid.UUID) -> ProjectForUser:
        """The project, deleted or archived ones included (an entry may already be on one)."""
        key = (project_id, user_id)
        if key not in self._projects:
            # Aliased, so that the subquery of `visible_to` is not correlated with this join.
            member = aliased(ProjectMember)
            statement = (
                select(
                    Project,
                    visible_to(user_id),
                    member.hourly_rate_cents,
                    Client.archived_at.is_not(None),
                )
                .outerjoin(Client, Client.id == Project.client_id)
                .outerjoin(member, and_(member.project_id == Project.id, member.user_id == user_id))
                .where(Project.id == project_id, Project.workspace_id == self.workspace.id)
            )
            row = (await self.session.execute(statement)).one_or_none()
            self._projects[key] = (
                ProjectForUser(row[0], bool(row[1]), row[2], bool(row[3])) if row else None
            )
        found = self._projects[key]
        if found is None:
            raise invalid_reference("project_id", "Project not found.")
        return found

    async def assignable_project(
        self, project_id: uuid.UUID, user_id: uuid.UUID, *, sees_all: bool
    ) -> ProjectForUser:
        """A project new time may be tracked on, by a caller who sees all projects or not."""
        found = await self.project(project_id, user_id)
        if found.project.deleted_at is not None or not (sees_all or found.visible):
            raise invalid_reference("project_id", "Project not found.")
        if found.archived:
            raise Conflict("The project or its client is archived; it takes no new time.")
        return found

    async def task(self, task_id: uuid.UUID) -> Task:
        statement = select(Task).where(
            Task.id == task_id, Task.workspace_id == self.workspace.id, Task.deleted_at.is_(None)
        )
        task = (await self.session.scalars(statement)).one_or_none()
        if task is None:
            raise invalid_reference("task_id", "Task not found.")
        return task

    async def tags(self, tag_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """The ids, each once; every one must name a live tag of the workspace."""
        wanted = list(dict.fromkeys(tag_ids))
        if not wanted:
            return []
        statement = select(Tag.id).where(
            Tag.id.in_(wanted), Tag.workspace_id == self.workspace.id, Tag.deleted_at.is_(None)
        )
        found = set(await self.session.scalars(statement))
        missing = [
            {
                "loc": ["body", "tag_ids", index],
                "msg": "Tag not found.",
                "type": "invalid_reference",
            }
            for index, tag_id in enumerate(tag_ids)
            if tag_id not in found
        ]
        if missing:
            raise ValidationFailed("Some tags were not found.", errors=missing)
        return wanted

    async def rate(
        self, *, billable: bool, user_id: uuid.UUID, project: ProjectForUser | None
    ) -> int | None:
        """Project member rate, then project rate, then member rate, then workspace default."""
        if not billable:
            return None
        if project is not None:
            if project.member_rate_cents is not None:
                return project.member_rate_cents
            if project.project.hourly_rate_cents is not None:
                return project.project.hourly_rate_cents
        # An entry may outlive its user's membership; it then falls back to the default.
        membership = await self._membership(user_id)
        if membership is not None and membership.hourly_rate_cents is not None:
            return membership.hourly_rate_cents
        return self.workspace.default_hourly_rate_cents
