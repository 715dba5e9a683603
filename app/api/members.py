"""Workspace members: who is in, with which role and rate.

Admins manage members but not owners; only an owner makes someone an owner. Any member may
leave. The workspace's owner can be neither removed nor demoted, so a workspace always
keeps an owner; they hand it over first (POST /workspaces/{workspace_id}/transfer-ownership).
"""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import (
    WorkspaceAccess,
    WorkspaceAdmin,
    WorkspaceMember,
    scoped,
    unscoped,
    workspace_router,
)
from app.api.etag import IfMatch, check_if_match, respond
from app.db.models import Membership
from app.enums import Role
from app.errors import Conflict, Forbidden, ValidationFailed, responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.memberships import MembershipRepository
from app.repositories.users import UserRepository
from app.schemas.common import Page, page_of
from app.schemas.members import MemberCreate, MemberRead, MemberUpdate

router = workspace_router("members", tag="members")
Members = Annotated[MembershipRepository, Depends(scoped(MembershipRepository))]
Users = Annotated[UserRepository, Depends(unscoped(UserRepository))]
BY_JOINING_ORDER = SortKey(Membership.created_at, Membership.id)
OWNER_STAYS = (
    "The workspace's owner can be neither removed nor demoted; hand the workspace over first."
)


def check_may_manage(access: WorkspaceAccess, current: Role | None, new: Role | None) -> None:
    """Refuse unless the caller may change a member holding `current` into `new`."""
    if not access.is_admin:
        raise Forbidden("Your role in this workspace does not allow this.")
    if Role.OWNER in (current, new) and access.role != Role.OWNER:
        raise Forbidden("Only an owner can make someone an owner or change an owner.")


@router.get("", summary="List members", responses=responses(422))
async def list_members(
    access: WorkspaceMember, members: Members, page: PageParamsDep
) -> Page[MemberRead]:
    result = await members.list(page, BY_JOINING_ORDER)
    return page_of(MemberRead, result, context=access.read_context)


@router.post(
    "",
    status_code=201,
    summary="Add a member",
    description="Adds an existing account by its email.",
    responses=responses(403, 409, 422),
)
async def add_member(
    body: MemberCreate, access: WorkspaceAdmin, members: Members, users: Users, response: Response
) -> MemberRead:
    check_may_manage(access, None, body.role)
    user = await users.get_active_by_email(body.email)
    if user is None:
        raise ValidationFailed(
            "There is no active account with this email.",
            errors=[{"loc": ["body", "email"], "msg": "no such account", "type": "value_error"}],
        )
    membership = await members.add(user, body.role, body.hourly_rate_cents)
    return respond(response, MemberRead, membership, context=access.read_context)


@router.get("/{user_id}", summary="Get a member")
async def get_member(
    user_id: uuid.UUID, access: WorkspaceMember, members: Members, response: Response
) -> MemberRead:
    membership = await members.get_by_user(user_id)
    return respond(response, MemberRead, membership, context=access.read_context)


@router.patch(
    "/{user_id}",
    summary="Change a member's role or rate",
    responses=responses(403, 409, 412, 422),
)
async def update_member(
    user_id: uuid.UUID,
    body: MemberUpdate,
    access: WorkspaceAdmin,
    members: Members,
    response: Response,
    if_match: IfMatch = None,
) -> MemberRead:
    membership = await members.get_by_user(user_id)
    changes = body.model_dump()
    check_may_manage(access, membership.role, changes.get("role"))
    check_if_match(if_match, membership)
    demoted = "role" in changes and changes["role"] != Role.OWNER
    if demoted and membership.user_id == access.workspace.owner_user_id:
        raise Conflict(OWNER_STAYS)
    membership = await members.update(membership, changes)
    return respond(response, MemberRead, membership, context=access.read_context)


@router.delete(
    "/{user_id}",
    status_code=204,
    summary="Remove a member, or leave",
    description="Admins remove members; any member may remove themself.",
    responses=responses(403, 409, 412),
)
async def remove_member(
    user_id: uuid.UUID, access: WorkspaceMember, members: Members, if_match: IfMatch = None
) -> None:
    membership = await members.get_by_user(user_id)
    if membership.user_id != access.user.id:
        check_may_manage(access, membership.role, None)
    check_if_match(if_match, membership)
    if membership.user_id == access.workspace.owner_user_id:
        raise Conflict(OWNER_STAYS)
    await members.remove(membership)
