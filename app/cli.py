"""The `timesheet` command: serve the API, manage the database, create users."""

import asyncio
import hashlib
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, TypeVar
from zoneinfo import available_timezones

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Environment, Settings
from app.db.engine import create_engine, create_sessions
from app.db.models import User
from app.db.unit_of_work import UnitOfWork
from app.enums import ImportFormat
from app.errors import DomainError
from app.instants import supported_utc
from app.loader.formats import DateOrder
from app.loader.harvest import DEFAULT_DAY_START, parse_day_start
from app.loader.reading import UnreadableFile
from app.repositories.import_runs import ImportQueue
from app.repositories.time_entries import EntryFilters, TimeEntryRepository
from app.repositories.workspaces import WorkspaceRepository
from app.services.caller import Caller, SignIn
from app.services.imports import (
    ImportOptions,
    ImportReport,
    RunOutcome,
    carry_out,
    command_run,
    import_stream,
)

if TYPE_CHECKING:
    from app.services.restore import RestoreReport

T = TypeVar("T")

cli = typer.Typer(help="Timesheet: team time tracking API.", no_args_is_help=True)
db_cli = typer.Typer(help="Migrate, reset and seed the database.", no_args_is_help=True)
users_cli = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
events_cli = typer.Typer(help="The record of every change.", no_args_is_help=True)
webhooks_cli = typer.Typer(help="Send webhooks.", no_args_is_help=True)
workspace_cli = typer.Typer(
    help="Move a whole workspace: its full export, and its restore here.", no_args_is_help=True
)
report_cli = typer.Typer(help="Reports as files, on standard output.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(users_cli, name="users")
cli.add_typer(events_cli, name="events")
cli.add_typer(report_cli, name="report")
cli.add_typer(webhooks_cli, name="webhooks")
cli.add_typer(workspace_cli, name="workspace")

console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        messages = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        err_console.print(f"[red]Invalid settings:[/red] {messages}")
        raise typer.Exit(2) from exc


def _write_for_workspace(run: Callable[[], Awaitable[bool]], workspace: uuid.UUID) -> None:
    """Run a command that writes a workspace's file to standard output; `run` answers False
    when there is no such workspace. Refusals end the command with code 1."""
    try:
        found = asyncio.run(run())
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    if not found:
        err_console.print(f"[red]No workspace {workspace}.[/red]")
        raise typer.Exit(1)


def _in_unit_of_work(action: Callable[[UnitOfWork], Awaitable[T]], settings: Settings) -> T:
    """Run `action` in one unit of work, as a request would: committed if it succeeds."""

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with UnitOfWork(create_sessions(engine, pgbouncer=settings.db_pgbouncer)) as uow:
                return await action(uow)
        finally:
            await engine.dispose()

    return asyncio.run(run())


# A new worker imports this module again before it can answer the supervisor's first
# health check; on a busy small host that takes longer than uvicorn's 5 s, and the worker
# would be killed and replaced forever. 30 s is gunicorn's worker timeout.
WORKER_HEALTHCHECK_SECONDS = 30


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            envvar="FORWARDED_ALLOW_IPS",
            help="Proxies whose X-Forwarded-For is trusted (comma-separated, or *). The login "
            "limit per client address needs the real address behind a load balancer.",
        ),
    ] = "127.0.0.1",
) -> None:
    """Start the API server (the embedded SQLite file unless DATABASE_URL says otherwise)."""
    import uvicorn

    # Alembic, like the API, is imported by the commands that use it only.
    from app.db import migrations
    from app.observability.logs import log_config
    from app.observability.metrics import multiprocess_directory

    settings = _settings()
    if settings.migrate_on_start and workers > 1:
        # Migrate once here rather than racing in every worker's start-up.
        asyncio.run(migrations.upgrade(settings.database_url))
    with multiprocess_directory(workers):
        uvicorn.run(
            "app.main:create_served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            log_config=log_config(settings),
            # The application writes its own line per request, with the route and request id.
            access_log=False,
            # No `server` header: it tells a scanner which server and version to try.
            server_header=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )


