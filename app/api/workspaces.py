"""Workspaces: create, list mine, read, update, delete, hand over."""

from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import (
    CurrentUser,
    WorkspaceAccess,
    WorkspaceAdmin,
    WorkspaceMember,
    WorkspaceOwner,
    authenticated_router,
    scoped,
    unscoped,
    workspace_root_router,
)
from app.api.etag import IfMatch, check_if_match, set_etag
from app.errors import Forbidden, ValidationFailed, responses
from app.pagination import PageParamsDep
from app.repositories.memberships import MembershipRepository
from app.repositories.workspaces import WorkspaceRepository
from app.schemas.common import Page
from app.schemas.workspaces import (
    OwnershipTransfer,
    WorkspaceCreate,
    WorkspaceRead,
    WorkspaceUpdate,
)

TAG = "workspaces"
router = authenticated_router("/workspaces", TAG)
workspace_router = workspace_root_router(TAG)
Workspaces = Annotated[WorkspaceRepository, Depends(unscoped(WorkspaceRepository))]
Members = Annotated[MembershipRepository, Depends(scoped(MembershipRepository))]


def workspace_read(access: WorkspaceAccess) -> WorkspaceRead:
    """The workspace as the caller sees it: with their role, and rates only if they may."""
    workspace = access.workspace
    return WorkspaceRead(
        id=workspace.id,
        name=workspace.name,
        owner_user_id=workspace.owner_user_id,
        currency=workspace.currency,
        default_hourly_rate_cents=(
            workspace.default_hourly_rate_cents if access.can_see_rates else None
        ),
        prevent_overlaps=workspace.prevent_overlaps,
        members_can_see_rates=workspace.members_can_see_rates,
        role=access.role,
        version=workspace.version,
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
    )


@router.get("", summary="List my workspaces", responses=responses(422))
async def list_workspaces(
    user: CurrentUser, workspaces: Workspaces, page: PageParamsDep
) -> Page[WorkspaceRead]:
    result = await workspaces.memberships_of(user.id, page)
    return Page[WorkspaceRead](
        items=[workspace_read(WorkspaceAccess(m.workspace, m, user)) for m in result.items],
        next_cursor=result.next_cursor,
        total=result.total,
    )


@router.post("", status_code=201, summary="Create a workspace", responses=responses(422))
async def create_workspace(
    body: WorkspaceCreate, user: CurrentUser, workspaces: Workspaces, response: Response
) -> WorkspaceRead:
    workspace, membership = await workspaces.create_owned(user.id, body.model_dump())
    set_etag(response, workspace)
    return workspace_read(WorkspaceAccess(workspace, membership, user))


@workspace_router.get("", summary="Get a workspace")
async def get_workspace(access: WorkspaceMember, response: Response) -> WorkspaceRead:
    set_etag(response, access.workspace)
    return workspace_read(access)


@workspace_router.patch("", summary="Update a workspace", responses=responses(403, 412, 422))
async def update_workspace(
    body: WorkspaceUpdate,
    access: WorkspaceAdmin,
    workspaces: Workspaces,
    response: Response,
    if_match: IfMatch = None,
) -> WorkspaceRead:
    check_if_match(if_match, access.workspace)
    await workspaces.update(access.workspace, body.model_dump())
    set_etag(response, access.workspace)
    return workspace_read(access)


@workspace_router.delete(
    "",
    status_code=204,
    summary="Delete a workspace",
    description="Owners only. The workspace disappears for every member.",
    responses=responses(403, 412),
)
async def delete_workspace(
    access: WorkspaceOwner, workspaces: Workspaces, if_match: IfMatch = None
) -> None:
    check_if_match(if_match, access.workspace)
    await workspaces.soft_delete(access.workspace)


@workspace_router.post(
    "/transfer-ownership",
    summary="Hand the workspace over",
    description="The workspace's owner makes another member the owner and stays on as an admin.",
    responses=responses(403, 422),
)
async def transfer_ownership(
    body: OwnershipTransfer,
    access: WorkspaceOwner,
    workspaces: Workspaces,
    members: Members,
    response: Response,
) -> WorkspaceRead:
    if access.workspace.owner_user_id != access.user.id:
        raise Forbidden("Only the workspace's owner can hand it over.")
    successor = await members.find_by_user(body.user_id)
    if successor is None or successor.user_id == access.user.id:
        raise ValidationFailed(
            "The new owner must be another member of the workspace.",
            errors=[
                {"loc": ["body", "user_id"], "msg": "not another member", "type": "value_error"}
            ],
        )
    await workspaces.transfer_ownership(access.workspace, access.membership, successor)
    set_etag(response, access.workspace)
    return workspace_read(access)
