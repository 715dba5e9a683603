"""A reference to something the caller may not see answers in the very words of one to
nothing at all: no status, detail or error tells the two apart."""

import uuid
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import ProjectVisibility
from tests.factories import (
    Team,
    auth_headers,
    make_client,
    make_entry,
    make_project,
    make_tag,
    make_task,
)
from tests.tracking import entries_url, iso


def assert_alike(hidden: Response, missing: Response, status: int) -> None:
    assert hidden.status_code == missing.status_code == status, (hidden.text, missing.text)
    assert hidden.json() == missing.json()


async def _both(
    client: AsyncClient, method: str, url: str, headers: dict[str, str], hidden: Any, missing: Any
) -> tuple[Response, Response]:
    def send(body: Any) -> Any:
        return client.request(method, url, json=body, headers=headers)

    return await send(hidden), await send(missing)


async def test_a_task_of_a_private_project_is_as_missing_as_none(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    public = await make_project(session, team.workspace)
    hidden_task = await make_task(session, private)
    headers = auth_headers(team.member)
    span = {"start_at": iso(9), "end_at": iso(10)}
    url = entries_url(team.workspace)
    for extra in ({}, {"project_id": str(public.id)}, {"project_id": str(private.id)}):
        hidden, missing = await _both(
            client,
            "POST",
            url,
            headers,
            {**span, **extra, "task_id": str(hidden_task.id)},
            {**span, **extra, "task_id": str(uuid.uuid4())},
        )
        assert_alike(hidden, missing, 422)
        assert hidden.json()["errors"][0]["loc"] == ["body", "task_id"]

    entry = await make_entry(session, team.workspace, team.member)
    hidden, missing = await _both(
        client,
        "PATCH",
        f"{url}/{entry.id}",
        headers,
        {"task_id": str(hidden_task.id)},
        {"task_id": str(uuid.uuid4())},
    )
    assert_alike(hidden, missing, 422)

    item = f"/api/v1/workspaces/{team.workspace.id}/tasks"
    hidden = await client.get(f"{item}/{hidden_task.id}", headers=headers)
    missing = await client.get(f"{item}/{uuid.uuid4()}", headers=headers)
    assert_alike(hidden, missing, 404)


async def test_a_private_project_is_as_missing_as_none(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    headers = auth_headers(team.member)
    span = {"start_at": iso(9), "end_at": iso(10)}
    hidden, missing = await _both(
        client,
        "POST",
        entries_url(team.workspace),
        headers,
        {**span, "project_id": str(private.id)},
        {**span, "project_id": str(uuid.uuid4())},
    )
    assert_alike(hidden, missing, 422)
    base = f"/api/v1/workspaces/{team.workspace.id}/projects"
    for suffix in ("", "/members", f"/members/{team.member.id}"):
        hidden = await client.get(f"{base}/{private.id}{suffix}", headers=headers)
        missing = await client.get(f"{base}/{uuid.uuid4()}{suffix}", headers=headers)
        assert_alike(hidden, missing, 404)


async def test_tags_clients_projects_and_users_of_elsewhere_are_as_missing_as_none(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    elsewhere = team.other_workspace
    headers = auth_headers(team.admin)
    workspace = f"/api/v1/workspaces/{team.workspace.id}"
    span = {"start_at": iso(9), "end_at": iso(10)}
    foreign_tag = await make_tag(session, elsewhere)
    foreign_client = await make_client(session, elsewhere)
    foreign_project = await make_project(session, elsewhere)
    own_project = await make_project(session, team.workspace)
    cases = [
        (entries_url(team.workspace), "tag_ids", [str(foreign_tag.id)], [str(uuid.uuid4())]),
        (entries_url(team.workspace), "user_id", str(team.outsider.id), str(uuid.uuid4())),
        (f"{workspace}/projects", "client_id", str(foreign_client.id), str(uuid.uuid4())),
        (f"{workspace}/tasks", "project_id", str(foreign_project.id), str(uuid.uuid4())),
        (
            f"{workspace}/projects/{own_project.id}/members",
            "user_id",
            str(team.outsider.id),
            str(uuid.uuid4()),
        ),
    ]
    bodies = {
        "time-entries": span,
        "projects": {"name": "New"},
        "tasks": {"name": "New"},
        "members": {},
    }
    for url, field, hidden_id, missing_id in cases:
        body = bodies[url.rsplit("/", 1)[-1]]
        hidden, missing = await _both(
            client, "POST", url, headers, {**body, field: hidden_id}, {**body, field: missing_id}
        )
        assert_alike(hidden, missing, 422)
