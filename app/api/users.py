"""The caller's own account: profile and password."""

from typing import Annotated

from fastapi import Depends, Request, Response

from app.api.auth import Accounts, client_address
from app.api.deps import CurrentCaller, SessionDep, authenticated_router
from app.api.etag import editable, respond
from app.api.problems import responses
from app.db.models import User
from app.repositories.users import UserRepository
from app.schemas.users import PasswordChange, UserRead, UserUpdate

router = authenticated_router("/users/me", "users")


async def my_account(caller: CurrentCaller, session: SessionDep) -> User:
    """The caller's account to change (the caller holds a plain read of it)."""
    return await UserRepository(session).get(caller.user_id)


MyAccount = Annotated[User, Depends(editable(my_account))]


@router.get(
    "",
    summary="Get my account",
    description="The signed-in account, with its ETag.",
)
async def get_me(caller: CurrentCaller, response: Response) -> UserRead:
    return respond(response, UserRead, caller.user)


@router.patch(
    "",
    summary="Update my account",
    description="Name, timezone and week start; absent fields stay as they are.",
    responses=responses(412, 422),
)
async def update_me(
    body: UserUpdate, user: MyAccount, accounts: Accounts, response: Response
) -> UserRead:
    return respond(response, UserRead, await accounts.update_profile(user, body.model_dump()))


@router.post(
    "/password",
    status_code=204,
    summary="Change my password",
    description="Checking `current_password` counts as a sign-in attempt: a wrong one is a "
    "403, and past the sign-in limit the answer is 429. On success every access, refresh "
    "and API token issued so far stops working; sign in again.",
    responses=responses(403, 422, 429),
)
async def change_password(
    body: PasswordChange, caller: CurrentCaller, accounts: Accounts, request: Request
) -> None:
    await accounts.change_password(
        caller, body.current_password, body.new_password, client_ip=client_address(request)
    )
