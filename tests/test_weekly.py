"""The weekly timesheet: people or projects by local days, totals every way, counted by
hand across the weeks daylight saving ends in Berlin and in New York."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import User
from tests.factories import Team, auth_headers, make_entry, make_project
from tests.problems import assert_problem


def weekly_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/reports/weekly"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def entry(
    session: AsyncSession, team: Team, user: User, start: datetime, minutes: int, **values: Any
) -> None:
    await make_entry(
        session,
        team.workspace,
        user,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        **values,
    )


async def weekly(client: AsyncClient, team: Team, user: User, **params: Any) -> Any:
    response = await client.get(weekly_url(team), params=params, headers=auth_headers(user))
    assert response.status_code == 200, response.text
    return response if params.get("format", "json") != "json" else response.json()


async def berlin_week(session: AsyncSession, team: Team) -> None:
    """2026-W43, Monday 19 to Sunday 25 October; at 03:00 on Sunday Berlin goes from CEST
    (UTC+2) back to CET (UTC+1), so that Sunday lasts 25 hours."""
    admin, member = team.admin, team.member
    # Monday 00:00 CEST is Sunday 22:00 UTC: the week's first minute, 1 h.
    await entry(session, team, admin, utc(2026, 10, 18, 22), 60)
    # Sunday 18 October 23:59 CEST: the week before.
    await entry(session, team, admin, utc(2026, 10, 18, 21, 59), 60)
    # Saturday 23:30 CEST (21:30 UTC), 1 h: Saturday, though it ends on Sunday.
    await entry(session, team, admin, utc(2026, 10, 24, 21, 30), 60)
    # Sunday 00:00 CEST to 04:00 CET: five hours by the clock's four.
    await entry(session, team, member, utc(2026, 10, 24, 22), 300)
    # Sunday 23:30 CET is 22:30 UTC, 30 min: still Sunday (it ends at 23:00 UTC).
    await entry(session, team, member, utc(2026, 10, 25, 22, 30), 30)
    # Monday 26 October 00:00 CET is 23:00 UTC: the next week.
    await entry(session, team, member, utc(2026, 10, 25, 23), 60)


async def test_a_berlin_week_with_the_daylight_saving_change(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await berlin_week(session, team)
    sheet = await weekly(client, team, team.owner, week="2026-W43", tz="Europe/Berlin")
    assert sheet["rows"] == "user"
    assert sheet["days"] == [(date(2026, 10, 19) + timedelta(days=n)).isoformat() for n in range(7)]
    lines = {line["label"]: line for line in sheet["lines"]}
    assert lines[team.admin.full_name]["days"] == [3600, 0, 0, 0, 0, 3600, 0]
    assert lines[team.admin.full_name]["seconds"] == 7200
    assert lines[team.member.full_name]["days"] == [0, 0, 0, 0, 0, 0, 19800]
    assert lines[team.member.full_name]["seconds"] == 19800
    assert sheet["day_totals"] == [3600, 0, 0, 0, 0, 3600, 19800]
    assert sheet["seconds"] == 27000

    # Read in UTC the same entries fall on other days.
    in_utc = await weekly(client, team, team.owner, week="2026-W43", tz="UTC")
    # Saturday 21:30 and 22:00 UTC; Sunday 22:30 and 23:00 UTC (the next Berlin week).
    assert in_utc["day_totals"] == [0, 0, 0, 0, 0, 3600 + 18000, 1800 + 3600]


async def test_a_new_york_week_as_one_persons_projects(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """2026-W44, Monday 26 October to Sunday 1 November; at 02:00 on Sunday New York goes
    from EDT (UTC-4) to EST (UTC-5): Sunday runs from 04:00 UTC to 05:00 UTC the next day."""
    site = await make_project(session, team.workspace, name="Site")
    ops = await make_project(session, team.workspace, name="Ops")
    member = team.member
    await entry(session, team, member, utc(2026, 10, 26, 4), 120, project_id=site.id)  # Mon 00:00
    await entry(session, team, member, utc(2026, 10, 26, 3, 59), 60, project_id=site.id)  # Sun
    await entry(session, team, member, utc(2026, 11, 1, 4, 30), 180, project_id=ops.id)  # Sun
    await entry(session, team, member, utc(2026, 11, 2, 4, 30), 30, project_id=ops.id)  # Sun 23:30
    await entry(session, team, member, utc(2026, 11, 2, 5), 60, project_id=ops.id)  # next Mon
    await entry(session, team, team.admin, utc(2026, 10, 27, 14), 60, project_id=ops.id)

    params = {"week": "2026-W44", "tz": "America/New_York"}
    # A member's own timesheet: their projects by day, the admin's hour nowhere.
    mine = await weekly(client, team, member, **params)
    assert mine["rows"] == "project"
    assert [line["label"] for line in mine["lines"]] == ["Ops", "Site"]
    assert mine["lines"][0]["days"] == [0, 0, 0, 0, 0, 0, 12600]
    assert mine["lines"][1]["days"] == [7200, 0, 0, 0, 0, 0, 0]
    assert (mine["day_totals"], mine["seconds"]) == ([7200, 0, 0, 0, 0, 0, 12600], 19800)

    # An admin asking about one person gets the same lines; about everyone, people.
    one = await weekly(client, team, team.admin, user_id=str(member.id), **params)
    assert [line["days"] for line in one["lines"]] == [line["days"] for line in mine["lines"]]
    everyone = await weekly(client, team, team.admin, **params)
    assert everyone["rows"] == "user" and everyone["seconds"] == 19800 + 3600
    by_project = await weekly(client, team, team.admin, rows="project", **params)
    assert [line["seconds"] for line in by_project["lines"]] == [12600 + 3600, 7200]
    # The same days given as from and to.
    span = await weekly(client, team, member, **{"from": "2026-10-26", "to": "2026-11-02"})
    assert span["timezone"] == "UTC" and len(span["days"]) == 7


async def test_the_timesheet_as_csv_and_xlsx(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    await berlin_week(session, team)
    team.admin.full_name = "=Admin"  # a name that must not become a formula
    await session.flush()
    params = {"week": "2026-W43", "tz": "Europe/Berlin"}
    response = await weekly(client, team, team.owner, format="csv", **params)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["Person", *(f"2026-10-{day}" for day in range(19, 26)), "Total"]
    assert rows[1] == ["'=Admin", "1:00", "0:00", "0:00", "0:00", "0:00", "1:00", "0:00", "2:00"]
    assert rows[2][1:] == ["0:00"] * 6 + ["5:30", "5:30"]
    assert rows[3] == ["Total", "1:00", "0:00", "0:00", "0:00", "0:00", "1:00", "5:30", "7:30"]

    response = await weekly(client, team, team.owner, format="xlsx", **params)
    (tmp_path / "week.xlsx").write_bytes(response.content)
    sheet = openpyxl.load_workbook(tmp_path / "week.xlsx")["Week"]
    assert sheet.freeze_panes == "A2"
    values = list(sheet.values)
    assert values[0][0] == "Person" and values[0][-1] == "Total"
    assert values[1][0] == "=Admin" and sheet["A2"].data_type == "s"
    assert values[-1][0] == "Total"
    assert [cell.total_seconds() for cell in values[-1][1:]] == [
        3600, 0, 0, 0, 0, 3600, 19800, 27000
    ]  # fmt: skip
    assert sheet["H4"].number_format == "[h]:mm"


async def test_bad_weeks_and_outsiders(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.owner)
    for params in (
        {"week": "2026-W54"},
        {"week": "2026-48"},
        {"week": "2026-W48", "from": "2026-11-23", "to": "2026-11-30"},
        {"from": "2026-11-23"},
        {"from": "2026-11-23", "to": "2026-12-31"},
        {"format": "ods"},
    ):
        assert_problem(await client.get(weekly_url(team), params=params, headers=headers), 422)
    outsider = await client.get(weekly_url(team), headers=auth_headers(team.outsider))
    assert_problem(outsider, 404)
    current = (await client.get(weekly_url(team), headers=headers)).json()
    monday = date.fromisoformat(current["days"][0])
    assert monday.weekday() == 0 and len(current["days"]) == 7
