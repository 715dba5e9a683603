"""Tasks: permissions, project rules, done/reopen, visibility through projects, pages."""

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import PROBLEM_CONTENT_TYPE
from app.enums import ProjectVisibility
from tests.conftest import QueryCounter
from tests.factories import (
    Team,
    auth_headers,
    make_project,
    make_project_member,
    make_task,
)
from tests.listing import assert_pages_and_query_count


def tasks_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/tasks"


@pytest.mark.parametrize(
    ("role", "list_status", "create_status"),
    [("owner", 200, 201), ("admin", 200, 201), ("member", 200, 403), ("outsider", 404, 404)],
)
async def test_task_permissions(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    role: str,
    list_status: int,
    create_status: int,
) -> None:
    project = await make_project(session, team.workspace)
    headers = auth_headers(team.by_role(role))
    assert (await client.get(tasks_url(team), headers=headers)).status_code == list_status
    body = {"project_id": str(project.id), "name": "Design"}
    response = await client.post(tasks_url(team), json=body, headers=headers)
    assert response.status_code == create_status
    if create_status >= 400:
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE


async def test_anonymous_is_401(client: AsyncClient, team: Team) -> None:
    assert (await client.get(tasks_url(team))).status_code == 401


async def test_member_cannot_write_an_existing_task(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    task = await make_task(session, await make_project(session, team.workspace))
    url = f"{tasks_url(team)}/{task.id}"
    headers = auth_headers(team.member)
    assert (await client.get(url, headers=headers)).status_code == 200
    assert (await client.patch(url, json={"done": True}, headers=headers)).status_code == 403
    assert (await client.delete(url, headers=headers)).status_code == 403
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 403


async def test_task_lifecycle(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    project = await make_project(session, team.workspace)
    headers = auth_headers(team.admin)
    body = {"project_id": str(project.id), "name": " Design ", "estimate_seconds": 7_200}
    created = await client.post(tasks_url(team), json=body, headers=headers)
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    task = created.json()
    assert task["name"] == "Design" and task["project_id"] == str(project.id)
    assert task["workspace_id"] == str(team.workspace.id)
    assert task["estimate_seconds"] == 7_200 and task["done_at"] is None
    url = f"{tasks_url(team)}/{task['id']}"
    assert (await client.get(url, headers=auth_headers(team.member))).json() == task

    duplicate = await client.post(tasks_url(team), json=body, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "A task with this name already exists in the project."
    elsewhere = await make_project(session, team.workspace)
    same_name = {**body, "project_id": str(elsewhere.id)}
    assert (await client.post(tasks_url(team), json=same_name, headers=headers)).status_code == 201

    stale = await client.patch(url, json={"done": True}, headers={**headers, "If-Match": '"2"'})
    assert stale.status_code == 412
    done = await client.patch(url, json={"done": True}, headers={**headers, "If-Match": '"1"'})
    assert done.status_code == 200 and done.headers["etag"] == '"2"'
    done_at = done.json()["done_at"]
    assert done_at is not None
    assert (await client.patch(url, json={"done": True}, headers=headers)).json()[
        "done_at"
    ] == done_at
    reopened = await client.patch(
        url, json={"done": False, "name": "Design v2", "estimate_seconds": None}, headers=headers
    )
    assert reopened.json()["done_at"] is None and reopened.json()["name"] == "Design v2"
    assert reopened.json()["estimate_seconds"] is None

    assert (await client.delete(url, headers={**headers, "If-Match": '"1"'})).status_code == 412
    assert (await client.delete(url, headers=headers)).status_code == 204
    assert (await client.get(url, headers=headers)).json()["deleted_at"] is not None
    assert (await client.get(tasks_url(team), params={"q": "design v2"}, headers=headers)).json()[
        "items"
    ] == []

    retaken = {"project_id": str(project.id), "name": "Design v2"}
    assert (await client.post(tasks_url(team), json=retaken, headers=headers)).status_code == 201
    refused = await client.post(f"{url}/restore", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "A task with this name already exists in the project."


async def test_restore(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    task = await make_task(session, await make_project(session, team.workspace))
    url = f"{tasks_url(team)}/{task.id}"
    headers = auth_headers(team.owner)
    await client.delete(url, headers=headers)
    restored = await client.post(f"{url}/restore", headers=headers)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    listed = (await client.get(tasks_url(team), headers=headers)).json()["items"]
    assert [item["id"] for item in listed] == [str(task.id)]


async def test_project_must_be_a_live_project_of_this_workspace(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_project(session, team.other_workspace)
    gone = await make_project(session, team.workspace)
    headers = auth_headers(team.admin)
    projects_url = f"/api/v1/workspaces/{team.workspace.id}/projects"
    await client.delete(f"{projects_url}/{gone.id}", headers=headers)

    for project_id in (foreign.id, gone.id, uuid.uuid4()):
        response = await client.post(
            tasks_url(team), json={"project_id": str(project_id), "name": "T"}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "loc": ["body", "project_id"],
                "msg": "Project not found.",
                "type": "invalid_reference",
            }
        ]


async def test_archived_project_takes_no_new_task(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    existing = await make_task(session, project)
    headers = auth_headers(team.admin)
    project_url = f"/api/v1/workspaces/{team.workspace.id}/projects/{project.id}"
    await client.patch(project_url, json={"archived": True}, headers=headers)

    body = {"project_id": str(project.id), "name": "New"}
    refused = await client.post(tasks_url(team), json=body, headers=headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "archived" in refused.json()["detail"]
    # Tasks already on it stay usable.
    renamed = await client.patch(
        f"{tasks_url(team)}/{existing.id}", json={"name": "Old"}, headers=headers
    )
    assert renamed.status_code == 200

    await client.patch(project_url, json={"archived": False}, headers=headers)
    assert (await client.post(tasks_url(team), json=body, headers=headers)).status_code == 201


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x" * 201}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"estimate_seconds": 0}, ["body", "estimate_seconds"]),
        ({"estimate_seconds": -60}, ["body", "estimate_seconds"]),
        ({"done_at": "2024-01-01T00:00:00Z"}, ["body", "done_at"]),
        ({"workspace_id": str(uuid.uuid4())}, ["body", "workspace_id"]),
    ],
)
async def test_create_validation(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    body: dict[str, object],
    loc: list[str],
) -> None:
    project = await make_project(session, team.workspace)
    response = await client.post(
        tasks_url(team),
        json={"project_id": str(project.id), "name": "T", **body},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert [error["loc"] for error in response.json()["errors"]] == [loc]


@pytest.mark.parametrize(
    "body",
    [{"name": None}, {"done": None}, {"estimate_seconds": 0}, {"project_id": str(uuid.uuid4())}],
)
async def test_update_validation(
    client: AsyncClient, session: AsyncSession, team: Team, body: dict[str, object]
) -> None:
    task = await make_task(session, await make_project(session, team.workspace))
    response = await client.patch(
        f"{tasks_url(team)}/{task.id}", json=body, headers=auth_headers(team.admin)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", next(iter(body))]


async def test_tasks_of_hidden_private_projects_are_hidden_from_members(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    public = await make_project(session, team.workspace)
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    seen = await make_task(session, public, name="a")
    hidden = await make_task(session, private, name="b")
    member = auth_headers(team.member)

    listed = (await client.get(tasks_url(team), headers=member)).json()["items"]
    assert [item["id"] for item in listed] == [str(seen.id)]
    filtered = await client.get(
        tasks_url(team), params={"project_id": str(private.id)}, headers=member
    )
    assert filtered.json()["items"] == []
    assert (await client.get(f"{tasks_url(team)}/{hidden.id}", headers=member)).status_code == 404
    admin_list = (await client.get(tasks_url(team), headers=auth_headers(team.admin))).json()
    assert len(admin_list["items"]) == 2

    await make_project_member(session, private, team.member)
    listed = (await client.get(tasks_url(team), headers=member)).json()["items"]
    assert [item["id"] for item in listed] == [str(seen.id), str(hidden.id)]
    assert (await client.get(f"{tasks_url(team)}/{hidden.id}", headers=member)).status_code == 200


async def test_filters(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    first = await make_project(session, team.workspace)
    second = await make_project(session, team.workspace)
    third = await make_project(session, team.workspace)
    design = await make_task(session, first, name="Design")
    build = await make_task(session, second, name="Build")
    await make_task(session, third, name="Deploy")
    headers = auth_headers(team.admin)
    await client.patch(f"{tasks_url(team)}/{build.id}", json={"done": True}, headers=headers)

    async def names(params: dict[str, object]) -> list[str]:
        response = await client.get(tasks_url(team), params=params, headers=headers)
        assert response.status_code == 200
        return [item["name"] for item in response.json()["items"]]

    assert await names({}) == ["Build", "Deploy", "Design"]
    assert await names({"project_id": [str(first.id), str(second.id)]}) == ["Build", "Design"]
    assert await names({"project_id": str(first.id)}) == [design.name]
    assert await names({"done": True}) == ["Build"]
    assert await names({"done": False}) == ["Deploy", "Design"]
    assert await names({"q": "DE"}) == ["Deploy", "Design"]
    assert await names({"q": "de", "done": False, "project_id": str(third.id)}) == ["Deploy"]


async def test_task_of_another_workspace_is_404(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_task(session, await make_project(session, team.other_workspace))
    headers = auth_headers(team.owner)
    url = f"{tasks_url(team)}/{foreign.id}"
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 404


async def test_pages_and_query_count_for_a_member(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    public = await make_project(session, team.workspace)
    joined = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    closed = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    await make_project_member(session, joined, team.member)
    expected = []
    for n in range(6):
        project = (public, joined, closed)[n % 3]
        task = await make_task(session, project, name=f"task-{n:02d}")
        if project is not closed:
            expected.append(str(task.id))
    await make_task(session, await make_project(session, team.other_workspace), name="task-00")
    await assert_pages_and_query_count(
        client, tasks_url(team), auth_headers(team.member), query_counter, expected
    )
