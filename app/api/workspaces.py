"""Workspaces: create, list mine, read, update, delete, hand over."""

from typing import Annotated

from fastapi import Depends, Response
from sqlalchemy import inspect

from app.api.deps import (
    CurrentCaller,
    SessionDep,
    WorkspaceAdmin,
    WorkspaceCaller,
    WorkspaceOwner,
    authenticated_router,
    read_context,
    service,
    unscoped,
    workspace_root_router,
)
from app.api.etag import editable, etag_of
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import Workspace
from app.repositories.standing import WorkspaceRow
from app.repositories.workspaces import WorkspaceRepository
from app.schemas.common import Page
from app.schemas.workspaces import (
    OwnershipTransfer,
    WorkspaceCreate,
    WorkspaceRead,
    WorkspaceUpdate,
)
from app.services.caller import Caller
from app.services.workspaces import WorkspaceService

TAG = "workspaces"
router = authenticated_router("/workspaces", TAG)
workspace_router = workspace_root_router(TAG)
Workspaces = Annotated[WorkspaceRepository, Depends(unscoped(WorkspaceRepository))]


async def new_workspace_service(caller: CurrentCaller, session: SessionDep) -> WorkspaceService:
    return WorkspaceService(session, caller)


async def workspace_in_path(caller: WorkspaceCaller) -> WorkspaceRow:
    return caller.current_workspace()


NewWorkspaces = Annotated[WorkspaceService, Depends(new_workspace_service)]
ThisWorkspace = Annotated[WorkspaceService, Depends(service(WorkspaceService))]
EditedWorkspace = Annotated[WorkspaceRow, Depends(editable(workspace_in_path))]


def workspace_read(caller: Caller) -> WorkspaceRead:
    """The workspace as the caller sees it: with their role, and rates only if they may."""
    workspace = caller.current_workspace()
    columns = {attr.key: getattr(workspace, attr.key) for attr in inspect(Workspace).column_attrs}
    return WorkspaceRead.model_validate(
        {**columns, "role": caller.role}, context=read_context(caller)
    )


def respond_with(response: Response, caller: Caller) -> WorkspaceRead:
    response.headers["ETag"] = etag_of(caller.current_workspace())
    return workspace_read(caller)


@router.get(
    "",
    summary="List my workspaces",
    description="The workspaces the caller belongs to, each with the caller's `role`.",
    responses=responses(422),
)
async def list_workspaces(
    caller: CurrentCaller, workspaces: Workspaces, page: PageParamsDep
) -> Page[WorkspaceRead]:
    result = await workspaces.memberships_of(caller.user_id, page)
    return Page[WorkspaceRead](
        items=[workspace_read(caller.in_workspace(m.workspace, m)) for m in result.items],
        next_cursor=result.next_cursor,
        total=result.total,
    )


@router.post(
    "",
    status_code=201,
    summary="Create a workspace",
    description="The caller becomes its owner.",
    responses=responses(422),
)
async def create_workspace(
    body: WorkspaceCreate, workspaces: NewWorkspaces, response: Response
) -> WorkspaceRead:
    return respond_with(response, await workspaces.create(body.model_dump()))


@workspace_router.get(
    "",
    summary="Get a workspace",
    description="With the caller's `role`; the default rate only where the caller may see rates.",
)
async def get_workspace(caller: WorkspaceCaller, response: Response) -> WorkspaceRead:
    return respond_with(response, caller)


@workspace_router.patch(
    "",
    summary="Update a workspace",
    description="Admins only. Absent fields stay as they are; 412 when `If-Match` is stale. "
    "Moving `locked_before` past a running entry's start is a 409 naming the entries.",
    responses=responses(403, 409, 412, 422),
)
async def update_workspace(
    body: WorkspaceUpdate,
    caller: WorkspaceAdmin,
    _: EditedWorkspace,
    workspace: ThisWorkspace,
    response: Response,
) -> WorkspaceRead:
    updated = await workspace.update(body.model_dump())
    return respond_with(response, caller.in_workspace(updated, caller.current_membership()))


@workspace_router.delete(
    "",
    status_code=204,
    summary="Delete a workspace",
    description="Owners only. The workspace disappears for every member.",
    responses=responses(403, 412),
)
async def delete_workspace(
    _: WorkspaceOwner, __: EditedWorkspace, workspace: ThisWorkspace
) -> None:
    await workspace.delete()


@workspace_router.post(
    "/transfer-ownership",
    summary="Hand the workspace over",
    description="The workspace's owner makes another member the owner and stays on as an admin.",
    responses=responses(403, 422),
)
async def transfer_ownership(
    body: OwnershipTransfer, _: WorkspaceOwner, workspace: ThisWorkspace, response: Response
) -> WorkspaceRead:
    return respond_with(response, await workspace.transfer_ownership(body.user_id))
