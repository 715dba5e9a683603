import uuid

from sqlalchemy import Select

from app.db.models import ProjectMember
from app.repositories.base import ScopedRepository


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
            raise self.not_found()
        return member

    async def delete_for_user(self, user_id: uuid.UUID) -> None:
        """Take the user off every project of the workspace, one row at a time through the
        session, so that each leaving is an event of its own."""
        for member in await self.session.scalars(
            self.select().where(ProjectMember.user_id == user_id)
        ):
            await self.session.delete(member)
        await self.flush()
