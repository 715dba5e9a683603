"""Clients: permissions, archive, soft delete and restore, validation, pages."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import PROBLEM_CONTENT_TYPE
from tests.conftest import QueryCounter
from tests.factories import Team, auth_headers, make_client, make_project
from tests.listing import assert_pages_and_query_count


def clients_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/clients"


@pytest.mark.parametrize(
    ("role", "list_status", "create_status"),
    [("owner", 200, 201), ("admin", 200, 201), ("member", 200, 403), ("outsider", 404, 404)],
)
async def test_client_permissions(
    client: AsyncClient, team: Team, role: str, list_status: int, create_status: int
) -> None:
    headers = auth_headers(team.by_role(role))
    assert (await client.get(clients_url(team), headers=headers)).status_code == list_status
    response = await client.post(clients_url(team), json={"name": "Acme"}, headers=headers)
    assert response.status_code == create_status
    if create_status >= 400:
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE


async def test_anonymous_is_401(client: AsyncClient, team: Team) -> None:
    assert (await client.get(clients_url(team))).status_code == 401
    assert (await client.post(clients_url(team), json={"name": "Acme"})).status_code == 401


async def test_member_cannot_write_an_existing_client(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace)
    headers = auth_headers(team.member)
    url = f"{clients_url(team)}/{acme.id}"
    assert (await client.get(url, headers=headers)).status_code == 200
    assert (await client.patch(url, json={"name": "x"}, headers=headers)).status_code == 403
    assert (await client.patch(url, json={"archived": True}, headers=headers)).status_code == 403
    assert (await client.delete(url, headers=headers)).status_code == 403
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 403


async def test_client_lifecycle(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    created = await client.post(clients_url(team), json={"name": "  Acme "}, headers=headers)
    assert created.status_code == 201
    acme = created.json()
    assert acme["name"] == "Acme" and acme["version"] == 1
    assert acme["workspace_id"] == str(team.workspace.id)
    assert acme["archived_at"] is None and acme["deleted_at"] is None
    assert created.headers["etag"] == '"1"'
    url = f"{clients_url(team)}/{acme['id']}"

    fetched = await client.get(url, headers=auth_headers(team.member))
    assert fetched.json() == acme and fetched.headers["etag"] == '"1"'

    duplicate = await client.post(clients_url(team), json={"name": "Acme"}, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "A client with this name already exists in the workspace."

    stale = await client.patch(
        url, json={"name": "Initech"}, headers={**headers, "If-Match": '"9"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM_CONTENT_TYPE
    renamed = await client.patch(
        url, json={"name": "Initech"}, headers={**headers, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Initech" and renamed.headers["etag"] == '"2"'

    assert (await client.delete(url, headers={**headers, "If-Match": '"1"'})).status_code == 412
    assert (await client.delete(url, headers={**headers, "If-Match": '"2"'})).status_code == 204
    assert (await client.delete(url, headers=headers)).status_code == 404
    assert (await client.get(clients_url(team), headers=headers)).json()["items"] == []
    tombstone = (await client.get(url, headers=headers)).json()
    assert tombstone["deleted_at"] is not None
    listed = await client.get(clients_url(team), params={"include_deleted": True}, headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [acme["id"]]

    restored = await client.post(f"{url}/restore", headers=headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None and restored.headers["etag"] == '"4"'


async def test_restore_of_a_name_taken_meanwhile_is_409(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    old = (await client.post(clients_url(team), json={"name": "Acme"}, headers=headers)).json()
    await client.delete(f"{clients_url(team)}/{old['id']}", headers=headers)
    new = await client.post(clients_url(team), json={"name": "Acme"}, headers=headers)
    assert new.status_code == 201

    response = await client.post(f"{clients_url(team)}/{old['id']}/restore", headers=headers)
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


async def test_archive_and_unarchive(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    active = (await client.post(clients_url(team), json={"name": "B"}, headers=headers)).json()
    shelved = (await client.post(clients_url(team), json={"name": "A"}, headers=headers)).json()
    url = f"{clients_url(team)}/{shelved['id']}"

    archived = await client.patch(url, json={"archived": True}, headers=headers)
    assert archived.status_code == 200
    archived_at = archived.json()["archived_at"]
    assert archived_at is not None and archived.json()["version"] == 2
    again = await client.patch(url, json={"archived": True}, headers=headers)
    assert again.json()["archived_at"] == archived_at

    default = (await client.get(clients_url(team), headers=headers)).json()["items"]
    assert [item["id"] for item in default] == [active["id"]]
    only_archived = await client.get(clients_url(team), params={"archived": True}, headers=headers)
    assert [item["id"] for item in only_archived.json()["items"]] == [shelved["id"]]

    unarchived = await client.patch(url, json={"archived": False}, headers=headers)
    assert unarchived.json()["archived_at"] is None
    names = [
        item["name"]
        for item in (await client.get(clients_url(team), headers=headers)).json()["items"]
    ]
    assert names == ["A", "B"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x" * 201}, ["body", "name"]),
        ({"name": "   "}, ["body", "name"]),
        ({}, ["body", "name"]),
        (
            {"name": "Acme", "workspace_id": "00000000-0000-0000-0000-000000000000"},
            ["body", "workspace_id"],
        ),
        ({"name": "Acme", "archived": True}, ["body", "archived"]),
    ],
)
async def test_create_validation_is_problem_json(
    client: AsyncClient, team: Team, body: dict[str, object], loc: list[str]
) -> None:
    response = await client.post(clients_url(team), json=body, headers=auth_headers(team.admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    assert [error["loc"] for error in problem["errors"]] == [loc]


@pytest.mark.parametrize("body", [{"name": None}, {"archived": None}, {"name": "y" * 201}])
async def test_update_refuses_null_and_invalid_values(
    client: AsyncClient, session: AsyncSession, team: Team, body: dict[str, object]
) -> None:
    acme = await make_client(session, team.workspace)
    url = f"{clients_url(team)}/{acme.id}"
    response = await client.patch(url, json=body, headers=auth_headers(team.admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", next(iter(body))]


async def test_client_of_another_workspace_is_404(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_client(session, team.other_workspace)
    headers = auth_headers(team.owner)
    url = f"{clients_url(team)}/{foreign.id}"
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 404
    # Its own workspace, through this workspace's members, does not leak either.
    other_url = f"/api/v1/workspaces/{team.other_workspace.id}/clients/{foreign.id}"
    assert (await client.get(other_url, headers=headers)).status_code == 404


async def test_name_search_is_case_insensitive_and_literal(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    for name in ("Acme Corp", "ACME Labs", "Initech", "100% Pure"):
        await make_client(session, team.workspace, name=name)
    headers = auth_headers(team.member)

    async def names(q: str) -> list[str]:
        response = await client.get(clients_url(team), params={"q": q}, headers=headers)
        return [item["name"] for item in response.json()["items"]]

    # The databases collate case differently, so only membership is compared here.
    assert sorted(await names("acme")) == ["ACME Labs", "Acme Corp"]
    assert await names("%") == ["100% Pure"]
    assert await names("_") == []


async def test_deleting_a_client_keeps_its_projects(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace)
    project = await make_project(session, team.workspace, client_id=acme.id)
    headers = auth_headers(team.admin)
    assert (
        await client.delete(f"{clients_url(team)}/{acme.id}", headers=headers)
    ).status_code == 204

    projects_url = f"/api/v1/workspaces/{team.workspace.id}/projects"
    listed = (await client.get(projects_url, headers=headers)).json()["items"]
    assert [(item["id"], item["client_id"]) for item in listed] == [(str(project.id), str(acme.id))]
    renamed = await client.patch(
        f"{projects_url}/{project.id}", json={"name": "Renamed"}, headers=headers
    )
    assert renamed.status_code == 200 and renamed.json()["client_id"] == str(acme.id)


async def test_pages_and_query_count(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    made = [await make_client(session, team.workspace, name=f"client-{n:02d}") for n in range(5)]
    archived = await make_client(session, team.workspace, name="client-zz")
    await client.patch(
        f"{clients_url(team)}/{archived.id}",
        json={"archived": True},
        headers=auth_headers(team.admin),
    )
    await make_client(session, team.other_workspace, name="client-00")
    await assert_pages_and_query_count(
        client,
        clients_url(team),
        auth_headers(team.member),
        query_counter,
        [str(row.id) for row in made],
        params={"q": "client"},
    )
