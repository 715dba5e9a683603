"""Accounts and sessions: registration, sign-in with its limits, refresh-token rotation,
personal API tokens, and who a bearer token belongs to."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import events
from app.db.models import ApiToken, User
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.enums import AttemptKind
from app.errors import Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from app.repositories.api_tokens import ApiTokenRepository
from app.repositories.attempt_counters import AttemptCounterRepository, Count
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.standing import Standing
from app.repositories.users import UserRepository
from app.repositories.workspaces import WorkspaceRepository
from app.security import (
    API_TOKEN_PREFIX,
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password,
    password_needs_rehash,
    verify_password,
)
from app.services import policies
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


@dataclass(frozen=True)
class NewAccount:
    user: User
    took_over_placeholder: bool = False


class AccountService:
    def __init__(self, uow: UnitOfWork, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings
        self.users = UserRepository(uow.session)
        self.refresh_tokens = RefreshTokenRepository(uow.session)
        self.api_tokens = ApiTokenRepository(uow.session)

    # Accounts

    async def register(self, email: str, password: str, full_name: str, *, client_ip: str) -> User:
        """Counted per client address before the password is hashed, whether or not the
        account gets created: hashing is what a flood of registrations would cost."""
        settings = self.settings
        require_registration_open(settings)

        async def count(session: AsyncSession) -> Count:
            return await AttemptCounterRepository(session).count(
                AttemptKind.REGISTRATION,
                client_ip,
                window_seconds=settings.registration_window_seconds,
            )

        registrations = await self.uow.write_apart(count)
        if registrations.attempts > settings.registration_max_per_address:
            raise TooManyAttempts(
                "Too many registrations from this address; try again later.",
                retry_after=registrations.seconds_left(),
            )
        return (await self.create_user(email, password, full_name)).user

    async def create_user(self, email: str, password: str, full_name: str) -> NewAccount:
        """An account, whether or not registration is open (operators create them). An
        email that only a placeholder has takes the placeholder over, with its memberships
        and time; any other account's email is a conflict."""
        account = {"full_name": full_name, "password_hash": await hash_password(password)}
        # Locked, so that of two sign-ups with one placeholder's email one takes it over.
        existing = await self.users.get_by_email(email, for_update=True)
        if existing is not None and existing.is_placeholder:
            return NewAccount(await self._claim(existing, account), took_over_placeholder=True)
        return NewAccount(await self.users.create(email=email.lower(), **account))

    async def _claim(self, placeholder: User, account: dict[str, Any]) -> User:
        """The person takes over the placeholder made for them, which each workspace it is
        a member of records in its audit log."""
        user = await self.users.update(
            placeholder, {**account, "is_active": True, "is_placeholder": False}
        )
        member = {"user_id": user.id, "email": user.email, "full_name": user.full_name}
        for workspace_id in await WorkspaceRepository(self.uow.session).ids_of(user.id):
            events.record(
                self.uow.session,
                workspace_id=workspace_id,
                type="member.claimed",
                subject_type="member",
                subject_id=user.id,
                data={"object": member},
            )
        return user

    async def update_profile(self, user: User, changes: dict[str, Any]) -> User:
        return await self.users.update(user, changes)

    async def change_password(
        self, caller: Caller, current: str, new: str, *, client_ip: str
    ) -> None:
        """A check of the current password counts as a sign-in attempt. On success every
        access, refresh and API token issued so far stops working."""
        user = await self.users.get(caller.user_id)
        await self._count_sign_in(user.email, client_ip)
        if not await verify_password(user.password_hash, current):
            raise Forbidden("The current password is not correct.")
        await self._signed_in(user.email, client_ip)
        await self._end_sessions(user, password_hash=await hash_password(new))

    async def deactivate(self, email: str) -> User | None:
        """Close the account: sign-in and every token it holds stop working at once. A
        placeholder closed so can no longer be taken over."""
        user = await self.users.get_by_email(email)
        if user is not None:
            await self._end_sessions(user, is_active=False, is_placeholder=False)
        return user

    async def _end_sessions(self, user: User, **changes: Any) -> None:
        await self.users.update(user, {**changes, "token_generation": user.token_generation + 1})
        await self.refresh_tokens.revoke_for_user(user.id)
        await self.api_tokens.revoke_for_user(user.id)

    # Sessions

    async def sign_in(self, email: str, password: str, *, client_ip: str) -> IssuedTokens:
        email = email.strip().lower()
        await self._count_sign_in(email, client_ip)
        # Locked, so that a password change or deactivation committing meanwhile either
        # waits for this sign-in (and then revokes what it issues) or is seen by it.
        user = await self.users.get_by_email(email, for_update=True)
        if user is not None and not user.is_active:
            user = None
        # Verified even for an unknown email, so that both take the same time.
        matched = await verify_password(user.password_hash if user else None, password)
        if user is None or not matched:
            raise NotAuthenticated(WRONG_CREDENTIALS)
        await self._signed_in(email, client_ip)
        if password_needs_rehash(user.password_hash):
            await self.users.update(user, {"password_hash": await hash_password(password)})
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

    async def _count_sign_in(self, email: str, client_ip: str) -> None:
        """Count this attempt before the password is looked at, in a transaction of its own
        committed at once, and refuse it when a limit is reached.

        Concurrent attempts each get a count of their own, so exactly the limit's number
        reach the password check, and a refusal afterwards cannot undo the count. The
        address is counted first, so that spraying many accounts from one address stops
        counting against those accounts once the address is refused.
        """
        settings = self.settings
        window = settings.login_failure_window_seconds
        account_limit = settings.login_max_failures

        async def count(session: AsyncSession) -> Count | None:
            counters = AttemptCounterRepository(session)
            by_address = await counters.count(
                AttemptKind.SIGN_IN_ADDRESS, client_ip, window_seconds=window
            )
            if by_address.attempts > account_limit * ADDRESS_FACTOR:
                return by_address
            by_account = await counters.count(
                AttemptKind.SIGN_IN_ACCOUNT, email, window_seconds=window
            )
            if by_account.attempts > account_limit:
                # The address counts passwords tried, and this one will not be.
                await counters.take_back(AttemptKind.SIGN_IN_ADDRESS, client_ip)
                return by_account
            return None

        exceeded = await self.uow.write_apart(count)
        if exceeded is not None:
            raise TooManyAttempts(
                "Too many wrong passwords; try again later.", retry_after=exceeded.seconds_left()
            )

    async def _signed_in(self, email: str, client_ip: str) -> None:
        """The password was right: the account's owner clears its count, and the address
        counts only failures, so that an attacker cannot clear its count by signing in to an
        account of their own, nor people behind one address lock each other out by signing
        in."""
        counters = AttemptCounterRepository(self.uow.session)
        await counters.forget(AttemptKind.SIGN_IN_ACCOUNT, email)
        await counters.take_back(AttemptKind.SIGN_IN_ADDRESS, client_ip)

    # Personal API tokens

    async def issue_api_token(
        self, caller: Caller, name: str, expires_at: datetime | None
    ) -> tuple[ApiToken, str]:
        policies.require_password_session(caller)
        # Locked and read afresh: a password change committing meanwhile either waits for
        # this token (and then revokes it) or has already ended the caller's session.
        generation = await self.users.lock_generation(caller.user_id)
        if generation != caller.user.token_generation:
            raise NotAuthenticated("The access token is no longer valid.")
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
        token = await ApiTokenRepository(uow.session).find_live(bearer, now, workspace_id)
        if token is None:
            raise NotAuthenticated("The API token is invalid, expired or revoked.")
        if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
            # Its own short transaction, so that reads stay reads.
            token_id = token.id
            uow.keep_regardless(
                lambda session: ApiTokenRepository(session).record_use(token_id, now)
            )
        return _caller(token.standing, SignIn.API_TOKEN, workspace_id, api_token_id=token.id)
    try:
        claims = decode_access_token(bearer, secret_key=settings.secret_key)
    except InvalidToken as exc:
        raise NotAuthenticated("The access token is invalid or expired.") from exc
    standing = await UserRepository(uow.session).get_active(claims.user_id, workspace_id)
    if standing is None or standing.user.token_generation != claims.token_generation:
        raise NotAuthenticated("The access token is no longer valid.")
    return _caller(standing, SignIn.SESSION, workspace_id)


