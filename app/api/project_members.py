"""Who belongs to a project: access to a private project, and a per-person rate on it."""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import (
    WorkspaceAdmin,
    WorkspaceCaller,
    read_context,
    scoped,
    service,
    visible,
    workspace_router,
)
from app.api.etag import editable, respond
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import Project, ProjectMember
from app.pagination import SortKey
from app.repositories.project_members import ProjectMemberRepository
from app.repositories.projects import ProjectRepository
from app.schemas.common import Page, page_of
from app.schemas.project_members import (
    ProjectMemberCreate,
    ProjectMemberRead,
    ProjectMemberUpdate,
)
from app.services.catalog import ProjectMemberService

router = workspace_router("projects/{project_id}/members", tag="project-members")
Projects = Annotated[ProjectRepository, Depends(visible(ProjectRepository))]
Members = Annotated[ProjectMemberRepository, Depends(scoped(ProjectMemberRepository))]
MemberWrites = Annotated[ProjectMemberService, Depends(service(ProjectMemberService))]
SORT_BY_ADDED = SortKey(ProjectMember.created_at, ProjectMember.id)


async def visible_project(project_id: uuid.UUID, projects: Projects) -> Project:
    """The project in the path, if the caller may see it (404 otherwise)."""
    return await projects.get(project_id)


VisibleProject = Annotated[Project, Depends(visible_project)]


async def member_in_path(
    project: VisibleProject, user_id: uuid.UUID, members: Members
) -> ProjectMember:
    return await members.get_by_user(project.id, user_id)


EditedMember = Annotated[ProjectMember, Depends(editable(member_in_path))]


@router.get(
    "",
    summary="List a project's members",
    description="In the order they were added; rates only where the caller may see them.",
    responses=responses(422),
)
async def list_project_members(
    project: VisibleProject, caller: WorkspaceCaller, members: Members, page: PageParamsDep
) -> Page[ProjectMemberRead]:
    result = await members.list(page, SORT_BY_ADDED, members.of_project(project.id))
    return page_of(ProjectMemberRead, result, context=read_context(caller))


@router.post(
    "",
    status_code=201,
    summary="Add a workspace member to a project",
    description="Admins only. Gives access to a private project, and optionally a rate on it.",
    responses=responses(403, 409, 422),
)
async def add_project_member(
    project: VisibleProject,
    body: ProjectMemberCreate,
    caller: WorkspaceAdmin,
    writes: MemberWrites,
    response: Response,
) -> ProjectMemberRead:
    member = await writes.create({"project_id": project.id, **body.model_dump()})
    return respond(response, ProjectMemberRead, member, caller)


@router.get(
    "/{user_id}",
    summary="Get a project member",
    description="The project member whose account is `user_id`.",
    responses=responses(422),
)
async def get_project_member(
    caller: WorkspaceCaller,
    member: Annotated[ProjectMember, Depends(member_in_path)],
    response: Response,
) -> ProjectMemberRead:
    return respond(response, ProjectMemberRead, member, caller)


@router.patch(
    "/{user_id}",
    summary="Change a project member's rate",
    description="Admins only. `null` removes the rate; 412 when `If-Match` is stale.",
    responses=responses(403, 412, 422),
)
async def update_project_member(
    body: ProjectMemberUpdate,
    caller: WorkspaceAdmin,
    member: EditedMember,
    writes: MemberWrites,
    response: Response,
) -> ProjectMemberRead:
    member = await writes.update(member, body.model_dump())
    return respond(response, ProjectMemberRead, member, caller)


@router.delete(
    "/{user_id}",
    status_code=204,
    summary="Remove a member from a project",
    description="Admins only. Takes away their access to a private project and their rate on it.",
    responses=responses(403, 412, 422),
)
async def remove_project_member(
    _: WorkspaceAdmin, member: EditedMember, writes: MemberWrites
) -> None:
    await writes.delete(member)
