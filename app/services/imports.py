"""The import engine: rows of other trackers' exports (and our own) become time entries,
through the same rules and rate function as the API, a batch at a time.

Users are matched by email among the workspace's members (on request, an email no account
has becomes an inactive placeholder member); clients, projects, tasks and tags by name,
ignoring case, and created when missing. Every row gets a stable external id,
so a file imported twice creates nothing the second time. A bad row fails alone, with its
line and the reason; the good rows of the same file land. The caller decides what to do
with the outcome: commit it, or roll it back for a dry run that reported the same.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import events
from app.db.models import (
    Client,
    ImportRun,
    Membership,
    Project,
    ProjectMember,
    Tag,
    Task,
    TimeEntry,
    User,
    time_entry_tags,
)
from app.db.models.time_entry import DESCRIPTION_MAX_LENGTH
from app.db.types import utcnow
from app.enums import EntrySource, EventOrigin, ImportFormat, ImportStatus, Role
from app.errors import PeriodLocked
from app.loader.formats import DateOrder, ParsedEntry, RowError, parse_row
from app.loader.reading import RawRow, UnreadableFile, read_rows
from app.repositories.import_runs import ImportRunRepository
from app.repositories.projects import ProjectRepository
from app.repositories.time_entries import TimeEntryRepository
from app.repositories.users import UserRepository
from app.services import closed_time, policies
from app.services.caller import Caller
from app.services.entry_rules import ProjectFacts, hourly_rate, overlaps
from app.services.progress import Share, Targets, record_crossings

BATCH_SIZE = 1000
# A report lists this many failed rows at most; the count covers them all.
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class ImportOptions:
    source: ImportFormat
    timezone: str
    date_order: DateOrder = DateOrder.MONTH_FIRST
    create_missing_members: bool = False


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, line: int, reason: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "reason": reason})


@dataclass
class _Member:
    user_id: uuid.UUID
    rate_cents: int | None


class ImportEngine:
    def __init__(
        self,
        session: AsyncSession,
        caller: Caller,
        options: ImportOptions,
        *,
        run_id: uuid.UUID | None = None,
    ) -> None:
        policies.require_admin(caller)
        self.session = session
        # The run's rows are summed up in one `import.completed`, not an event a row.
        self.run_id = run_id or uuid.uuid4()
        events.context(session).origin = EventOrigin.IMPORT
        self.workspace = caller.current_workspace()
        self.actor_id = caller.user_id
        self.options = options
        self.zone = ZoneInfo(options.timezone)
        self._members: dict[str, _Member | None] = {}
        self._clients: dict[str, uuid.UUID] = {}
        self._projects: dict[str, Project] = {}
        self._tasks: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
        self._tags: dict[str, uuid.UUID] = {}
        self._project_rates: dict[tuple[uuid.UUID, uuid.UUID], int | None] = {}
        self._archived_clients: set[uuid.UUID] = set()

    async def run(
        self, rows: Iterable[RawRow], progress: Callable[[int], None] | None = None
    ) -> ImportReport:
        report = ImportReport()
        await self._load_catalog()
        # Projects with an estimate or a budget: their totals before and after the run tell
        # which thresholds the imported entries crossed (two statements, only if any).
        targets = {
            project.id: Targets(project.estimate_seconds, project.budget_cents)
            for project in self._projects.values()
            if Targets(project.estimate_seconds, project.budget_cents)
        }
        projects = ProjectRepository(self.session, self.workspace.id)
        tracked_before = await projects.tracked(targets.keys())
        for batch in _batches(iter(rows), BATCH_SIZE):
            await self._import_batch(batch, report)
            if progress is not None:
                progress(len(batch))
        if targets and report.created:
            tracked_after = await projects.tracked(targets.keys())
            for project_id, project_targets in targets.items():
                record_crossings(
                    self.session,
                    self.workspace.id,
                    project_id,
                    project_targets,
                    Share(*tracked_before.get(project_id, (0, 0))),
                    Share(*tracked_after.get(project_id, (0, 0))),
                )
        events.record(
            self.session,
            workspace_id=self.workspace.id,
            type="import.completed",
            subject_type="import",
            subject_id=self.run_id,
            data={
                "object": {
                    "id": self.run_id,
                    "format": self.options.source,
                    "rows": report.rows,
                    "created": report.created,
                    "duplicates": report.duplicates,
                    "failed": report.failed,
                }
            },
        )
        return report

    async def _import_batch(self, batch: list[RawRow], report: ImportReport) -> None:
        report.rows += len(batch)
        parsed: list[ParsedEntry] = []
        for row in batch:
            try:
                entry = parse_row(row, self.options.source, self.zone, self.options.date_order)
                if len(entry.description) > DESCRIPTION_MAX_LENGTH:
                    raise RowError(f"the description is over {DESCRIPTION_MAX_LENGTH} characters")
            except RowError as error:
                report.fail(row.line, str(error))
                continue
            parsed.append(entry)
        await self._load_members({entry.email for entry in parsed})
        # Rows written before (by an earlier run or batch) are told apart by the database
        # when inserting; only this batch's own repeats are caught here.
        seen: set[str] = set()
        pending: list[_Pending] = []
        claimed: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
        for entry in parsed:
            if entry.external_id in seen:
                report.duplicates += 1
                continue
            try:
                values, tag_ids = await self._entry(entry, claimed)
            except RowError as error:
                report.fail(entry.line, str(error))
                continue
            seen.add(entry.external_id)
            pending.append(_Pending(entry.line, values, tag_ids))
        if pending:
            pending = await self._outside_closed_time(pending, report)
        if self.workspace.prevent_overlaps and pending:
            pending = await self._without_stored_overlaps(pending, report)
        inserted = await self._insert_new(pending) if pending else set()
        links = [
            {
                "time_entry_id": item.values["id"],
                "tag_id": tag_id,
                "workspace_id": self.workspace.id,
            }
            for item in pending
            if item.values["id"] in inserted
            for tag_id in item.tag_ids
        ]
        if links:
            await self.session.execute(insert(time_entry_tags), links)
        report.created += len(inserted)
        report.duplicates += len(pending) - len(inserted)

    async def _insert_new(self, pending: list["_Pending"]) -> set[uuid.UUID]:
        """Insert the entries no import wrote before, in one statement; their ids.

        The unique index on (workspace, source, external id) decides what was imported
        already: a lookup beforehand would cost a query per batch that a table growing
        inside this very transaction can make the planner scan in full.
        """
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(TimeEntry.__table__)
            .on_conflict_do_nothing(index_elements=["workspace_id", "source", "external_id"])
            .returning(TimeEntry.__table__.c.id)
        )
        result = await self.session.execute(statement, [item.values for item in pending])
        return set(result.scalars())

    async def _entry(
        self, entry: ParsedEntry, claimed: dict[uuid.UUID, list[tuple[datetime, datetime]]]
    ) -> tuple[dict[str, Any], list[uuid.UUID]]:
        member = self._members.get(entry.email)
        if member is None:
            raise RowError(f"{entry.email} is not a member of this workspace")
        project = await self._project(entry.project, entry.client) if entry.project else None
        task_id = await self._task(project, entry.task) if project and entry.task else None
        if self.workspace.prevent_overlaps:
            mine = claimed.setdefault(member.user_id, [])
            if any(overlaps(entry.start_at, entry.end_at, *other) for other in mine):
                raise RowError("the entry overlaps another entry of the same file")
            mine.append((entry.start_at, entry.end_at))
        rate = entry.rate_cents
        if rate is None and entry.billable:
            rate = hourly_rate(
                billable=True,
                project=self._facts(project, member.user_id) if project else None,
                member_rate_cents=member.rate_cents,
                default_rate_cents=self.workspace.default_hourly_rate_cents,
            )
        values = {
            "id": uuid.uuid4(),
            "workspace_id": self.workspace.id,
            "user_id": member.user_id,
            "project_id": project.id if project else None,
            "task_id": task_id,
            "description": entry.description,
            "start_at": entry.start_at,
            "end_at": entry.end_at,
            "billable": entry.billable,
            "hourly_rate_cents": rate,
            "source": EntrySource.IMPORT,
            "external_id": entry.external_id,
            "version": 1,
        }
        return values, [await self._tag(name) for name in dict.fromkeys(entry.tags)]

    # The catalog, read once and completed as rows name what is missing

    async def _load_catalog(self) -> None:
        workspace_id = self.workspace.id
        clients = await self.session.execute(
            select(Client.id, Client.name, Client.archived_at).where(
                Client.workspace_id == workspace_id, Client.deleted_at.is_(None)
            )
        )
        for client_id, name, archived_at in clients:
            self._clients[name.casefold()] = client_id
            if archived_at is not None:
                self._archived_clients.add(client_id)
        projects = await self.session.scalars(
            select(Project).where(
                Project.workspace_id == workspace_id, Project.deleted_at.is_(None)
            )
        )
        self._projects = {project.name.casefold(): project for project in projects}
        tasks = await self.session.execute(
            select(Task.id, Task.project_id, Task.name).where(
                Task.workspace_id == workspace_id, Task.deleted_at.is_(None)
            )
        )
        self._tasks = {
            (project_id, name.casefold()): task_id for task_id, project_id, name in tasks
        }
        tags = await self.session.execute(
            select(Tag.id, Tag.name).where(
                Tag.workspace_id == workspace_id, Tag.deleted_at.is_(None)
            )
        )
        self._tags = {name.casefold(): tag_id for tag_id, name in tags}
        rates = await self.session.execute(
            select(
                ProjectMember.project_id, ProjectMember.user_id, ProjectMember.hourly_rate_cents
            ).where(ProjectMember.workspace_id == workspace_id)
        )
        self._project_rates = {(project, user): rate for project, user, rate in rates}

    async def _load_members(self, emails: set[str]) -> None:
        wanted = [email for email in emails if email not in self._members]
        if not wanted:
            return
        found = await self.session.execute(
            select(User.email, Membership.user_id, Membership.hourly_rate_cents)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == self.workspace.id, User.email.in_(wanted))
        )
        for email, user_id, rate in found:
            self._members[email] = _Member(user_id, rate)
        for email in wanted:
            if email not in self._members:
                self._members[email] = (
                    await self._placeholder_member(email)
                    if self.options.create_missing_members
                    else None
                )

    async def _placeholder_member(self, email: str) -> _Member | None:
        """A member for an email no account has, created inactive (it can sign in once given
        a password). An existing account joins only by accepting an invitation: its rows
        fail like those of any other non-member."""
        taken = select(User.id).where(User.email == email)
        if (await self.session.scalars(taken)).first() is not None:
            return None
        user = await UserRepository(self.session).add_placeholder(email)
        self.session.add(
            Membership(workspace_id=self.workspace.id, user_id=user.id, role=Role.MEMBER)
        )
        await self.session.flush()
        return _Member(user.id, None)

    async def _project(self, name: str, client_name: str) -> Project:
        project = self._projects.get(name.casefold())
        if project is None:
            client_id = await self._client(client_name) if client_name else None
            project = Project(
                workspace_id=self.workspace.id,
                name=name,
                client_id=client_id,
                is_billable=True,
            )
            self.session.add(project)
            await self.session.flush()
            self._projects[name.casefold()] = project
        if project.archived_at is not None or project.client_id in self._archived_clients:
            raise RowError(f"project {project.name!r} or its client is archived")
        return project

    async def _client(self, name: str) -> uuid.UUID:
        client_id = self._clients.get(name.casefold())
        if client_id is None:
            client = Client(workspace_id=self.workspace.id, name=name)
            self.session.add(client)
            await self.session.flush()
            client_id = self._clients[name.casefold()] = client.id
        return client_id

    async def _task(self, project: Project, name: str) -> uuid.UUID:
        key = (project.id, name.casefold())
        if key not in self._tasks:
            task = Task(workspace_id=self.workspace.id, project_id=project.id, name=name)
            self.session.add(task)
            await self.session.flush()
            self._tasks[key] = task.id
        return self._tasks[key]

    async def _tag(self, name: str) -> uuid.UUID:
        key = name.casefold()
        if key not in self._tags:
            tag = Tag(workspace_id=self.workspace.id, name=name)
            self.session.add(tag)
            await self.session.flush()
            self._tags[key] = tag.id
        return self._tags[key]

    def _facts(self, project: Project, user_id: uuid.UUID) -> ProjectFacts:
        return ProjectFacts(
            id=project.id,
            is_billable=project.is_billable,
            hourly_rate_cents=project.hourly_rate_cents,
            member_rate_cents=self._project_rates.get((project.id, user_id)),
            visible=True,
            archived=False,
            deleted=False,
        )

    async def _outside_closed_time(
        self, pending: list["_Pending"], report: ImportReport
    ) -> list["_Pending"]:
        """The entries whose time is open to the importer, once their users are locked; the
        others fail with the closed period, unless an earlier import wrote them already
        (they would change nothing: the insert skips them as duplicates)."""
        users = {item.values["user_id"] for item in pending}
        await TimeEntryRepository(self.session, self.workspace.id).lock_users(users)
        starts = {item.values["start_at"] for item in pending}
        closed = await closed_time.load(
            self.session, self.workspace.id, self.actor_id, users, starts
        )
        refused: dict[str, tuple[_Pending, str]] = {}
        kept = []
        for item in pending:
            try:
                closed.check(item.values["user_id"], item.values["start_at"])
            except PeriodLocked as error:
                refused[item.values["external_id"]] = (item, error.detail)
            else:
                kept.append(item)
        if refused:
            imported = set(
                await self.session.scalars(
                    select(TimeEntry.external_id).where(
                        TimeEntry.workspace_id == self.workspace.id,
                        TimeEntry.source == EntrySource.IMPORT,
                        TimeEntry.external_id.in_(refused),
                    )
                )
            )
            for external_id, (item, reason) in refused.items():
                if external_id in imported:
                    report.duplicates += 1
                else:
                    report.fail(item.line, reason)
        return kept

    async def _without_stored_overlaps(
        self, pending: list["_Pending"], report: ImportReport
    ) -> list["_Pending"]:
        """The entries that overlap no stored entry of their user (where overlaps are off)."""
        earliest = min(item.values["start_at"] for item in pending)
        latest = max(item.values["end_at"] for item in pending)
        stored = await self.session.execute(
            select(
                TimeEntry.user_id, TimeEntry.start_at, TimeEntry.end_at, TimeEntry.external_id
            ).where(
                TimeEntry.workspace_id == self.workspace.id,
                TimeEntry.user_id.in_({item.values["user_id"] for item in pending}),
                TimeEntry.deleted_at.is_(None),
                TimeEntry.start_at < latest,
                or_(TimeEntry.end_at.is_(None), TimeEntry.end_at > earliest),
            )
        )
        by_user: dict[uuid.UUID, list[tuple[datetime, datetime | None, str | None]]] = {}
        for user_id, start_at, end_at, external_id in stored:
            by_user.setdefault(user_id, []).append((start_at, end_at, external_id))
        kept = []
        for item in pending:
            values = item.values
            # The row's own earlier import is no overlap: the insert will skip it.
            if any(
                overlaps(values["start_at"], values["end_at"], start, end)
                for start, end, external_id in by_user.get(values["user_id"], ())
                if external_id != values["external_id"]
            ):
                report.fail(item.line, "the entry overlaps a stored entry of the same user")
            else:
                kept.append(item)
        return kept


@dataclass(frozen=True)
class _Pending:
    """An entry checked and ready to be written, with the line it came from."""

    line: int
    values: dict[str, Any]
    tag_ids: list[uuid.UUID]


def _batches(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    while batch := list(islice(rows, size)):
        yield batch


async def import_upload(
    session: AsyncSession,
    caller: Caller,
    options: ImportOptions,
    stream: BinaryIO,
    *,
    filename: str,
    dry_run: bool,
) -> ImportRun:
    """Run the engine over an uploaded file and keep the run's record: its counts and
    refused rows, or why the file could not be read. A dry run keeps only the record."""
    runs = ImportRunRepository(session, caller.current_workspace().id)
    run = await runs.create(
        user_id=caller.user_id,
        format=options.source,
        filename=filename[:255],
        status=ImportStatus.RUNNING,
        dry_run=dry_run,
        options={
            "timezone": options.timezone,
            "date_format": options.date_order.value,
            "create_missing_members": options.create_missing_members,
        },
        started_at=utcnow(),
    )
    engine = ImportEngine(session, caller, options, run_id=run.id)
    try:
        async with session.begin_nested() as attempt:
            report = await engine.run(read_rows(stream))
            if dry_run:
                await attempt.rollback()
    except UnreadableFile as exc:
        changes: dict[str, Any] = {
            "status": ImportStatus.FAILED,
            "errors": [{"line": 0, "reason": str(exc)}],
        }
    else:
        changes = {
            "status": ImportStatus.SUCCEEDED,
            "rows_count": report.rows,
            "created_count": report.created,
            "duplicates_count": report.duplicates,
            "failed_count": report.failed,
            "errors": report.errors,
        }
    return await runs.update(run, {**changes, "finished_at": utcnow()})