@dataclass(frozen=True)
class Credential:
    """What a caller proved when a long request (an event stream) began, to be checked
    again while it lasts: whose it is, the token generation it was issued under (a password
    change or deactivation moves it on), and the API token, if one was presented."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    token_generation: int
    api_token_id: uuid.UUID | None = None

    @classmethod
    def of(cls, caller: Caller) -> "Credential":
        return cls(
            user_id=caller.user_id,
            workspace_id=caller.current_workspace().id,
            token_generation=caller.user.token_generation,
            api_token_id=caller.api_token_id,
        )


async def authenticate_again(uow: UnitOfWork, credential: Credential) -> Caller:
    """The caller `credential` stands for, as they stand now in its workspace: "not
    authenticated" once the credential was revoked (password changed, account closed, API
    token revoked or expired), "not found" once they are no member of the live workspace.
    The access token's own expiry is not looked at: it was checked when the request began,
    and what is checked here is whether access has been taken away since."""
    if credential.api_token_id is not None and not await ApiTokenRepository(uow.session).is_live(
        credential.api_token_id, utcnow()
    ):
        raise NotAuthenticated("The API token is invalid, expired or revoked.")
    standing = await UserRepository(uow.session).get_active(
        credential.user_id, credential.workspace_id
    )
    if standing is None or standing.user.token_generation != credential.token_generation:
        raise NotAuthenticated("The access token is no longer valid.")
    signed_in_with = SignIn.SESSION if credential.api_token_id is None else SignIn.API_TOKEN
    return _caller(
        standing, signed_in_with, credential.workspace_id, api_token_id=credential.api_token_id
    )


def _caller(
    standing: Standing,
    signed_in_with: SignIn,
    workspace_id: uuid.UUID | None,
    *,
    api_token_id: uuid.UUID | None = None,
) -> Caller:
    caller = Caller(standing.user, signed_in_with, api_token_id=api_token_id)
    if workspace_id is None:
        return caller
    if standing.membership is None or standing.workspace is None:
        raise NotFound("Workspace not found.")
    return caller.in_workspace(standing.workspace, standing.membership)