@cli.command("openapi")
def openapi() -> None:
    """Print the OpenAPI document (`timesheet openapi > openapi.json` refreshes the file)."""
    # The API is imported by the commands that need it only: every command pays its imports.
    from app.main import create_app
    from app.openapi import document_text

    typer.echo(document_text(create_app(_settings())), nl=False)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION."""
    from app.db import migrations

    asyncio.run(migrations.upgrade(_settings().database_url, revision))
    console.print(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step)."""
    from app.db import migrations

    asyncio.run(migrations.downgrade(_settings().database_url, revision))
    console.print(f"Database downgraded to {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one available."""
    from app.db import migrations

    current = asyncio.run(migrations.current_revision(_settings().database_url))
    head = migrations.head_revision()
    state = "up to date" if current == head else "behind"
    console.print(f"current: {current or '(empty)'}  head: {head}  ({state})")


@db_cli.command("reset")
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop every table and migrate again. Refused in production."""
    from app.db import migrations

    settings = _settings()
    if settings.environment is Environment.PRODUCTION:
        err_console.print("[red]Refusing to reset a production database.[/red]")
        raise typer.Exit(1)
    if not yes:
        typer.confirm("Drop every table and all data?", abort=True)
    asyncio.run(migrations.drop_everything(settings.database_url))
    asyncio.run(migrations.upgrade(settings.database_url))
    console.print("Database reset.")


@db_cli.command("seed")
def db_seed() -> None:
    """Add the demo workspace (idempotent)."""
    from app.seed import DEMO_PASSWORD, seed_demo

    result = _in_unit_of_work(lambda uow: seed_demo(uow.session), _settings())
    console.print(
        f"Seeded {result.inserted} new rows. Sign in as owner@example.com, ada@example.com or "
        f"grace@example.com with password {DEMO_PASSWORD!r}."
    )


@events_cli.command("prune")
def events_prune(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep this many days (default: EVENT_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Remove events older than the retention period, in every workspace, and the webhook
    deliveries of that age that were settled."""
    from app.repositories.events import EventRetention
    from app.repositories.webhooks import DeliveryQueue

    settings = _settings()
    keep = days or settings.event_retention_days
    before = datetime.now(UTC) - timedelta(days=keep)

    async def prune(uow: UnitOfWork) -> tuple[int, int]:
        events = await EventRetention(uow.session).prune(before)
        return events, await DeliveryQueue(uow.session).prune(before)

    events, deliveries = _in_unit_of_work(prune, settings)
    console.print(
        f"Removed {events} events and {deliveries} webhook deliveries older than {keep} days."
    )


@webhooks_cli.command("run")
def webhooks_run() -> None:
    """Send webhook deliveries until stopped (Ctrl-C or SIGTERM), beside or instead of the
    dispatchers of `timesheet serve` (WEBHOOK_DISPATCHER=false turns those off)."""
    import logging.config

    from app.observability.logs import log_config

    settings = _settings()
    logging.config.dictConfig(log_config(settings))

    async def run() -> None:
        from app.dispatcher import Dispatcher

        engine = create_engine(settings)
        dispatcher = Dispatcher(create_sessions(engine, pgbouncer=settings.db_pgbouncer), settings)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        dispatcher.start()
        console.print("Sending webhooks; Ctrl-C stops.")
        try:
            await stopped.wait()
        finally:
            await dispatcher.stop()
            await engine.dispose()

    asyncio.run(run())


@users_cli.command("create")
def users_create(
    email: Annotated[str, typer.Option(prompt=True)],
    full_name: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create a user account (also when registration is closed). An email only a
    placeholder account has (made by an import or a restore) activates that account."""
    from app.schemas.users import UserCreate
    from app.services.accounts import AccountService, NewAccount

    try:
        data = UserCreate(email=email, full_name=full_name, password=password)
    except ValidationError as exc:
        for error in exc.errors():
            err_console.print(f"[red]{'.'.join(map(str, error['loc']))}:[/red] {error['msg']}")
        raise typer.Exit(2) from exc
    settings = _settings()

    async def create(uow: UnitOfWork) -> NewAccount:
        return await AccountService(uow, settings).create_user(
            data.email, data.password, data.full_name
        )

    try:
        account = _in_unit_of_work(create, settings)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    user = account.user
    if account.took_over_placeholder:
        console.print(
            f"Activated the placeholder account {user.email} ({user.id}) that an import or a "
            "restore made: it keeps its memberships and entries."
        )
    else:
        console.print(f"Created user {user.email} ({user.id}).")


@users_cli.command("deactivate")
def users_deactivate(email: Annotated[str, typer.Option(prompt=True)]) -> None:
    """Deactivate an account: sign-in and every token it holds stop working at once."""
    from app.services.accounts import AccountService

    settings = _settings()

    async def deactivate(uow: UnitOfWork) -> User | None:
        return await AccountService(uow, settings).deactivate(email)

    user = _in_unit_of_work(deactivate, settings)
    if user is None:
        err_console.print(f"[red]No user with email {email}.[/red]")
        raise typer.Exit(1)
    console.print(f"Deactivated user {user.email} ({user.id}).")


def _instant(value: str | None, option: str) -> datetime | None:
    """A date (its midnight in UTC) or a datetime with an offset, for --from and --to."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or (parsed.tzinfo is None and len(value) != 10):
        err_console.print(f"[red]{option}: give a date or a datetime with an offset.[/red]")
        raise typer.Exit(2)
    try:
        return supported_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    except ValueError as exc:
        err_console.print(f"[red]{option} {exc}.[/red]")
        raise typer.Exit(2) from exc


class FileFormat(StrEnum):
    """What `timesheet export` writes: an export format, or the detailed report as PDF."""

    CSV = "csv"
    TOGGL_CSV = "toggl_csv"
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


@cli.command("export")
def export(
    workspace: Annotated[uuid.UUID, typer.Option(help="The workspace's id.")],
    export_format: Annotated[
        FileFormat,
        typer.Option(
            "--format", help="csv (native), toggl_csv, json, xlsx, or pdf (the detailed report)."
        ),
    ] = FileFormat.CSV,
    start: Annotated[
        str | None, typer.Option("--from", help="Entries starting at or after this.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Entries starting before this.")] = None,
    user_id: Annotated[list[uuid.UUID] | None, typer.Option(help="Only these users.")] = None,
    project_id: Annotated[list[uuid.UUID] | None, typer.Option(help="Only these projects.")] = None,
    timezone: Annotated[
        str, typer.Option(help="Timezone of local dates and times (toggl_csv, xlsx, pdf).")
    ] = "UTC",
) -> None:
    """Write a workspace's time entries, everyone's and with rates, to standard output; a
    progress bar on standard error follows long exports."""
    from app.schemas.report_documents import DetailedFormat, DetailedQuery
    from app.services.exports import ExportFormat, ExportScope, export_entries

    filters = EntryFilters(
        from_=_instant(start, "--from"),
        to=_instant(end, "--to"),
        user_id=user_id or (),
        project_id=project_id or (),
    )
    if timezone not in available_timezones():
        err_console.print(f"[red]--timezone: unknown timezone {timezone!r}.[/red]")
        raise typer.Exit(2)
    settings = _settings()

    async def run() -> bool:
        engine = create_engine(settings)
        sessions = create_sessions(engine, pgbouncer=settings.db_pgbouncer)
        try:
            async with sessions.reading() as session:
                owner = await _owner(session, workspace)
                if owner is None:
                    return False
                entries = TimeEntryRepository(session, workspace)
                total = await session.scalar(entries.filtered(filters, func.count()))
            if export_format is FileFormat.PDF:
                from app.api.report_documents import detailed_document

                query = DetailedQuery.model_validate(
                    {
                        "tz": timezone,
                        "from": filters.from_,
                        "to": filters.to,
                        "user_id": list(filters.user_id),
                        "project_id": list(filters.project_id),
                    }
                )
                await _write_body(
                    await detailed_document(sessions, owner, query, DetailedFormat.PDF)
                )
                return True
            scope = ExportScope(owner.current_workspace(), None, True, timezone)
            output = sys.stdout.buffer
            with _progress(total or 0) as advance:
                async for chunk in export_entries(
                    sessions, scope, filters, ExportFormat(export_format), progress=advance
                ):
                    output.write(chunk if isinstance(chunk, bytes) else chunk.encode())
            output.flush()
            return True
        finally:
            await engine.dispose()

    _write_for_workspace(run, workspace)


# A bar is worth drawing from this many entries on.
_LONG_EXPORT = 5000


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], object]]:
    """A progress bar on standard error for a long export; for a short one, nothing."""
    if total < _LONG_EXPORT:
        yield lambda _count: None
        return
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("Exporting", total=total)
        yield lambda count: progress.advance(task, count)


