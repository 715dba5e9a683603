"""Workspaces: create, list mine, read with rates hidden, update, soft delete, hand over."""

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, Workspace
from app.enums import Role
from tests.conftest import QueryCounter
from tests.factories import Team, auth_headers, make_membership, make_user, make_workspace
from tests.listing import assert_pages_and_query_count
from tests.problems import assert_problem

WORKSPACES = "/api/v1/workspaces"


def url(team: Team) -> str:
    return f"{WORKSPACES}/{team.workspace.id}"


async def role_of(session: AsyncSession, workspace: Workspace, user_id: object) -> Role:
    statement = (
        select(Membership.role)
        .where(Membership.workspace_id == workspace.id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one()


async def test_creator_becomes_the_owner(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    response = await client.post(
        WORKSPACES, json={"name": " Acme ", "currency": "EUR"}, headers=auth_headers(user)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Acme" and body["currency"] == "EUR"
    assert body["owner_user_id"] == str(user.id) and body["role"] == "owner"
    assert body["default_hourly_rate_cents"] == 0 and body["version"] == 1
    assert not body["prevent_overlaps"] and not body["members_can_see_rates"]
    assert response.headers["etag"] == '"1"'
    workspace = await session.get(Workspace, uuid.UUID(body["id"]))
    assert workspace is not None
    assert await role_of(session, workspace, user.id) == Role.OWNER

    listed = (await client.get(WORKSPACES, headers=auth_headers(user))).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]


@pytest.mark.parametrize(
    "field",
    ["owner_user_id", "id", "version", "role", "deleted_at"],
)
async def test_create_refuses_fields_the_caller_may_not_set(
    client: AsyncClient, session: AsyncSession, team: Team, field: str
) -> None:
    user = await make_user(session)
    value = {"role": "owner", "version": 7, "deleted_at": None}.get(field, str(team.outsider.id))
    body = {"name": "Sneaky", field: value}
    response = await client.post(WORKSPACES, json=body, headers=auth_headers(user))
    assert_problem(response, 422)
    assert response.json()["errors"][0]["loc"] == ["body", field]
    count = select(func.count()).select_from(Workspace).where(Workspace.name == "Sneaky")
    assert (await session.execute(count)).scalar_one() == 0


async def test_list_shows_only_my_live_workspaces_a_page_at_a_time(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    user = team.member
    mine = [team.workspace]
    for _ in range(3):
        workspace = await make_workspace(session)
        await make_membership(session, workspace, user, role=Role.ADMIN)
        mine.append(workspace)
    deleted = await make_workspace(session, owner=user, deleted_at=team.workspace.created_at)
    headers = auth_headers(user)
    await assert_pages_and_query_count(
        client, WORKSPACES, headers, query_counter, [str(w.id) for w in mine]
    )
    body = (await client.get(WORKSPACES, params={"include_total": True}, headers=headers)).json()
    assert body["total"] == 4
    assert str(deleted.id) not in {item["id"] for item in body["items"]}
    assert [item["role"] for item in body["items"]] == ["member", "admin", "admin", "admin"]


async def test_rates_are_hidden_from_members_unless_the_workspace_shows_them(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.default_hourly_rate_cents = 9000
    await session.flush()
    member, admin = auth_headers(team.member), auth_headers(team.admin)
    assert (await client.get(url(team), headers=member)).json()["default_hourly_rate_cents"] is None
    listed = (await client.get(WORKSPACES, headers=member)).json()["items"]
    assert listed[0]["default_hourly_rate_cents"] is None
    assert (await client.get(url(team), headers=admin)).json()["default_hourly_rate_cents"] == 9000

    shown = await client.patch(url(team), json={"members_can_see_rates": True}, headers=admin)
    assert shown.status_code == 200
    assert (await client.get(url(team), headers=member)).json()["default_hourly_rate_cents"] == 9000


async def test_update_with_etag(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    read = await client.get(url(team), headers=headers)
    etag = read.headers["etag"]
    changes = {
        "name": "Renamed",
        "currency": "CHF",
        "default_hourly_rate_cents": 12000,
        "prevent_overlaps": True,
        "members_can_see_rates": True,
    }
    updated = await client.patch(url(team), json=changes, headers={**headers, "If-Match": etag})
    assert updated.status_code == 200
    assert {key: updated.json()[key] for key in changes} == changes
    assert updated.headers["etag"] == '"2"' and updated.json()["version"] == 2

    stale = await client.patch(
        url(team), json={"name": "Again"}, headers={**headers, "If-Match": etag}
    )
    assert_problem(stale, 412)
    assert (await client.get(url(team), headers=headers)).json()["name"] == "Renamed"


@pytest.mark.parametrize(
    "body",
    [
        {"currency": "usd"},
        {"currency": "EURO"},
        {"default_hourly_rate_cents": -1},
        {"name": ""},
        {"name": None},
        {"prevent_overlaps": None},
        {"owner_user_id": "00000000-0000-0000-0000-000000000000"},
        {"id": "00000000-0000-0000-0000-000000000000"},
        {"workspace_id": "00000000-0000-0000-0000-000000000000"},
        {"role": "member"},
        {"version": 9},
        {"deleted_at": None},
    ],
)
async def test_update_refuses_bad_and_forbidden_fields(
    client: AsyncClient, session: AsyncSession, team: Team, body: dict[str, object]
) -> None:
    before = (team.workspace.name, team.workspace.owner_user_id, team.workspace.version)
    response = await client.patch(url(team), json=body, headers=auth_headers(team.owner))
    assert_problem(response, 422)
    await session.refresh(team.workspace)
    workspace = team.workspace
    assert (workspace.name, workspace.owner_user_id, workspace.version) == before


async def test_delete_is_soft_and_hides_the_workspace_from_everyone(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    headers = auth_headers(team.owner)
    stale = await client.delete(url(team), headers={**headers, "If-Match": '"5"'})
    assert_problem(stale, 412)
    deleted = await client.delete(url(team), headers={**headers, "If-Match": '"1"'})
    assert deleted.status_code == 204

    await session.refresh(team.workspace)
    assert team.workspace.deleted_at is not None
    for user in (team.owner, team.admin, team.member):
        assert_problem(await client.get(url(team), headers=auth_headers(user)), 404)
        assert_problem(await client.get(f"{url(team)}/members", headers=auth_headers(user)), 404)
        listed = (await client.get(WORKSPACES, headers=auth_headers(user))).json()
        assert str(team.workspace.id) not in {item["id"] for item in listed["items"]}


async def test_transfer_ownership(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    response = await client.post(
        f"{url(team)}/transfer-ownership",
        json={"user_id": str(team.member.id)},
        headers=auth_headers(team.owner),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["owner_user_id"] == str(team.member.id) and body["role"] == "admin"
    await session.refresh(team.workspace)
    assert team.workspace.owner_user_id == team.member.id
    assert await role_of(session, team.workspace, team.member.id) == Role.OWNER
    assert await role_of(session, team.workspace, team.owner.id) == Role.ADMIN

    # The previous owner lost the owner's rights; the new owner has them.
    assert_problem(await client.delete(url(team), headers=auth_headers(team.owner)), 403)
    assert (await client.get(url(team), headers=auth_headers(team.member))).json()["role"] == (
        "owner"
    )


@pytest.mark.parametrize("target", ["outsider", "owner", "nobody"])
async def test_transfer_needs_another_member(
    client: AsyncClient, session: AsyncSession, team: Team, target: str
) -> None:
    nobody = "00000000-0000-0000-0000-000000000000"
    user_id = nobody if target == "nobody" else str(team.by_role(target).id)
    response = await client.post(
        f"{url(team)}/transfer-ownership",
        json={"user_id": user_id},
        headers=auth_headers(team.owner),
    )
    assert_problem(response, 422)
    assert response.json()["errors"][0]["loc"] == ["body", "user_id"]
    await session.refresh(team.workspace)
    assert team.workspace.owner_user_id == team.owner.id


async def test_only_the_workspace_owner_hands_it_over(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    response = await client.post(
        f"{url(team)}/transfer-ownership",
        json={"user_id": str(team.member.id)},
        headers=auth_headers(team.admin),
    )
    assert_problem(response, 403)
    await session.refresh(team.workspace)
    assert team.workspace.owner_user_id == team.owner.id


async def test_transfer_refuses_unknown_fields(client: AsyncClient, team: Team) -> None:
    response = await client.post(
        f"{url(team)}/transfer-ownership",
        json={"user_id": str(team.member.id), "role": "member"},
        headers=auth_headers(team.owner),
    )
    assert_problem(response, 422)
