"""Projects: permissions, private visibility, hidden rates, clients, archive, soft delete, pages."""

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
    make_client,
    make_project,
    make_project_member,
)
from tests.listing import assert_pages_and_query_count

PRIVATE = ProjectVisibility.PRIVATE


def projects_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/projects"


@pytest.mark.parametrize(
    ("role", "list_status", "create_status"),
    [("owner", 200, 201), ("admin", 200, 201), ("member", 200, 403), ("outsider", 404, 404)],
)
async def test_project_permissions(
    client: AsyncClient, team: Team, role: str, list_status: int, create_status: int
) -> None:
    headers = auth_headers(team.by_role(role))
    assert (await client.get(projects_url(team), headers=headers)).status_code == list_status
    response = await client.post(projects_url(team), json={"name": "Website"}, headers=headers)
    assert response.status_code == create_status
    if create_status >= 400:
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE


async def test_anonymous_is_401(client: AsyncClient, team: Team) -> None:
    assert (await client.get(projects_url(team))).status_code == 401


async def test_member_cannot_write_an_existing_project(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    headers = auth_headers(team.member)
    url = f"{projects_url(team)}/{project.id}"
    assert (await client.get(url, headers=headers)).status_code == 200
    for body in ({"name": "x"}, {"hourly_rate_cents": 1}, {"archived": True}):
        assert (await client.patch(url, json=body, headers=headers)).status_code == 403
    assert (await client.delete(url, headers=headers)).status_code == 403
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 403


async def test_create_with_every_field(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace)
    body = {
        "client_id": str(acme.id),
        "name": "Website",
        "color": "#A1B2C3",
        "is_billable": False,
        "hourly_rate_cents": 12_500,
        "visibility": "private",
        "estimate_seconds": 36_000,
    }
    response = await client.post(projects_url(team), json=body, headers=auth_headers(team.admin))
    assert response.status_code == 201
    project = response.json()
    assert response.headers["etag"] == '"1"'
    assert {key: project[key] for key in body} == {**body, "color": "#a1b2c3"}
    assert project["workspace_id"] == str(team.workspace.id)
    assert project["created_by_user_id"] == str(team.admin.id)
    assert project["archived_at"] is None and project["deleted_at"] is None
    assert project["version"] == 1

    fetched = await client.get(
        f"{projects_url(team)}/{project['id']}", headers=auth_headers(team.owner)
    )
    assert fetched.json() == project


async def test_create_defaults(client: AsyncClient, team: Team) -> None:
    response = await client.post(
        projects_url(team), json={"name": "Internal"}, headers=auth_headers(team.owner)
    )
    project = response.json()
    assert project["client_id"] is None and project["color"] == "#0b7285"
    assert project["is_billable"] is True and project["visibility"] == "public"
    assert project["hourly_rate_cents"] is None and project["estimate_seconds"] is None
    assert project["created_by_user_id"] == str(team.owner.id)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x" * 201}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"name": "P", "color": "red"}, ["body", "color"]),
        ({"name": "P", "color": "#12345"}, ["body", "color"]),
        ({"name": "P", "color": "#GGGGGG"}, ["body", "color"]),
        ({"name": "P", "hourly_rate_cents": -1}, ["body", "hourly_rate_cents"]),
        ({"name": "P", "hourly_rate_cents": 2**31}, ["body", "hourly_rate_cents"]),
        ({"name": "P", "estimate_seconds": 0}, ["body", "estimate_seconds"]),
        ({"name": "P", "visibility": "secret"}, ["body", "visibility"]),
        ({"name": "P", "client_id": "not-a-uuid"}, ["body", "client_id"]),
        ({"name": "P", "created_by_user_id": str(uuid.uuid4())}, ["body", "created_by_user_id"]),
        ({"name": "P", "workspace_id": str(uuid.uuid4())}, ["body", "workspace_id"]),
    ],
)
async def test_create_validation_is_problem_json(
    client: AsyncClient, team: Team, body: dict[str, object], loc: list[str]
) -> None:
    response = await client.post(projects_url(team), json=body, headers=auth_headers(team.admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert [error["loc"] for error in response.json()["errors"]] == [loc]


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"color": None},
        {"is_billable": None},
        {"visibility": None},
        {"archived": None},
        {"color": "#zzzzzz"},
        {"hourly_rate_cents": -5},
        {"estimate_seconds": -1},
    ],
)
async def test_update_validation(
    client: AsyncClient, session: AsyncSession, team: Team, body: dict[str, object]
) -> None:
    project = await make_project(session, team.workspace)
    response = await client.patch(
        f"{projects_url(team)}/{project.id}", json=body, headers=auth_headers(team.admin)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", next(iter(body))]


async def test_update_sets_and_clears_fields(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace)
    project = await make_project(
        session, team.workspace, client_id=acme.id, hourly_rate_cents=100, estimate_seconds=60
    )
    url = f"{projects_url(team)}/{project.id}"
    headers = auth_headers(team.admin)
    changed = await client.patch(
        url,
        json={"visibility": "private", "color": "#FFFFFF", "is_billable": False},
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json()["visibility"] == "private" and changed.json()["color"] == "#ffffff"
    assert changed.json()["client_id"] == str(acme.id)  # untouched fields stay

    cleared = await client.patch(
        url,
        json={"client_id": None, "hourly_rate_cents": None, "estimate_seconds": None},
        headers=headers,
    )
    assert cleared.status_code == 200
    assert cleared.json()["client_id"] is None
    assert cleared.json()["hourly_rate_cents"] is None
    assert cleared.json()["estimate_seconds"] is None
    assert cleared.headers["etag"] == '"3"'


async def test_client_must_be_a_live_client_of_this_workspace(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_client(session, team.other_workspace)
    gone = await make_client(session, team.workspace)
    headers = auth_headers(team.admin)
    await client.delete(
        f"/api/v1/workspaces/{team.workspace.id}/clients/{gone.id}", headers=headers
    )
    project = await make_project(session, team.workspace)

    for client_id in (foreign.id, gone.id, uuid.uuid4()):
        created = await client.post(
            projects_url(team), json={"name": "P", "client_id": str(client_id)}, headers=headers
        )
        assert created.status_code == 422
        problem = created.json()
        assert problem["detail"] == "Client not found."
        assert problem["errors"] == [
            {"loc": ["body", "client_id"], "msg": "Client not found.", "type": "invalid_reference"}
        ]
        moved = await client.patch(
            f"{projects_url(team)}/{project.id}",
            json={"client_id": str(client_id)},
            headers=headers,
        )
        assert moved.status_code == 422
        assert moved.json()["errors"][0]["loc"] == ["body", "client_id"]


async def test_archived_client_takes_no_new_project(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace)
    kept = await make_project(session, team.workspace, client_id=acme.id)
    other = await make_project(session, team.workspace)
    headers = auth_headers(team.admin)
    clients_url = f"/api/v1/workspaces/{team.workspace.id}/clients/{acme.id}"
    await client.patch(clients_url, json={"archived": True}, headers=headers)

    created = await client.post(
        projects_url(team), json={"name": "New", "client_id": str(acme.id)}, headers=headers
    )
    assert created.status_code == 409
    assert created.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "archived" in created.json()["detail"]
    moved = await client.patch(
        f"{projects_url(team)}/{other.id}", json={"client_id": str(acme.id)}, headers=headers
    )
    assert moved.status_code == 409
    # A project already on the client is not broken by the archive.
    renamed = await client.patch(
        f"{projects_url(team)}/{kept.id}",
        json={"name": "Still here", "client_id": str(acme.id)},
        headers=headers,
    )
    assert renamed.status_code == 200

    await client.patch(clients_url, json={"archived": False}, headers=headers)
    created = await client.post(
        projects_url(team), json={"name": "New", "client_id": str(acme.id)}, headers=headers
    )
    assert created.status_code == 201


async def test_lifecycle_etags_and_restore(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    project = (
        await client.post(projects_url(team), json={"name": "Website"}, headers=headers)
    ).json()
    url = f"{projects_url(team)}/{project['id']}"

    duplicate = await client.post(projects_url(team), json={"name": "Website"}, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "A project with this name already exists in the workspace."

    stale = await client.patch(url, json={"name": "Site"}, headers={**headers, "If-Match": '"5"'})
    assert stale.status_code == 412
    fresh = await client.patch(url, json={"name": "Site"}, headers={**headers, "If-Match": '"1"'})
    assert fresh.status_code == 200 and fresh.headers["etag"] == '"2"'

    archived = await client.patch(url, json={"archived": True}, headers=headers)
    assert archived.json()["archived_at"] is not None
    assert (await client.get(projects_url(team), headers=headers)).json()["items"] == []
    only_archived = await client.get(projects_url(team), params={"archived": True}, headers=headers)
    assert [item["id"] for item in only_archived.json()["items"]] == [project["id"]]
    unarchived = await client.patch(url, json={"archived": False}, headers=headers)
    assert unarchived.json()["archived_at"] is None

    assert (await client.delete(url, headers={**headers, "If-Match": '"2"'})).status_code == 412
    assert (await client.delete(url, headers={**headers, "If-Match": '"4"'})).status_code == 204
    assert (await client.get(url, headers=headers)).json()["deleted_at"] is not None
    assert (await client.patch(url, json={"name": "x"}, headers=headers)).status_code == 404
    with_deleted = await client.get(
        projects_url(team), params={"include_deleted": True}, headers=headers
    )
    assert [item["id"] for item in with_deleted.json()["items"]] == [project["id"]]

    retaken = await client.post(projects_url(team), json={"name": "Site"}, headers=headers)
    assert retaken.status_code == 201
    refused = await client.post(f"{url}/restore", headers=headers)
    assert refused.status_code == 409
    await client.delete(f"{projects_url(team)}/{retaken.json()['id']}", headers=headers)
    restored = await client.post(f"{url}/restore", headers=headers)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None


async def test_private_projects_are_hidden_from_members_outside_them(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    public = await make_project(session, team.workspace, name="a-public")
    mine = await make_project(session, team.workspace, name="b-mine", visibility=PRIVATE)
    hidden = await make_project(session, team.workspace, name="c-hidden", visibility=PRIVATE)
    await make_project_member(session, mine, team.member)

    member = auth_headers(team.member)
    listed = (await client.get(projects_url(team), headers=member)).json()["items"]
    assert [item["id"] for item in listed] == [str(public.id), str(mine.id)]
    assert (await client.get(f"{projects_url(team)}/{mine.id}", headers=member)).status_code == 200
    hidden_url = f"{projects_url(team)}/{hidden.id}"
    missing = await client.get(hidden_url, headers=member)
    assert missing.status_code == 404 and missing.json()["detail"] == "Project not found."
    with_deleted = await client.get(
        projects_url(team), params={"include_deleted": True, "q": "hidden"}, headers=member
    )
    assert with_deleted.json()["items"] == []

    for role in ("owner", "admin"):
        everything = await client.get(projects_url(team), headers=auth_headers(team.by_role(role)))
        assert len(everything.json()["items"]) == 3
        hidden_for_admin = await client.get(hidden_url, headers=auth_headers(team.by_role(role)))
        assert hidden_for_admin.status_code == 200


async def test_rates_are_hidden_from_members_unless_the_workspace_shows_them(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, hourly_rate_cents=9_000)
    url = f"{projects_url(team)}/{project.id}"
    member = auth_headers(team.member)

    assert (await client.get(url, headers=member)).json()["hourly_rate_cents"] is None
    listed = (await client.get(projects_url(team), headers=member)).json()["items"]
    assert listed[0]["hourly_rate_cents"] is None
    for role in ("owner", "admin"):
        admin_view = await client.get(url, headers=auth_headers(team.by_role(role)))
        assert admin_view.json()["hourly_rate_cents"] == 9_000

    team.workspace.members_can_see_rates = True
    await session.flush()
    assert (await client.get(url, headers=member)).json()["hourly_rate_cents"] == 9_000
    listed = (await client.get(projects_url(team), headers=member)).json()["items"]
    assert listed[0]["hourly_rate_cents"] == 9_000


async def test_filters(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    acme = await make_client(session, team.workspace)
    initech = await make_client(session, team.workspace)
    a = await make_project(session, team.workspace, name="Acme site", client_id=acme.id)
    b = await make_project(session, team.workspace, name="Initech app", client_id=initech.id)
    await make_project(session, team.workspace, name="Internal")
    headers = auth_headers(team.member)

    async def ids(params: dict[str, object]) -> set[str]:
        response = await client.get(projects_url(team), params=params, headers=headers)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["items"]}

    assert await ids({"client_id": str(acme.id)}) == {str(a.id)}
    assert await ids({"client_id": [str(acme.id), str(initech.id)]}) == {str(a.id), str(b.id)}
    assert await ids({"q": "SITE"}) == {str(a.id)}
    assert await ids({"q": "i", "client_id": str(initech.id)}) == {str(b.id)}
    bad = await client.get(projects_url(team), params={"client_id": "nope"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "client_id", 0]


async def test_project_of_another_workspace_is_404(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_project(session, team.other_workspace)
    headers = auth_headers(team.owner)
    url = f"{projects_url(team)}/{foreign.id}"
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 404


async def test_pages_and_query_count_for_a_member(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    visible = []
    for n in range(6):
        private = n % 2 == 1
        project = await make_project(
            session,
            team.workspace,
            name=f"project-{n:02d}",
            visibility=PRIVATE if private else ProjectVisibility.PUBLIC,
        )
        if n != 3:
            visible.append(str(project.id))
            if private:
                await make_project_member(session, project, team.member)
    await make_project(session, team.other_workspace, name="project-00")
    await assert_pages_and_query_count(
        client, projects_url(team), auth_headers(team.member), query_counter, visible
    )