async def _owner(session: AsyncSession, workspace_id: uuid.UUID) -> Caller | None:
    """The workspace's owner as the caller a command acts as; None: no such workspace."""
    found = await WorkspaceRepository(session).get_or_none(workspace_id)
    if found is None:
        return None
    standing = await WorkspaceRepository(session).get_membership(found.id, found.owner_user_id)
    assert standing is not None, "a workspace's owner is its member"
    user = await session.get(User, found.owner_user_id)
    return Caller(user, SignIn.COMMAND_LINE).in_workspace(found, standing[1])


async def _write_body(result: object) -> None:
    """A report's answer on standard output: a file as it is, JSON as JSON."""
    from fastapi import Response
    from fastapi.responses import StreamingResponse

    output = sys.stdout.buffer
    if isinstance(result, StreamingResponse):
        async for chunk in result.body_iterator:
            output.write(chunk if isinstance(chunk, bytes) else chunk.encode())
        if result.background is not None:
            await result.background()
    elif isinstance(result, Response):
        output.write(bytes(result.body))
    else:
        output.write(result.model_dump_json(indent=2).encode() + b"\n")  # type: ignore[attr-defined]
    output.flush()


class SummaryFileFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


@report_cli.command("summary")
def summary_command(
    workspace: Annotated[uuid.UUID, typer.Option(help="The workspace's id.")],
    group_by: Annotated[str, typer.Option(help="project, client, task, user, tag, ...")],
    sub_group_by: Annotated[str | None, typer.Option(help="Splits each group again.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="A date (in --tz) or a datetime.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="A date (in --tz) or a datetime.")] = None,
    timezone: Annotated[str | None, typer.Option("--tz", help="Default: the owner's.")] = None,
    report_format: Annotated[
        SummaryFileFormat, typer.Option("--format", help="json, xlsx or pdf.")
    ] = SummaryFileFormat.JSON,
) -> None:
    """Write the summary report, as the owner sees it, to standard output."""
    params = {"group_by": group_by, "sub_group_by": sub_group_by, "from": start, "to": end}
    _report(workspace, "summary", {**params, "tz": timezone}, report_format.value)


class WeeklyFileFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


@report_cli.command("weekly")
def weekly_command(
    workspace: Annotated[uuid.UUID, typer.Option(help="The workspace's id.")],
    week: Annotated[str | None, typer.Option(help="The ISO week, e.g. 2026-W48.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="The first day.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="The day after the last.")] = None,
    timezone: Annotated[str | None, typer.Option("--tz", help="Default: the owner's.")] = None,
    rows: Annotated[str | None, typer.Option(help="user or project.")] = None,
    report_format: Annotated[
        WeeklyFileFormat, typer.Option("--format", help="json, csv, xlsx or pdf.")
    ] = WeeklyFileFormat.JSON,
) -> None:
    """Write the weekly timesheet, as the owner sees it, to standard output."""
    params = {"week": week, "from": start, "to": end, "tz": timezone, "rows": rows}
    _report(workspace, "weekly", params, report_format.value)


def _report(workspace: uuid.UUID, kind: str, params: dict[str, object], extension: str) -> None:
    from app.schemas.report_documents import REPORT_QUERIES, ReportKind

    try:
        query = REPORT_QUERIES[ReportKind(kind)].model_validate(
            {name: value for name, value in params.items() if value is not None}
        )
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or kind
            err_console.print(f"[red]{where}: {error['msg']}[/red]")
        raise typer.Exit(2) from exc
    settings = _settings()

    async def run() -> bool:
        engine = create_engine(settings)
        sessions = create_sessions(engine, pgbouncer=settings.db_pgbouncer)
        try:
            async with UnitOfWork(sessions, read_only=True) as uow:
                owner = await _owner(uow.session, workspace)
                if owner is None:
                    return False
                from app.api.report_documents import shared_document

                result = await shared_document(
                    uow.session,
                    sessions,
                    owner,
                    ReportKind(kind),
                    query,
                    extension,
                    show_amounts=True,
                )
            await _write_body(result)
            return True
        finally:
            await engine.dispose()

    _write_for_workspace(run, workspace)


