"""Summary totals computed by hand on fixed entries: local days and weeks across
daylight-saving changes, entries crossing midnight, rounding steps, and rate snapshots."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories.memberships import MembershipRepository
from tests.factories import Team, auth_headers, make_entry, make_project, make_project_member
from tests.reporting import summary

QUARTER = timedelta(minutes=15)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def buckets(client: AsyncClient, team: Team, **params: Any) -> list[tuple[str, int]]:
    report = await summary(client, team, team.admin, **params)
    return [(group["key"], group["seconds"]) for group in report["groups"]]


@pytest.mark.parametrize(
    ("tz", "group_by", "week_start", "starts", "expected"),
    [
        # Berlin, spring forward on Sunday 31 March 2024 (23 hours, 23:00Z to 22:00Z).
        (
            "Europe/Berlin",
            "day",
            "monday",
            [
                utc(2024, 3, 30, 22, 59),
                utc(2024, 3, 30, 23, 0),
                utc(2024, 3, 31, 21, 59),
                utc(2024, 3, 31, 22, 0),
            ],
            [("2024-03-30", 900), ("2024-03-31", 1800), ("2024-04-01", 900)],
        ),
        # Berlin, fall back on Sunday 27 October 2024 (25 hours, 22:00Z to 23:00Z).
        (
            "Europe/Berlin",
            "day",
            "monday",
            [
                utc(2024, 10, 26, 21, 59),
                utc(2024, 10, 26, 22, 0),
                utc(2024, 10, 27, 22, 59),
                utc(2024, 10, 27, 23, 0),
            ],
            [("2024-10-26", 900), ("2024-10-27", 1800), ("2024-10-28", 900)],
        ),
        # New York, spring forward on Sunday 10 March 2024 (05:00Z to 04:00Z next day).
        (
            "America/New_York",
            "day",
            "sunday",
            [
                utc(2024, 3, 10, 4, 59),
                utc(2024, 3, 10, 5, 0),
                utc(2024, 3, 11, 3, 59),
                utc(2024, 3, 11, 4, 0),
            ],
            [("2024-03-09", 900), ("2024-03-10", 1800), ("2024-03-11", 900)],
        ),
        # New York, fall back on Sunday 3 November 2024 (04:00Z to 05:00Z next day).
        (
            "America/New_York",
            "day",
            "sunday",
            [
                utc(2024, 11, 3, 3, 59),
                utc(2024, 11, 3, 4, 0),
                utc(2024, 11, 4, 4, 59),
                utc(2024, 11, 4, 5, 0),
            ],
            [("2024-11-02", 900), ("2024-11-03", 1800), ("2024-11-04", 900)],
        ),
        # Weeks around the same changes: Berlin weeks from Monday, New York's from Sunday.
        (
            "Europe/Berlin",
            "week",
            "monday",
            [
                utc(2024, 3, 24, 22, 59),
                utc(2024, 3, 24, 23, 0),
                utc(2024, 3, 31, 21, 59),
                utc(2024, 3, 31, 22, 0),
            ],
            [("2024-03-18", 900), ("2024-03-25", 1800), ("2024-04-01", 900)],
        ),
        (
            "America/New_York",
            "week",
            "sunday",
            [
                utc(2024, 11, 3, 3, 59),
                utc(2024, 11, 3, 4, 0),
                utc(2024, 11, 10, 4, 59),
                utc(2024, 11, 10, 5, 0),
            ],
            [("2024-10-27", 900), ("2024-11-03", 1800), ("2024-11-10", 900)],
        ),
        (
            "America/New_York",
            "week",
            "monday",
            [utc(2024, 11, 3, 3, 59), utc(2024, 11, 4, 4, 59), utc(2024, 11, 4, 5, 0)],
            [("2024-10-28", 1800), ("2024-11-04", 900)],
        ),
        (
            "Europe/Berlin",
            "month",
            "monday",
            [
                utc(2024, 3, 31, 21, 59),
                utc(2024, 3, 31, 22, 0),
                utc(2024, 10, 31, 22, 59),
                utc(2024, 10, 31, 23, 0),
            ],
            [("2024-03", 900), ("2024-04", 900), ("2024-10", 900), ("2024-11", 900)],
        ),
    ],
)
async def test_buckets_follow_local_time_across_daylight_saving(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    tz: str,
    group_by: str,
    week_start: str,
    starts: list[datetime],
    expected: list[tuple[str, int]],
) -> None:
    for start in starts:
        await make_entry(
            session, team.workspace, team.member, start_at=start, end_at=start + QUARTER
        )
    assert await buckets(client, team, group_by=group_by, tz=tz, week_start=week_start) == expected


async def test_an_entry_crossing_midnight_counts_on_the_day_it_starts(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    # 23:30 to 01:00 in Berlin (summer time): one and a half hours, all on the first day.
    await make_entry(
        session,
        team.workspace,
        team.member,
        start_at=utc(2024, 6, 3, 21, 30),
        end_at=utc(2024, 6, 3, 23, 0),
    )
    assert await buckets(client, team, group_by="day", tz="Europe/Berlin") == [("2024-06-03", 5400)]
    assert await buckets(client, team, group_by="day", tz="UTC") == [("2024-06-03", 5400)]


@pytest.mark.parametrize(
    ("minutes", "lengths", "up", "down", "nearest"),
    [
        (1, [60, 61, 89, 90], [60, 120, 120, 120], [60, 60, 60, 60], [60, 60, 60, 120]),
        (6, [360, 361, 539, 540], [360, 720, 720, 720], [360, 360, 360, 360], [360, 360, 360, 720]),
        (
            15,
            [900, 901, 1349, 1350],
            [900, 1800, 1800, 1800],
            [900, 900, 900, 900],
            [900, 900, 900, 1800],
        ),
    ],
)
async def test_rounding_at_the_boundary_and_one_second_over(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    minutes: int,
    lengths: list[int],
    up: list[int],
    down: list[int],
    nearest: list[int],
) -> None:
    for index, seconds in enumerate(lengths):
        start = utc(2024, 5, 6 + index, 9)
        await make_entry(
            session,
            team.workspace,
            team.member,
            start_at=start,
            end_at=start + timedelta(seconds=seconds),
        )
    assert [s for _, s in await buckets(client, team, group_by="day", tz="UTC")] == lengths
    for rounding, expected in (("up", up), ("down", down), ("nearest", nearest)):
        rounded = await buckets(
            client, team, group_by="day", tz="UTC", rounding=rounding, rounding_minutes=minutes
        )
        assert [seconds for _, seconds in rounded] == expected, rounding


async def test_amounts_follow_the_rate_each_entry_took(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """Entries written through the API take the project member's rate, else the project's,
    else the member's, else the workspace default; the report sums what they took."""
    team.workspace.default_hourly_rate_cents = 1000
    membership = await MembershipRepository(session, team.workspace.id).get_by_user(team.member.id)
    membership.hourly_rate_cents = 2000
    personal = await make_project(
        session, team.workspace, name="A personal", hourly_rate_cents=3000
    )
    await make_project_member(session, personal, team.member, hourly_rate_cents=4000)
    rated = await make_project(session, team.workspace, name="B rated", hourly_rate_cents=3000)
    plain = await make_project(session, team.workspace, name="C plain", is_billable=True)
    await session.flush()
    url = f"/api/v1/workspaces/{team.workspace.id}/time-entries"
    for day, project_id in enumerate([personal.id, rated.id, plain.id, None]):
        start = utc(2024, 5, 6 + day, 9)
        body = {
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=1)).isoformat(),
            "billable": True,
            **({"project_id": str(project_id)} if project_id else {}),
        }
        created = await client.post(url, json=body, headers=auth_headers(team.member))
        assert created.status_code == 201, created.text
    team.workspace.default_hourly_rate_cents = 9999  # later changes leave snapshots alone
    await session.flush()
    report = await summary(client, team, team.admin, group_by="project")
    assert [(g["label"], g["amount_cents"]) for g in report["groups"]] == [
        ("A personal", 4000),
        ("B rated", 3000),
        ("C plain", 2000),
        ("(no project)", 2000),
    ]
    assert report["totals"]["amount_cents"] == 11000
