import uuid

from sqlalchemy import Select
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from app.db.models import Membership, User
from app.pagination import SortKey
from app.repositories.base import ScopedRepository

BY_JOINING_ORDER = SortKey(Membership.created_at, Membership.id)


class MembershipRepository(ScopedRepository[Membership]):
    """Memberships of one workspace, each read with its user."""

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

    async def find_by_email(self, email: str) -> Membership | None:
        statement = self.select().where(User.email == email.lower())
        return (await self.session.scalars(statement)).one_or_none()

    async def get_by_user(self, user_id: uuid.UUID) -> Membership:
        membership = await self.find_by_user(user_id)
        if membership is None:
            raise self.not_found()
        return membership

    async def add(self, user: User, **values: object) -> Membership:
        membership = await self.create(user_id=user.id, **values)
        # Attached as loaded, like the reads above, without touching `user.memberships`.
        set_committed_value(membership, "user", user)
        return membership
