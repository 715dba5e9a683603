"""The caller's own account: profile and password."""

from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import CurrentUser, authenticated_router, unscoped
from app.api.etag import IfMatch, check_if_match, respond
from app.api.throttle import Throttle
from app.errors import Forbidden, error_response, responses
from app.repositories.users import UserRepository
from app.schemas.users import PasswordChange, UserRead, UserUpdate
from app.security import verify_password

router = authenticated_router("/users/me", "users")
Users = Annotated[UserRepository, Depends(unscoped(UserRepository))]


@router.get("", summary="Get my account")
async def get_me(user: CurrentUser, response: Response) -> UserRead:
    return respond(response, UserRead, user)


@router.patch("", summary="Update my account", responses=responses(412, 422))
async def update_me(
    body: UserUpdate, user: CurrentUser, users: Users, response: Response, if_match: IfMatch = None
) -> UserRead:
    check_if_match(if_match, user)
    user = await users.update(user, body.model_dump())
    return respond(response, UserRead, user)


@router.post(
    "/password",
    status_code=204,
    response_class=Response,
    summary="Change my password",
    description="A wrong `current_password` is a 403 and counts as a failed sign-in. On "
    "success every access and refresh token issued so far stops working; sign in again.",
    responses=responses(403, 422, 429),
)
async def change_password(
    body: PasswordChange, user: CurrentUser, users: Users, throttle: Throttle
) -> Response:
    await throttle.check(user.email)
    correct = verify_password(user.password_hash, body.current_password)
    await throttle.record(user.email, succeeded=correct)
    if not correct:
        # Returned, not raised, so that the failure just recorded is committed.
        return error_response(Forbidden("The current password is not correct."))
    await users.set_password(user, body.new_password)
    return Response(status_code=204)
