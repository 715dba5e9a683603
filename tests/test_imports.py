"""The loader: real exports and their variants, idempotence, dry runs, bad rows, the upload
endpoint and the command, and a native export imported back."""

import gc
import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.db.models import (
    Client,
    ImportFileChunk,
    Membership,
    Project,
    Tag,
    Task,
    TimeEntry,
    User,
    Workspace,
    time_entry_tags,
)
from app.enums import ImportFormat
from app.loader.formats import DateOrder, RowError, parse_row
from app.loader.reading import RawRow, read_rows
from app.repositories.workspaces import WorkspaceRepository
from app.services.caller import Caller, SignIn
from app.services.imports import ImportEngine, ImportOptions, ImportReport, RunPace
from tests.factories import (
    Team,
    auth_headers,
    make_membership,
    make_project,
    make_user,
    make_workspace,
)
from tests.importing import finished_run
from tests.problems import assert_problem

SAMPLES = Path(__file__).parent / "import_samples"

# The entries every sample describes, read in UTC: user, client, project, task,
# description, start, seconds, billable, tags.
EXPECTED = [
    (
        "ada@example.com",
        "Acme Corp",
        "Website Redesign",
        "Design",
        "Homepage wireframes",
        datetime(2024, 4, 22, 9, tzinfo=UTC),
        5400,
        True,
        ("client-call", "design"),
    ),
    (
        "ada@example.com",
        "Acme Corp",
        "Website Redesign",
        "",
        "Review with client",
        datetime(2024, 4, 22, 11, tzinfo=UTC),
        2700,
        True,
        ("client-call",),
    ),
    (
        "grace@example.com",
        "",
        "Internal",
        "",
        "Team standup",
        datetime(2024, 4, 22, 9, 30, tzinfo=UTC),
        900,
        False,
        (),
    ),
    (
        "grace@example.com",
        "Globex",
        "Data Pipeline",
        "ETL",
        "Fix loader, part 1",
        datetime(2024, 4, 22, 23, 30, tzinfo=UTC),
        6300,
        True,
        ("backend",),
    ),
    (
        "ada@example.com",
        "Acme Corp",
        "Website Redesign",
        "Design",
        "Icon set",
        datetime(2024, 4, 23, 14, tzinfo=UTC),
        8400,
        True,
        ("design",),
    ),
]
# Clockify's classic file leaves out the second entry.
CLOCKIFY_EXPECTED = [EXPECTED[0], *EXPECTED[2:]]


async def people(session: AsyncSession, workspace: Workspace, rate: int = 7000) -> None:
    """Ada and Grace, members of `workspace` (accounts made once, shared by workspaces)."""
    for email, name in (("ada@example.com", "Ada Lovelace"), ("grace@example.com", "Grace Hopper")):
        user = (await session.scalars(select(User).where(User.email == email))).one_or_none()
        if user is None:
            user = await make_user(session, email=email, full_name=name)
        await make_membership(session, workspace, user, hourly_rate_cents=rate)


async def owner_of(session: AsyncSession, workspace: Workspace) -> Caller:
    standing = await WorkspaceRepository(session).owner_standing(workspace.id)
    assert standing is not None
    return Caller(standing[0], SignIn.COMMAND_LINE).in_workspace(workspace, standing[1])


async def run_import(
    session: AsyncSession,
    workspace: Workspace,
    content: bytes,
    source: ImportFormat,
    **options: Any,
) -> ImportReport:
    engine = ImportEngine(
        session, await owner_of(session, workspace), ImportOptions(source, "UTC", **options)
    )
    return await engine.run(read_rows(io.BytesIO(content)))


