import uuid
from datetime import timedelta

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
        ttl_seconds: int,
        family_id: uuid.UUID | None = None,
        rotated_from_id: uuid.UUID | None = None,
    ) -> str:
        """Store a new token (a new family unless given one) and return its secret."""
        secret = new_secret_token(REFRESH_TOKEN_PREFIX)
        await self.create(
            user_id=user_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_digest(secret),
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
            rotated_from_id=rotated_from_id,
        )
        return secret

    async def find(self, secret: str) -> RefreshToken | None:
        statement = self.select().where(RefreshToken.token_hash == token_digest(secret))
        return (await self.session.scalars(statement)).one_or_none()

    async def rotate(self, secret: str, *, ttl_seconds: int) -> tuple[User, str] | None:
        """Exchange a live token for its successor; None when the token is refused.

        Presenting a token that was already exchanged means two parties hold the chain, so
        the whole family is revoked and the legitimate holder has to sign in again.
        """
        now = utcnow()
        # The token and its user are locked: of two concurrent exchanges of one token the
        # second sees the first's rotation and counts as reuse, and a password change or
        # deactivation running meanwhile cannot miss the successor issued here.
        statement = (
            select(RefreshToken, User)
            .join(User, User.id == RefreshToken.user_id)
            .where(RefreshToken.token_hash == token_digest(secret))
            .with_for_update()
        )
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        token, user = row
        if token.revoked_at is not None:
            return None
        if token.rotated_at is not None:
            await self.revoke_family(token.family_id)
            return None
        if token.expires_at <= now or not user.is_active or user.deleted_at is not None:
            return None
        await self.update(token, {"rotated_at": now})
        successor = await self.issue(
            user.id, ttl_seconds=ttl_seconds, family_id=token.family_id, rotated_from_id=token.id
        )
        return user, successor

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
