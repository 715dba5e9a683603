"""Import runs: batches written by COPY or by statements under the same rules, committed one
at a time with the run's progress, resumed after the last committed line, in process and
after a SIGKILL of the command or of the server."""

import asyncio
import hashlib
import io
import re
import signal
import sys
import time
import uuid
from asyncio.subprocess import DEVNULL, PIPE, STDOUT
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asyncpg import UniqueViolationError
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.db.engine import Sessions
from app.db.models import (
    ImportRun,
    Membership,
    Project,
    Tag,
    TimeEntry,
    Workspace,
    time_entry_tags,
)
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.enums import ImportFormat, ImportStatus, Role
from app.errors import Conflict
from app.loader.reading import read_rows
from app.repositories.import_runs import ImportQueue
from app.services.caller import Caller
from app.services.imports import (
    CopyWriter,
    ImportEngine,
    ImportOptions,
    ImportReport,
    Written,
    carry_out,
    command_run,
    queue_upload,
)
from tests.closing import close
from tests.factories import (
    TEST_SECRET_KEY,
    Team,
    auth_headers,
    make_entry,
    make_membership,
    make_workspace,
)
from tests.importing import finished_run
from tests.servers import environment_without, serving
from tests.test_imports import owner_of

HEADER = "Email,Project,Description,Billable,Start date,Start time,End date,End time,Tags\n"
FIRST_DAY = datetime(2024, 5, 6, tzinfo=UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def toggl_file(team: Team, rows: int) -> bytes:
    """`rows` rows, an hour each, by turns the member's and the admin's, never overlapping,
    every third with a tag."""
    lines = [HEADER]
    for n in range(rows):
        email = (team.member, team.admin)[n % 2].email
        start = FIRST_DAY + timedelta(hours=n // 2)
        end = start + timedelta(hours=1)
        tags = "import" if n % 3 == 0 else ""
        lines.append(
            f"{email},Site,row {n},No,{start:%Y-%m-%d},{start:%H:%M},"
            f"{end:%Y-%m-%d},{end:%H:%M},{tags}\n"
        )
    return "".join(lines).encode()


async def test_the_writer_of_each_database_refuses_closed_time_and_overlaps(
    session: AsyncSession, team: Team
) -> None:
    """COPY on PostgreSQL, the driver's `executemany` on SQLite: the same report, line by
    line, and the same entries stored."""
    content = (
        HEADER
        # 2: fine; 3: in the member's approved week; 4: overlaps a stored entry;
        # 5: overlaps line 2; 6: line 2 again; 7: fine, with a tag.
        + f"{team.member.email},Site,fine,No,2024-05-06,09:00,2024-05-06,10:00,\n"
        + f"{team.member.email},Site,closed,No,2024-04-23,09:00,2024-04-23,10:00,\n"
        + f"{team.member.email},Site,stored,No,2024-05-07,09:30,2024-05-07,10:30,\n"
        + f"{team.member.email},Site,same file,No,2024-05-06,09:30,2024-05-06,11:00,\n"
        + f"{team.member.email},Site,fine,No,2024-05-06,09:00,2024-05-06,10:00,\n"
        + f"{team.member.email},Site,tagged,No,2024-05-08,09:00,2024-05-08,10:00,x\n"
    ).encode()
    await _no_overlaps_a_closed_week_and_an_entry(session, team.workspace, team)
    engine = ImportEngine(
        session,
        await owner_of(session, team.workspace),
        ImportOptions(ImportFormat.TOGGL_CSV, "UTC"),
        batch_rows=100,
    )
    first = await engine.run(read_rows(io.BytesIO(content)))
    again = await engine.run(read_rows(io.BytesIO(content)))
    stored = await session.execute(
        select(TimeEntry.description, func.count(time_entry_tags.c.tag_id))
        .outerjoin(time_entry_tags, time_entry_tags.c.time_entry_id == TimeEntry.id)
        .where(TimeEntry.workspace_id == team.workspace.id, TimeEntry.external_id.is_not(None))
        .group_by(TimeEntry.id)
        .order_by(TimeEntry.start_at)
    )
    assert (first.rows, first.created, first.duplicates, first.failed) == (6, 2, 1, 3)
    reasons = {error["line"]: error["reason"] for error in first.errors}
    assert sorted(reasons) == [3, 4, 5]
    assert "closed" in reasons[3]
    assert "overlaps another entry of the same user" in reasons[4]
    assert "overlaps another entry of the same user" in reasons[5]
    assert (again.created, again.duplicates, again.failed) == (0, 3, 3)
    assert [tuple(row) for row in stored] == [("fine", 0), ("tagged", 1)]


async def test_the_outcome_is_the_same_whatever_the_batch_size(
    session: AsyncSession, team: Team, is_postgres: bool
) -> None:
    """Each row is judged as if the rows before it were written: one refused (in closed
    time, or overlapping a stored entry) holds no time, so the later rows overlapping only
    it land; a repeat of a refused row is refused again, of a written one a duplicate."""
    member = team.member.email
    content = (
        HEADER
        # 2: overlaps the stored entry; 3: overlaps line 2 only; 4: in the approved week;
        # 5: from before that week, overlaps line 4 only; 6: line 2 again; 7: line 3 again;
        # 8: overlaps line 3.
        + f"{member},Site,stored,No,2024-05-07,09:30,2024-05-07,10:30,\n"
        + f"{member},Site,after,No,2024-05-07,10:15,2024-05-07,11:00,x\n"
        + f"{member},Site,closed,No,2024-04-23,09:00,2024-04-23,10:00,\n"
        + f"{member},Site,open,No,2024-04-21,22:00,2024-04-23,09:30,\n"
        + f"{member},Site,stored,No,2024-05-07,09:30,2024-05-07,10:30,\n"
        + f"{member},Site,after,No,2024-05-07,10:15,2024-05-07,11:00,x\n"
        + f"{member},Site,later,No,2024-05-07,10:45,2024-05-07,12:00,\n"
    ).encode()
    outcomes = []
    for batch_rows in (1, 2, 3, 100):
        workspace = await _alike(session, team)
        await _no_overlaps_a_closed_week_and_an_entry(session, workspace, team)
        report = await ImportEngine(
            session,
            await owner_of(session, workspace),
            ImportOptions(ImportFormat.TOGGL_CSV, "UTC"),
            batch_rows=batch_rows,
        ).run(read_rows(io.BytesIO(content)))
        stored = await session.execute(
            select(TimeEntry.description, func.count(time_entry_tags.c.tag_id))
            .outerjoin(time_entry_tags, time_entry_tags.c.time_entry_id == TimeEntry.id)
            .where(TimeEntry.workspace_id == workspace.id, TimeEntry.external_id.is_not(None))
            .group_by(TimeEntry.id)
            .order_by(TimeEntry.start_at)
        )
        outcomes.append(
            (
                (report.rows, report.created, report.duplicates, report.failed),
                [(e["line"], UUID.sub("…", e["reason"])) for e in report.errors],
                [tuple(row) for row in stored],
            )
        )
    assert outcomes == [outcomes[0]] * len(outcomes)
    counts, errors, stored = outcomes[0]
    assert counts == (7, 2, 1, 4)
    assert [line for line, _ in errors] == [2, 4, 6, 8]
    assert "overlaps another entry of the same user" in errors[0][1]
    assert "closed" in errors[1][1]
    assert stored == [("open", 0), ("after", 1)]


async def test_a_batch_with_rows_imported_before_skips_them_and_writes_the_others(
    session: AsyncSession, team: Team
) -> None:
    """On PostgreSQL, COPY into the entries meets the rows imported before on the unique
    index: the batch goes again through the staging table, which skips them. On SQLite the
    statement skips them, and the entries stored are those of the batch's new ids."""
    content = toggl_file(team, 6)
    first_half = b"".join(content.splitlines(keepends=True)[:4])
    caller = await owner_of(session, team.workspace)
    before = await _import(session, caller, first_half)
    after = await _import(session, caller, content)
    links = await session.scalar(
        select(func.count())
        .select_from(time_entry_tags)
        .where(time_entry_tags.c.workspace_id == team.workspace.id)
    )
    assert (before.created, before.duplicates) == (3, 0)
    assert (after.rows, after.created, after.duplicates, after.failed) == (6, 3, 3, 0)
    # Rows 0 and 3 carry a tag, linked once each.
    assert links == 2


@pytest.mark.postgres_only
async def test_copy_fails_on_any_other_unique_index(session: AsyncSession, team: Team) -> None:
    """Only the index of imported rows sends a batch to the staging table: two entries of
    one id are an error, not duplicates."""
    now = utcnow()
    same_id = uuid.uuid4()
    hour = timedelta(hours=1)
    # In ENTRY_COLUMNS' order.
    records = [
        (
            same_id,
            team.workspace.id,
            team.member.id,
            None,
            None,
            "twice",
            start,
            start + hour,
            False,
            None,
            "import",
            f"row {n}",
            1,
            now,
            now,
        )
        for n, start in enumerate((FIRST_DAY, FIRST_DAY + 2 * hour))
    ]
    writer = CopyWriter()
    batch = [Written(record, [], writer.encoded(record, [])) for record in records]
    with pytest.raises(UniqueViolationError) as raised:
        async with session.begin_nested():
            await writer.entries(session, batch)
    assert raised.value.constraint_name == "pk_time_entries"


async def _no_overlaps_a_closed_week_and_an_entry(
    session: AsyncSession, workspace: Workspace, team: Team
) -> None:
    """Overlaps refused, the member's week of 2024-04-22 approved, and an entry of theirs
    on 2024-05-07 from 09:00 to 10:00."""
    workspace.prevent_overlaps = True
    await close(session, workspace, team.member, "approved")
    await make_entry(
        session,
        workspace,
        team.member,
        start_at=datetime(2024, 5, 7, 9, tzinfo=UTC),
        end_at=datetime(2024, 5, 7, 10, tzinfo=UTC),
    )


async def _import(session: AsyncSession, caller: Caller, content: bytes) -> ImportReport:
    engine = ImportEngine(
        session, caller, ImportOptions(ImportFormat.TOGGL_CSV, "UTC"), batch_rows=100
    )
    return await engine.run(read_rows(io.BytesIO(content)))


async def _alike(session: AsyncSession, team: Team) -> Workspace:
    """Another workspace of the owner's, with the member in it."""
    workspace = await make_workspace(session, owner=team.owner)
    await make_membership(session, workspace, team.member)
    return workspace


async def _command_run(
    sessions: Sessions, team: Team, content: bytes, *, batch_rows: int, lease: timedelta
) -> tuple[ImportRun, Any]:
    """Claim (or start) the command's run over `content` and carry it out."""
    async with UnitOfWork(sessions) as uow:
        caller = await owner_of(uow.session, team.workspace)
        options = ImportOptions(ImportFormat.TOGGL_CSV, "UTC")
        run = await command_run(
            uow,
            caller,
            options,
            filename="file.csv",
            file_sha256=hashlib.sha256(content).hexdigest(),
            resume=None,
            lease=lease,
        )
        outcome = await carry_out(
            uow, run, caller, io.BytesIO(content), batch_rows=batch_rows, lease=lease
        )
    return run, outcome


async def _stored(sessions: Sessions, team: Team) -> tuple[int, list[ImportRun]]:
    """From a connection of its own: the workspace's entries and its runs."""
    async with sessions.reading() as other:
        entries = await other.scalar(
            select(func.count()).where(TimeEntry.workspace_id == team.workspace.id)
        )
        runs = await other.scalars(
            select(ImportRun).where(ImportRun.workspace_id == team.workspace.id)
        )
        return entries or 0, list(runs)


@pytest.mark.committed
async def test_each_batch_commits_with_its_progress_for_every_connection_to_see(
    sessions: Sessions, committed_team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = committed_team
    seen: list[tuple[int, int, int, str]] = []
    commit = UnitOfWork.commit_so_far

    async def commit_and_look(uow: UnitOfWork) -> None:
        await commit(uow)
        entries, runs = await _stored(sessions, team)
        seen.extend((entries, run.last_line, run.created_count, run.status) for run in runs)

    monkeypatch.setattr(UnitOfWork, "commit_so_far", commit_and_look)
    _, outcome = await _command_run(
        sessions, team, toggl_file(team, 6), batch_rows=2, lease=timedelta(minutes=1)
    )
    # The claim, then each batch of two rows (lines 2-3, 4-5, 6-7), with its progress.
    assert seen == [
        (0, 0, 0, "running"),
        (2, 3, 2, "running"),
        (4, 5, 4, "running"),
        (6, 7, 6, "running"),
    ]
    assert (outcome.report.rows, outcome.report.created) == (6, 6)
    _, [finished] = await _stored(sessions, team)
    assert (finished.status, finished.rows_count, finished.last_line) == ("succeeded", 6, 7)
    assert finished.lease_expires_at is None and finished.finished_at is not None


@pytest.mark.committed
async def test_a_stopped_run_resumes_after_its_last_committed_batch(
    sessions: Sessions, committed_team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = committed_team
    content = toggl_file(team, 7)
    commit = UnitOfWork.commit_so_far
    commits = 0

    async def commit_then_die(uow: UnitOfWork) -> None:
        nonlocal commits
        await commit(uow)
        commits += 1
        if commits == 3:  # the claim and two batches
            raise RuntimeError("the process died")

    monkeypatch.setattr(UnitOfWork, "commit_so_far", commit_then_die)
    with pytest.raises(RuntimeError):
        await _command_run(sessions, team, content, batch_rows=2, lease=timedelta(minutes=1))
    monkeypatch.setattr(UnitOfWork, "commit_so_far", commit)
    entries, [stopped] = await _stored(sessions, team)
    assert (stopped.status, stopped.last_line, stopped.created_count, entries) == (
        "running",
        5,
        4,
        4,
    )
    # Held by its lease: another command does not take it over.
    with pytest.raises(Conflict, match="is running"):
        await _command_run(sessions, team, content, batch_rows=2, lease=timedelta(minutes=1))
    async with UnitOfWork(sessions) as uow:
        await uow.session.execute(
            ImportRun.__table__.update().values(lease_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
    run, outcome = await _command_run(
        sessions, team, content, batch_rows=2, lease=timedelta(minutes=1)
    )
    assert run.id == stopped.id and run.attempts == 2
    report = outcome.report
    # Rows 1-4 were skipped by their lines, not found again as duplicates.
    assert (report.rows, report.created, report.duplicates, report.failed) == (7, 7, 0, 0)
    entries, [finished] = await _stored(sessions, team)
    assert (entries, finished.status, finished.created_count) == (7, "succeeded", 7)


def _timesheet() -> str:
    return str(Path(sys.executable).parent / "timesheet")


def _environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = environment_without("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "AUTO_MIGRATE", "IMPORT")
    return env | {
        "DATABASE_URL": settings.database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "AUTO_MIGRATE": "false",
        "IMPORT_BATCH_ROWS": "50",
        "IMPORT_LEASE_SECONDS": "1",
        **extra,
    }


async def _wait_for_batches(sessions: Sessions, team: Team, alive: Callable[[], bool]) -> None:
    """Until the run has committed a batch; the process must not have ended before."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, runs = await _stored(sessions, team)
        if runs and runs[0].last_line > 0:
            return
        assert alive(), "the process ended before a batch was committed"
        await asyncio.sleep(0.01)
    raise AssertionError("no batch was committed within a minute")


async def _after_the_kill(sessions: Sessions, team: Team, rows: int) -> ImportRun:
    entries, [killed] = await _stored(sessions, team)
    assert killed.status == ImportStatus.RUNNING
    # Every committed batch was committed with its progress, and nothing else was.
    assert 0 < killed.created_count == entries < rows
    await asyncio.sleep(1.1)  # the killed runner's lease runs out
    return killed


@pytest.mark.committed
def test_a_command_failing_midway_shows_why_and_leaves_its_run_to_resume_at_once(
    settings: Settings, committed_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = committed_team
    file = tmp_path / "toggl.csv"
    file.write_bytes(toggl_file(team, 3))
    args = ["import", "toggl", str(file), "--workspace", str(team.workspace.id)]
    args += ["--timezone", "UTC"]
    env = {"DATABASE_URL": settings.database_url, "ENVIRONMENT": "test"}

    async def failing(*args: object) -> None:
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(ImportEngine, "_import_batch", failing)
        failed = CliRunner().invoke(cli, args, env=env)
    assert isinstance(failed.exception, RuntimeError), failed.output
    assert str(failed.exception) == "the disk is full"
    [run_id] = re.findall(r"Import ([0-9a-f-]{36})", failed.output)
    # Released: the next command takes the same run on, without waiting for its lease.
    resumed = CliRunner().invoke(cli, args, env=env)
    assert resumed.exit_code == 0, resumed.output
    assert f"Import {run_id}" in resumed.output


@pytest.mark.committed
async def test_the_command_killed_midway_resumes_to_the_same_totals(
    settings: Settings, sessions: Sessions, committed_team: Team, tmp_path: Path
) -> None:
    team, rows = committed_team, 4000
    file = tmp_path / "toggl.csv"
    file.write_bytes(toggl_file(team, rows))
    env = _environment(settings)
    command = [_timesheet(), "import", "toggl", str(file), "--workspace", str(team.workspace.id)]
    command += ["--timezone", "UTC"]
    first = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=tmp_path, stdout=DEVNULL, stderr=DEVNULL
    )
    await _wait_for_batches(sessions, team, lambda: first.returncode is None)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    killed = await _after_the_kill(sessions, team, rows)

    resumed = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=tmp_path, stdout=PIPE, stderr=STDOUT
    )
    output = (await resumed.communicate())[0].decode()
    assert resumed.returncode == 0, output
    assert f"Resuming import {killed.id} after line {killed.last_line}" in output
    entries, [finished] = await _stored(sessions, team)
    assert (finished.id, finished.status, finished.attempts) == (killed.id, "succeeded", 2)
    counts = (finished.rows_count, finished.created_count, finished.duplicates_count)
    assert counts == (rows, rows, 0)
    assert entries == rows
    async with sessions.reading() as other:
        links = await other.scalar(
            select(func.count())
            .select_from(time_entry_tags)
            .where(time_entry_tags.c.workspace_id == team.workspace.id)
        )
    assert links == len(range(0, rows, 3))


@pytest.mark.committed
async def test_an_upload_survives_a_killed_server_and_resumes_after_the_restart(
    settings: Settings, sessions: Sessions, committed_team: Team, tmp_path: Path
) -> None:
    team, rows = committed_team, 4000
    env = _environment(
        settings, IMPORT_POLL_SECONDS="0.2", WEBHOOK_DISPATCHER="false", IMPORT_RUNNER="true"
    )
    headers = auth_headers(team.admin)
    url = f"/api/v1/workspaces/{team.workspace.id}/imports"
    with serving(cwd=tmp_path, env=env) as (base, server):
        async with httpx.AsyncClient(base_url=base, headers=headers) as client:
            queued = await client.post(
                url,
                files={"file": ("toggl.csv", toggl_file(team, rows), "text/csv")},
                data={"format": "toggl_csv", "timezone": "UTC"},
            )
        assert queued.status_code == 202, queued.text
        await _wait_for_batches(sessions, team, lambda: server.poll() is None)
        server.send_signal(signal.SIGKILL)
    killed = await _after_the_kill(sessions, team, rows)

    with serving(cwd=tmp_path, env=env) as (base, _):
        # The restarted server listens on another port: the run's path is the same.
        location = httpx.URL(queued.headers["location"]).path
        async with httpx.AsyncClient(base_url=base, headers=headers) as client:
            deadline = time.monotonic() + 120
            while True:
                run = (await client.get(location)).json()
                if run["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
    assert run["status"] == "succeeded", run
    assert (run["rows_count"], run["created_count"], run["duplicates_count"]) == (rows, rows, 0)
    assert run["last_line"] == rows + 1
    entries, [finished] = await _stored(sessions, team)
    assert entries == rows and (finished.id, finished.attempts) == (killed.id, 2)


async def test_a_dry_run_in_batches_reports_what_the_run_does_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, team: Team
) -> None:
    """A dry run is one transaction over all its batches, rolled back: later batches see
    what earlier ones would have created, so its report is the real run's."""
    app.state.settings = app.state.settings.model_copy(update={"import_batch_rows": 2})
    headers = auth_headers(team.admin)
    url = f"/api/v1/workspaces/{team.workspace.id}/imports"
    content = toggl_file(team, 7) + f"{team.member.email},Site,row 0,No,,,,,\n".encode()
    runs = []
    for dry_run in ("true", "false"):
        queued = await client.post(
            url,
            files={"file": ("toggl.csv", content, "text/csv")},
            data={"format": "toggl_csv", "timezone": "UTC", "dry_run": dry_run},
            headers=headers,
        )
        runs.append(await finished_run(app, client, queued, headers))
        if dry_run == "true":
            for model in (TimeEntry, Project, Tag):
                assert await session.scalar(select(func.count()).select_from(model)) == 0
    dry, real = runs
    counts = ("rows_count", "created_count", "duplicates_count", "failed_count", "errors")
    assert [dry[name] for name in counts] == [real[name] for name in counts]
    assert (real["rows_count"], real["created_count"], real["failed_count"]) == (8, 7, 1)
    assert (dry["last_line"], real["last_line"]) == (0, 9)


async def test_a_run_whose_uploader_is_no_admin_any_more_fails_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, team: Team
) -> None:
    headers = auth_headers(team.admin)
    queued = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        files={"file": ("toggl.csv", toggl_file(team, 3), "text/csv")},
        data={"format": "toggl_csv", "timezone": "UTC"},
        headers=headers,
    )
    membership = await session.scalar(
        select(Membership).where(
            Membership.workspace_id == team.workspace.id, Membership.user_id == team.admin.id
        )
    )
    assert membership is not None
    membership.role = Role.MEMBER
    await session.flush()
    run = await finished_run(app, client, queued, auth_headers(team.owner))
    assert run["status"] == "failed" and run["created_count"] == 0
    [error] = run["errors"]
    assert (error["line"], error["reason"]) == (
        0,
        "Your role in this workspace does not allow this.",
    )
    assert await session.scalar(select(func.count()).select_from(TimeEntry)) == 0


@pytest.mark.committed
@pytest.mark.postgres_only
async def test_runners_skip_a_run_being_claimed_and_a_stale_runner_writes_nothing(
    sessions: Sessions, committed_team: Team
) -> None:
    team, lease = committed_team, timedelta(minutes=1)
    async with UnitOfWork(sessions) as uow:
        caller = await owner_of(uow.session, team.workspace)
        options = ImportOptions(ImportFormat.TOGGL_CSV, "UTC")
        content = io.BytesIO(toggl_file(team, 2))
        queued = await queue_upload(
            uow.session, caller, options, content, filename="a.csv", dry_run=False
        )
    now = utcnow()
    async with sessions.writing() as first, sessions.writing() as second:
        claimed = await ImportQueue(first).claim_next(now, now + lease)
        # The first runner's claim is not committed yet: the second skips the row.
        assert await ImportQueue(second).claim_next(now, now + lease) is None
        await first.commit()
        await second.rollback()
        # Committed, and held by a live lease.
        assert await ImportQueue(second).claim_next(now, now + lease) is None
        await second.rollback()
        assert claimed is not None and (claimed.id, claimed.attempts) == (queued.id, 1)
        # Its lease ran out: another runner takes it over, and the first one's progress
        # is refused from then on.
        later = now + lease + timedelta(seconds=1)
        taken_over = await ImportQueue(second).claim_next(later, later + lease)
        await second.commit()
        assert taken_over is not None and taken_over.attempts == 2
        assert not await ImportQueue(first).advance(claimed, {"last_line": 99})
        assert await ImportQueue(first).advance(taken_over, {"last_line": 3})
        await first.commit()