async def entries_of(session: AsyncSession, workspace: Workspace) -> list[tuple[Any, ...]]:
    rows = await session.execute(
        select(
            TimeEntry.id,
            User.email,
            Client.name,
            Project.name,
            Task.name,
            TimeEntry.description,
            TimeEntry.start_at,
            TimeEntry.end_at,
            TimeEntry.billable,
        )
        .join(User, User.id == TimeEntry.user_id)
        .outerjoin(Project, Project.id == TimeEntry.project_id)
        .outerjoin(Client, Client.id == Project.client_id)
        .outerjoin(Task, Task.id == TimeEntry.task_id)
        .where(TimeEntry.workspace_id == workspace.id)
        .order_by(TimeEntry.start_at, TimeEntry.description)
    )
    result = []
    for entry_id, email, client, project, task, description, start, end, billable in rows:
        tags = await session.scalars(
            select(Tag.name)
            .join(time_entry_tags, time_entry_tags.c.tag_id == Tag.id)
            .where(time_entry_tags.c.time_entry_id == entry_id)
        )
        result.append(
            (
                email,
                client or "",
                project or "",
                task or "",
                description,
                start,
                int((end - start).total_seconds()),
                billable,
                tuple(sorted(tags)),
            )
        )
    return result


def in_order(expected: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(expected, key=lambda entry: (entry[5], entry[4]))


@pytest.mark.parametrize(
    ("name", "source", "expected", "seconds_off"),
    [
        ("toggl_detailed.csv", ImportFormat.TOGGL_CSV, EXPECTED, 0),
        ("toggl_bom_semicolon.csv", ImportFormat.TOGGL_CSV, EXPECTED, 0),
        ("toggl_tabs_quoted_no_client.csv", ImportFormat.TOGGL_CSV, EXPECTED, 0),
        ("toggl_durations_only.csv", ImportFormat.TOGGL_CSV, EXPECTED, 0),
        ("clockify_detailed.csv", ImportFormat.CLOCKIFY_CSV, CLOCKIFY_EXPECTED, 0),
        ("clockify_2024_24h_short_years.csv", ImportFormat.CLOCKIFY_CSV, CLOCKIFY_EXPECTED, 0),
        # Decimal hours carry two places: 2.33 h is 12 seconds short of 2:20.
        ("clockify_decimal_comma.csv", ImportFormat.CLOCKIFY_CSV, CLOCKIFY_EXPECTED, 12),
    ],
)
async def test_samples_and_their_variants_import_the_same_entries(
    session: AsyncSession,
    team: Team,
    name: str,
    source: ImportFormat,
    expected: list[tuple[Any, ...]],
    seconds_off: int,
) -> None:
    await people(session, team.workspace)
    report = await run_import(session, team.workspace, (SAMPLES / name).read_bytes(), source)
    assert (report.rows, report.created, report.failed) == (len(expected), len(expected), 0)
    imported = await entries_of(session, team.workspace)
    wanted = in_order(expected)
    if "no_client" in name:
        wanted = [(e[0], "", *e[2:]) for e in wanted]
    assert [entry[:6] + entry[7:] for entry in imported] == [e[:6] + e[7:] for e in wanted]
    for got, want in zip(imported, wanted, strict=True):
        assert abs(got[6] - want[6]) <= seconds_off


async def test_rates_come_from_the_file_or_the_workspace_rules(
    session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    await run_import(
        session,
        team.workspace,
        (SAMPLES / "clockify_detailed.csv").read_bytes(),
        ImportFormat.CLOCKIFY_CSV,
    )
    other = await make_workspace(session, owner=team.owner)
    await people(session, other)
    await run_import(
        session, other, (SAMPLES / "toggl_detailed.csv").read_bytes(), ImportFormat.TOGGL_CSV
    )
    rates = await session.execute(
        select(TimeEntry.workspace_id, TimeEntry.billable, TimeEntry.hourly_rate_cents)
    )
    by_workspace: dict[Any, set[Any]] = {}
    for workspace_id, billable, rate in rates:
        by_workspace.setdefault(workspace_id, set()).add((billable, rate))
    # Clockify states the rate; Toggl does not, so the member's rate applies.
    assert by_workspace[team.workspace.id] == {(True, 10000), (True, 12000), (False, None)}
    assert by_workspace[other.id] == {(True, 7000), (False, None)}


async def test_importing_again_creates_nothing(session: AsyncSession, team: Team) -> None:
    await people(session, team.workspace)
    content = (SAMPLES / "toggl_detailed.csv").read_bytes()
    await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
    again = await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
    assert (again.rows, again.created, again.duplicates, again.failed) == (5, 0, 5, 0)
    counted = (
        select(func.count()).select_from(Project).where(Project.workspace_id == team.workspace.id)
    )
    assert await session.scalar(counted) == 3


async def test_a_run_reads_at_its_own_pace_and_puts_the_process_back(
    session: AsyncSession, team: Team
) -> None:
    """While rows are read, the parsing thread gives the event loop the GIL sooner and the
    collector runs less often; as before once the run ends, when it fails too."""
    await people(session, team.workspace)
    before = (sys.getswitchinterval(), gc.get_threshold())
    during: list[tuple[float, int]] = []
    engine = ImportEngine(
        session,
        await owner_of(session, team.workspace),
        ImportOptions(ImportFormat.TOGGL_CSV, "UTC"),
        batch_rows=2,
    )
    content = (SAMPLES / "toggl_detailed.csv").read_bytes()
    await engine.run(
        read_rows(io.BytesIO(content)),
        lambda rows: during.append((sys.getswitchinterval(), gc.get_threshold()[0])),
    )
    pace = (pytest.approx(RunPace.SWITCH_SECONDS), RunPace.YOUNG_COLLECTION_OBJECTS)
    assert during == [pace, pace, pace]
    assert (sys.getswitchinterval(), gc.get_threshold()) == before

    def refuse(rows: int) -> None:
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        await engine.run(read_rows(io.BytesIO(content)), refuse)
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


def test_runs_at_once_keep_the_pace_until_the_last_stops() -> None:
    before = (sys.getswitchinterval(), gc.get_threshold())
    pace = RunPace()
    with pace:
        with pace:
            assert sys.getswitchinterval() == pytest.approx(RunPace.SWITCH_SECONDS)
        assert gc.get_threshold()[0] == RunPace.YOUNG_COLLECTION_OBJECTS
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


async def test_a_file_makes_each_name_it_needs_once_and_only_for_rows_that_import(
    session: AsyncSession, team: Team
) -> None:
    """What the catalog lacks is made with the batch, once whatever the case or the batch,
    and nothing for a row that fails on its person or on an archived project."""
    await people(session, team.workspace)
    await make_project(session, team.workspace, name="Old", archived_at=datetime.now(UTC))
    header = b"User,Email,Client,Project,Task,Description,Start date,Start time,End time,Tags\n"
    rows = [
        b'Ada,ada@example.com,Acme,Site,Build,one,2024-04-22,09:00,10:00,"a, b"',
        b"Ada,ada@example.com,ACME,SITE,build,two,2024-04-22,10:00,11:00,A",
        b"Eve,eve@example.com,Eve Co,Eve's,Plan,three,2024-04-22,09:00,10:00,evetag",
        b"Ada,ada@example.com,,Old,Oldtask,four,2024-04-22,12:00,13:00,oldtag",
        b'Ada,ada@example.com,Acme,site,Build,five,2024-04-23,09:00,10:00,"b, c"',
    ]
    engine = ImportEngine(
        session,
        await owner_of(session, team.workspace),
        ImportOptions(ImportFormat.TOGGL_CSV, "UTC"),
        batch_rows=2,
    )
    report = await engine.run(read_rows(io.BytesIO(header + b"\n".join(rows) + b"\n")))
    assert (report.rows, report.created, report.failed) == (5, 3, 2)
    workspace_id = team.workspace.id
    projects = await session.execute(
        select(Project.name, Client.name)
        .outerjoin(Client, Client.id == Project.client_id)
        .where(Project.workspace_id == workspace_id)
        .order_by(Project.name)
    )
    assert projects.all() == [("Old", None), ("Site", "Acme")]
    tasks = await session.scalars(select(Task.name).where(Task.workspace_id == workspace_id))
    assert tasks.all() == ["Build"]
    tags = await session.scalars(
        select(Tag.name).where(Tag.workspace_id == workspace_id).order_by(Tag.name)
    )
    assert tags.all() == ["a", "b", "c"]
    entries = await entries_of(session, team.workspace)
    assert [(e[2], e[4], e[8]) for e in entries] == [
        ("Site", "one", ("a", "b")),
        ("Site", "two", ("a",)),
        ("Site", "five", ("b", "c")),
    ]


async def test_names_longer_than_stored_fail_their_row_alone(
    session: AsyncSession, team: Team
) -> None:
    """On both databases (SQLite would store them whole, PostgreSQL fail the batch)."""
    await people(session, team.workspace)
    long_id, long_tag = "i" * 256, '"[""' + "g" * 101 + '""]"'
    content = (
        "id,email,client,project,task,description,start_at,end_at,tags\n"
        "1,ada@example.com,,Site,,fine,2024-04-22T09:00:00Z,2024-04-22T10:00:00Z,\n"
        f"2,ada@example.com,{'C' * 201},Site,,client,2024-04-22T10:00:00Z,2024-04-22T11:00:00Z,\n"
        f"3,ada@example.com,,{'P' * 201},,project,2024-04-22T11:00:00Z,2024-04-22T12:00:00Z,\n"
        f"4,ada@example.com,,Site,{'T' * 201},task,2024-04-22T12:00:00Z,2024-04-22T13:00:00Z,\n"
        f"5,ada@example.com,,Site,,tag,2024-04-22T13:00:00Z,2024-04-22T14:00:00Z,{long_tag}\n"
        f"{long_id},ada@example.com,,Site,,id,2024-04-22T14:00:00Z,2024-04-22T15:00:00Z,\n"
        f"7,{'e' * 310}@example.com,,Site,,email,2024-04-22T15:00:00Z,2024-04-22T16:00:00Z,\n"
        "8,ada@example.com,,Site,,also fine,2024-04-22T16:00:00Z,2024-04-22T17:00:00Z,\n"
    )
    report = await run_import(session, team.workspace, content.encode(), ImportFormat.NATIVE_CSV)
    assert (report.rows, report.created, report.failed) == (8, 2, 6)
    assert [(error["line"], error["reason"]) for error in report.errors] == [
        (3, "the client name is over 200 characters"),
        (4, "the project name is over 200 characters"),
        (5, "the task name is over 200 characters"),
        (6, "the tag name is over 100 characters"),
        (7, "the id is over 255 characters"),
        (8, "the email is over 320 characters"),
    ]
    names = await session.scalars(
        select(Project.name).where(Project.workspace_id == team.workspace.id)
    )
    assert names.all() == ["Site"]
    assert [entry[4] for entry in await entries_of(session, team.workspace)] == [
        "fine",
        "also fine",
    ]


async def test_bad_rows_fail_alone_with_their_line(session: AsyncSession, team: Team) -> None:
    await people(session, team.workspace)
    content = (
        b"User,Email,Project,Description,Billable,Start date,Start time,End date,End time\n"
        b"Ada,ada@example.com,Site,fine,Yes,2024-04-22,09:00,2024-04-22,10:00\n"
        b'Ada,ada@example.com,Site,"two\nlines",Yes,2024-04-22,11:00,2024-04-22,12:00\n'
        b"Ada,ada@example.com,Site,backwards,Yes,2024-04-22,15:00,2024-04-22,14:00\n"
        b"Eve,eve@example.com,Site,stranger,No,2024-04-22,09:00,2024-04-22,10:00\n"
        b"Ada,ada@example.com,Site,bad date,No,2024-13-45,09:00,2024-04-22,10:00\n"
        b"Ada,,Site,no email,No,2024-04-22,09:00,2024-04-22,10:00\n"
    )
    report = await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
    assert (report.rows, report.created, report.failed) == (6, 2, 4)
    # In line order, whichever check refused them.
    assert [error["line"] for error in report.errors] == [5, 6, 7, 8]
    reasons = {error["line"]: error["reason"] for error in report.errors}
    assert "ends before it starts" in reasons[5]
    assert "eve@example.com is not a member" in reasons[6]
    assert "not a date" in reasons[7]
    placeholders = await run_import(
        session, team.workspace, content, ImportFormat.TOGGL_CSV, create_missing_members=True
    )
    assert placeholders.created == 1  # the stranger joins; the others are done or still bad
    eve = (await session.scalars(select(User).where(User.email == "eve@example.com"))).one()
    assert eve.is_active is False


def test_instants_out_of_range_fail_their_row() -> None:
    native = {"email": "ada@example.com", "end_at": "2024-04-22T10:00:00+00:00"}
    toggl = {"email": "ada@example.com", "start_date": "2024-04-22", "start_time": "09:00"}
    rows = [
        (ImportFormat.NATIVE_CSV, {**native, "start_at": "0001-01-01T00:00:00+14:00"}),
        (ImportFormat.NATIVE_CSV, {**native, "start_at": "1899-12-31T23:59:59+00:00"}),
        (ImportFormat.NATIVE_CSV, {**native, "end_at": "9999-12-31T23:00:00-14:00"}),
        (ImportFormat.TOGGL_CSV, {**toggl, "start_date": "0001-01-01"}),
        (ImportFormat.TOGGL_CSV, {**toggl, "start_date": "9999-12-31", "start_time": "23:00"}),
        (ImportFormat.TOGGL_CSV, {**toggl, "duration": "99999999999:00"}),
        (ImportFormat.TOGGL_CSV, {**toggl, "duration": "1e30"}),
        (ImportFormat.TOGGL_CSV, {**toggl, "duration": "Infinity"}),
        (ImportFormat.TOGGL_CSV, {**toggl, "duration": "9000000"}),
    ]
    for source, values in rows:
        with pytest.raises(RowError):
            parse_row(RawRow(2, values), source, ZoneInfo("Etc/GMT+12"), DateOrder.MONTH_FIRST)


@pytest.mark.parametrize(
    ("source", "field", "text"),
    [
        (ImportFormat.NATIVE_CSV, "rate", "\u00b2"),
        (ImportFormat.NATIVE_CSV, "rate", "1\u00b9"),
        (ImportFormat.TOGGL_CSV, "duration", "\u00b2:00"),
        (ImportFormat.TOGGL_CSV, "duration", "1:\u00b30"),
        (ImportFormat.TOGGL_CSV, "start_date", "04/22/\u00b2024"),
    ],
)
def test_superscript_digits_fail_their_row(source: ImportFormat, field: str, text: str) -> None:
    """`str.isdigit` takes superscripts, which `int` refuses: such a field once stopped the
    whole import."""
    values = {
        "email": "ada@example.com",
        "start_date": "04/22/2024",
        "start_time": "09:00",
        "duration": "1:00",
        "start_at": "2024-04-22T09:00:00+00:00",
        "end_at": "2024-04-22T10:00:00+00:00",
        field: text,
    }
    with pytest.raises(RowError, match="is not"):
        parse_row(RawRow(2, values), source, ZoneInfo("UTC"), DateOrder.MONTH_FIRST)


def test_decimal_digits_of_other_scripts_are_read() -> None:
    values = {
        "email": "ada@example.com",
        "start_at": "2024-04-22T09:00:00+00:00",
        "end_at": "2024-04-22T10:00:00+00:00",
        "billable": "true",
        "rate": "\uff19\uff15\uff10\uff10",
    }
    entry = parse_row(
        RawRow(2, values), ImportFormat.NATIVE_CSV, ZoneInfo("UTC"), DateOrder.MONTH_FIRST
    )
    assert entry.rate_cents == 9500
    toggl = {"email": "ada@example.com", "start_date": "2024-04-22", "start_time": "09:00"}
    entry = parse_row(
        RawRow(2, {**toggl, "duration": "\u0661:\u0663\u0660"}),
        ImportFormat.TOGGL_CSV,
        ZoneInfo("UTC"),
        DateOrder.MONTH_FIRST,
    )
    assert entry.end_at - entry.start_at == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("09:05:07", datetime(2024, 4, 22, 9, 5, 7, tzinfo=UTC)),
        ("23:59:59", datetime(2024, 4, 22, 23, 59, 59, tzinfo=UTC)),
        ("9:05", datetime(2024, 4, 22, 9, 5, tzinfo=UTC)),
        ("09:05:07 PM", datetime(2024, 4, 22, 21, 5, 7, tzinfo=UTC)),
        ("12:00:00a.m.", datetime(2024, 4, 22, 0, 0, tzinfo=UTC)),
        ("24:00:00", None),
        ("23:59:60", None),
        ("09:5:007", None),
        ("09:05:0x", None),
        # Full-width digits: what the pattern reads, not ISO.
        ("\uff10\uff19:05:07", datetime(2024, 4, 22, 9, 5, 7, tzinfo=UTC)),
    ],
)
def test_clock_times_of_every_shape_read_alike(clock: str, expected: datetime | None) -> None:
    values = {"email": "ada@example.com", "start_date": "2024-04-22", "start_time": clock}
    row = RawRow(2, {**values, "duration": "1:00"})

    def start() -> datetime:
        zone = ZoneInfo("UTC")
        return parse_row(row, ImportFormat.TOGGL_CSV, zone, DateOrder.MONTH_FIRST).start_at

    if expected is None:
        with pytest.raises(RowError, match=f"start time '{clock}' is not a time"):
            start()
    else:
        assert start() == expected


