"""The summary report: groups, timezone buckets, rounding, rates and who sees what."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    Team,
    auth_headers,
    make_client,
    make_entry,
    make_project,
    make_tag,
)
from tests.problems import assert_problem
from tests.reporting import summary, summary_url
from tests.tracking import tag_entry

HOUR = timedelta(hours=1)
MONDAY = datetime(2024, 4, 22, 9, tzinfo=UTC)


def by_label(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {group["label"]: group for group in groups}


async def test_groups_by_project_and_user_with_totals_and_amounts(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace, name="Acme")
    site = await make_project(session, team.workspace, name="Site", client_id=acme.id)
    await make_entry(
        session,
        team.workspace,
        team.member,
        project_id=site.id,
        start_at=MONDAY,
        end_at=MONDAY + 2 * HOUR,
        billable=True,
        hourly_rate_cents=6000,
    )
    await make_entry(
        session,
        team.workspace,
        team.admin,
        project_id=site.id,
        start_at=MONDAY,
        end_at=MONDAY + HOUR / 2,
        billable=True,
        hourly_rate_cents=10001,
    )
    await make_entry(
        session,
        team.workspace,
        team.member,
        start_at=MONDAY + 3 * HOUR,
        end_at=MONDAY + 4 * HOUR,
    )
    # Other workspaces' time never shows.
    await make_entry(session, team.other_workspace, team.outsider, start_at=MONDAY)

    report = await summary(client, team, team.owner, group_by="project", sub_group_by="user")
    assert report["currency"] == team.workspace.currency
    assert report["totals"] == {
        "seconds": 3.5 * 3600,
        "billable_seconds": 2.5 * 3600,
        "amount_cents": 12000 + 5001,  # 0.5 h at 100.01 rounds half up
    }
    groups = by_label(report["groups"])
    assert list(groups) == ["Site", "(no project)"]
    assert groups["Site"]["key"] == str(site.id)
    assert groups["Site"]["seconds"] == 2.5 * 3600 and groups["Site"]["amount_cents"] == 17001
    users = by_label(groups["Site"]["groups"])
    assert {group["key"] for group in users.values()} == {str(team.member.id), str(team.admin.id)}
    assert groups["(no project)"]["key"] is None
    assert groups["(no project)"]["billable_seconds"] == 0
    assert groups["(no project)"]["amount_cents"] == 0

    clients = await summary(client, team, team.admin, group_by="client")
    assert [(g["label"], g["seconds"]) for g in clients["groups"]] == [
        ("Acme", 2.5 * 3600),
        ("(no client)", 3600),
    ]


async def test_members_report_on_their_own_time_and_see_amounts_only_when_allowed(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await make_entry(
        session,
        team.workspace,
        team.member,
        start_at=MONDAY,
        billable=True,
        hourly_rate_cents=5000,
    )
    await make_entry(session, team.workspace, team.admin, start_at=MONDAY, billable=True)
    hidden = await summary(client, team, team.member, group_by="user")
    assert hidden["totals"] == {"seconds": 3600, "billable_seconds": 3600, "amount_cents": None}
    assert [group["key"] for group in hidden["groups"]] == [str(team.member.id)]
    assert hidden["groups"][0]["amount_cents"] is None

    team.workspace.members_can_see_rates = True
    await session.flush()
    shown = await summary(client, team, team.member, group_by="user")
    assert shown["totals"]["amount_cents"] == 5000

    outsider = await client.get(
        summary_url(team.workspace),
        params={"group_by": "user"},
        headers=auth_headers(team.outsider),
    )
    assert_problem(outsider, 404)
    assert_problem(await client.get(summary_url(team.workspace), params={"group_by": "user"}), 401)


async def test_days_follow_the_timezone_across_daylight_saving(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """Berlin moves to summer time on 2024-03-31, a day of 23 hours."""
    starts = [
        datetime(2024, 3, 30, 22, 30, tzinfo=UTC),  # 23:30 on the 30th in Berlin
        datetime(2024, 3, 30, 23, 30, tzinfo=UTC),  # 00:30 on the 31st
        datetime(2024, 3, 31, 21, 30, tzinfo=UTC),  # 23:30 on the 31st, summer time
        datetime(2024, 3, 31, 22, 30, tzinfo=UTC),  # 00:30 on 1 April
    ]
    for start in starts:
        await make_entry(
            session, team.workspace, team.member, start_at=start, end_at=start + HOUR / 4
        )
    report = await summary(
        client,
        team,
        team.admin,
        group_by="day",
        tz="Europe/Berlin",
        **{"from": "2024-03-30", "to": "2024-04-02"},
    )
    assert [(group["key"], group["seconds"]) for group in report["groups"]] == [
        ("2024-03-30", 900),
        ("2024-03-31", 1800),
        ("2024-04-01", 900),
    ]
    in_utc = await summary(client, team, team.admin, group_by="day", tz="UTC")
    assert [group["key"] for group in in_utc["groups"]] == ["2024-03-30", "2024-03-31"]
    # A date range is read in the report's timezone: 1 April starts at 22:00 UTC the day before.
    april = await summary(
        client, team, team.admin, group_by="day", tz="Europe/Berlin", **{"from": "2024-04-01"}
    )
    assert april["totals"]["seconds"] == 900


async def test_weeks_start_on_the_chosen_day_and_months_are_named(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    sunday = datetime(2024, 4, 21, 10, tzinfo=UTC)
    await make_entry(session, team.workspace, team.member, start_at=sunday)
    await make_entry(session, team.workspace, team.member, start_at=sunday + timedelta(days=1))
    await make_entry(
        session, team.workspace, team.member, start_at=datetime(2024, 5, 2, 9, tzinfo=UTC)
    )
    monday_weeks = await summary(
        client, team, team.admin, group_by="week", tz="UTC", week_start="monday"
    )
    assert [g["key"] for g in monday_weeks["groups"]] == ["2024-04-15", "2024-04-22", "2024-04-29"]
    sunday_weeks = await summary(
        client, team, team.admin, group_by="week", tz="UTC", week_start="sunday"
    )
    assert [(g["key"], g["seconds"]) for g in sunday_weeks["groups"]] == [
        ("2024-04-21", 7200),
        ("2024-04-28", 3600),
    ]
    months = await summary(
        client, team, team.admin, group_by="month", sub_group_by="week", tz="UTC"
    )
    assert [(g["key"], g["label"], g["seconds"]) for g in months["groups"]] == [
        ("2024-04", "2024-04", 7200),
        ("2024-05", "2024-05", 3600),
    ]
    assert [g["key"] for g in months["groups"][0]["groups"]] == ["2024-04-15", "2024-04-22"]


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("up", [900, 900, 900, 1800]), ("down", [0, 0, 900, 900]), ("nearest", [0, 900, 900, 900])],
)
async def test_rounding_applies_to_each_entry_before_summing(
    client: AsyncClient, session: AsyncSession, team: Team, rounding: str, expected: list[int]
) -> None:
    minutes = [7, 8, 15, 16]
    for day, length in enumerate(minutes):
        start = MONDAY + timedelta(days=day)
        await make_entry(
            session,
            team.workspace,
            team.member,
            start_at=start,
            end_at=start + timedelta(minutes=length),
        )
    report = await summary(
        client, team, team.admin, group_by="day", tz="UTC", rounding=rounding, rounding_minutes=15
    )
    assert [group["seconds"] for group in report["groups"]] == expected
    assert report["totals"]["seconds"] == sum(expected)


async def test_running_entries_count_up_to_now_only_when_asked(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    started = datetime.now(UTC) - HOUR
    await make_entry(session, team.workspace, team.member, start_at=started, end_at=None)
    left_out = await summary(client, team, team.admin, group_by="user")
    assert left_out["totals"]["seconds"] == 0 and left_out["groups"] == []
    counted = await summary(client, team, team.admin, group_by="user", include_running="true")
    assert 3600 <= counted["totals"]["seconds"] < 3700


async def test_tags_billable_and_description_groups(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    design, call = (
        await make_tag(session, team.workspace, name="design"),
        await make_tag(session, team.workspace, name="call"),
    )
    both = await make_entry(
        session, team.workspace, team.member, start_at=MONDAY, description="Kickoff", billable=True
    )
    await tag_entry(session, both, design, call)
    await make_entry(
        session, team.workspace, team.member, start_at=MONDAY + 2 * HOUR, description=""
    )
    tags = await summary(client, team, team.admin, group_by="tag")
    assert [(g["label"], g["seconds"]) for g in tags["groups"]] == [
        ("call", 3600),
        ("design", 3600),
        ("(no tag)", 3600),
    ]
    assert tags["totals"]["seconds"] == 7200  # an entry with two tags counts once in all
    billable = await summary(client, team, team.admin, group_by="billable")
    assert [(g["key"], g["label"]) for g in billable["groups"]] == [
        (True, "Billable"),
        (False, "Non-billable"),
    ]
    described = await summary(client, team, team.admin, group_by="description", billable="true")
    assert [(g["key"], g["label"]) for g in described["groups"]] == [("Kickoff", "Kickoff")]


async def test_filters_by_tag_and_client_hold_when_grouping_by_them(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """The filters' subqueries read the tables the groups join; they must not merge."""
    acme = await make_client(session, team.workspace, name="Acme")
    site = await make_project(session, team.workspace, name="Site", client_id=acme.id)
    other = await make_project(session, team.workspace, name="Other")
    design = await make_tag(session, team.workspace, name="design")
    tagged = await make_entry(
        session, team.workspace, team.member, project_id=site.id, start_at=MONDAY
    )
    await tag_entry(session, tagged, design)
    await make_entry(
        session, team.workspace, team.member, project_id=other.id, start_at=MONDAY + 2 * HOUR
    )
    filters = {"tag_id": str(design.id), "client_id": str(acme.id)}
    for group_by, sub_group_by, label in [
        ("tag", "client", "design"),
        ("client", "tag", "Acme"),
        ("project", "tag", "Site"),
        ("month", "tag", "2024-04"),
    ]:
        report = await summary(
            client, team, team.admin, group_by=group_by, sub_group_by=sub_group_by, **filters
        )
        assert [(g["label"], g["seconds"]) for g in report["groups"]] == [(label, 3600)], group_by
        assert report["totals"]["seconds"] == 3600


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "planet"},
        {"group_by": "day", "rounding": "up"},
        {"group_by": "day", "rounding_minutes": 15},
        {"group_by": "user", "sub_group_by": "user"},
        {"group_by": "day", "tz": "Mars/Olympus"},
        {"group_by": "day", "from": "2000-01-01", "to": "2024-01-01"},
        {"group_by": "day", "from": "2024-01-01T00:00:00"},
    ],
)
async def test_bad_report_requests_are_422(
    client: AsyncClient, team: Team, params: dict[str, str]
) -> None:
    response = await client.get(
        summary_url(team.workspace), params=params, headers=auth_headers(team.admin)
    )
    assert_problem(response, 422)


async def test_the_work_is_done_in_sql_in_a_fixed_number_of_statements(
    client: AsyncClient, session: AsyncSession, team: Team, query_counter: Any
) -> None:
    counts = []
    for batch in range(2):
        for day in range(5 * batch + 1):
            await make_entry(
                session,
                team.workspace,
                team.member,
                start_at=MONDAY - timedelta(days=day + 10 * batch),
            )
        query_counter.reset()
        await summary(client, team, team.admin, group_by="day", sub_group_by="user", tz="UTC")
        counts.append(query_counter.count)
    assert counts[0] == counts[1]
