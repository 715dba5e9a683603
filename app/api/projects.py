from typing import Annotated

from fastapi import Depends, Query

from app.api.catalog import CatalogResource, add_item_routes
from app.api.deps import WorkspaceCaller, read_context, visible, workspace_router
from app.api.filters import Archived, IncludeDeleted, NameContains, PageParamsDep
from app.api.problems import responses
from app.db.models import Project
from app.pagination import SortKey
from app.repositories.projects import ProjectRepository
from app.schemas.common import IdList, Page, page_of
from app.schemas.projects import ProjectCreate, ProjectRead, ProjectUpdate
from app.services.catalog import ProjectService
from app.services.reports import amount_cents

router = workspace_router("projects", tag="projects")
Projects = Annotated[ProjectRepository, Depends(visible(ProjectRepository))]
SORT_BY_NAME = SortKey(Project.name, Project.id)


async def with_progress(projects: ProjectRepository, rows: list[Project]) -> None:
    """Give each project its tracked time, progress and spending, summed for all of them
    in one statement."""
    tracked = await projects.tracked([row.id for row in rows])
    for row in rows:
        seconds, rate_seconds = tracked.get(row.id, (0, 0))
        row.tracked_seconds = seconds  # type: ignore[attr-defined]
        row.progress = (  # type: ignore[attr-defined]
            round(seconds / row.estimate_seconds, 4) if row.estimate_seconds else None
        )
        row.spent_cents = amount_cents(rate_seconds)  # type: ignore[attr-defined]


@router.get(
    "",
    summary="List projects",
    description="Members see public projects and the private ones they belong to.",
    responses=responses(422),
)
async def list_projects(
    caller: WorkspaceCaller,
    projects: Projects,
    page: PageParamsDep,
    q: NameContains = None,
    client_id: Annotated[
        IdList | None, Query(description="Only projects of these clients.")
    ] = None,
    archived: Archived = False,
    include_deleted: IncludeDeleted = False,
) -> Page[ProjectRead]:
    statement = projects.search(
        q, include_deleted=include_deleted, archived=archived, client_ids=client_id or ()
    )
    result = await projects.list(page, SORT_BY_NAME, statement)
    await with_progress(projects, list(result.items))
    return page_of(ProjectRead, result, context=read_context(caller))


add_item_routes(
    router,
    CatalogResource(
        noun="project",
        id_param="project_id",
        rows=visible(ProjectRepository),
        writes=ProjectService,
        create_schema=ProjectCreate,
        update_schema=ProjectUpdate,
        read_schema=ProjectRead,
        update_summary="Update, archive or unarchive a project",
        delete_summary="Delete a project",
        complete=with_progress,
    ),
)
