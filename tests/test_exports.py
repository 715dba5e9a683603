"""Exports: native CSV, Toggl's CSV and JSON, streamed in batches with the list's rights."""

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import Sessions
from app.repositories.time_entries import EntryFilters
from app.services.exports import NATIVE_COLUMNS, ExportFormat, ExportScope, export_entries
from tests.factories import Team, auth_headers, make_client, make_entry, make_project, make_tag
from tests.problems import assert_problem
from tests.tracking import tag_entry

START = datetime(2024, 4, 22, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def export_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/time-entries/export"


async def tracked(session: AsyncSession, team: Team) -> Any:
    acme = await make_client(session, team.workspace, name="Acme, Inc.")
    site = await make_project(session, team.workspace, name="Site", client_id=acme.id)
    design = await make_tag(session, team.workspace, name="design, ux")
    call = await make_tag(session, team.workspace, name="call")
    entry = await make_entry(
        session,
        team.workspace,
        team.member,
        project_id=site.id,
        start_at=START,
        end_at=START + HOUR + timedelta(minutes=30),
        description='Wireframes, "v2"\nsecond line',
        billable=True,
        hourly_rate_cents=10000,
    )
    await tag_entry(session, entry, design, call)
    await make_entry(session, team.workspace, team.admin, start_at=START + 3 * HOUR)
    return entry


async def test_native_csv_carries_every_field(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await tracked(session, team)
    response = await client.get(
        export_url(team), params={"format": "csv"}, headers=auth_headers(team.owner)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and ".csv" in disposition
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == NATIVE_COLUMNS
    assert len(rows) == 2
    first = rows[0]
    assert first["id"] == str(entry.id)
    assert first["user_email"] == team.member.email
    assert (first["client"], first["project"], first["task"]) == ("Acme, Inc.", "Site", "")
    assert first["description"] == 'Wireframes, "v2"\nsecond line'
    assert datetime.fromisoformat(first["start_at"]) == START
    assert datetime.fromisoformat(first["end_at"]) == START + 1.5 * HOUR
    assert first["duration_seconds"] == "5400"
    assert (first["billable"], first["hourly_rate_cents"]) == ("true", "10000")
    assert json.loads(first["tags"]) == ["call", "design, ux"]


async def test_toggl_csv_uses_its_columns_and_the_callers_local_time(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await tracked(session, team)
    team.owner.timezone = "Europe/Berlin"
    await session.flush()
    response = await client.get(
        export_url(team), params={"format": "toggl_csv"}, headers=auth_headers(team.owner)
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    first = rows[0]
    assert first["Email"] == team.member.email and first["Client"] == "Acme, Inc."
    assert (first["Start date"], first["Start time"]) == ("2024-04-22", "11:00:00")
    assert (first["End date"], first["End time"]) == ("2024-04-22", "12:30:00")
    assert first["Duration"] == "01:30:00" and first["Billable"] == "Yes"
    assert first["Tags"] == "call, design, ux"
    assert first[f"Amount ({team.workspace.currency})"] == "150.00"
    assert rows[1]["Billable"] == "No" and rows[1][f"Amount ({team.workspace.currency})"] == ""


async def test_json_is_an_array_of_entries(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await tracked(session, team)
    response = await client.get(
        export_url(team), params={"format": "json"}, headers=auth_headers(team.admin)
    )
    assert response.headers["content-type"].startswith("application/json")
    items = response.json()
    assert items[0]["id"] == str(entry.id)
    assert items[0]["tags"] == ["call", "design, ux"] and items[0]["hourly_rate_cents"] == 10000
    assert len(items) == 2


async def test_the_list_filters_and_rights_apply(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await tracked(session, team)
    mine = await client.get(
        export_url(team), params={"format": "json"}, headers=auth_headers(team.member)
    )
    items = mine.json()
    assert [item["id"] for item in items] == [str(entry.id)]
    assert items[0]["hourly_rate_cents"] is None  # members see no rates here
    later = await client.get(
        export_url(team),
        params={"format": "json", "from": (START + 2 * HOUR).isoformat()},
        headers=auth_headers(team.owner),
    )
    assert [item["user_email"] for item in later.json()] == [team.admin.email]
    assert_problem(await client.get(export_url(team), headers=auth_headers(team.outsider)), 404)
    bad = await client.get(
        export_url(team), params={"format": "ods"}, headers=auth_headers(team.owner)
    )
    assert_problem(bad, 422)


async def test_batches_page_through_every_entry_once(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, team: Team
) -> None:
    made = [
        await make_entry(session, team.workspace, team.member, start_at=START + day * HOUR * 24)
        for day in range(7)
    ]
    scope = ExportScope(team.workspace, viewer_id=None, shows_rates=True)
    chunks = [
        chunk
        async for chunk in export_entries(
            Sessions.alike(sessionmaker), scope, EntryFilters(), ExportFormat.JSON, batch_size=3
        )
    ]
    assert len(chunks) == 1 + 3 + 1  # the opening, three batches (3, 3, 1), the closing
    assert [item["id"] for item in json.loads("".join(chunks))] == [str(e.id) for e in made]


@pytest.mark.committed
def test_the_cli_exports_the_same_way(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], committed_team: Team
) -> None:
    team = committed_team
    result = CliRunner().invoke(
        cli,
        ["export", "--workspace", str(team.workspace.id), "--format", "csv"],
        env={"DATABASE_URL": database_url, "ENVIRONMENT": "test"},
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == ",".join(NATIVE_COLUMNS)
    missing = CliRunner().invoke(
        cli,
        ["export", "--workspace", str(uuid.uuid4())],
        env={"DATABASE_URL": database_url, "ENVIRONMENT": "test"},
    )
    assert missing.exit_code == 1


def test_the_cli_refuses_instants_out_of_range(database_url: str) -> None:
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31", "1899-12-31"):
        result = CliRunner().invoke(
            cli,
            ["export", "--workspace", str(uuid.uuid4()), "--from", value],
            env={"DATABASE_URL": database_url, "ENVIRONMENT": "test"},
        )
        assert result.exit_code == 2, result.output
        assert "1900-01-01" in result.output