async def test_an_existing_account_is_never_pulled_in_by_an_import(
    session: AsyncSession, team: Team
) -> None:
    """Placeholders are made for emails no account has; an account joins only by accepting
    an invitation, so another workspace's file cannot make someone a member."""
    content = (
        b"User,Email,Project,Description,Billable,Start date,Start time,End date,End time\n"
        + f"X,{team.member.email},Site,theirs,No,2024-04-22,09:00,2024-04-22,10:00\n".encode()
    )
    report = await run_import(
        session, team.other_workspace, content, ImportFormat.TOGGL_CSV, create_missing_members=True
    )
    assert (report.created, report.failed) == (0, 1)
    assert f"{team.member.email} is not a member" in report.errors[0]["reason"]
    joined = select(func.count()).where(
        Membership.workspace_id == team.other_workspace.id, Membership.user_id == team.member.id
    )
    assert await session.scalar(joined) == 0
    tracked = select(func.count()).where(TimeEntry.user_id == team.member.id)
    assert await session.scalar(tracked) == 0


async def test_placeholders_are_made_only_for_addresses_an_account_can_have(
    session: AsyncSession, team: Team
) -> None:
    long_local = "x" * 250 + "@example.com"
    content = (
        b"User,Email,Project,Description,Billable,Start date,Start time,End date,End time\n"
        + f"A,{long_local},Site,long,No,2024-04-22,09:00,2024-04-22,10:00\n".encode()
        + b"B,garbage,Site,not an address,No,2024-04-22,09:00,2024-04-22,10:00\n"
        + b"C,two@at@example.com,Site,two ats,No,2024-04-22,09:00,2024-04-22,10:00\n"
    )
    report = await run_import(
        session, team.workspace, content, ImportFormat.TOGGL_CSV, create_missing_members=True
    )
    assert (report.created, report.failed) == (1, 2)
    assert [error["reason"] for error in report.errors] == [
        "'garbage' is not an email address",
        "'two@at@example.com' is not an email address",
    ]
    placeholder = (await session.scalars(select(User).where(User.email == long_local))).one()
    assert (placeholder.full_name, placeholder.is_active) == ("x" * 200, False)


