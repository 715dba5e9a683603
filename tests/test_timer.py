"""The timer: one running entry per user, started and stopped atomically."""

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import TimeEntry
from app.db.types import utcnow
from app.enums import Role
from tests.factories import (
    Team,
    auth_headers,
    make_entry,
    make_membership,
    make_project,
    make_tag,
    make_task,
    make_workspace,
)
from tests.tracking import at, timer_url

MY_TIMER = "/api/v1/users/me/timer"


async def running_entries(session: AsyncSession, team: Team) -> list[TimeEntry]:
    statement = (
        select(TimeEntry)
        .where(TimeEntry.user_id == team.member.id, TimeEntry.end_at.is_(None))
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(statement))


async def test_start_stop_and_read_the_timer(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, is_billable=True)
    task = await make_task(session, project)
    tag = await make_tag(session, team.workspace)
    headers = auth_headers(team.member)
    assert (await client.get(MY_TIMER, headers=headers)).status_code == 204

    before = utcnow()
    started = await client.post(
        timer_url(team.workspace, "start"),
        json={"task_id": str(task.id), "tag_ids": [str(tag.id)], "description": "deep work"},
        headers=headers,
    )
    assert started.status_code == 201, started.text
    entry = started.json()
    assert started.headers["etag"] == '"1"'
    assert entry["end_at"] is None and entry["source"] == "timer"
    assert entry["project_id"] == str(project.id)  # taken from the task
    assert entry["billable"] is True and entry["tag_ids"] == [str(tag.id)]
    assert before.isoformat() <= entry["start_at"].replace("Z", "+00:00") <= utcnow().isoformat()

    mine = await client.get(MY_TIMER, headers=headers)
    assert mine.status_code == 200 and mine.json()["id"] == entry["id"]
    assert mine.json()["hourly_rate_cents"] is None  # rates hidden from members
    assert (await client.get(MY_TIMER, headers=auth_headers(team.admin))).status_code == 204

    stopped = await client.post(timer_url(team.workspace, "stop"), headers=headers)
    assert stopped.status_code == 200
    assert stopped.json()["id"] == entry["id"] and stopped.json()["end_at"] is not None
    assert stopped.json()["version"] == 2 and stopped.headers["etag"] == '"2"'
    assert (await client.get(MY_TIMER, headers=headers)).status_code == 204

    nothing = await client.post(timer_url(team.workspace, "stop"), headers=headers)
    assert nothing.status_code == 404
    assert nothing.headers["content-type"] == "application/problem+json"


async def test_starting_stops_the_running_entry_in_any_workspace(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    elsewhere = await make_workspace(session)
    await make_membership(session, elsewhere, team.member, role=Role.MEMBER)
    earlier = await make_entry(session, elsewhere, team.member, start_at=at(9), end_at=None)
    headers = auth_headers(team.member)

    started = await client.post(timer_url(team.workspace, "start"), json={}, headers=headers)
    assert started.status_code == 201
    running = await running_entries(session, team)
    assert [str(entry.id) for entry in running] == [started.json()["id"]]
    await session.refresh(earlier)
    assert earlier.end_at is not None
    assert earlier.end_at.isoformat().replace("+00:00", "Z") == started.json()["start_at"]

    # The running entry is not in `elsewhere`: stopping there finds nothing.
    assert (await client.post(timer_url(elsewhere, "stop"), headers=headers)).status_code == 404
    restarted = await client.post(timer_url(elsewhere, "start"), json={}, headers=headers)
    assert restarted.status_code == 201
    assert [str(entry.id) for entry in await running_entries(session, team)] == [
        restarted.json()["id"]
    ]


async def test_a_refused_start_leaves_the_running_entry_running(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    archived = await make_project(session, team.workspace, archived_at=utcnow())
    running = await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=None)
    headers = auth_headers(team.member)
    refused = await client.post(
        timer_url(team.workspace, "start"), json={"project_id": str(archived.id)}, headers=headers
    )
    assert refused.status_code == 409
    assert [entry.id for entry in await running_entries(session, team)] == [running.id]

    too_long = await client.post(
        timer_url(team.workspace, "start"), json={"description": "x" * 5001}, headers=headers
    )
    assert too_long.status_code == 422
    unknown_field = await client.post(
        timer_url(team.workspace, "start"),
        json={"start_at": "2024-01-01T00:00:00Z"},
        headers=headers,
    )
    assert unknown_field.status_code == 422


async def test_the_timer_respects_prevent_overlaps(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    future = await make_entry(
        session,
        team.workspace,
        team.member,
        start_at=utcnow().replace(year=utcnow().year + 1),
    )
    response = await client.post(
        timer_url(team.workspace, "start"), json={}, headers=auth_headers(team.member)
    )
    assert response.status_code == 409 and str(future.id) in response.json()["detail"]


async def test_outsiders_cannot_use_the_timer_of_a_workspace(
    client: AsyncClient, team: Team
) -> None:
    headers = auth_headers(team.outsider)
    for action in ("start", "stop"):
        response = await client.post(timer_url(team.workspace, action), json={}, headers=headers)
        assert response.status_code == 404
    assert (await client.get(MY_TIMER)).status_code == 401


async def test_my_timer_shows_the_rate_to_admins(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.default_hourly_rate_cents = 1200
    await session.flush()
    headers = auth_headers(team.admin)
    started = await client.post(
        timer_url(team.workspace, "start"), json={"billable": True}, headers=headers
    )
    assert started.json()["hourly_rate_cents"] == 1200
    assert (await client.get(MY_TIMER, headers=headers)).json()["hourly_rate_cents"] == 1200
