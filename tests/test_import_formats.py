"""Harvest's time report, clients and projects, and Toggl's account data: what lands, the
bad rows with their lines (or files and records), second imports, dry runs, the upload and
the command, and Toggl's account data followed by its detailed CSV."""

import io
import re
import zipfile
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli import cli
from app.db.models import (
    Client,
    Membership,
    Project,
    ProjectMember,
    Tag,
    Task,
    TimeEntry,
    User,
    Workspace,
)
from app.enums import ImportFormat, ProjectVisibility
from app.loader.formats import DateOrder, RowError, parse_row
from app.loader.harvest import (
    Member,
    People,
    parse_day_start,
    placeholder_email,
    time_report_rows,
)
from app.loader.reading import RawRow, UnreadableFile
from app.loader.toggl_account import account_records
from app.services.imports import ImportOptions, ImportReport, import_stream
from tests.factories import Team, auth_headers, make_client, make_project
from tests.importing import finished_run
from tests.problems import assert_problem
from tests.test_imports import SAMPLES, entries_of, owner_of, people

ACCOUNT = SAMPLES / "toggl_account"


def account_zip(folder: Path = ACCOUNT, prefix: str = "") -> bytes:
    """The sample account data as Toggl hands it out: a ZIP of its JSON files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.json")):
            archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


async def run(
    session: AsyncSession,
    workspace: Workspace,
    content: bytes,
    source: ImportFormat,
    timezone: str = "UTC",
    **options: Any,
) -> ImportReport:
    caller = await owner_of(session, workspace)
    report = await import_stream(
        session, caller, ImportOptions(source, timezone, **options), io.BytesIO(content)
    )
    # What a run leaves pending must reach the database before the next statement reads.
    await session.flush()
    return report


async def count(session: AsyncSession, model: Any, workspace: Workspace) -> int:
    counted = select(func.count()).select_from(model).where(model.workspace_id == workspace.id)
    return int(await session.scalar(counted) or 0)


async def catalog_counts(session: AsyncSession, workspace: Workspace) -> tuple[int, ...]:
    return tuple(
        [
            await count(session, model, workspace)
            for model in (Client, Project, Task, Tag, Membership, ProjectMember, TimeEntry)
        ]
    )


def lines(report: ImportReport) -> list[int]:
    return [error["line"] for error in report.errors]


# Harvest's detailed time report


HARVEST_ENTRIES = [
    # email, client, project, task, description, start (UTC), seconds, billable, rate
    (
        "ada@example.com",
        "Acme Corp",
        "Website Redesign",
        "Design",
        "Homepage wireframes",
        datetime(2024, 4, 22, 9, tzinfo=UTC),
        5400,
        True,
        10000,
    ),
    (
        "grace@example.com",
        "",
        "Internal",
        "",
        "Team standup",
        datetime(2024, 4, 22, 9, tzinfo=UTC),
        900,
        False,
        None,
    ),
    (
        "grace@example.com",
        "Globex",
        "Data Pipeline",
        "ETL",
        "Fix loader, part 1",
        datetime(2024, 4, 22, 9, 15, tzinfo=UTC),
        6300,
        True,
        12000,
    ),
    (
        "ada@example.com",
        "Acme Corp",
        "Website Redesign",
        "",
        "Review with client",
        datetime(2024, 4, 22, 10, 30, tzinfo=UTC),
        2700,
        True,
        10000,
    ),
    (
        "ada@example.com",
        "Acme Corp",
        "Website Redesign",
        "Design",
        "Icon set\n(second pass)",
        datetime(2024, 4, 23, 9, tzinfo=UTC),
        9000,
        True,
        10000,
    ),
]


async def harvest_entries(session: AsyncSession, workspace: Workspace) -> list[tuple[Any, ...]]:
    """The entries with their rates, in the order of HARVEST_ENTRIES."""
    rows = await session.execute(
        select(TimeEntry.description, TimeEntry.hourly_rate_cents).where(
            TimeEntry.workspace_id == workspace.id
        )
    )
    rates = {description: rate for description, rate in rows}
    return [(*entry[:8], rates[entry[4]]) for entry in await entries_of(session, workspace)]


async def test_harvest_report_places_entries_back_to_back_from_the_day_start(
    session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    content = (SAMPLES / "harvest_time_report.csv").read_bytes()
    report = await run(session, team.workspace, content, ImportFormat.HARVEST_CSV)
    assert (report.rows, report.created, report.duplicates, report.failed) == (11, 5, 0, 6)
    assert await harvest_entries(session, team.workspace) == HARVEST_ENTRIES
    reasons = {error["line"]: error["reason"] for error in report.errors}
    assert list(reasons) == [8, 9, 10, 11, 12, 13]
    assert "2024-13-45" in reasons[8] and "not a date" in reasons[8]
    assert "'one' is not a number of hours" in reasons[9]
    assert "no member is named 'Eve Stranger'" in reasons[10]
    assert "in EUR; the workspace bills in USD" in reasons[11]
    assert "no time to import" in reasons[12]
    assert "neither yes nor no" in reasons[13]

    again = await run(session, team.workspace, content, ImportFormat.HARVEST_CSV)
    assert (again.created, again.duplicates, again.failed) == (0, 5, 6)
    # Another day start moves nothing: a row's id is not its clock time.
    later = await run(
        session, team.workspace, content, ImportFormat.HARVEST_CSV, day_start=time(13)
    )
    assert (later.created, later.duplicates) == (0, 5)
    assert await count(session, Project, team.workspace) == 3


async def test_harvest_day_start_and_timezone_and_placeholders_by_name(
    session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    content = (SAMPLES / "harvest_time_report.csv").read_bytes()
    report = await run(
        session,
        team.workspace,
        content,
        ImportFormat.HARVEST_CSV,
        timezone="Europe/Berlin",
        day_start=time(8, 30),
        create_missing_members=True,
    )
    # Eve Stranger has no account: she becomes a placeholder member, named by an address
    # that cannot be delivered to and is the same on the next import.
    assert (report.created, report.failed) == (6, 5)
    email = placeholder_email("Eve Stranger", team.workspace.id.hex[:12])
    assert email == f"eve.stranger@{team.workspace.id.hex[:12]}.harvest.invalid"
    eve = (await session.scalars(select(User).where(User.email == email))).one()
    assert eve.is_active is False
    starts = [entry[5] for entry in await entries_of(session, team.workspace)]
    # 08:30 in Berlin's summer time is 06:30 UTC.
    assert starts[0] == datetime(2024, 4, 22, 6, 30, tzinfo=UTC)
    again = await run(session, team.workspace, content, ImportFormat.HARVEST_CSV)
    assert (again.created, again.duplicates, again.failed) == (0, 6, 5)


def test_harvest_people_are_matched_by_email_then_name_then_placeholder() -> None:
    members = [
        Member("ada@example.com", "Ada  Lovelace"),
        Member("a.king@example.com", "Ada King"),
        Member("king@example.com", "ada king"),
    ]
    strict = People(members, "ws", create_missing=False)
    assert strict.email_of("Someone", "Grace@Example.com") == "grace@example.com"
    assert strict.email_of("ada lovelace", "") == "ada@example.com"
    with pytest.raises(RowError, match="2 members are named 'Ada King'"):
        strict.email_of("Ada King", "")
    with pytest.raises(RowError, match="no member is named 'José Núñez'"):
        strict.email_of("José Núñez", "")
    assert People(members, "ws", create_missing=True).email_of("José Núñez", "") == (
        "jose.nunez@ws.harvest.invalid"
    )
    placeholder = placeholder_email("李 小龍", "ws")
    assert placeholder.startswith("person.") and placeholder.endswith("@ws.harvest.invalid")
    made_before = People([*members, Member(placeholder, "李 小龍")], "ws", create_missing=False)
    assert made_before.email_of("李 小龍", "") == placeholder
    assert parse_day_start("7:45") == time(7, 45)
    for bad in ("24:00", "9", "09:60", "nine"):
        with pytest.raises(ValueError, match="not a time of day"):
            parse_day_start(bad)


@pytest.mark.parametrize(("hours", "seconds"), [("\u00b2:30", None), ("\uff11:30", 5400)])
def test_harvest_hours_in_other_digits_are_read_or_fail_their_row(
    hours: str, seconds: int | None
) -> None:
    people = People([Member("ada@example.com", "Ada Lovelace")], "ws", create_missing=False)
    row = {"date": "2024-04-22", "hours": hours, "first_name": "Ada", "last_name": "Lovelace"}
    [placed] = time_report_rows([RawRow(2, row)], people, day_start=time(9), currency="USD")
    zone = ZoneInfo("UTC")
    if seconds is None:
        with pytest.raises(RowError, match="is not a number of hours"):
            parse_row(placed, ImportFormat.HARVEST_CSV, zone, DateOrder.MONTH_FIRST)
    else:
        entry = parse_row(placed, ImportFormat.HARVEST_CSV, zone, DateOrder.MONTH_FIRST)
        assert (entry.end_at - entry.start_at).total_seconds() == seconds


async def test_harvest_entries_into_closed_time_fail_with_their_line(
    session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    team.workspace.locked_before = datetime(2024, 4, 23, tzinfo=UTC)
    await session.flush()
    content = (SAMPLES / "harvest_time_report.csv").read_bytes()
    report = await run(session, team.workspace, content, ImportFormat.HARVEST_CSV)
    assert report.created == 1  # only the 23rd's
    closed = [error for error in report.errors if "closed" in error["reason"]]
    assert [error["line"] for error in closed] == [2, 3, 4, 5]


async def test_harvest_report_without_its_columns_is_unreadable(
    session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    no_hours = b"Date,Client,Project,First Name,Last Name\n2024-04-22,A,B,Ada,Lovelace\n"
    with pytest.raises(UnreadableFile, match="no hours column"):
        await run(session, team.workspace, no_hours, ImportFormat.HARVEST_CSV)
    no_people = b"Date,Project,Hours\n2024-04-22,B,1\n"
    with pytest.raises(UnreadableFile, match="First Name, Last Name or Email"):
        await run(session, team.workspace, no_people, ImportFormat.HARVEST_CSV)
    with_email = (
        b"Date,Project,Hours,Email,Billable?\n"
        b"2024-04-22,Site,2,GRACE@example.com,No\n"
        b"2024-04-22,Site,1:30,grace@example.com,No\n"
    )
    report = await run(session, team.workspace, with_email, ImportFormat.HARVEST_CSV)
    assert (report.created, report.failed) == (2, 0)
    spans = [(entry[5], entry[6]) for entry in await entries_of(session, team.workspace)]
    assert spans == [
        (datetime(2024, 4, 22, 9, tzinfo=UTC), 7200),
        (datetime(2024, 4, 22, 11, tzinfo=UTC), 5400),
    ]


# Harvest's clients and projects


async def test_text_the_database_cannot_store_fails_its_row_in_every_format(
    session: AsyncSession, team: Team
) -> None:
    """A NUL character (which PostgreSQL refuses in text) fails its row, on both databases."""
    await people(session, team.workspace)
    entries = (
        b"Email,Project,Description,Start date,Start time,End time,Tags\n"
        b"ada@example.com,Site,nul\x00here,2024-04-22,09:00,10:00,\n"
        b"ada@example.com,Si\x00te,project,2024-04-22,10:00,11:00,\n"
        b"ada@example.com,Site,tag,2024-04-22,11:00,12:00,t\x00g\n"
        b"ada@example.com,Site,fine,2024-04-22,12:00,13:00,\n"
    )
    report = await run(session, team.workspace, entries, ImportFormat.TOGGL_CSV)
    assert (report.created, report.failed) == (1, 3)
    assert [error["reason"] for error in report.errors] == [
        "the description holds a NUL character (\\u0000)",
        "the project name holds a NUL character (\\u0000)",
        "the tag name holds a NUL character (\\u0000)",
    ]
    clients = b"Client Name,Active\nAc\x00me,Yes\nGlobex,Yes\n"
    report = await run(session, team.workspace, clients, ImportFormat.HARVEST_CLIENTS_CSV)
    assert (report.created, report.failed) == (1, 1)
    assert report.errors[0]["reason"] == "the client name holds a NUL character (\\u0000)"


async def test_harvest_clients_are_created_or_updated_by_name(
    session: AsyncSession, team: Team
) -> None:
    existing = await make_client(session, team.workspace, name="acme corp")
    content = (SAMPLES / "harvest_clients.csv").read_bytes()
    report = await run(session, team.workspace, content, ImportFormat.HARVEST_CLIENTS_CSV)
    assert (report.rows, report.created, report.duplicates, report.failed) == (5, 2, 1, 2)
    # The address spans two lines: the rows after it keep their own line numbers.
    assert lines(report) == [6, 7]
    assert "no client name" in report.errors[0]["reason"]
    assert "'Perhaps' is neither yes nor no" in report.errors[1]["reason"]
    clients = await session.execute(
        select(Client.id, Client.name, Client.archived_at.is_not(None)).where(
            Client.workspace_id == team.workspace.id
        )
    )
    # The existing client is matched whatever its case, and keeps its name.
    assert {
        name: (client_id == existing.id, archived) for client_id, name, archived in clients
    } == {
        "acme corp": (True, False),
        "Globex": (False, False),
        "Initech": (False, True),
    }
    again = await run(session, team.workspace, content, ImportFormat.HARVEST_CLIENTS_CSV)
    assert (again.created, again.duplicates, again.failed) == (0, 3, 2)
    assert await count(session, Client, team.workspace) == 3


async def test_harvest_projects_with_rates_budgets_and_archiving(
    session: AsyncSession, team: Team
) -> None:
    acme = await make_client(session, team.workspace, name="Acme Corp")
    site = await make_project(
        session, team.workspace, name="website redesign", client_id=acme.id, color="#123456"
    )
    content = (SAMPLES / "harvest_projects.csv").read_bytes()
    report = await run(session, team.workspace, content, ImportFormat.HARVEST_PROJECTS_CSV)
    assert (report.rows, report.created, report.duplicates, report.failed) == (8, 3, 1, 4)
    assert lines(report) == [6, 7, 8, 9]
    reasons = [error["reason"] for error in report.errors]
    assert "no project name" in reasons[0]
    assert "'a lot' is not an amount" in reasons[1]
    assert "in EUR; the workspace bills in USD" in reasons[2]
    assert "'Internal' is in the file under 'no client' and 'Acme Corp'" in reasons[3]
    projects = await session.execute(
        select(
            Project.id,
            Project.name,
            Client.name,
            Project.is_billable,
            Project.hourly_rate_cents,
            Project.estimate_seconds,
            Project.budget_cents,
            Project.archived_at.is_not(None),
            Project.color,
        )
        .outerjoin(Client, Client.id == Project.client_id)
        .where(Project.workspace_id == team.workspace.id)
        .order_by(Project.name)
    )
    rows = {row[1]: tuple(row[2:]) for row in projects}
    assert rows == {
        "Data Pipeline": ("Globex", True, 15000, None, 500000, False, "#0b7285"),
        "Internal": (None, False, None, None, None, False, "#0b7285"),
        "Old Site": ("Initech", True, 9000, 36000, None, True, "#0b7285"),
        # Matched by name: it keeps its colour and takes the file's rate and estimate.
        "website redesign": ("Acme Corp", True, 12000, 144000, None, False, "#123456"),
    }
    assert (await session.get(Project, site.id)) is not None
    again = await run(session, team.workspace, content, ImportFormat.HARVEST_PROJECTS_CSV)
    assert (again.created, again.duplicates, again.failed) == (0, 4, 4)
    assert await count(session, Project, team.workspace) == 4


# Toggl's account data


async def test_toggl_account_data_builds_the_catalog(session: AsyncSession, team: Team) -> None:
    await people(session, team.workspace, rate=None)
    content = account_zip()
    report = await run(
        session,
        team.workspace,
        content,
        ImportFormat.TOGGL_ACCOUNT_ZIP,
        create_missing_members=True,
    )
    assert (report.rows, report.created, report.duplicates, report.failed) == (24, 15, 2, 7)
    assert [(error["file"], error["line"]) for error in report.errors] == [
        ("workspace_users.json", 4),
        ("clients.json", 4),
        ("tags.json", 4),
        ("projects.json", 5),
        ("projects.json", 6),
        ("projects_users/403.json", 2),
        ("tasks/403.json", 2),
    ]
    reasons = [error["reason"] for error in report.errors]
    assert reasons[0] == "no email"
    assert "client 999 is not in clients.json" in reasons[3]
    assert "color 'red' is not #rrggbb" in reasons[4]
    assert "user 999 is not in workspace_users.json" in reasons[5]

    projects = await session.execute(
        select(
            Project.name,
            Client.name,
            Project.color,
            Project.is_billable,
            Project.hourly_rate_cents,
            Project.estimate_seconds,
            Project.visibility,
            Project.archived_at.is_not(None),
        )
        .outerjoin(Client, Client.id == Project.client_id)
        .where(Project.workspace_id == team.workspace.id)
        .order_by(Project.name)
    )
    assert [tuple(row) for row in projects] == [
        (
            "Data Pipeline",
            "Globex",
            "#26a69a",
            True,
            15000,
            360000,
            ProjectVisibility.PRIVATE,
            False,
        ),
        ("Internal", None, "#9e9e9e", False, None, None, ProjectVisibility.PUBLIC, False),
        ("Old Site", "Initech", "#8d6e63", True, 9000, None, ProjectVisibility.PUBLIC, True),
        (
            "Website Redesign",
            "Acme Corp",
            "#ef5350",
            True,
            12000,
            144000,
            ProjectVisibility.PUBLIC,
            False,
        ),
    ]
    tasks = await session.execute(
        select(Project.name, Task.name, Task.estimate_seconds, Task.done_at.is_not(None))
        .join(Project, Project.id == Task.project_id)
        .where(Task.workspace_id == team.workspace.id)
        .order_by(Task.name)
    )
    assert [tuple(row) for row in tasks] == [
        ("Website Redesign", "Design", 72000, False),
        ("Data Pipeline", "ETL", None, False),
        ("Old Site", "Migration", None, True),
    ]
    tags = await session.scalars(
        select(Tag.name).where(Tag.workspace_id == team.workspace.id).order_by(Tag.name)
    )
    assert list(tags) == ["backend", "client-call", "design"]
    members = await session.execute(
        select(User.email, User.full_name, User.is_active, Membership.hourly_rate_cents)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == team.workspace.id, User.email.like("%@example.com"))
        .order_by(User.email)
    )
    found = {row[0]: tuple(row[1:]) for row in members}
    # A member keeps its name, takes the file's rate when it has none; a newcomer is a
    # placeholder with the file's name and rate.
    assert found["ada@example.com"][2] == 7000
    assert found["grace@example.com"][2] is None
    assert found["linus@example.com"] == ("Linus Torvalds", False, 5050)
    on_project = await session.execute(
        select(User.email, ProjectMember.hourly_rate_cents)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.workspace_id == team.workspace.id)
    )
    assert [tuple(row) for row in on_project] == [("grace@example.com", 16000)]

    before = await catalog_counts(session, team.workspace)
    again = await run(
        session,
        team.workspace,
        content,
        ImportFormat.TOGGL_ACCOUNT_ZIP,
        create_missing_members=True,
    )
    assert (again.created, again.duplicates, again.failed) == (0, 17, 7)
    assert await catalog_counts(session, team.workspace) == before


async def test_toggl_account_then_detailed_csv_puts_entries_on_the_imported_projects(
    session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace, rate=None)
    account = await run(
        session, team.workspace, account_zip(prefix="export/"), ImportFormat.TOGGL_ACCOUNT_ZIP
    )
    # Without placeholders asked for, Linus is refused like the other bad records.
    assert (account.created, account.failed) == (14, 8)
    projects = await count(session, Project, team.workspace)
    entries = await run(
        session,
        team.workspace,
        (SAMPLES / "toggl_detailed.csv").read_bytes(),
        ImportFormat.TOGGL_CSV,
    )
    assert (entries.created, entries.failed) == (5, 0)
    assert await count(session, Project, team.workspace) == projects
    landed = await session.execute(
        select(Project.name, Project.color, TimeEntry.description, TimeEntry.hourly_rate_cents)
        .join(Project, Project.id == TimeEntry.project_id)
        .where(TimeEntry.workspace_id == team.workspace.id)
        .order_by(TimeEntry.start_at)
    )
    # The project's rate, and Grace's own rate on Data Pipeline, price the entries.
    assert [tuple(row) for row in landed] == [
        ("Website Redesign", "#ef5350", "Homepage wireframes", 12000),
        ("Internal", "#9e9e9e", "Team standup", None),
        ("Website Redesign", "#ef5350", "Review with client", 12000),
        ("Data Pipeline", "#26a69a", "Fix loader, part 1", 16000),
        ("Website Redesign", "#ef5350", "Icon set", 12000),
    ]
    tasks = await count(session, Task, team.workspace)
    assert tasks == 3  # Design and ETL were imported with the catalog, not made again


async def test_toggl_account_records_the_database_cannot_store_fail_alone(
    session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    """JSON can hold what no text column takes: a NUL, or half of a surrogate pair."""
    (tmp_path / "clients.json").write_text(
        '[{"id": 1, "name": "Ac\\u0000me"}, {"id": 2, "name": "Glo\\ud800bex"},'
        ' {"id": 3, "name": "Initech"}]'
    )
    (tmp_path / "tags.json").write_text('[{"id": 1, "name": "\\udfffx"}, {"id": 2, "name": "ok"}]')
    report = await run(
        session, team.workspace, account_zip(tmp_path), ImportFormat.TOGGL_ACCOUNT_ZIP
    )
    assert (report.created, report.failed) == (2, 3)
    reasons = [error["reason"] for error in report.errors]
    assert reasons[0] == "the client name holds a NUL character (\\u0000)"
    assert reasons[1].startswith("the client name is not Unicode text")
    assert reasons[2].startswith("the tag name is not Unicode text")
    names = await session.scalars(
        select(Client.name).where(Client.workspace_id == team.workspace.id)
    )
    assert names.all() == ["Initech"]


async def test_a_toggl_client_with_a_flag_that_is_not_one_fails_alone(
    session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    (tmp_path / "clients.json").write_text(
        '[{"id": 1, "name": "Acme", "archived": "yes"}, {"id": 2, "name": "Globex"}]'
    )
    report = await run(
        session, team.workspace, account_zip(tmp_path), ImportFormat.TOGGL_ACCOUNT_ZIP
    )
    assert (report.created, report.failed) == (1, 1)
    assert report.errors[0] == {
        "line": 1,
        "file": "clients.json",
        "reason": "archived 'yes' is neither true nor false",
    }


def test_toggl_account_archives_that_cannot_be_read() -> None:
    def read(content: bytes) -> list[Any]:
        return list(account_records(io.BytesIO(content), "USD"))

    with pytest.raises(UnreadableFile, match="not a ZIP"):
        read(b"clients.json")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnreadableFile, match="none of Toggl's account files"):
        read(buffer.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("clients.json", '[{"id": 1, "name": "A"}]')
        archive.writestr("projects.json", "{not json")
    with pytest.raises(UnreadableFile, match=r"projects\.json is not JSON"):
        read(buffer.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tags.json", '{"name": "a"}')
    with pytest.raises(UnreadableFile, match="not a JSON list"):
        read(buffer.getvalue())
    # Tasks in one file, as some exports have them; and a record that is no object.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("projects.json", '[{"id": 7, "name": "P"}]')
        archive.writestr("tasks.json", '[{"name": "T", "project_id": 7}, 3]')
    records = read(buffer.getvalue())
    assert [type(record).__name__ for record in records] == [
        "ProjectRecord",
        "TaskRecord",
        "BadRecord",
    ]


# All of them through the upload and the command


async def test_dry_runs_write_nothing_for_every_new_format(
    app: FastAPI, client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    url = f"/api/v1/workspaces/{team.workspace.id}/imports"
    before = await catalog_counts(session, team.workspace)
    uploads = [
        ("harvest_csv", "harvest.csv", (SAMPLES / "harvest_time_report.csv").read_bytes(), 5),
        ("harvest_clients_csv", "c.csv", (SAMPLES / "harvest_clients.csv").read_bytes(), 3),
        ("harvest_projects_csv", "p.csv", (SAMPLES / "harvest_projects.csv").read_bytes(), 4),
        ("toggl_account_zip", "toggl.zip", account_zip(), 15),
    ]
    for format, name, content, created in uploads:
        response = await client.post(
            url,
            files={"file": (name, content, "application/octet-stream")},
            data={
                "format": format,
                "timezone": "UTC",
                "dry_run": "true",
                "create_missing_members": "true",
                "day_start": "08:00",
            },
            headers=auth_headers(team.admin),
        )
        body = await finished_run(app, client, response, auth_headers(team.admin))
        assert (body["status"], body["dry_run"]) == ("succeeded", True)
        # Eve Stranger joins in a dry run of the report as she would for real.
        assert body["created_count"] == created + (format == "harvest_csv"), format
        assert body["options"].get("day_start") == ("08:00" if format == "harvest_csv" else None)
        assert await catalog_counts(session, team.workspace) == before
    assert body["errors"][0] == {
        "file": "workspace_users.json",
        "line": 4,
        "reason": "no email",
    }
    assert body["options"] == {
        "timezone": "UTC",
        "date_format": "mdy",
        "create_missing_members": True,
    }


async def test_uploads_of_the_new_formats_record_events_and_keep_rights(
    app: FastAPI, client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    url = f"/api/v1/workspaces/{team.workspace.id}/imports"
    content = (SAMPLES / "harvest_projects.csv").read_bytes()
    form = {"format": "harvest_projects_csv"}
    files = {"file": ("projects.csv", content, "text/csv")}
    member = await client.post(url, files=files, data=form, headers=auth_headers(team.member))
    assert_problem(member, 403)
    outsider = await client.post(url, files=files, data=form, headers=auth_headers(team.outsider))
    assert_problem(outsider, 404)
    bad_start = await client.post(
        url, files=files, data={**form, "day_start": "25:00"}, headers=auth_headers(team.admin)
    )
    assert_problem(bad_start, 422)
    response = await client.post(url, files=files, data=form, headers=auth_headers(team.admin))
    run_id = (await finished_run(app, client, response, auth_headers(team.admin)))["id"]
    events = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/events",
        params={"order": "sequence", "limit": 200},
        headers=auth_headers(team.admin),
    )
    types = [event["type"] for event in events.json()["items"]]
    assert types.count("project.created") == 4
    assert types.count("client.created") == 3
    assert types[-1] == "import.completed"
    summary = events.json()["items"][-1]
    assert summary["origin"] == "import"
    assert summary["subject"] == {"type": "import", "id": run_id}
    assert summary["data"]["object"]["format"] == "harvest_projects_csv"

    broken = await client.post(
        url,
        files={"file": ("toggl.zip", b"PK\x03\x04 broken", "application/zip")},
        data={"format": "toggl_account_zip"},
        headers=auth_headers(team.admin),
    )
    archive = await finished_run(app, client, broken, auth_headers(team.admin))
    assert archive["status"] == "failed"
    assert archive["errors"] == [
        {"file": None, "line": 0, "reason": "The file is not a ZIP archive."}
    ]


@pytest.mark.committed
def test_the_command_imports_the_new_formats(
    database_url: str, committed_team: Team, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    workspace = ["--workspace", str(committed_team.workspace.id)]
    account = tmp_path / "toggl.zip"
    account.write_bytes(account_zip())
    dry = CliRunner().invoke(
        cli, ["import", "toggl-account", str(account), *workspace, "--dry-run"], env=env
    )
    assert dry.exit_code == 1, dry.output
    assert "Dry run" in dry.output and "workspace_users.json" in dry.output
    real = CliRunner().invoke(
        cli,
        ["import", "toggl-account", str(account), *workspace, "--create-missing-members"],
        env=env,
    )
    assert real.exit_code == 1, real.output
    assert "no email" in real.output

    report = tmp_path / "harvest.csv"
    report.write_text(
        "Date,Project,Hours,Billable?,Email\n"
        f"2024-04-22,Website Redesign,1.5,Yes,{committed_team.member.email}\n"
    )
    args = ["import", "harvest", str(report), *workspace, "--timezone", "UTC"]
    bad_start = CliRunner().invoke(cli, [*args, "--day-start", "7am"], env=env)
    assert bad_start.exit_code == 2 and "--day-start" in bad_start.output
    done = CliRunner().invoke(cli, [*args, "--day-start", "07:15"], env=env)
    assert done.exit_code == 0, done.output
    assert counts(done.output) == [1, 1, 0, 0]
    again = CliRunner().invoke(cli, args, env=env)
    assert again.exit_code == 0, again.output
    assert counts(again.output) == [1, 0, 1, 0]


def counts(output: str) -> list[int]:
    """Rows, created, duplicates and failed from the command's summary table."""
    for line in output.splitlines():
        numbers = re.findall(r"\b\d+\b", line)
        if "│" in line and len(numbers) == 4:
            return [int(number) for number in numbers]
    raise AssertionError(output)
