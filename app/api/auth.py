"""Accounts: registration, sign-in with refresh-token rotation, sign-out."""

from typing import Annotated, Any

from fastapi import Cookie, Depends, Form, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import API_PREFIX, SettingsDep, UnitOfWorkDep, api_router
from app.api.etag import respond
from app.api.problems import domain_error_response, responses
from app.config import Environment, Settings
from app.errors import NotAuthenticated
from app.schemas.auth import PasswordForm, RefreshRequest, RefreshTokenText, TokenResponse
from app.schemas.users import UserCreate, UserRead
from app.services.accounts import AccountService, IssuedTokens, require_registration_open

router = api_router(prefix=f"{API_PREFIX}/auth", tags=["auth"])

REFRESH_COOKIE = "refresh_token"
# Sent only to the auth endpoints, never with ordinary API calls.
REFRESH_COOKIE_PATH = f"{API_PREFIX}/auth"
RefreshCookie = Annotated[
    RefreshTokenText | None,
    Cookie(alias=REFRESH_COOKIE, description="Used when the body carries no refresh token."),
]


async def account_service(uow: UnitOfWorkDep, settings: SettingsDep) -> AccountService:
    return AccountService(uow, settings)


Accounts = Annotated[AccountService, Depends(account_service)]


async def registration_open(settings: SettingsDep) -> None:
    """Refuses before the body is read, so a closed server says so whatever is sent."""
    require_registration_open(settings)


def client_address(request: Request) -> str:
    """The address the sign-in and registration limits count per: the connection's peer.
    Behind a proxy that is the proxy, unless `timesheet serve` is told to trust it
    (FORWARDED_ALLOW_IPS); then uvicorn takes the client from its X-Forwarded-For. The
    header is never read from anyone else, or a client could pick its own address."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/register",
    status_code=201,
    summary="Create an account",
    description="403 when the server does not take registrations; 409 when the email is taken. "
    "An email only a placeholder account has (made for the people of imported or restored "
    "time) takes that account over, with its memberships and entries. "
    "Limited per client address: `REGISTRATION_MAX_PER_ADDRESS` attempts per "
    "`REGISTRATION_WINDOW_SECONDS`, created or not; beyond that a 429 with `Retry-After`.",
    dependencies=[Depends(registration_open)],
    responses=responses(403, 409, 422, 429),
)
async def register(
    body: UserCreate, accounts: Accounts, request: Request, response: Response
) -> UserRead:
    user = await accounts.register(
        body.email, body.password, body.full_name, client_ip=client_address(request)
    )
    return respond(response, UserRead, user)


@router.post(
    "/token",
    summary="Sign in",
    description="OAuth2 password flow: `username` is the account's email.",
    responses=responses(401, 422, 429),
)
async def login(
    form: Annotated[PasswordForm, Form()],
    accounts: Accounts,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> TokenResponse:
    tokens = await accounts.sign_in(form.username, form.password, client_ip=client_address(request))
    return _tokens(response, settings, tokens)


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
    accounts: Accounts,
    settings: SettingsDep,
    response: Response,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> TokenResponse | JSONResponse:
    secret = body.refresh_token if body else cookie
    if secret is None:
        raise NotAuthenticated("No refresh token was given.")
    try:
        tokens = await accounts.refresh(secret)
    except NotAuthenticated as refused:
        # The browser should stop sending a token that will never work again.
        answer = domain_error_response(refused)
        answer.delete_cookie(REFRESH_COOKIE, **_cookie_options(settings))
        return answer
    return _tokens(response, settings, tokens)


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out",
    description="Revokes the refresh token from the body or the cookie, and every token "
    "descended from the same sign-in. Access tokens expire on their own.",
    responses=responses(422),
)
async def logout(
    accounts: Accounts,
    settings: SettingsDep,
    response: Response,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> None:
    secret = body.refresh_token if body else cookie
    if secret:
        await accounts.sign_out(secret)
    response.delete_cookie(REFRESH_COOKIE, **_cookie_options(settings))


def _tokens(response: Response, settings: Settings, tokens: IssuedTokens) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        **_cookie_options(settings),
    )
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
    )


def _cookie_options(settings: Settings) -> dict[str, Any]:
    # Development and tests run on plain http://localhost, where a Secure cookie is dropped.
    return {
        "path": REFRESH_COOKIE_PATH,
        "secure": settings.environment is Environment.PRODUCTION,
        "httponly": True,
        "samesite": "strict",
    }
