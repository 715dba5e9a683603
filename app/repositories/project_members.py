import uuid
from typing import Any

from sqlalchemy import Select, exists, select

from app.db.models import Membership, ProjectMember
from app.errors import NotFound
from app.repositories.base import ScopedRepository
from app.repositories.catalog import invalid_reference


class ProjectMemberRepository(ScopedRepository[ProjectMember]):
    model = ProjectMember
    conflict_detail = "The user is already a member of this project."
    not_found_detail = "Project member not found."

    def of_project(self, project_id: uuid.UUID) -> Select[tuple[ProjectMember]]:
        return self.select().where(ProjectMember.project_id == project_id)

    async def get_by_user(self, project_id: uuid.UUID, user_id: uuid.UUID) -> ProjectMember:
        statement = self.of_project(project_id).where(ProjectMember.user_id == user_id)
        member = (await self.session.scalars(statement)).one_or_none()
        if member is None:
            raise NotFound(self.not_found_detail)
        return member

    async def create(self, **values: Any) -> ProjectMember:
        in_workspace = exists().where(
            Membership.workspace_id == self.workspace_id, Membership.user_id == values["user_id"]
        )
        if not await self.session.scalar(select(in_workspace)):
            raise invalid_reference("user_id", "The user is not a member of this workspace.")
        return await super().create(**values)
