import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.api.deps import (
    WorkspaceAdmin,
    WorkspaceMember,
    scoped,
    visible,
    workspace_router,
)
from app.api.etag import IfMatch, check_if_match, respond
from app.api.filters import Archived, IncludeDeleted, NameContains
from app.db.models import Project
from app.errors import responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.clients import ClientRepository
from app.repositories.projects import ProjectRepository
from app.schemas.common import Page, page_of
from app.schemas.projects import ProjectCreate, ProjectRead, ProjectUpdate

router = workspace_router("projects", tag="projects")
Projects = Annotated[ProjectRepository, Depends(visible(ProjectRepository))]
Clients = Annotated[ClientRepository, Depends(scoped(ClientRepository))]
SORT_BY_NAME = SortKey(Project.name, Project.id)


@router.get(
    "",
    summary="List projects",
    description="Members see public projects and the private ones they belong to.",
    responses=responses(422),
)
async def list_projects(
    access: WorkspaceMember,
    projects: Projects,
    page: PageParamsDep,
    q: NameContains = None,
    client_id: Annotated[
        list[uuid.UUID] | None, Query(description="Only projects of these clients.")
    ] = None,
    archived: Archived = False,
    include_deleted: IncludeDeleted = False,
) -> Page[ProjectRead]:
    statement = projects.search(
        q, include_deleted=include_deleted, archived=archived, client_ids=client_id or ()
    )
    result = await projects.list(page, SORT_BY_NAME, statement)
    return page_of(ProjectRead, result, context=access.read_context)


@router.post("", status_code=201, summary="Create a project", responses=responses(403, 409, 422))
async def create_project(
    body: ProjectCreate,
    access: WorkspaceAdmin,
    projects: Projects,
    clients: Clients,
    response: Response,
) -> ProjectRead:
    if body.client_id is not None:
        await clients.get_assignable(body.client_id, field="client_id")
    project = await projects.create(**body.model_dump(), created_by_user_id=access.user.id)
    return respond(response, ProjectRead, project, context=access.read_context)


@router.get("/{project_id}", summary="Get a project", responses=responses(422))
async def get_project(
    project_id: uuid.UUID, access: WorkspaceMember, projects: Projects, response: Response
) -> ProjectRead:
    project = await projects.get(project_id, include_deleted=True)
    return respond(response, ProjectRead, project, context=access.read_context)


@router.patch(
    "/{project_id}",
    summary="Update, archive or unarchive a project",
    responses=responses(403, 409, 412, 422),
)
async def update_project(
    project_id: uuid.UUID,
    body: ProjectUpdate,
    access: WorkspaceAdmin,
    projects: Projects,
    clients: Clients,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectRead:
    project = await projects.get(project_id)
    check_if_match(if_match, project)
    values = body.model_dump()
    new_client_id = values.get("client_id")
    if new_client_id is not None and new_client_id != project.client_id:
        await clients.get_assignable(new_client_id, field="client_id")
    project = await projects.update(project, values)
    return respond(response, ProjectRead, project, context=access.read_context)


@router.delete(
    "/{project_id}",
    status_code=204,
    summary="Delete a project",
    responses=responses(403, 412, 422),
)
async def delete_project(
    project_id: uuid.UUID, _: WorkspaceAdmin, projects: Projects, if_match: IfMatch = None
) -> None:
    project = await projects.get(project_id)
    check_if_match(if_match, project)
    await projects.soft_delete(project)


@router.post(
    "/{project_id}/restore",
    summary="Restore a deleted project",
    responses=responses(403, 409, 422),
)
async def restore_project(
    project_id: uuid.UUID, access: WorkspaceAdmin, projects: Projects, response: Response
) -> ProjectRead:
    project = await projects.restore(await projects.get(project_id, include_deleted=True))
    return respond(response, ProjectRead, project, context=access.read_context)
