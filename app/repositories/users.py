import secrets
import uuid
from typing import Any

from sqlalchemy import bindparam, select

from app.db.models import User
from app.db.prepared import Prepared
from app.repositories.base import Repository
from app.repositories.standing import Standing, standing_of, standing_statement, users_table_select
from app.security import hash_password

_USERS = User.__table__
_FULL_NAME_LENGTH = _USERS.c.full_name.type.length
# Built once, so that each request reuses the statement's cache key and compiled form.
_ACTIVE_USER = users_table_select().where(
    _USERS.c.id == bindparam("user_id"), _USERS.c.is_active.is_(True), _USERS.c.deleted_at.is_(None)
)
_ACTIVE_USER_ALONE = Prepared(standing_statement(_ACTIVE_USER, None))
_ACTIVE_USER_IN_WORKSPACE = Prepared(standing_statement(_ACTIVE_USER, bindparam("workspace_id")))


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

    async def add_placeholder(self, email: str, **values: Any) -> User:
        """An account for an email no account has, made for the people of imported or
        restored data: inactive, with a password nobody knows, until the person signs up
        with its email and takes it over."""
        # Named as its address before the @ when no name is known, cut to what fits.
        if values.get("full_name") is None:
            values["full_name"] = email.split("@")[0][:_FULL_NAME_LENGTH]
        return await self.create(
            email=email.lower(),
            password_hash=await hash_password(secrets.token_urlsafe(32)),
            is_active=False,
            is_placeholder=True,
            **values,
        )

    async def lock_generation(self, user_id: uuid.UUID) -> int:
        """The user's current token generation, read afresh; the row stays locked until the
        transaction ends."""
        statement = select(User.token_generation).where(User.id == user_id).with_for_update()
        return (await self.session.execute(statement)).scalar_one()

    async def get_active(
        self, user_id: uuid.UUID, workspace_id: uuid.UUID | None
    ) -> Standing | None:
        """The active user by id, with their standing in the workspace `workspace_id`."""
        if workspace_id is None:
            rows = await self.read(_ACTIVE_USER_ALONE, {"user_id": user_id})
        else:
            rows = await self.read(
                _ACTIVE_USER_IN_WORKSPACE, {"user_id": user_id, "workspace_id": workspace_id}
            )
        return standing_of(rows[0]) if rows else None
