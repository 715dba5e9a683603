import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.api.deps import WorkspaceAdmin, visible, workspace_router
from app.api.etag import IfMatch, check_if_match, respond
from app.api.filters import IncludeDeleted, NameContains
from app.db.models import Task
from app.errors import responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.projects import ProjectRepository
from app.repositories.tasks import TaskRepository
from app.schemas.common import Page, page_of
from app.schemas.tasks import TaskCreate, TaskRead, TaskUpdate

router = workspace_router("tasks", tag="tasks")
Tasks = Annotated[TaskRepository, Depends(visible(TaskRepository))]
Projects = Annotated[ProjectRepository, Depends(visible(ProjectRepository))]
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
    project_id: Annotated[
        list[uuid.UUID] | None, Query(description="Only tasks of these projects.")
    ] = None,
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


@router.post("", status_code=201, summary="Create a task", responses=responses(403, 409, 422))
async def create_task(
    body: TaskCreate, _: WorkspaceAdmin, tasks: Tasks, projects: Projects, response: Response
) -> TaskRead:
    await projects.get_assignable(body.project_id, field="project_id")
    task = await tasks.create(**body.model_dump())
    return respond(response, TaskRead, task)


@router.get("/{task_id}", summary="Get a task", responses=responses(422))
async def get_task(task_id: uuid.UUID, tasks: Tasks, response: Response) -> TaskRead:
    task = await tasks.get(task_id, include_deleted=True)
    return respond(response, TaskRead, task)


@router.patch(
    "/{task_id}",
    summary="Update a task, mark it done or reopen it",
    responses=responses(403, 409, 412, 422),
)
async def update_task(
    task_id: uuid.UUID,
    body: TaskUpdate,
    _: WorkspaceAdmin,
    tasks: Tasks,
    response: Response,
    if_match: IfMatch = None,
) -> TaskRead:
    task = await tasks.get(task_id)
    check_if_match(if_match, task)
    task = await tasks.update(task, body.model_dump())
    return respond(response, TaskRead, task)


@router.delete(
    "/{task_id}", status_code=204, summary="Delete a task", responses=responses(403, 412, 422)
)
async def delete_task(
    task_id: uuid.UUID, _: WorkspaceAdmin, tasks: Tasks, if_match: IfMatch = None
) -> None:
    task = await tasks.get(task_id)
    check_if_match(if_match, task)
    await tasks.soft_delete(task)


@router.post(
    "/{task_id}/restore", summary="Restore a deleted task", responses=responses(403, 409, 422)
)
async def restore_task(
    task_id: uuid.UUID, _: WorkspaceAdmin, tasks: Tasks, response: Response
) -> TaskRead:
    task = await tasks.restore(await tasks.get(task_id, include_deleted=True))
    return respond(response, TaskRead, task)