@pytest.mark.parametrize(
    ("rate", "cents", "reason"),
    [
        ("95,50", 9550, None),
        ("1,234.50", 123450, None),
        ("21474836.47", 2**31 - 1, None),
        ("21474836.48", None, "rate '21474836.48' is over 21,474,836.47"),
        ("1e12", None, "rate '1e12' is over 21,474,836.47"),
        ("-5", None, "rate '-5' is not an amount"),
        ("NaN", None, "rate 'NaN' is not an amount"),
        ("Infinity", None, "rate 'Infinity' is not an amount"),
    ],
)
async def test_a_rate_the_database_cannot_hold_fails_its_row(
    session: AsyncSession, team: Team, rate: str, cents: int | None, reason: str | None
) -> None:
    await people(session, team.workspace)
    content = (
        "Email,Project,Description,Billable,Start date,Start time,End time,Billable Rate\n"
        f'ada@example.com,Site,rated,Yes,2024-04-22,09:00,10:00,"{rate}"\n'
        "ada@example.com,Site,fine,Yes,2024-04-22,10:00,11:00,\n"
    )
    report = await run_import(session, team.workspace, content.encode(), ImportFormat.TOGGL_CSV)
    assert [error["reason"] for error in report.errors] == ([reason] if reason else [])
    rates = await session.execute(
        select(TimeEntry.description, TimeEntry.hourly_rate_cents)
        .where(TimeEntry.workspace_id == team.workspace.id)
        .order_by(TimeEntry.start_at)
    )
    expected = [("fine", 7000)] if reason else [("rated", cents), ("fine", 7000)]
    assert rates.all() == expected