class Tracker(StrEnum):
    TOGGL = "toggl"
    CLOCKIFY = "clockify"
    NATIVE = "native"
    HARVEST = "harvest"
    HARVEST_CLIENTS = "harvest-clients"
    HARVEST_PROJECTS = "harvest-projects"
    TOGGL_ACCOUNT = "toggl-account"


_FORMATS = {
    Tracker.TOGGL: ImportFormat.TOGGL_CSV,
    Tracker.CLOCKIFY: ImportFormat.CLOCKIFY_CSV,
    Tracker.NATIVE: ImportFormat.NATIVE_CSV,
    Tracker.HARVEST: ImportFormat.HARVEST_CSV,
    Tracker.HARVEST_CLIENTS: ImportFormat.HARVEST_CLIENTS_CSV,
    Tracker.HARVEST_PROJECTS: ImportFormat.HARVEST_PROJECTS_CSV,
    Tracker.TOGGL_ACCOUNT: ImportFormat.TOGGL_ACCOUNT_ZIP,
}


class _CountingReader:
    """A binary file that reports how far it has been read, for the progress bar: every
    `_REPORT_BYTES` and at its end (the bar's update costs more than reading a line)."""

    _REPORT_BYTES = 256 * 1024

    def __init__(self, stream: BinaryIO, advance: Callable[[int], object]) -> None:
        self.stream = stream
        self.advance = advance
        self.unreported = 0

    def read(self, size: int = -1) -> bytes:
        return self._count(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.stream.readline(size))

    def _count(self, data: bytes) -> bytes:
        self.unreported += len(data)
        if self.unreported >= self._REPORT_BYTES or not data:
            self.advance(self.unreported)
            self.unreported = 0
        return data


