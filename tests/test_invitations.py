"""Invitations: nobody joins a workspace, or gets time tracked for them in it, without
accepting; inviting tells nothing about who has an account."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Invitation, Membership, User, Workspace
from app.db.types import utcnow
from app.enums import InvitationStatus, Role
from app.errors import StaleVersion
from app.repositories.invitations import ReceivedInvitationRepository
from app.services.caller import Caller, SignIn
from app.services.workspaces import WorkspaceService
from tests.factories import Team, auth_headers, make_invitation, make_user
from tests.problems import assert_problem
from tests.tracking import entries_url, iso, timer_url

MINE = "/api/v1/users/me/invitations"


def invitations_url(workspace: Workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/invitations"


async def membership_of(
    session: AsyncSession, workspace: Workspace, user: User
) -> Membership | None:
    statement = (
        select(Membership)
        .where(Membership.workspace_id == workspace.id, Membership.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def invite(client: AsyncClient, workspace: Workspace, by: User, **body: Any) -> Response:
    return await client.post(invitations_url(workspace), json=body, headers=auth_headers(by))


async def invited_to(client: AsyncClient, user: User) -> list[dict[str, Any]]:
    response = await client.get(MINE, headers=auth_headers(user))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_inviting_tells_nothing_about_the_account(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    # The outsider, owner of a workspace of their own, tries to pull in the member by email.
    stranger, victim = team.outsider, team.member
    inactive = await make_user(session, is_active=False)
    answers = [
        await invite(client, team.other_workspace, stranger, email=email)
        for email in (victim.email.upper(), "nobody@example.com", inactive.email)
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    bodies = [answer.json() for answer in answers]
    # Only what the stranger sent, and the invitation's own id and time, differ.
    varying = {"id", "email", "created_at"}
    assert len({tuple(sorted(set(body) - varying)) for body in bodies}) == 1
    assert len({str({k: v for k, v in body.items() if k not in varying}) for body in bodies}) == 1
    first = bodies[0]
    assert first["email"] == victim.email and first["status"] == "pending"
    assert "user_id" not in first and "full_name" not in first
    assert victim.full_name not in answers[0].text and str(victim.id) not in answers[0].text

    assert await membership_of(session, team.other_workspace, victim) is None
    theirs = await client.get(
        f"/api/v1/workspaces/{team.other_workspace.id}", headers=auth_headers(victim)
    )
    assert_problem(theirs, 404)


async def test_no_one_tracks_time_for_someone_who_has_not_accepted(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    stranger, victim = team.outsider, team.member
    assert (await invite(client, team.other_workspace, stranger, email=victim.email)).is_success
    theirs = entries_url(team.other_workspace)
    headers = auth_headers(stranger)
    for end_at in (None, iso(10)):
        body = {"user_id": str(victim.id), "start_at": iso(9), "end_at": end_at}
        refused = await client.post(theirs, json=body, headers=headers)
        assert_problem(refused, 422)
        assert refused.json()["errors"][0]["loc"] == ["body", "user_id"]
    # Nor by moving one of the stranger's own entries onto the victim, alone or in bulk.
    own = await client.post(theirs, json={"start_at": iso(9), "end_at": None}, headers=headers)
    assert own.status_code == 201
    moved = await client.patch(
        f"{theirs}/{own.json()['id']}", json={"user_id": str(victim.id)}, headers=headers
    )
    assert_problem(moved, 422)
    bulk = await client.patch(
        theirs,
        json={"ids": [own.json()["id"]], "changes": {"user_id": str(victim.id)}},
        headers=headers,
    )
    assert [result["status"] for result in bulk.json()["results"]] == [422]

    # The victim's own tracking is untouched: the timer starts and stops, and a running
    # entry can be written at home.
    mine = auth_headers(victim)
    started = await client.post(timer_url(team.workspace, "start"), json={}, headers=mine)
    assert started.status_code == 201, started.text
    stopped = await client.post(timer_url(team.workspace, "stop"), headers=mine)
    assert stopped.status_code == 200 and stopped.json()["end_at"] is not None
    running = await client.post(
        entries_url(team.workspace), json={"start_at": iso(9), "end_at": None}, headers=mine
    )
    assert running.status_code == 201, running.text


async def test_the_invitee_sees_and_accepts_their_invitation(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    newcomer = await make_user(session, email="new.comer@example.com")
    sent = await invite(
        client,
        team.workspace,
        team.admin,
        email="New.Comer@Example.com",
        role="admin",
        hourly_rate_cents=7000,
    )
    assert sent.status_code == 201
    invitation = sent.json()
    assert (
        invitation["email"] == "new.comer@example.com" and invitation["hourly_rate_cents"] == 7000
    )
    assert invitation["invited_by_user_id"] == str(team.admin.id)

    pending = await client.get(invitations_url(team.workspace), headers=auth_headers(team.owner))
    assert [item["id"] for item in pending.json()["items"]] == [invitation["id"]]
    received = await invited_to(client, newcomer)
    assert received == [
        {
            "id": invitation["id"],
            "workspace_id": str(team.workspace.id),
            "workspace_name": team.workspace.name,
            "role": "admin",
            "created_at": invitation["created_at"],
        }
    ]
    # Someone else neither sees it nor answers it.
    assert await invited_to(client, team.outsider) == []
    for action in ("accept", "decline"):
        theirs = await client.post(
            f"{MINE}/{invitation['id']}/{action}", headers=auth_headers(team.outsider)
        )
        assert_problem(theirs, 404)
    assert await membership_of(session, team.workspace, team.outsider) is None

    accepted = await client.post(
        f"{MINE}/{invitation['id']}/accept", headers=auth_headers(newcomer)
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["id"] == str(team.workspace.id) and accepted.json()["role"] == "admin"
    membership = await membership_of(session, team.workspace, newcomer)
    assert membership is not None
    assert (membership.role, membership.hourly_rate_cents) == (Role.ADMIN, 7000)

    again = await client.post(f"{MINE}/{invitation['id']}/accept", headers=auth_headers(newcomer))
    assert_problem(again, 404)
    assert await invited_to(client, newcomer) == []
    listed = await client.get(invitations_url(team.workspace), headers=auth_headers(team.owner))
    assert listed.json()["items"] == []
    stored = await session.get(Invitation, uuid.UUID(invitation["id"]), populate_existing=True)
    assert stored is not None and stored.status is InvitationStatus.ACCEPTED


async def test_declining_leaves_the_invitee_out(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    newcomer = await make_user(session)
    invitation = (await invite(client, team.workspace, team.admin, email=newcomer.email)).json()
    url = f"{MINE}/{invitation['id']}"
    declined = await client.post(f"{url}/decline", headers=auth_headers(newcomer))
    assert declined.status_code == 204
    assert await membership_of(session, team.workspace, newcomer) is None
    assert await invited_to(client, newcomer) == []
    assert_problem(await client.post(f"{url}/accept", headers=auth_headers(newcomer)), 404)
    assert_problem(await client.post(f"{url}/decline", headers=auth_headers(newcomer)), 404)
    # Once answered, the email may be invited again.
    again = await invite(client, team.workspace, team.admin, email=newcomer.email)
    assert again.status_code == 201 and again.json()["id"] != invitation["id"]


async def test_a_revoked_invitation_can_no_longer_be_accepted(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    newcomer = await make_user(session)
    invitation = (await invite(client, team.workspace, team.admin, email=newcomer.email)).json()
    url = f"{invitations_url(team.workspace)}/{invitation['id']}"
    # Another workspace's admin does not reach it.
    elsewhere = f"{invitations_url(team.other_workspace)}/{invitation['id']}"
    assert_problem(await client.delete(elsewhere, headers=auth_headers(team.outsider)), 404)
    assert (await client.delete(url, headers=auth_headers(team.admin))).status_code == 204
    assert_problem(await client.delete(url, headers=auth_headers(team.admin)), 404)
    assert await invited_to(client, newcomer) == []
    accepted = await client.post(
        f"{MINE}/{invitation['id']}/accept", headers=auth_headers(newcomer)
    )
    assert_problem(accepted, 404)
    assert await membership_of(session, team.workspace, newcomer) is None


async def test_one_pending_invitation_per_email_and_none_for_members(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    first = await invite(client, team.workspace, team.admin, email="twice@example.com")
    assert first.status_code == 201
    second = await invite(client, team.workspace, team.owner, email="TWICE@example.com")
    assert_problem(second, 409)
    # Another workspace may invite the same email meanwhile.
    elsewhere = await invite(client, team.other_workspace, team.outsider, email="twice@example.com")
    assert elsewhere.status_code == 201
    member = await invite(client, team.workspace, team.admin, email=team.member.email)
    assert_problem(member, 409)


async def test_an_invitee_who_is_a_member_already_cannot_accept_again(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    # Invited before they joined some other way: accepting would make a second membership.
    invitation = await make_invitation(session, team.workspace, team.member.email, role=Role.ADMIN)
    url = f"{MINE}/{invitation.id}"
    assert_problem(await client.post(f"{url}/accept", headers=auth_headers(team.member)), 409)
    membership = await membership_of(session, team.workspace, team.member)
    assert membership is not None and membership.role is Role.MEMBER
    assert (
        await client.post(f"{url}/decline", headers=auth_headers(team.member))
    ).status_code == 204


async def test_of_two_racing_answers_only_the_first_lands(
    session: AsyncSession, team: Team
) -> None:
    newcomer = await make_user(session)
    invitation = await make_invitation(session, team.workspace, newcomer.email)
    received = WorkspaceService(session, Caller(newcomer, SignIn.SESSION))
    # The acceptance has read the invitation as pending; another request's answer (a
    # revocation, say) lands before the acceptance writes, and bumps the version.
    await ReceivedInvitationRepository(session, newcomer.email).get(invitation.id)
    await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(version=Invitation.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(StaleVersion):
        await received.accept_invitation(invitation.id)


async def test_a_revocation_checks_the_etag(client: AsyncClient, team: Team) -> None:
    sent = await invite(client, team.workspace, team.admin, email="etag@example.com")
    assert sent.headers["etag"] == '"1"' and sent.json()["version"] == 1
    url = f"{invitations_url(team.workspace)}/{sent.json()['id']}"
    headers = auth_headers(team.admin)
    assert_problem(await client.delete(url, headers={**headers, "If-Match": '"2"'}), 412)
    assert (await client.delete(url, headers={**headers, "If-Match": '"1"'})).status_code == 204


async def test_invitations_to_a_deleted_workspace_are_gone(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    newcomer = await make_user(session)
    invitation = await make_invitation(session, team.workspace, newcomer.email)
    team.workspace.deleted_at = utcnow()
    await session.flush()
    assert await invited_to(client, newcomer) == []
    accepted = await client.post(f"{MINE}/{invitation.id}/accept", headers=auth_headers(newcomer))
    assert_problem(accepted, 404)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"email": "someone@example.com", "role": "superuser"},
        {"email": "someone@example.com", "hourly_rate_cents": -1},
        {"email": "someone@example.com", "user_id": "{member}"},
        {"email": "someone@example.com", "workspace_id": "{other}"},
        {"email": "someone@example.com", "status": "accepted"},
    ],
)
async def test_invitation_bodies_are_checked(
    client: AsyncClient, session: AsyncSession, team: Team, body: dict[str, Any]
) -> None:
    values = {"{member}": str(team.member.id), "{other}": str(team.other_workspace.id)}
    body = {key: values.get(str(value), value) for key, value in body.items()}
    assert_problem(await invite(client, team.workspace, team.owner, **body), 422)
    assert (await session.scalars(select(Invitation))).first() is None


async def test_pending_invitations_page_like_every_list(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    sent = [
        (await invite(client, team.workspace, team.admin, email=f"p{n}@example.com")).json()["id"]
        for n in range(3)
    ]
    url = invitations_url(team.workspace)
    headers = auth_headers(team.admin)
    first = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    rest = (
        await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert [item["id"] for item in first["items"] + rest["items"]] == sent
    assert rest["next_cursor"] is None
