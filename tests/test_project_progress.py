"""Project progress: tracked time, progress against the estimate, spending against the
budget, and the events that mark 80% and 100% of either, from every way time is written."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.types import utcnow
from app.enums import ImportFormat, ProjectVisibility
from app.services.progress import crossed
from tests.conftest import QueryCounter
from tests.factories import Team, auth_headers, make_entry, make_project
from tests.importing import finished_run
from tests.problems import assert_problem
from tests.test_events import read_events
from tests.tracking import entries_url, timer_url

START = datetime(2026, 11, 23, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)


def projects_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/projects"


def test_crossing_counts_each_threshold_once() -> None:
    assert crossed(0, 79, 100) == []
    assert crossed(79, 80, 100) == [80]
    assert crossed(80, 99, 100) == []
    assert crossed(0, 100, 100) == [80, 100]
    assert crossed(100, 150, 100) == []
    assert crossed(90, 70, 100) == []  # going down crosses nothing
    assert crossed(7, 8, 10) == [80]  # 80% of 10 exactly


async def progress_events(client: AsyncClient, team: Team) -> list[tuple[str, int]]:
    events = await read_events(client, team)
    return [
        (event["type"], event["data"]["object"]["percent"])
        for event in events
        if event["type"] in ("project.estimate_reached", "project.budget_reached")
    ]


async def write(
    client: AsyncClient, team: Team, project: Any, start: datetime, hours: float
) -> Any:
    response = await client.post(
        entries_url(team.workspace),
        json={
            "project_id": str(project.id),
            "start_at": start.isoformat(),
            "end_at": (start + hours * HOUR).isoformat(),
            "billable": True,
        },
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_reads_show_tracked_time_progress_and_spending(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(
        session,
        team.workspace,
        name="Site",
        estimate_seconds=10 * 3600,
        budget_cents=200000,
    )
    bare = await make_project(session, team.workspace, name="Bare")
    await make_entry(
        session,
        team.workspace,
        team.member,
        project_id=project.id,
        start_at=START,
        end_at=START + 3 * HOUR,
        billable=True,
        hourly_rate_cents=7000,
    )
    await make_entry(
        session, team.workspace, team.admin, project_id=project.id, start_at=START + 4 * HOUR
    )  # 1 h, not billable
    await make_entry(  # running: not tracked yet
        session, team.workspace, team.admin, project_id=project.id, start_at=START, end_at=None
    )
    deleted = await make_entry(
        session, team.workspace, team.admin, project_id=project.id, start_at=START - 5 * HOUR
    )
    deleted.deleted_at = START
    await session.flush()

    listed = await client.get(projects_url(team), headers=auth_headers(team.owner))
    by_name = {item["name"]: item for item in listed.json()["items"]}
    site = by_name["Site"]
    assert (site["tracked_seconds"], site["progress"]) == (4 * 3600, 0.4)
    assert (site["budget_cents"], site["spent_cents"]) == (200000, 21000)
    assert (by_name["Bare"]["tracked_seconds"], by_name["Bare"]["progress"]) == (0, None)
    assert by_name["Bare"]["spent_cents"] == 0

    one = await client.get(f"{projects_url(team)}/{project.id}", headers=auth_headers(team.owner))
    assert one.json()["tracked_seconds"] == 4 * 3600
    # Members see the time; the money only where the workspace shows them rates.
    member = await client.get(
        f"{projects_url(team)}/{project.id}", headers=auth_headers(team.member)
    )
    assert member.json()["tracked_seconds"] == 4 * 3600
    assert (member.json()["budget_cents"], member.json()["spent_cents"]) == (None, None)

    changed = await client.patch(
        f"{projects_url(team)}/{bare.id}",
        json={"budget_cents": 50000, "estimate_seconds": 7200},
        headers=auth_headers(team.owner),
    )
    assert (changed.json()["budget_cents"], changed.json()["progress"]) == (50000, 0.0)
    refused = await client.patch(
        f"{projects_url(team)}/{bare.id}",
        json={"budget_cents": 0},
        headers=auth_headers(team.owner),
    )
    assert_problem(refused, 422)


async def test_the_project_list_sums_progress_in_one_statement(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: QueryCounter
) -> None:
    for index in range(5):
        project = await make_project(session, team.workspace, estimate_seconds=3600)
        await make_entry(
            session,
            team.workspace,
            team.admin,
            project_id=project.id,
            start_at=START + index * HOUR,
        )
    headers = auth_headers(team.owner)
    query_counter.reset()
    await client.get(projects_url(team), params={"limit": 2}, headers=headers)
    two = query_counter.count
    query_counter.reset()
    await client.get(projects_url(team), params={"limit": 5}, headers=headers)
    # The caller, the page, and one statement for the page's sums, however long the page.
    assert query_counter.count == two == 3


async def test_crossing_80_and_100_percent_records_events(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """Estimate 10 h; budget 1,000.00 at 100.00 an hour: both reach 80% at 8 h."""
    project = await make_project(
        session,
        team.workspace,
        estimate_seconds=10 * 3600,
        budget_cents=100000,
        hourly_rate_cents=10000,
    )
    first = await write(client, team, project, START, 7)
    assert await progress_events(client, team) == []
    await write(client, team, project, START + 8 * HOUR, 1)
    assert await progress_events(client, team) == [
        ("project.estimate_reached", 80),
        ("project.budget_reached", 80),
    ]
    # Moving an entry without changing its length crosses nothing.
    moved = await client.patch(
        f"{entries_url(team.workspace)}/{first['id']}",
        json={"start_at": (START - HOUR).isoformat(), "end_at": (START + 6 * HOUR).isoformat()},
        headers=auth_headers(team.admin),
    )
    assert moved.status_code == 200, moved.text
    assert len(await progress_events(client, team)) == 2
    # Stretching the first entry to 9 h reaches 100% of both (8 + 1 = 10 h, 1,000.00).
    stretched = await client.patch(
        f"{entries_url(team.workspace)}/{first['id']}",
        json={"end_at": (START + 8 * HOUR).isoformat()},
        headers=auth_headers(team.admin),
    )
    assert stretched.status_code == 200, stretched.text
    events = await read_events(client, team)
    reached = [event for event in events if event["type"].endswith("_reached")]
    assert [(e["type"], e["data"]["object"]["percent"]) for e in reached][-2:] == [
        ("project.estimate_reached", 100),
        ("project.budget_reached", 100),
    ]
    assert reached[-2]["subject"] == {"type": "project", "id": str(project.id)}
    assert reached[-2]["data"]["object"]["tracked_seconds"] == 10 * 3600
    assert reached[-1]["data"]["object"]["spent_cents"] == 100000
    # Past 100% nothing more is recorded.
    await write(client, team, project, START + 20 * HOUR, 2)
    assert len(await progress_events(client, team)) == 4


async def test_members_read_the_progress_of_the_projects_they_see(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """Progress events belong to their project: a member who sees it reads them, amounts
    hidden unless the workspace shows members its rates; a private project's stay hidden."""
    targets = {"estimate_seconds": 10 * 3600, "budget_cents": 100000, "hourly_rate_cents": 10000}
    public = await make_project(session, team.workspace, **targets)
    private = await make_project(
        session, team.workspace, visibility=ProjectVisibility.PRIVATE, **targets
    )
    await write(client, team, public, START, 8)
    await write(client, team, private, START + 10 * HOUR, 8)
    assert len(await progress_events(client, team)) == 4

    async def seen_by_member() -> list[dict[str, Any]]:
        events = await read_events(client, team, reader=team.member)
        return [event for event in events if event["type"].endswith("_reached")]

    seen = await seen_by_member()
    assert {event["subject"]["id"] for event in seen} == {str(public.id)}
    estimate, budget = sorted(seen, key=lambda event: event["type"], reverse=True)
    assert estimate["data"]["object"]["tracked_seconds"] == 8 * 3600
    assert budget["data"]["object"]["percent"] == 80
    assert budget["data"]["object"]["budget_cents"] is None
    assert budget["data"]["object"]["spent_cents"] is None
    team.workspace.members_can_see_rates = True
    await session.flush()
    budget = next(e for e in await seen_by_member() if e["type"] == "project.budget_reached")
    assert budget["data"]["object"]["spent_cents"] == 80000


