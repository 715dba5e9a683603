import uuid
from datetime import datetime

from sqlalchemy import Select, or_, select

from app.db.models import ApiToken, User
from app.db.types import utcnow
from app.errors import NotFound
from app.repositories.base import Repository
from app.security import API_TOKEN_PREFIX, new_secret_token, token_digest

# Enough of the secret to recognize a token by in a list, far too little to guess the rest.
DISPLAY_PREFIX_LENGTH = 12


class ApiTokenRepository(Repository[ApiToken]):
    model = ApiToken
    not_found_detail = "API token not found."

    async def authenticate(self, secret: str) -> User | None:
        """The active user owning this live token; records its use."""
        now = utcnow()
        statement = (
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == token_digest(secret),
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
                User.is_active.is_(True),
                User.deleted_at.is_(None),
            )
        )
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        token, user = row
        token.last_used_at = now
        return user

    def owned_by(self, user_id: uuid.UUID) -> Select[tuple[ApiToken]]:
        """The user's tokens that were not revoked, expired ones included."""
        return self.select().where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))

    async def get_owned(self, token_id: uuid.UUID, user_id: uuid.UUID) -> ApiToken:
        statement = self.owned_by(user_id).where(ApiToken.id == token_id)
        token = (await self.session.scalars(statement)).one_or_none()
        if token is None:
            raise NotFound(self.not_found_detail)
        return token

    async def issue(
        self, user_id: uuid.UUID, name: str, expires_at: datetime | None
    ) -> tuple[ApiToken, str]:
        """Store a new token and return it with its secret, which is not kept."""
        secret = new_secret_token(API_TOKEN_PREFIX)
        token = await self.create(
            user_id=user_id,
            name=name,
            token_hash=token_digest(secret),
            prefix=secret[:DISPLAY_PREFIX_LENGTH],
            expires_at=expires_at,
        )
        return token, secret

    async def revoke(self, token: ApiToken) -> None:
        await self.update(token, {"revoked_at": utcnow()})
