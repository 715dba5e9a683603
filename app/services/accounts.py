"""Accounts and sessions: registration, sign-in with its limits, refresh-token rotation,
personal API tokens, and who a bearer token belongs to."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ApiToken, Membership, User, Workspace
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.errors import Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from app.repositories.api_tokens import ApiTokenRepository
from app.repositories.login_attempts import LoginAttemptRepository
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.security import (
    API_TOKEN_PREFIX,
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password,
    password_needs_rehash,
    verify_password,
)
from app.services.caller import Caller, SignIn

# One address may fail this many times more than one account, so that a few people behind
# one NAT who mistype do not lock each other out while spraying many accounts still stops.
ADDRESS_FACTOR = 4
# How stale an API token's `last_used_at` may get: reads stay reads in between.
LAST_USED_PRECISION = timedelta(minutes=1)

WRONG_CREDENTIALS = "Incorrect email or password."
REFRESH_REFUSED = "The refresh token is invalid, expired or revoked."


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


class AccountService:
    def __init__(self, uow: UnitOfWork, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings
        self.users = UserRepository(uow.session)
        self.refresh_tokens = RefreshTokenRepository(uow.session)
        self.api_tokens = ApiTokenRepository(uow.session)

    # Accounts

    async def register(self, email: str, password: str, full_name: str) -> User:
        require_registration_open(self.settings)
        return await self.create_user(email, password, full_name)

    async def create_user(self, email: str, password: str, full_name: str) -> User:
        """An account, whether or not registration is open (operators create them)."""
        return await self.users.create(
            email=email.lower(), full_name=full_name, password_hash=hash_password(password)
        )

    async def update_profile(self, user: User, changes: dict[str, Any]) -> User:
        return await self.users.update(user, changes)

    async def change_password(
        self, caller: Caller, current: str, new: str, *, client_ip: str
    ) -> None:
        """A wrong current password counts as a failed sign-in. On success every access and
        refresh token issued so far stops working."""
        user = caller.user
        await self._check_attempts(user.email, client_ip)
        if not verify_password(user.password_hash, current):
            self._count_attempt(user.email, client_ip, succeeded=False)
            raise Forbidden("The current password is not correct.")
        self._count_attempt(user.email, client_ip, succeeded=True)
        await self._end_sessions(user, password_hash=hash_password(new))

    async def deactivate(self, email: str) -> User | None:
        """Close the account: sign-in and every token it holds stop working at once."""
        user = await self.users.get_by_email(email)
        if user is not None:
            await self._end_sessions(user, is_active=False)
        return user

    async def _end_sessions(self, user: User, **changes: Any) -> None:
        await self.users.update(user, {**changes, "token_generation": user.token_generation + 1})
        await self.refresh_tokens.revoke_for_user(user.id)

    # Sessions

    async def sign_in(self, email: str, password: str, *, client_ip: str) -> IssuedTokens:
        email = email.strip().lower()
        await self._check_attempts(email, client_ip)
        # Locked, so that a password change or deactivation committing meanwhile either
        # waits for this sign-in (and then revokes what it issues) or is seen by it.
        user = await self.users.get_by_email(email, for_update=True)
        if user is not None and not user.is_active:
            user = None
        # Verified even for an unknown email, so that both take the same time.
        matched = verify_password(user.password_hash if user else None, password)
        if user is None or not matched:
            self._count_attempt(email, client_ip, succeeded=False)
            raise NotAuthenticated(WRONG_CREDENTIALS)
        self._count_attempt(email, client_ip, succeeded=True)
        if password_needs_rehash(user.password_hash):
            await self.users.update(user, {"password_hash": hash_password(password)})
        return await self._issue(user, family_id=None, rotated_from_id=None)

    async def refresh(self, secret: str) -> IssuedTokens:
        """Exchange a live refresh token for its successor.

        Presenting a token that was already exchanged means two parties hold the chain, so
        the whole family is revoked, and stays so although the request is refused.
        """
        # The token and its user are locked: of two concurrent exchanges of one token the
        # second sees the first's rotation and counts as reuse, and a password change or
        # deactivation running meanwhile cannot miss the successor issued here.
        found = await self.refresh_tokens.find_locked_with_user(secret)
        if found is None:
            raise NotAuthenticated(REFRESH_REFUSED)
        token, user = found
        now = utcnow()
        if token.rotated_at is not None and token.revoked_at is None:
            family_id = token.family_id
            self.uow.keep_regardless(
                lambda session: RefreshTokenRepository(session).revoke_family(family_id)
            )
            raise NotAuthenticated(REFRESH_REFUSED)
        if (
            token.revoked_at is not None
            or token.expires_at <= now
            or not user.is_active
            or user.deleted_at is not None
        ):
            raise NotAuthenticated(REFRESH_REFUSED)
        await self.refresh_tokens.update(token, {"rotated_at": now})
        return await self._issue(user, family_id=token.family_id, rotated_from_id=token.id)

    async def sign_out(self, secret: str) -> None:
        """Revoke the refresh token and every token descended from the same sign-in."""
        token = await self.refresh_tokens.find(secret)
        if token is not None:
            await self.refresh_tokens.revoke_family(token.family_id)

    async def _issue(
        self, user: User, *, family_id: uuid.UUID | None, rotated_from_id: uuid.UUID | None
    ) -> IssuedTokens:
        settings = self.settings
        refresh_token = await self.refresh_tokens.issue(
            user.id,
            expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
            family_id=family_id,
            rotated_from_id=rotated_from_id,
        )
        access_token = create_access_token(
            user.id,
            user.token_generation,
            secret_key=settings.secret_key,
            ttl_seconds=settings.access_token_ttl_seconds,
        )
        return IssuedTokens(user, access_token, refresh_token, settings.access_token_ttl_seconds)

    async def _check_attempts(self, email: str, client_ip: str) -> None:
        """Refuse before the password is even looked at when the limit is reached."""
        limit = self.settings.login_max_failures
        wait = await LoginAttemptRepository(self.uow.session).seconds_until_allowed(
            email,
            client_ip,
            max_failures=limit,
            max_failures_per_address=limit * ADDRESS_FACTOR,
            window_seconds=self.settings.login_failure_window_seconds,
        )
        if wait is not None:
            raise TooManyAttempts("Too many wrong passwords; try again later.", retry_after=wait)

    def _count_attempt(self, email: str, client_ip: str, *, succeeded: bool) -> None:
        window = self.settings.login_failure_window_seconds

        async def record(session: AsyncSession) -> None:
            await LoginAttemptRepository(session).record(
                email, client_ip, succeeded=succeeded, window_seconds=window
            )

        # A failure is counted even though the request is refused.
        self.uow.keep_regardless(record)

    # Personal API tokens

    async def issue_api_token(
        self, caller: Caller, name: str, expires_at: datetime | None
    ) -> tuple[ApiToken, str]:
        return await self.api_tokens.issue(caller.user_id, name, expires_at)

    async def revoke_api_token(self, caller: Caller, token_id: uuid.UUID) -> None:
        token = await self.api_tokens.get_owned(token_id, caller.user_id)
        await self.api_tokens.update(token, {"revoked_at": utcnow()})


def require_registration_open(settings: Settings) -> None:
    if not settings.registration_enabled:
        raise Forbidden("Registration is disabled on this server.")


async def authenticate(
    uow: UnitOfWork,
    settings: Settings,
    bearer: str | None,
    *,
    workspace_id: uuid.UUID | None = None,
) -> Caller:
    """The caller a bearer token stands for (a JWT access token or a personal API token) and,
    given a workspace, their standing in it: one statement either way. Outside that
    workspace the caller gets "not found", never a hint that it exists."""
    if not bearer:
        raise NotAuthenticated("Not authenticated.")
    if bearer.startswith(API_TOKEN_PREFIX):
        now = utcnow()
        found = await ApiTokenRepository(uow.session).find_live(bearer, now, workspace_id)
        if found is None:
            raise NotAuthenticated("The API token is invalid, expired or revoked.")
        token, user, membership, workspace = found
        if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
            # Its own short transaction, so that reads stay reads.
            token_id = token.id
            uow.keep_regardless(
                lambda session: ApiTokenRepository(session).record_use(token_id, now)
            )
        return _standing(Caller(user, SignIn.API_TOKEN), membership, workspace, workspace_id)
    try:
        claims = decode_access_token(bearer, secret_key=settings.secret_key)
    except InvalidToken as exc:
        raise NotAuthenticated("The access token is invalid or expired.") from exc
    found_user = await UserRepository(uow.session).get_active(claims.user_id, workspace_id)
    if found_user is None or found_user[0].token_generation != claims.token_generation:
        raise NotAuthenticated("The access token is no longer valid.")
    user, membership, workspace = found_user
    return _standing(Caller(user, SignIn.SESSION), membership, workspace, workspace_id)


def _standing(
    caller: Caller,
    membership: Membership | None,
    workspace: Workspace | None,
    workspace_id: uuid.UUID | None,
) -> Caller:
    if workspace_id is None:
        return caller
    if membership is None or workspace is None:
        raise NotFound("Workspace not found.")
    return caller.in_workspace(workspace, membership)
