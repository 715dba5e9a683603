import uuid

from sqlalchemy import select

from app.db.models import Membership, User, Workspace
from app.repositories.base import Repository
from app.repositories.memberships import with_standing


class UserRepository(Repository[User]):
    model = User
    conflict_detail = "A user with this email already exists."
    not_found_detail = "User not found."

    async def get_by_email(self, email: str, *, for_update: bool = False) -> User | None:
        """The account with this email (stored lower-cased); `for_update` locks it until the
        transaction ends."""
        statement = self.select().where(User.email == email.lower())
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).one_or_none()

    async def get_active(
        self, user_id: uuid.UUID, workspace_id: uuid.UUID | None
    ) -> tuple[User, Membership | None, Workspace | None] | None:
        """The active user by id, with their standing in the workspace `workspace_id`."""
        statement = select(User).where(
            User.id == user_id, User.is_active.is_(True), User.deleted_at.is_(None)
        )
        row = (await self.session.execute(with_standing(statement, User.id, workspace_id))).first()
        return (row[0], row[1], row[2]) if row else None
