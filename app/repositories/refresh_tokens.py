import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select, update

from app.db.models import RefreshToken, User
from app.db.types import utcnow
from app.repositories.base import Repository
from app.security import REFRESH_TOKEN_PREFIX, new_secret_token, token_digest


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken
    not_found_detail = "Refresh token not found."

    async def issue(
        self,
        user_id: uuid.UUID,
        *,
        expires_at: datetime,
        family_id: uuid.UUID | None = None,
        rotated_from_id: uuid.UUID | None = None,
    ) -> str:
        """Store a new token (a new family unless given one) and return its secret."""
        secret = new_secret_token(REFRESH_TOKEN_PREFIX)
        await self.create(
            user_id=user_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_digest(secret),
            expires_at=expires_at,
            rotated_from_id=rotated_from_id,
        )
        return secret

    async def find(self, secret: str) -> RefreshToken | None:
        statement = self.select().where(RefreshToken.token_hash == token_digest(secret))
        return (await self.session.scalars(statement)).one_or_none()

    async def find_locked_with_user(self, secret: str) -> tuple[RefreshToken, User] | None:
        """The token and its user, both locked until the transaction ends."""
        statement = (
            select(RefreshToken, User)
            .join(User, User.id == RefreshToken.user_id)
            .where(RefreshToken.token_hash == token_digest(secret))
            .with_for_update()
        )
        row = (await self.session.execute(statement)).one_or_none()
        return (row[0], row[1]) if row else None

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        await self._revoke(RefreshToken.family_id == family_id)

    async def revoke_for_user(self, user_id: uuid.UUID) -> None:
        await self._revoke(RefreshToken.user_id == user_id)

    async def _revoke(self, condition: ColumnElement[bool]) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(condition, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
