from typing import Any

from app.db.models import User
from app.repositories.base import Repository
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.schemas.users import UserCreate
from app.security import hash_password, password_needs_rehash, verify_password


class UserRepository(Repository[User]):
    model = User
    conflict_detail = "A user with this email already exists."
    not_found_detail = "User not found."

    async def get_by_email(self, email: str) -> User | None:
        statement = self.select().where(User.email == email.lower())
        return (await self.session.scalars(statement)).one_or_none()

    async def get_active_by_email(self, email: str) -> User | None:
        user = await self.get_by_email(email)
        return user if user is not None and user.is_active else None

    async def create_user(self, data: UserCreate, *, is_superuser: bool = False) -> User:
        return await self.create(
            email=data.email,
            full_name=data.full_name,
            password_hash=hash_password(data.password),
            is_superuser=is_superuser,
        )

    async def authenticate(self, email: str, password: str) -> User | None:
        """The active user with these credentials, in the same time whether or not one exists."""
        # Locked, so that a password change or deactivation committing meanwhile either
        # waits for this sign-in (and then revokes what it issues) or is seen by it.
        statement = (
            self.select()
            .where(User.email == email.lower(), User.is_active.is_(True))
            .with_for_update()
        )
        user = (await self.session.scalars(statement)).one_or_none()
        matched = verify_password(user.password_hash if user else None, password)
        if user is None or not matched:
            return None
        if password_needs_rehash(user.password_hash):
            await self.update(user, {"password_hash": hash_password(password)})
        return user

    async def set_password(self, user: User, password: str) -> None:
        await self._end_sessions(user, password_hash=hash_password(password))

    async def deactivate(self, user: User) -> None:
        await self._end_sessions(user, is_active=False)

    async def _end_sessions(self, user: User, **changes: Any) -> None:
        """Apply `changes` and refuse every access and refresh token issued until now."""
        await self.update(user, {**changes, "token_generation": user.token_generation + 1})
        await RefreshTokenRepository(self.session).revoke_for_user(user.id)
