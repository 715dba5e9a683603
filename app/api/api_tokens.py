"""Personal API tokens for scripts and integrations."""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.auth import Accounts
from app.api.deps import CurrentCaller, authenticated_router, unscoped
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import ApiToken
from app.pagination import SortKey
from app.repositories.api_tokens import ApiTokenRepository
from app.schemas.api_tokens import ApiTokenCreate, ApiTokenCreated, ApiTokenRead
from app.schemas.common import Page, page_of

router = authenticated_router("/users/me/tokens", "api-tokens")
ApiTokens = Annotated[ApiTokenRepository, Depends(unscoped(ApiTokenRepository))]
NEWEST_FIRST = SortKey(ApiToken.created_at, ApiToken.id, descending=True)


@router.get(
    "",
    summary="List my API tokens",
    description="Tokens not revoked, expired ones included; never their secrets.",
    responses=responses(422),
)
async def list_tokens(
    caller: CurrentCaller, tokens: ApiTokens, page: PageParamsDep
) -> Page[ApiTokenRead]:
    owned = tokens.owned_by(caller.user_id)
    return page_of(ApiTokenRead, await tokens.list(page, NEWEST_FIRST, owned))


@router.post(
    "",
    status_code=201,
    summary="Create an API token",
    description="The response carries the secret as `token`, once; only its SHA-256 is kept. "
    "Send it as `Authorization: Bearer <token>`. Needs an access token from signing in with "
    "the password: another API token gets 403. Changing the password revokes every token.",
    responses=responses(403, 422),
)
async def create_token(
    body: ApiTokenCreate, caller: CurrentCaller, accounts: Accounts, response: Response
) -> ApiTokenCreated:
    token, secret = await accounts.issue_api_token(caller, body.name, body.expires_at)
    response.headers["Cache-Control"] = "no-store"
    return ApiTokenCreated(**ApiTokenRead.model_validate(token).model_dump(), token=secret)


@router.delete(
    "/{token_id}",
    status_code=204,
    summary="Revoke an API token",
    description="The token stops working at once.",
    responses=responses(404),
)
async def revoke_token(token_id: uuid.UUID, caller: CurrentCaller, accounts: Accounts) -> None:
    await accounts.revoke_api_token(caller, token_id)
