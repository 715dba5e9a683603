"""What time entries point at (members, projects, tasks, tags), read inside one workspace."""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import Client, Membership, Project, ProjectMember, Tag, Task, TimeEntry
from app.repositories.projects import tracked, visible_to


class EntryReferenceRepository:
    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def membership(self, user_id: uuid.UUID) -> Membership | None:
        statement = select(Membership).where(
            Membership.workspace_id == self.workspace_id, Membership.user_id == user_id
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def project(self, project_id: uuid.UUID, user_id: uuid.UUID) -> Row[Any] | None:
        """The project as `user_id` meets it, deleted or archived ones included: id,
        is_billable, hourly_rate_cents, member_rate_cents, visible, archived, deleted,
        estimate_seconds, budget_cents."""
        # Aliased, so that the subquery of `visible_to` is not correlated with this join.
        member = aliased(ProjectMember)
        statement = (
            select(
                Project.id,
                Project.is_billable,
                Project.hourly_rate_cents,
                member.hourly_rate_cents,
                visible_to(user_id),
                Project.archived_at.is_not(None) | Client.archived_at.is_not(None),
                Project.deleted_at.is_not(None),
                Project.estimate_seconds,
                Project.budget_cents,
            )
            .outerjoin(Client, Client.id == Project.client_id)
            .outerjoin(member, and_(member.project_id == Project.id, member.user_id == user_id))
            .where(Project.id == project_id, Project.workspace_id == self.workspace_id)
        )
        return (await self.session.execute(statement)).one_or_none()

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
        statement = (
            select(Task.id, Task.project_id, visible_to(user_id))
            .join(Project, Project.id == Task.project_id)
            .where(
                Task.id == task_id,
                Task.workspace_id == self.workspace_id,
                Task.deleted_at.is_(None),
            )
        )
        return (await self.session.execute(statement)).one_or_none()

    async def live_tag_ids(self, tag_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        if not tag_ids:
            return set()
        statement = select(Tag.id).where(
            Tag.id.in_(tag_ids), Tag.workspace_id == self.workspace_id, Tag.deleted_at.is_(None)
        )
        return set(await self.session.scalars(statement))
