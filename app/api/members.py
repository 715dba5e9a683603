"""Workspace members: who is in, with which role and rate.

People join by accepting an invitation (`app/api/invitations.py`). Admins manage members;
only the owner changes what touches the owner. Any member may leave. The workspace's owner
can be neither removed nor demoted, so a workspace always keeps its owner; they hand it over
first (POST /workspaces/{workspace_id}/transfer-ownership).
"""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import (
    WorkspaceAdmin,
    WorkspaceCaller,
    read_context,
    scoped,
    workspace_router,
)
from app.api.etag import editable, respond
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.api.workspaces import ThisWorkspace
from app.db.models import Membership
from app.repositories.memberships import BY_JOINING_ORDER, MembershipRepository
from app.schemas.common import Page, page_of
from app.schemas.members import MemberRead, MemberUpdate

router = workspace_router("members", tag="members")
Members = Annotated[MembershipRepository, Depends(scoped(MembershipRepository))]


async def member_in_path(user_id: uuid.UUID, members: Members) -> Membership:
    return await members.get_by_user(user_id)


EditedMember = Annotated[Membership, Depends(editable(member_in_path))]


@router.get(
    "",
    summary="List members",
    description="In the order they joined; rates only where the caller may see them.",
    responses=responses(422),
)
async def list_members(
    caller: WorkspaceCaller, members: Members, page: PageParamsDep
) -> Page[MemberRead]:
    result = await members.list(page, BY_JOINING_ORDER)
    return page_of(MemberRead, result, context=read_context(caller))


@router.get(
    "/{user_id}",
    summary="Get a member",
    description="The member whose account is `user_id`.",
)
async def get_member(
    caller: WorkspaceCaller,
    membership: Annotated[Membership, Depends(member_in_path)],
    response: Response,
) -> MemberRead:
    return respond(response, MemberRead, membership, caller)


@router.patch(
    "/{user_id}",
    summary="Change a member's role or rate",
    description="Admins only; only the owner changes what touches the owner. The owner's role "
    "cannot change here (409): hand the workspace over instead.",
    responses=responses(403, 409, 412, 422),
)
async def update_member(
    body: MemberUpdate,
    caller: WorkspaceAdmin,
    membership: EditedMember,
    workspace: ThisWorkspace,
    response: Response,
) -> MemberRead:
    membership = await workspace.update_member(membership, body.model_dump())
    return respond(response, MemberRead, membership, caller)


@router.delete(
    "/{user_id}",
    status_code=204,
    summary="Remove a member, or leave",
    description="Admins remove members; any member may remove themself.",
    responses=responses(403, 409, 412),
)
async def remove_member(membership: EditedMember, workspace: ThisWorkspace) -> None:
    await workspace.remove_member(membership)