@cli.command("import")
def import_file(
    tracker: Annotated[
        Tracker,
        typer.Argument(
            help="Whose export the file is: time entries (toggl, clockify, harvest, native) "
            "or a catalog (harvest-clients, harvest-projects, toggl-account: a ZIP)."
        ),
    ],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    workspace: Annotated[uuid.UUID, typer.Option(help="The workspace's id.")],
    timezone: Annotated[
        str | None,
        typer.Option(help="Timezone of times without an offset; default: the owner's."),
    ] = None,
    date_format: Annotated[
        DateOrder, typer.Option(help="Dates with slashes: mdy (US) or dmy.")
    ] = DateOrder.MONTH_FIRST,
    create_missing_members: Annotated[
        bool, typer.Option(help="Add people the workspace does not have, instead of failing.")
    ] = False,
    day_start: Annotated[
        str,
        typer.Option(help="harvest: when each person's first entry of a day starts (HH:MM)."),
    ] = DEFAULT_DAY_START.isoformat("minutes"),
    dry_run: Annotated[bool, typer.Option(help="Report what would happen; write nothing.")] = False,
    resume: Annotated[
        uuid.UUID | None,
        typer.Option(
            help="Continue this stopped run of the same file, with its options. Without it, "
            "the newest stopped run of the same file and options continues."
        ),
    ] = None,
) -> None:
    """Import another tracker's export (or a native CSV) into a workspace, as its owner.

    Time entries are committed a batch at a time (IMPORT_BATCH_ROWS): a stopped import
    continues after its last committed batch when run again on the same file."""
    if timezone is not None and timezone not in available_timezones():
        err_console.print(f"[red]--timezone: unknown timezone {timezone!r}.[/red]")
        raise typer.Exit(2)
    try:
        first_entry_at = parse_day_start(day_start)
    except ValueError as exc:
        err_console.print(f"[red]--day-start: {exc}[/red]")
        raise typer.Exit(2) from exc
    settings = _settings()
    lease = timedelta(seconds=settings.import_lease_seconds)
    file_sha256 = None
    if not dry_run:
        with file.open("rb") as content:
            file_sha256 = hashlib.file_digest(content, "sha256").hexdigest()

    async def run(uow: UnitOfWork) -> RunOutcome | None:
        found = await WorkspaceRepository(uow.session).get_or_none(workspace)
        if found is None:
            return None
        owner = await WorkspaceRepository(uow.session).get_membership(found.id, found.owner_user_id)
        assert owner is not None, "a workspace's owner is its member"
        membership = owner[1]
        user = await uow.session.get(User, found.owner_user_id)
        caller = Caller(user, SignIn.COMMAND_LINE).in_workspace(found, membership)
        options = ImportOptions(
            source=_FORMATS[tracker],
            timezone=timezone or caller.user.timezone,
            date_order=date_format,
            create_missing_members=create_missing_members,
            day_start=first_entry_at,
        )
        with Progress(console=err_console) as progress, file.open("rb") as stream:
            reading = progress.add_task(f"Importing {file.name}", total=file.stat().st_size)
            # A ZIP is read by seeking about, so its progress is only its end.
            source = (
                stream
                if options.source is ImportFormat.TOGGL_ACCOUNT_ZIP
                else _CountingReader(stream, lambda n: progress.advance(reading, n))
            )
            if file_sha256 is None:
                async with uow.session.begin_nested() as attempt:
                    report = await import_stream(
                        uow.session,
                        caller,
                        options,
                        source,  # type: ignore[arg-type]
                        batch_rows=settings.import_batch_rows,
                    )
                    await attempt.rollback()
                return RunOutcome(report)
            import_run = await command_run(
                uow,
                caller,
                options,
                filename=file.name,
                file_sha256=file_sha256,
                resume=resume,
                lease=lease,
            )
            if import_run.last_line:
                progress.console.print(
                    f"Resuming import {import_run.id} after line {import_run.last_line}."
                )
            else:
                progress.console.print(f"Import {import_run.id}")
            run_id, attempt = import_run.id, import_run.attempts
            try:
                outcome = await carry_out(
                    uow,
                    import_run,
                    caller,
                    source,  # type: ignore[arg-type]
                    batch_rows=settings.import_batch_rows,
                    lease=lease,
                )
            except BaseException:
                # Stopped (Ctrl-C) or failed: the next command resumes at once.
                uow.keep_regardless(lambda session: ImportQueue(session).release(run_id, attempt))
                raise
            progress.update(reading, completed=file.stat().st_size)
            return outcome

    try:
        outcome = _in_unit_of_work(run, settings)
    except UnreadableFile as exc:
        err_console.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(2) from exc
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    if outcome is None:
        err_console.print(f"[red]No workspace {workspace}.[/red]")
        raise typer.Exit(2)
    report = outcome.report
    if outcome.unreadable is not None:
        if report.rows:
            _print_report(report, dry_run=dry_run)
        err_console.print(f"[red]{file}: {outcome.unreadable}[/red]")
        raise typer.Exit(2)
    _print_report(report, dry_run=dry_run)
    if report.failed:
        raise typer.Exit(1)


