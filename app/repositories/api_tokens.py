from sqlalchemy import or_, select

from app.db.models import ApiToken, User
from app.db.types import utcnow
from app.repositories.base import Repository
from app.security import token_digest


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