async def test_a_dry_run_writes_nothing_and_reports_the_same(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    content = (SAMPLES / "toggl_detailed.csv").read_bytes()
    async with session.begin_nested() as attempt:
        dry = await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
        await attempt.rollback()
    assert await session.scalar(select(func.count()).select_from(TimeEntry)) == 0
    assert await session.scalar(select(func.count()).select_from(Project)) == 0
    real = await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
    assert (dry.rows, dry.created, dry.duplicates, dry.failed) == (
        real.rows,
        real.created,
        real.duplicates,
        real.failed,
    )


async def test_overlaps_are_refused_where_the_workspace_forbids_them(
    session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    await people(session, team.workspace)
    content = (
        b"Email,Project,Description,Billable,Start date,Start time,End date,End time\n"
        b"ada@example.com,Site,first,No,2024-04-22,09:00,2024-04-22,10:00\n"
        b"ada@example.com,Site,touching,No,2024-04-22,10:00,2024-04-22,11:00\n"
        b"ada@example.com,Site,overlapping,No,2024-04-22,10:30,2024-04-22,11:30\n"
    )
    report = await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
    assert report.created == 2 and [e["line"] for e in report.errors] == [4]
    # Again: the rows that landed are duplicates, not overlaps of themselves.
    again = await run_import(session, team.workspace, content, ImportFormat.TOGGL_CSV)
    assert (again.created, again.duplicates, again.failed) == (0, 2, 1)


def upload(content: bytes, **form: Any) -> dict[str, Any]:
    return {"files": {"file": ("toggl.csv", content, "text/csv")}, "data": form}


async def test_the_upload_endpoint_imports_and_keeps_the_run(
    app: Any, client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    url = f"/api/v1/workspaces/{team.workspace.id}/imports"
    admin = auth_headers(team.admin)
    content = (SAMPLES / "toggl_detailed.csv").read_bytes()
    queued = await client.post(
        url, **upload(content, format="toggl_csv", timezone="UTC", dry_run="true"), headers=admin
    )
    assert queued.headers["location"].endswith(f"{url}/{queued.json()['id']}")
    dry = await finished_run(app, client, queued, admin)
    assert (dry["status"], dry["created_count"], dry["last_line"]) == ("succeeded", 5, 0)
    assert await session.scalar(select(func.count()).select_from(TimeEntry)) == 0
    real = await client.post(
        url, **upload(content, format="toggl_csv", timezone="UTC"), headers=admin
    )
    run = await finished_run(app, client, real, admin)
    assert (run["rows_count"], run["created_count"], run["failed_count"]) == (5, 5, 0)
    assert run["filename"] == "toggl.csv" and run["dry_run"] is False and run["last_line"] == 6
    assert await session.scalar(select(func.count()).select_from(TimeEntry)) == 5
    # The upload is kept only until its run ends.
    assert await session.scalar(select(func.count()).select_from(ImportFileChunk)) == 0
    listed = await client.get(url, headers=auth_headers(team.owner))
    assert [item["id"] for item in listed.json()["items"]] == [run["id"], dry["id"]]
    fetched = await client.get(f"{url}/{run['id']}", headers=auth_headers(team.owner))
    assert fetched.json()["created_count"] == 5

    garbage = await client.post(
        url, **upload(b"\xff\xfe\x00garbage", format="toggl_csv"), headers=admin
    )
    unreadable = await finished_run(app, client, garbage, admin)
    assert unreadable["status"] == "failed"
    assert unreadable["errors"][0]["line"] == 0

    member = await client.post(
        url, **upload(content, format="toggl_csv"), headers=auth_headers(team.member)
    )
    assert_problem(member, 403)
    assert_problem(await client.get(url, headers=auth_headers(team.member)), 403)
    outsider = await client.post(
        url, **upload(content, format="toggl_csv"), headers=auth_headers(team.outsider)
    )
    assert_problem(outsider, 404)
    assert_problem(await client.get(f"{url}/{run['id']}", headers=auth_headers(team.outsider)), 404)


async def test_uploads_over_the_limit_are_413(app: Any, client: AsyncClient, team: Team) -> None:
    app.state.settings = app.state.settings.model_copy(update={"import_max_bytes": 100})
    url = f"/api/v1/workspaces/{team.workspace.id}/imports"
    response = await client.post(
        url, **upload(b"x" * 100_000, format="toggl_csv"), headers=auth_headers(team.admin)
    )
    assert_problem(response, 413)
    small_body = await client.post(
        url, **upload(b"x" * 1000, format="toggl_csv"), headers=auth_headers(team.admin)
    )
    assert_problem(small_body, 413)


async def test_a_native_export_imports_back_as_it_was(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await people(session, team.workspace)
    await run_import(
        session,
        team.workspace,
        (SAMPLES / "toggl_detailed.csv").read_bytes(),
        ImportFormat.TOGGL_CSV,
    )
    exported = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/time-entries/export",
        params={"format": "csv"},
        headers=auth_headers(team.owner),
    )
    copy = await make_workspace(session, owner=team.owner)
    await people(session, copy, rate=1234)  # the file's rates win over the copy's
    report = await run_import(session, copy, exported.content, ImportFormat.NATIVE_CSV)
    assert (report.created, report.failed) == (5, 0)
    assert await entries_of(session, copy) == await entries_of(session, team.workspace)
    rates = select(TimeEntry.workspace_id, TimeEntry.hourly_rate_cents).order_by(
        TimeEntry.start_at, TimeEntry.description
    )
    by_workspace: dict[Any, list[Any]] = {}
    for workspace_id, rate in await session.execute(rates):
        by_workspace.setdefault(workspace_id, []).append(rate)
    assert by_workspace[copy.id] == by_workspace[team.workspace.id]


@pytest.mark.committed
def test_the_command_imports_with_a_summary_and_an_exit_code(
    database_url: str, committed_team: Team, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Email,Description,Billable,Start date,Start time,End date,End time\n"
        f"{committed_team.member.email},fine,No,2024-04-22,09:00,2024-04-22,10:00\n"
        "nobody@example.com,stranger,No,2024-04-22,09:00,2024-04-22,10:00\n"
    )
    args = ["import", "toggl", str(bad), "--workspace", str(committed_team.workspace.id)]
    dry = CliRunner().invoke(cli, [*args, "--dry-run", "--timezone", "UTC"], env=env)
    assert dry.exit_code == 1, dry.output
    assert "Dry run" in dry.output and "nobody@example.com" in dry.output
    real = CliRunner().invoke(cli, args, env=env)
    assert real.exit_code == 1 and "Failed rows" in real.output
    assert "nobody@example.com is not a member" in real.output
    again = CliRunner().invoke(cli, args, env=env)
    assert again.exit_code == 1
    unreadable = tmp_path / "binary.csv"
    unreadable.write_bytes(b"\xff\xfe\x00\x01")
    refused = CliRunner().invoke(
        cli,
        ["import", "toggl", str(unreadable), "--workspace", str(committed_team.workspace.id)],
        env=env,
    )
    assert refused.exit_code == 2
