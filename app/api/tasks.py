from typing import Annotated

from fastapi import Depends, Query

from app.api.catalog import CatalogResource, add_item_routes
from app.api.deps import visible, workspace_router
from app.api.filters import IncludeDeleted, NameContains, PageParamsDep
from app.api.problems import responses
from app.db.models import Task
from app.pagination import SortKey
from app.repositories.tasks import TaskRepository
from app.schemas.common import IdList, Page, page_of
from app.schemas.tasks import TaskCreate, TaskRead, TaskUpdate
from app.services.catalog import TaskService

router = workspace_router("tasks", tag="tasks")
Tasks = Annotated[TaskRepository, Depends(visible(TaskRepository))]
SORT_BY_NAME = SortKey(Task.name, Task.id)


@router.get(
    "",
    summary="List tasks",
    description="Members see the tasks of the projects they can see.",
    responses=responses(422),
)
async def list_tasks(
    tasks: Tasks,
    page: PageParamsDep,
    q: NameContains = None,
    project_id: Annotated[IdList | None, Query(description="Only tasks of these projects.")] = None,
    done: Annotated[
        bool | None,
        Query(description="`true`: done tasks only; `false`: open ones; omitted: both."),
    ] = None,
    include_deleted: IncludeDeleted = False,
) -> Page[TaskRead]:
    statement = tasks.search(
        q, include_deleted=include_deleted, project_ids=project_id or (), done=done
    )
    return page_of(TaskRead, await tasks.list(page, SORT_BY_NAME, statement))


add_item_routes(
    router,
    CatalogResource(
        noun="task",
        id_param="task_id",
        rows=visible(TaskRepository),
        writes=TaskService,
        create_schema=TaskCreate,
        update_schema=TaskUpdate,
        read_schema=TaskRead,
        update_summary="Update a task, mark it done or reopen it",
        delete_summary="Delete a task",
    ),
)