async def test_the_timer_and_the_importer_cross_thresholds_too(
    app: FastAPI, client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """Estimate 1 h: 40 min tracked, a timer running for 30 min is stopped (70 min: both
    thresholds); then an import of two hours onto a 2-hour project crosses both at once."""
    project = await make_project(session, team.workspace, name="Timed", estimate_seconds=3600)
    await make_entry(
        session,
        team.workspace,
        team.admin,
        project_id=project.id,
        start_at=START,
        end_at=START + timedelta(minutes=40),
    )
    await make_entry(
        session,
        team.workspace,
        team.admin,
        project_id=project.id,
        start_at=utcnow() - timedelta(minutes=30),
        end_at=None,
    )
    assert await progress_events(client, team) == []
    stopped = await client.post(timer_url(team.workspace, "stop"), headers=auth_headers(team.admin))
    assert stopped.status_code == 200, stopped.text
    timed = [
        ("project.estimate_reached", 80),
        ("project.estimate_reached", 100),
    ]
    assert await progress_events(client, team) == timed
    # Deleted, the timer's half hour no longer counts; restored, it crosses both again.
    entry_url = f"{entries_url(team.workspace)}/{stopped.json()['id']}"
    admin = auth_headers(team.admin)
    assert (await client.delete(entry_url, headers=admin)).status_code == 204
    assert (await client.post(f"{entry_url}/restore", headers=admin)).status_code == 200
    assert await progress_events(client, team) == timed * 2

    await make_project(session, team.workspace, name="Imported", estimate_seconds=7200)
    lines = [
        f"{uuid.uuid4()},{team.member.email},Imported,"
        f"{(START + n * HOUR).isoformat()},{(START + (n + 1) * HOUR).isoformat()},false"
        for n in range(2)
    ]
    content = "\r\n".join(["id,user_email,project,start_at,end_at,billable", *lines])
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        files={"file": ("native.csv", content.encode(), "text/csv")},
        data={"format": ImportFormat.NATIVE_CSV.value},
        headers=auth_headers(team.owner),
    )
    await finished_run(app, client, response, auth_headers(team.owner))
    assert (await progress_events(client, team))[4:] == [
        ("project.estimate_reached", 80),
        ("project.estimate_reached", 100),
    ]
