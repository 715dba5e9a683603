from app.db.models import User
from app.repositories.base import Repository


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
