"""Workspace members: listing with rates hidden, role and rate changes, leaving."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, ProjectMember, User
from app.db.types import utcnow
from app.enums import ProjectVisibility, Role
from tests.conftest import QueryCounter
from tests.factories import (
    Team,
    auth_headers,
    make_entry,
    make_membership,
    make_project,
    make_project_member,
    make_user,
)
from tests.listing import assert_pages_and_query_count
from tests.problems import assert_problem


def members_url(team: Team, user: User | None = None) -> str:
    base = f"/api/v1/workspaces/{team.workspace.id}/members"
    return f"{base}/{user.id}" if user else base


async def membership_of(session: AsyncSession, team: Team, user: User) -> Membership | None:
    statement = (
        select(Membership)
        .where(Membership.workspace_id == team.workspace.id, Membership.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def test_members_are_listed_with_rates_only_for_those_who_may_see_them(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    membership = await membership_of(session, team, team.member)
    assert membership is not None
    membership.hourly_rate_cents = 5000
    await session.flush()

    def rates(body: dict[str, Any]) -> dict[str, int | None]:
        return {item["user_id"]: item["hourly_rate_cents"] for item in body["items"]}

    as_member = (await client.get(members_url(team), headers=auth_headers(team.member))).json()
    assert {item["email"] for item in as_member["items"]} == {
        team.owner.email,
        team.admin.email,
        team.member.email,
    }
    assert set(rates(as_member).values()) == {None}
    as_admin = (await client.get(members_url(team), headers=auth_headers(team.admin))).json()
    assert rates(as_admin)[str(team.member.id)] == 5000

    team.workspace.members_can_see_rates = True
    await session.flush()
    as_member = (await client.get(members_url(team), headers=auth_headers(team.member))).json()
    assert rates(as_member)[str(team.member.id)] == 5000
    single = await client.get(members_url(team, team.member), headers=auth_headers(team.member))
    assert single.json()["hourly_rate_cents"] == 5000 and single.headers["etag"] == '"2"'


async def test_member_list_pages_with_a_fixed_number_of_queries(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    for _ in range(3):
        await make_membership(session, team.workspace, await make_user(session))
    statement = (
        select(Membership.id)
        .where(Membership.workspace_id == team.workspace.id)
        .order_by(Membership.created_at, Membership.id)
    )
    expected = [str(membership_id) for membership_id in (await session.scalars(statement)).all()]
    await assert_pages_and_query_count(
        client, members_url(team), auth_headers(team.member), query_counter, expected
    )


async def test_a_workspace_has_one_owner(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    newcomer = await make_user(session)
    body = {"email": newcomer.email, "role": "owner"}
    invitations = f"/api/v1/workspaces/{team.workspace.id}/invitations"
    refused = await client.post(invitations, json=body, headers=auth_headers(team.admin))
    assert_problem(refused, 403)
    promote = await client.patch(
        members_url(team, team.member), json={"role": "owner"}, headers=auth_headers(team.admin)
    )
    assert_problem(promote, 403)
    promote_self = await client.patch(
        members_url(team, team.admin), json={"role": "owner"}, headers=auth_headers(team.admin)
    )
    assert_problem(promote_self, 403)

    # Not even the owner makes a second owner: they hand the workspace over instead.
    second = await client.post(invitations, json=body, headers=auth_headers(team.owner))
    assert_problem(second, 422)
    assert second.json()["errors"][0]["loc"] == ["body", "role"]
    assert await membership_of(session, team, newcomer) is None
    promoted = await client.patch(
        members_url(team, team.member), json={"role": "owner"}, headers=auth_headers(team.owner)
    )
    assert_problem(promoted, 422)
    member = await membership_of(session, team, team.member)
    assert member is not None and member.role == Role.MEMBER


async def test_admin_changes_role_and_rate_with_etag(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    headers = auth_headers(team.admin)
    url = members_url(team, team.member)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    changes = {"role": "admin", "hourly_rate_cents": 6500}
    updated = await client.patch(url, json=changes, headers={**headers, "If-Match": etag})
    assert updated.status_code == 200
    assert updated.json()["role"] == "admin" and updated.json()["hourly_rate_cents"] == 6500
    assert updated.headers["etag"] == '"2"'
    stale = await client.patch(
        url, json={"hourly_rate_cents": 1}, headers={**headers, "If-Match": etag}
    )
    assert_problem(stale, 412)
    cleared = await client.patch(url, json={"hourly_rate_cents": None}, headers=headers)
    assert cleared.json()["hourly_rate_cents"] is None and cleared.json()["role"] == "admin"


async def test_admins_cannot_touch_owners(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    headers = auth_headers(team.admin)
    url = members_url(team, team.owner)
    assert_problem(await client.patch(url, json={"hourly_rate_cents": 1}, headers=headers), 403)
    assert_problem(await client.patch(url, json={"role": "member"}, headers=headers), 403)
    assert_problem(await client.delete(url, headers=headers), 403)
    membership = await membership_of(session, team, team.owner)
    assert membership is not None
    assert membership.role == Role.OWNER and membership.hourly_rate_cents is None


async def test_the_workspace_owner_can_be_neither_demoted_nor_removed(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    url = members_url(team, team.owner)
    headers = auth_headers(team.owner)
    assert_problem(await client.patch(url, json={"role": "admin"}, headers=headers), 409)
    assert_problem(await client.delete(url, headers=headers), 409)
    membership = await membership_of(session, team, team.owner)
    assert membership is not None and membership.role == Role.OWNER
    # Their rate is theirs to change, like anyone's.
    rated = await client.patch(url, json={"hourly_rate_cents": 9000}, headers=headers)
    assert rated.status_code == 200 and rated.json()["role"] == "owner"


async def test_a_member_may_leave_but_not_remove_others(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    headers = auth_headers(team.member)
    assert_problem(await client.delete(members_url(team, team.admin), headers=headers), 403)
    assert (await client.delete(members_url(team, team.member), headers=headers)).status_code == 204
    assert await membership_of(session, team, team.member) is None
    gone = await client.get(f"/api/v1/workspaces/{team.workspace.id}", headers=headers)
    assert_problem(gone, 404)


async def test_removal_checks_the_etag_and_ends_private_project_access(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    await make_project_member(session, project, team.member)
    headers = auth_headers(team.admin)
    url = members_url(team, team.member)
    assert_problem(await client.delete(url, headers={**headers, "If-Match": '"9"'}), 412)
    assert (await client.delete(url, headers={**headers, "If-Match": '"1"'})).status_code == 204
    count = select(func.count()).where(ProjectMember.user_id == team.member.id)
    assert (await session.execute(count)).scalar_one() == 0
    assert_problem(await client.get(url, headers=headers), 404)


async def test_removal_stops_the_entry_running_in_the_workspace(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """A running entry left behind would run on where its user can no longer stop it."""
    running = await make_entry(
        session, team.workspace, team.member, start_at=utcnow() - timedelta(hours=1), end_at=None
    )
    removed = await client.delete(members_url(team, team.member), headers=auth_headers(team.admin))
    assert removed.status_code == 204
    await session.refresh(running)
    assert running.end_at is not None and running.version == 2
    timer = await client.get("/api/v1/users/me/timer", headers=auth_headers(team.member))
    assert timer.status_code == 204


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("patch", {"user_id": "{outsider}"}),
        ("patch", {"workspace_id": "{other}"}),
        ("patch", {"role": None}),
        ("patch", {"role": "superuser"}),
        ("patch", {"hourly_rate_cents": -5}),
        ("patch", {"is_superuser": True}),
        ("post", {"email": "{outsider_email}", "workspace_id": "{other}"}),
        ("post", {"email": "{outsider_email}", "user_id": "{outsider}"}),
    ],
)
async def test_bodies_cannot_carry_what_the_caller_may_not_set(
    client: AsyncClient, session: AsyncSession, team: Team, method: str, body: dict[str, object]
) -> None:
    values = {
        "{outsider}": str(team.outsider.id),
        "{other}": str(team.other_workspace.id),
        "{outsider_email}": team.outsider.email,
    }
    body = {key: values.get(str(value), value) for key, value in body.items()}
    url = (
        members_url(team, team.member)
        if method == "patch"
        else f"/api/v1/workspaces/{team.workspace.id}/invitations"
    )
    response = await client.request(method, url, json=body, headers=auth_headers(team.owner))
    assert_problem(response, 422)
    membership = await membership_of(session, team, team.member)
    assert membership is not None
    assert (membership.role, membership.version) == (Role.MEMBER, 1)
    assert await membership_of(session, team, team.outsider) is None


async def test_a_member_cannot_change_their_own_role_or_rate(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    url = members_url(team, team.member)
    for body in ({"role": "admin"}, {"hourly_rate_cents": 99999}):
        response = await client.patch(url, json=body, headers=auth_headers(team.member))
        assert_problem(response, 403)
    membership = await membership_of(session, team, team.member)
    assert membership is not None
    assert (membership.role, membership.hourly_rate_cents) == (Role.MEMBER, None)


async def test_unknown_member_is_404(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    url = f"{members_url(team)}/{uuid.uuid4()}"
    assert_problem(await client.get(url, headers=headers), 404)
    assert_problem(await client.patch(url, json={"role": "admin"}, headers=headers), 404)
    assert_problem(await client.delete(url, headers=headers), 404)
    outsider_url = members_url(team, team.outsider)
    assert_problem(await client.get(outsider_url, headers=headers), 404)
