"""Project members: who may add them, who must be in the workspace, hidden rates, pages."""

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
    make_membership,
    make_project,
    make_project_member,
    make_user,
)
from tests.listing import assert_pages_and_query_count


def members_url(team: Team, project_id: uuid.UUID) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/projects/{project_id}/members"


@pytest.mark.parametrize(
    ("role", "list_status", "add_status"),
    [("owner", 200, 201), ("admin", 200, 201), ("member", 200, 403), ("outsider", 404, 404)],
)
async def test_project_member_permissions(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    role: str,
    list_status: int,
    add_status: int,
) -> None:
    project = await make_project(session, team.workspace)
    url = members_url(team, project.id)
    headers = auth_headers(team.by_role(role))
    assert (await client.get(url, headers=headers)).status_code == list_status
    response = await client.post(url, json={"user_id": str(team.member.id)}, headers=headers)
    assert response.status_code == add_status
    if add_status >= 400:
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE


async def test_anonymous_is_401(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    project = await make_project(session, team.workspace)
    assert (await client.get(members_url(team, project.id))).status_code == 401


async def test_member_lifecycle(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    project = await make_project(session, team.workspace)
    url = members_url(team, project.id)
    headers = auth_headers(team.admin)
    body = {"user_id": str(team.member.id), "hourly_rate_cents": 7_500}

    added = await client.post(url, json=body, headers=headers)
    assert added.status_code == 201
    assert added.headers["etag"] == '"1"'
    member = added.json()
    assert member["project_id"] == str(project.id)
    assert member["workspace_id"] == str(team.workspace.id)
    assert member["user_id"] == str(team.member.id)
    assert member["hourly_rate_cents"] == 7_500

    duplicate = await client.post(url, json=body, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "The user is already a member of this project."

    item_url = f"{url}/{team.member.id}"
    assert (await client.get(item_url, headers=headers)).json() == member
    assert [item["id"] for item in (await client.get(url, headers=headers)).json()["items"]] == [
        member["id"]
    ]

    stale = await client.patch(
        item_url, json={"hourly_rate_cents": 1}, headers={**headers, "If-Match": '"3"'}
    )
    assert stale.status_code == 412
    changed = await client.patch(
        item_url, json={"hourly_rate_cents": 8_000}, headers={**headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200
    assert changed.json()["hourly_rate_cents"] == 8_000 and changed.headers["etag"] == '"2"'
    cleared = await client.patch(item_url, json={"hourly_rate_cents": None}, headers=headers)
    assert cleared.json()["hourly_rate_cents"] is None

    assert (
        await client.delete(item_url, headers={**headers, "If-Match": '"1"'})
    ).status_code == 412
    assert (await client.delete(item_url, headers=headers)).status_code == 204
    assert (await client.get(item_url, headers=headers)).status_code == 404
    assert (await client.get(url, headers=headers)).json()["items"] == []
    readded = await client.post(url, json={"user_id": str(team.member.id)}, headers=headers)
    assert readded.status_code == 201


async def test_member_cannot_change_project_members(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    await make_project_member(session, project, team.member)
    item_url = f"{members_url(team, project.id)}/{team.member.id}"
    headers = auth_headers(team.member)
    assert (await client.get(item_url, headers=headers)).status_code == 200
    patched = await client.patch(item_url, json={"hourly_rate_cents": 99_999}, headers=headers)
    assert patched.status_code == 403
    assert (await client.delete(item_url, headers=headers)).status_code == 403


async def test_user_must_be_a_member_of_the_workspace(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    stranger = await make_user(session)
    for user_id in (team.outsider.id, stranger.id, uuid.uuid4()):
        response = await client.post(
            members_url(team, project.id),
            json={"user_id": str(user_id)},
            headers=auth_headers(team.admin),
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["detail"] == "The user is not a member of this workspace."
        assert problem["errors"][0]["loc"] == ["body", "user_id"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "user_id"]),
        ({"user_id": "x"}, ["body", "user_id"]),
        ({"hourly_rate_cents": -1}, ["body", "hourly_rate_cents"]),
        ({"project_id": str(uuid.uuid4())}, ["body", "project_id"]),
    ],
)
async def test_add_validation(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    body: dict[str, object],
    loc: list[str],
) -> None:
    project = await make_project(session, team.workspace)
    response = await client.post(
        members_url(team, project.id),
        json={"user_id": str(team.member.id), **body} if body else body,
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["errors"]]


async def test_private_project_members_are_hidden_like_the_project(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    hidden = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    await make_project_member(session, hidden, team.admin)
    headers = auth_headers(team.member)
    assert (await client.get(members_url(team, hidden.id), headers=headers)).status_code == 404
    item_url = f"{members_url(team, hidden.id)}/{team.admin.id}"
    assert (await client.get(item_url, headers=headers)).status_code == 404

    await make_project_member(session, hidden, team.member)
    listed = await client.get(members_url(team, hidden.id), headers=headers)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2


async def test_rates_are_hidden_from_members(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    await make_project_member(session, project, team.member, hourly_rate_cents=4_200)
    url = members_url(team, project.id)
    item_url = f"{url}/{team.member.id}"
    member = auth_headers(team.member)
    assert (await client.get(item_url, headers=member)).json()["hourly_rate_cents"] is None
    assert (await client.get(url, headers=member)).json()["items"][0]["hourly_rate_cents"] is None
    admin = auth_headers(team.admin)
    assert (await client.get(item_url, headers=admin)).json()["hourly_rate_cents"] == 4_200

    team.workspace.members_can_see_rates = True
    await session.flush()
    assert (await client.get(item_url, headers=member)).json()["hourly_rate_cents"] == 4_200


async def test_other_workspace_and_deleted_projects_are_404(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_project(session, team.other_workspace)
    await make_project_member(session, foreign, team.outsider)
    headers = auth_headers(team.owner)
    url = members_url(team, foreign.id)
    assert (await client.get(url, headers=headers)).status_code == 404
    response = await client.post(url, json={"user_id": str(team.member.id)}, headers=headers)
    assert response.status_code == 404
    assert (await client.delete(f"{url}/{team.outsider.id}", headers=headers)).status_code == 404

    project = await make_project(session, team.workspace)
    projects_url = f"/api/v1/workspaces/{team.workspace.id}/projects/{project.id}"
    await client.delete(projects_url, headers=headers)
    gone = await client.get(members_url(team, project.id), headers=headers)
    assert gone.status_code == 404


async def test_pages_and_query_count(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    project = await make_project(session, team.workspace)
    other = await make_project(session, team.workspace)
    added = []
    for _ in range(5):
        user = await make_user(session)
        await make_membership(session, team.workspace, user)
        added.append(str((await make_project_member(session, project, user)).id))
        await make_project_member(session, other, user)
    await assert_pages_and_query_count(
        client, members_url(team, project.id), auth_headers(team.member), query_counter, added
    )
