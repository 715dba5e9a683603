"""Accounts: registration, sign-in with refresh-token rotation, sign-out."""

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Form, Response
from fastapi.responses import JSONResponse

from app.api.deps import SettingsDep, unscoped
from app.api.throttle import Throttle
from app.config import Environment, Settings
from app.db.models import User
from app.errors import Forbidden, Unauthorized, error_response, responses
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.schemas.auth import PasswordForm, RefreshRequest, RefreshTokenText, TokenResponse
from app.schemas.users import UserCreate, UserRead
from app.security import create_access_token

router = APIRouter(prefix="/auth", tags=["auth"])
Users = Annotated[UserRepository, Depends(unscoped(UserRepository))]
RefreshTokens = Annotated[RefreshTokenRepository, Depends(unscoped(RefreshTokenRepository))]

REFRESH_COOKIE = "refresh_token"
# Sent only to the auth endpoints, never with ordinary API calls.
REFRESH_COOKIE_PATH = "/api/v1/auth"
RefreshCookie = Annotated[
    RefreshTokenText | None,
    Cookie(alias=REFRESH_COOKIE, description="Used when the body carries no refresh token."),
]


def registration_open(settings: SettingsDep) -> None:
    if not settings.registration_enabled:
        raise Forbidden("Registration is disabled on this server.")


@router.post(
    "/register",
    status_code=201,
    summary="Create an account",
    dependencies=[Depends(registration_open)],
    responses=responses(403, 409, 422),
)
async def register(body: UserCreate, users: Users) -> UserRead:
    return UserRead.model_validate(await users.create_user(body))


@router.post(
    "/token",
    summary="Sign in",
    description="OAuth2 password flow: `username` is the account's email.",
    response_model=TokenResponse,
    responses=responses(401, 422, 429),
)
async def login(
    form: Annotated[PasswordForm, Form()],
    users: Users,
    refresh_tokens: RefreshTokens,
    throttle: Throttle,
    settings: SettingsDep,
    response: Response,
) -> TokenResponse | JSONResponse:
    email = form.username.strip().lower()
    await throttle.check(email)
    user = await users.authenticate(email, form.password)
    await throttle.record(email, succeeded=user is not None)
    if user is None:
        # Returned, not raised, so that the failure just recorded is committed.
        return error_response(Unauthorized("Incorrect email or password."))
    secret = await refresh_tokens.issue(user.id, ttl_seconds=settings.refresh_token_ttl_seconds)
    return _tokens(response, settings, user, secret)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for new tokens",
    description="Takes the refresh token from the body or, failing that, from the cookie. "
    "Each refresh token works once; presenting a used one again revokes every token "
    "descended from the same sign-in.",
    response_model=TokenResponse,
    responses=responses(401, 422),
)
async def refresh(
    refresh_tokens: RefreshTokens,
    settings: SettingsDep,
    response: Response,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> TokenResponse | JSONResponse:
    secret = body.refresh_token if body else cookie
    if secret is None:
        raise Unauthorized("No refresh token was given.")
    rotated = await refresh_tokens.rotate(secret, ttl_seconds=settings.refresh_token_ttl_seconds)
    if rotated is None:
        # Returned, not raised, so that a revoked family stays revoked.
        refused = error_response(Unauthorized("The refresh token is invalid, expired or revoked."))
        _clear_refresh_cookie(refused, settings)
        return refused
    user, successor = rotated
    return _tokens(response, settings, user, successor)


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out",
    description="Revokes the refresh token from the body or the cookie, and every token "
    "descended from the same sign-in. Access tokens expire on their own.",
    responses=responses(422),
)
async def logout(
    refresh_tokens: RefreshTokens,
    settings: SettingsDep,
    response: Response,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> None:
    secret = body.refresh_token if body else cookie
    token = await refresh_tokens.find(secret) if secret else None
    if token is not None:
        await refresh_tokens.revoke_family(token.family_id)
    _clear_refresh_cookie(response, settings)


def _tokens(
    response: Response, settings: Settings, user: User, refresh_token: str
) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        path=REFRESH_COOKIE_PATH,
        secure=_secure_cookies(settings),
        httponly=True,
        samesite="strict",
    )
    access_token = create_access_token(
        user.id,
        user.token_generation,
        secret_key=settings.secret_key,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return TokenResponse(
        access_token=access_token,
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=refresh_token,
    )


def _clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_COOKIE_PATH,
        secure=_secure_cookies(settings),
        httponly=True,
        samesite="strict",
    )


def _secure_cookies(settings: Settings) -> bool:
    # Development and tests run on plain http://localhost, where a Secure cookie is dropped.
    return settings.environment is Environment.PRODUCTION
