"""Tags: the pattern every workspace resource follows (permissions, pages, ETags, soft delete)."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import QueryCounter
from tests.factories import Team, auth_headers, make_tag
from tests.listing import assert_pages_and_query_count


def tags_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/tags"


@pytest.mark.parametrize(
    ("role", "list_status", "create_status"),
    [
        ("owner", 200, 201),
        ("admin", 200, 201),
        ("member", 200, 403),
        ("outsider", 404, 404),
    ],
)
async def test_tag_permissions(
    client: AsyncClient, team: Team, role: str, list_status: int, create_status: int
) -> None:
    headers = auth_headers(team.by_role(role))
    assert (await client.get(tags_url(team), headers=headers)).status_code == list_status
    response = await client.post(tags_url(team), json={"name": "urgent"}, headers=headers)
    assert response.status_code == create_status
    if create_status >= 400:
        assert response.headers["content-type"] == "application/problem+json"


async def test_anonymous_is_401(client: AsyncClient, team: Team) -> None:
    response = await client.get(tags_url(team))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_tag_lifecycle(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    created = await client.post(tags_url(team), json={"name": "  design "}, headers=headers)
    assert created.status_code == 201
    tag = created.json()
    assert tag["name"] == "design" and tag["version"] == 1
    assert created.headers["etag"] == '"1"'
    url = f"{tags_url(team)}/{tag['id']}"

    duplicate = await client.post(tags_url(team), json={"name": "design"}, headers=headers)
    assert duplicate.status_code == 409

    stale = await client.patch(url, json={"name": "ux"}, headers={**headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    renamed = await client.patch(url, json={"name": "ux"}, headers={**headers, "If-Match": '"1"'})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "ux" and renamed.headers["etag"] == '"2"'

    assert (await client.delete(url, headers=headers)).status_code == 204
    listed = (await client.get(tags_url(team), headers=headers)).json()
    assert listed["items"] == []
    with_deleted = await client.get(
        tags_url(team), params={"include_deleted": True}, headers=headers
    )
    assert with_deleted.json()["items"][0]["deleted_at"] is not None

    restored = await client.post(f"{url}/restore", headers=headers)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None


async def test_body_cannot_set_workspace_or_unknown_fields(client: AsyncClient, team: Team) -> None:
    response = await client.post(
        tags_url(team),
        json={"name": "x", "workspace_id": str(team.other_workspace.id)},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "workspace_id"]


async def test_tag_of_another_workspace_is_404(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign = await make_tag(session, team.other_workspace)
    headers = auth_headers(team.admin)
    url = f"{tags_url(team)}/{foreign.id}"
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404


async def test_pages_walk_every_tag_once_with_fixed_query_count(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    made = [await make_tag(session, team.workspace, name=f"tag-{n:02d}") for n in range(7)]
    await make_tag(session, team.other_workspace, name="tag-00")
    headers = auth_headers(team.member)
    await assert_pages_and_query_count(
        client, tags_url(team), headers, query_counter, [str(tag.id) for tag in made]
    )
    query_counter.reset()
    await client.get(tags_url(team), params={"limit": 200}, headers=headers)
    without_total = query_counter.count
    query_counter.reset()
    body = (
        await client.get(
            tags_url(team), params={"limit": 200, "include_total": True}, headers=headers
        )
    ).json()
    assert body["total"] == 7
    assert query_counter.count == without_total + 1  # the total is one more statement


async def test_bad_cursor_and_limit_are_422(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.member)
    bad_cursor = await client.get(tags_url(team), params={"cursor": "bm9wZQ"}, headers=headers)
    assert bad_cursor.status_code == 422
    assert (
        await client.get(tags_url(team), params={"limit": 201}, headers=headers)
    ).status_code == 422


async def test_search_is_literal_and_null_name_is_refused(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await make_tag(session, team.workspace, name="100% done")
    await make_tag(session, team.workspace, name="1000 done")
    headers = auth_headers(team.admin)
    found = await client.get(tags_url(team), params={"q": "0%"}, headers=headers)
    assert [item["name"] for item in found.json()["items"]] == ["100% done"]
    tag = found.json()["items"][0]
    response = await client.patch(
        f"{tags_url(team)}/{tag['id']}", json={"name": None}, headers=headers
    )
    assert response.status_code == 422
