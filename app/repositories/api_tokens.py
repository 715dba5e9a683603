import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, or_, select, update

from app.db.models import ApiToken, User
from app.db.prepared import Prepared
from app.db.types import utcnow
from app.repositories.base import Repository
from app.repositories.standing import Standing, standing_of, standing_statement
from app.security import API_TOKEN_PREFIX, new_secret_token, token_digest

# Enough of the secret to recognize a token by in a list, far too little to guess the rest.
DISPLAY_PREFIX_LENGTH = 12

# Built once, so that each request reuses the statement's cache key and compiled form.
_TOKENS, _USERS = ApiToken.__table__, User.__table__
_LIVE_TOKEN = (
    select(_TOKENS.c.id.label("token_id"), _TOKENS.c.last_used_at.label("token_last_used_at"))
    .join(_USERS, _USERS.c.id == _TOKENS.c.user_id)
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        or_(_TOKENS.c.expires_at.is_(None), _TOKENS.c.expires_at > bindparam("now")),
        _USERS.c.is_active.is_(True),
        _USERS.c.deleted_at.is_(None),
    )
)
_LIVE_TOKEN_ALONE = Prepared(standing_statement(_LIVE_TOKEN, None))
_LIVE_TOKEN_IN_WORKSPACE = Prepared(standing_statement(_LIVE_TOKEN, bindparam("workspace_id")))


@dataclass(frozen=True, slots=True)
class LiveToken:
    id: uuid.UUID
    last_used_at: datetime | None
    standing: Standing


class ApiTokenRepository(Repository[ApiToken]):
    model = ApiToken
    not_found_detail = "API token not found."

    async def find_live(
        self, secret: str, now: datetime, workspace_id: uuid.UUID | None
    ) -> LiveToken | None:
        """The token with this secret, neither revoked nor expired, with its active user and
        their standing in the workspace `workspace_id`."""
        values = {"token_hash": token_digest(secret), "now": now}
        if workspace_id is None:
            rows = await self.read(_LIVE_TOKEN_ALONE, values)
        else:
            values["workspace_id"] = workspace_id
            rows = await self.read(_LIVE_TOKEN_IN_WORKSPACE, values)
        if not rows:
            return None
        row = rows[0]
        return LiveToken(row.token_id, row.token_last_used_at, standing_of(row))

    async def is_live(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Whether the token is neither revoked nor expired."""
        statement = select(ApiToken.id).where(
            ApiToken.id == token_id,
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
        return (await self.session.scalar(statement)) is not None

    async def record_use(self, token_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )

    async def revoke_for_user(self, user_id: uuid.UUID) -> None:
        await self.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )

    def owned_by(self, user_id: uuid.UUID) -> Select[tuple[ApiToken]]:
        """The user's tokens that were not revoked, expired ones included."""
        return self.select().where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))

    async def get_owned(self, token_id: uuid.UUID, user_id: uuid.UUID) -> ApiToken:
        statement = self.owned_by(user_id).where(ApiToken.id == token_id)
        token = (await self.session.scalars(statement)).one_or_none()
        if token is None:
            raise self.not_found()
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