def _print_report(report: ImportReport, *, dry_run: bool) -> None:
    summary = Table(title="Dry run: nothing was written" if dry_run else "Import")
    for column in ("rows", "created", "duplicates", "failed"):
        summary.add_column(column, justify="right")
    summary.add_row(
        *(str(n) for n in (report.rows, report.created, report.duplicates, report.failed))
    )
    console.print(summary)
    if report.errors:
        failed = Table(title="Failed rows")
        failed.add_column("line", justify="right")
        failed.add_column("reason")
        for error in report.errors:
            failed.add_row(str(error["line"]), error["reason"])
        console.print(failed)


@workspace_cli.command("export")
def workspace_export(
    workspace: Annotated[uuid.UUID, typer.Option(help="The workspace's id.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write here, not to standard output."),
    ] = None,
) -> None:
    """Write a workspace's full export (a ZIP) to standard output or to --output."""
    from app.services.archive import export_workspace

    settings = _settings()

    async def run() -> bool:
        engine = create_engine(settings)
        sessions = create_sessions(engine, pgbouncer=settings.db_pgbouncer)
        try:
            async with sessions.reading() as session:
                if await WorkspaceRepository(session).get_or_none(workspace) is None:
                    return False
            target = output.open("wb") if output is not None else sys.stdout.buffer
            try:
                async for chunk in export_workspace(sessions, workspace):
                    target.write(chunk)
                target.flush()
            except BaseException:
                if output is not None:  # no half archive left behind
                    target.close()
                    output.unlink(missing_ok=True)
                raise
            finally:
                if output is not None:
                    target.close()
            return True
        finally:
            await engine.dispose()

    _write_for_workspace(run, workspace)


@workspace_cli.command("import")
def workspace_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    owner: Annotated[
        str | None,
        typer.Option(help="Email of the owner, if the exported owner has no account here."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="The new workspace's name.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check and count; write nothing.")] = False,
) -> None:
    """Restore a full export into a new workspace. People are matched by email; people
    without an account here get an inactive placeholder account."""
    from app.services.archive import ArchiveError, read_archive
    from app.services.restore import RestoreOptions, choose_owner, restore_workspace

    settings = _settings()

    async def run(uow: UnitOfWork) -> "RestoreReport":
        with file.open("rb") as stream:
            archive = await read_archive(stream)
            new_owner = await choose_owner(uow.session, archive, owner)
            options = RestoreOptions(owner=new_owner, enrol_accounts=True, name=name)
            return await restore_workspace(uow.session, archive, options, dry_run=dry_run)

    try:
        report = _in_unit_of_work(run, settings)
    except ArchiveError as exc:
        err_console.print(
            f"[red]{file}: the archive cannot be restored; nothing was written.[/red]"
        )
        for problem in exc.problems:
            _, name_in_archive, line = problem.field
            where = f"{name_in_archive}:{line}" if line else name_in_archive
            err_console.print(f"  {where}: {problem.message}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    _print_restore(report, dry_run=dry_run)


def _print_restore(report: "RestoreReport", *, dry_run: bool) -> None:
    if not report.created:
        console.print(
            f"This archive was restored here before, into workspace {report.workspace_id}; "
            "nothing was written."
        )
        return
    title = "Dry run: nothing was written" if dry_run else f"Restored {report.workspace_id}"
    summary = Table(title=title)
    summary.add_column("kind")
    summary.add_column("records", justify="right")
    for kind, count in report.counts.items():
        summary.add_row(kind, str(count))
    console.print(summary)
    console.print(
        f"{report.placeholders} placeholder accounts made, {report.remapped} ids replaced "
        "because they were taken here."
    )


def main() -> None:
    cli()
