"""Who belongs to a project: access to a private project, and a per-person rate on it."""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import WorkspaceAdmin, WorkspaceMember, scoped, visible, workspace_router
from app.api.etag import IfMatch, check_if_match, respond
from app.db.models import Project, ProjectMember
from app.errors import responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.project_members import ProjectMemberRepository
from app.repositories.projects import ProjectRepository
from app.schemas.common import Page, page_of
from app.schemas.project_members import (
    ProjectMemberCreate,
    ProjectMemberRead,
    ProjectMemberUpdate,
)

router = workspace_router("projects/{project_id}/members", tag="project-members")
Projects = Annotated[ProjectRepository, Depends(visible(ProjectRepository))]
Members = Annotated[ProjectMemberRepository, Depends(scoped(ProjectMemberRepository))]
SORT_BY_ADDED = SortKey(ProjectMember.created_at, ProjectMember.id)


async def visible_project(project_id: uuid.UUID, projects: Projects) -> Project:
    """The project in the path, if the caller may see it (404 otherwise)."""
    return await projects.get(project_id)


VisibleProject = Annotated[Project, Depends(visible_project)]


@router.get("", summary="List a project's members", responses=responses(422))
async def list_project_members(
    project: VisibleProject,
    access: WorkspaceMember,
    members: Members,
    page: PageParamsDep,
) -> Page[ProjectMemberRead]:
    result = await members.list(page, SORT_BY_ADDED, members.of_project(project.id))
    return page_of(ProjectMemberRead, result, context=access.read_context)


@router.post(
    "",
    status_code=201,
    summary="Add a workspace member to a project",
    responses=responses(403, 409, 422),
)
async def add_project_member(
    project: VisibleProject,
    body: ProjectMemberCreate,
    access: WorkspaceAdmin,
    members: Members,
    response: Response,
) -> ProjectMemberRead:
    member = await members.create(project_id=project.id, **body.model_dump())
    return respond(response, ProjectMemberRead, member, context=access.read_context)


@router.get("/{user_id}", summary="Get a project member", responses=responses(422))
async def get_project_member(
    project: VisibleProject,
    user_id: uuid.UUID,
    access: WorkspaceMember,
    members: Members,
    response: Response,
) -> ProjectMemberRead:
    member = await members.get_by_user(project.id, user_id)
    return respond(response, ProjectMemberRead, member, context=access.read_context)


@router.patch(
    "/{user_id}",
    summary="Change a project member's rate",
    responses=responses(403, 412, 422),
)
async def update_project_member(
    project: VisibleProject,
    user_id: uuid.UUID,
    body: ProjectMemberUpdate,
    access: WorkspaceAdmin,
    members: Members,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectMemberRead:
    member = await members.get_by_user(project.id, user_id)
    check_if_match(if_match, member)
    member = await members.update(member, body.model_dump())
    return respond(response, ProjectMemberRead, member, context=access.read_context)


@router.delete(
    "/{user_id}",
    status_code=204,
    summary="Remove a member from a project",
    responses=responses(403, 412, 422),
)
async def remove_project_member(
    project: VisibleProject,
    user_id: uuid.UUID,
    _: WorkspaceAdmin,
    members: Members,
    if_match: IfMatch = None,
) -> None:
    member = await members.get_by_user(project.id, user_id)
    check_if_match(if_match, member)
    await members.delete(member)
