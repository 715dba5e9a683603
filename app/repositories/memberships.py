import uuid

from sqlalchemy import Select, delete
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from app.db.models import Membership, ProjectMember, User
from app.enums import Role
from app.errors import NotFound
from app.repositories.base import ScopedRepository


class MembershipRepository(ScopedRepository[Membership]):
    model = Membership
    conflict_detail = "This user is already a member of the workspace."
    not_found_detail = "Member not found."

    def scope(self, statement: Select[tuple[Membership]]) -> Select[tuple[Membership]]:
        return (
            super().scope(statement).join(Membership.user).options(contains_eager(Membership.user))
        )

    async def find_by_user(self, user_id: uuid.UUID) -> Membership | None:
        statement = self.select().where(Membership.user_id == user_id)
        return (await self.session.scalars(statement)).one_or_none()

    async def get_by_user(self, user_id: uuid.UUID) -> Membership:
        membership = await self.find_by_user(user_id)
        if membership is None:
            raise NotFound(self.not_found_detail)
        return membership

    async def add(self, user: User, role: Role, hourly_rate_cents: int | None) -> Membership:
        membership = await self.create(
            user_id=user.id, role=role, hourly_rate_cents=hourly_rate_cents
        )
        # Attached as loaded, like the reads above, without touching `user.memberships`.
        set_committed_value(membership, "user", user)
        return membership

    async def remove(self, membership: Membership) -> None:
        """Remove the member, and with them their access to the workspace's private projects."""
        await self.session.execute(
            delete(ProjectMember).where(
                ProjectMember.workspace_id == self.workspace_id,
                ProjectMember.user_id == membership.user_id,
            )
        )
        await self.delete(membership)
