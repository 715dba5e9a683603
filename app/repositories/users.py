from app.db.models import User
from app.repositories.base import Repository
from app.schemas.users import UserCreate
from app.security import hash_password


class UserRepository(Repository[User]):
    model = User
    conflict_detail = "A user with this email already exists."
    not_found_detail = "User not found."

    async def get_by_email(self, email: str) -> User | None:
        statement = self.select().where(User.email == email.lower())
        return (await self.session.scalars(statement)).one_or_none()

    async def create_user(self, data: UserCreate, *, is_superuser: bool = False) -> User:
        return await self.create(
            email=data.email,
            full_name=data.full_name,
            password_hash=hash_password(data.password),
            is_superuser=is_superuser,
        )
