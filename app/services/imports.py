"""The import engine: rows of other trackers' exports (and our own) become time entries,
through the same rules and rate function as the API, a batch at a time.

Users are matched by email among the workspace's members (on request, an email no account
has becomes an inactive placeholder member); clients, projects, tasks and tags by name,
ignoring case, and created when missing. Every row gets a stable external id,
so a file imported twice creates nothing the second time. A bad row fails alone, with its
line and the reason; the good rows of the same file land.

A run (`ImportRun`) commits a batch at a time together with its progress (`carry_out`), so
no lock is held longer than a batch and a stopped run resumes after its last committed
line. A dry run is one transaction, rolled back at the end: later batches must see what
earlier ones would have created, and the report must be the one a real run would give.
On PostgreSQL a batch's entries and tag links go in with COPY (`CopyWriter`), on SQLite
with multi-row statements sent by the driver (`StatementWriter`); both behind the same
checks.
"""

import asyncio
import gc
import hashlib
import os
import sqlite3
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import islice
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from asyncpg import UniqueViolationError
from sqlalchemy import ColumnElement, Dialect, Uuid, column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db import events
from app.db.binary_copy import BinaryRows, copy_rows
from app.db.connection import driver_of
from app.db.driver_rows import DriverRows
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
from app.db.unit_of_work import UnitOfWork
from app.enums import EntrySource, EventOrigin, ImportFormat, ImportStatus
from app.errors import Conflict, PeriodLocked
from app.loader import harvest
from app.loader.formats import DateOrder, ParsedEntry, RowError, parse_row
from app.loader.reading import RawRow, UnreadableFile, read_rows
from app.repositories.import_runs import ImportQueue, ImportRunRepository
from app.repositories.projects import ProjectRepository
from app.repositories.time_entries import TimeEntryRepository
from app.services import closed_time, policies
from app.services.caller import Caller
from app.services.catalog_imports import CatalogImport, storable
from app.services.entry_rules import ProjectFacts, TakenTime, hourly_rate
from app.services.placeholders import account_email, add_placeholder
from app.services.progress import Share, Targets, record_crossings

# Rows committed at a time (the `import_batch_rows` setting's default).
BATCH_ROWS = 5000
# A report lists this many failed rows at most; the count covers them all.
MAX_REPORTED_ERRORS = 1000
# Uploads are kept in pieces of this size until their run ends.
UPLOAD_CHUNK_BYTES = 1024 * 1024
# External ids looked up in one statement (within SQLite's limit of parameters).
LOOKUP_CHUNK = 5000
OVERLAP_REASON = "the entry overlaps another entry of the same user"
_IMPORTED = EntrySource.IMPORT.value


@dataclass(frozen=True)
class ImportOptions:
    source: ImportFormat
    timezone: str
    date_order: DateOrder = DateOrder.MONTH_FIRST
    create_missing_members: bool = False
    # When a day's first entry starts, in formats with hours but no clock times (Harvest).
    day_start: time = harvest.DEFAULT_DAY_START

    def stored(self) -> dict[str, Any]:
        """As a run keeps them, to resume with the same."""
        return {
            "timezone": self.timezone,
            "date_format": self.date_order.value,
            "create_missing_members": self.create_missing_members,
            **(
                {"day_start": self.day_start.isoformat("minutes")}
                if self.source is ImportFormat.HARVEST_CSV
                else {}
            ),
        }

    @classmethod
    def of(cls, run: ImportRun) -> "ImportOptions":
        day_start = run.options.get("day_start")
        return cls(
            source=run.format,
            timezone=run.options["timezone"],
            date_order=DateOrder(run.options["date_format"]),
            create_missing_members=run.options["create_missing_members"],
            day_start=harvest.DEFAULT_DAY_START
            if day_start is None
            else harvest.parse_day_start(day_start),
        )


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def record_completion(
        self,
        session: AsyncSession,
        workspace_id: uuid.UUID,
        run_id: uuid.UUID,
        source: ImportFormat,
    ) -> None:
        """The run's one event, with its counts (rows get none of their own)."""
        events.record(
            session,
            workspace_id=workspace_id,
            type="import.completed",
            subject_type="import",
            subject_id=run_id,
            data={
                "object": {
                    "id": run_id,
                    "format": source,
                    "rows": self.rows,
                    "created": self.created,
                    "duplicates": self.duplicates,
                    "failed": self.failed,
                }
            },
        )

    def fail(self, line: int, reason: str, *, file: str | None = None) -> None:
        """Count a refused row (or record: `file` names the file of an archive it is in)."""
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            where = {"line": line} if file is None else {"file": file, "line": line}
            self.errors.append({**where, "reason": reason})

    @classmethod
    def of(cls, run: ImportRun) -> "ImportReport":
        """What the run's committed batches did."""
        return cls(
            run.rows_count,
            run.created_count,
            run.duplicates_count,
            run.failed_count,
            list(run.errors),
        )

    def counts(self) -> dict[str, Any]:
        """As a run keeps them."""
        return {
            "rows_count": self.rows,
            "created_count": self.created,
            "duplicates_count": self.duplicates,
            "failed_count": self.failed,
            "errors": self.errors,
        }


# Awaited after each batch with the report so far and the batch's last line.
Checkpoint = Callable[[ImportReport, int], Awaitable[None]]


class RunPace:
    """The process's settings while runs read, put back when the last of them stops.

    While a thread parses, the event loop waits for the GIL at each answer from the
    database until the thread is made to let go: 5 ms by default, some 70 ms a batch of a
    dozen round trips. And a batch makes some hundred thousand objects, each 700 of which
    would start a collection (a fifth of the import's CPU): every 50,000 instead."""

    SWITCH_SECONDS = 0.0002
    YOUNG_COLLECTION_OBJECTS = 50_000

    def __init__(self) -> None:
        self.runs = 0
        self.switch = sys.getswitchinterval()
        self.thresholds = gc.get_threshold()

    def __enter__(self) -> None:
        if self.runs == 0:
            self.switch, self.thresholds = sys.getswitchinterval(), gc.get_threshold()
            sys.setswitchinterval(self.SWITCH_SECONDS)
            gc.set_threshold(self.YOUNG_COLLECTION_OBJECTS, *self.thresholds[1:])
        self.runs += 1

    def __exit__(self, *exc_info: object) -> None:
        self.runs -= 1
        if self.runs == 0:
            sys.setswitchinterval(self.switch)
            gc.set_threshold(*self.thresholds)


run_pace = RunPace()


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
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        policies.require_admin(caller)
        self.session = session
        self.batch_rows = batch_rows
        self.writer: EntryWriter = writer_for(session)
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
        self._usable_projects: dict[str, Project] = {}
        self._tasks: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
        self._tags: dict[str, uuid.UUID] = {}
        self._project_rates: dict[tuple[uuid.UUID, uuid.UUID], int | None] = {}
        self._archived_clients: set[uuid.UUID] = set()
        self._targets: dict[uuid.UUID, Targets] = {}
        # A billable row's rate by project and person: the same all run long.
        self._rates: dict[tuple[uuid.UUID | None, uuid.UUID], int | None] = {}
        self._prevent_overlaps = False
        self._unsaved = _UnsavedCatalog()

    async def run(
        self,
        rows: Iterable[RawRow],
        progress: Callable[[int], None] | None = None,
        *,
        report: ImportReport | None = None,
        after_line: int = 0,
        checkpoint: Checkpoint | None = None,
    ) -> ImportReport:
        """Import `rows` a batch at a time, then record `import.completed` with the counts.

        `checkpoint`, when given, is awaited after each batch (it commits); the lines up to
        `after_line` were done by an earlier attempt of the run, whose counts `report`
        carries on, and are skipped unparsed."""
        report = report or ImportReport()
        await self._load_catalog()
        # Projects with an estimate or a budget: their totals before and after each batch
        # tell which thresholds its entries crossed (two statements, only if it has any).
        self._targets = {
            project.id: Targets(project.estimate_seconds, project.budget_cents)
            for project in self._projects.values()
            if Targets(project.estimate_seconds, project.budget_cents)
        }
        self._prevent_overlaps = self.workspace.prevent_overlaps
        remaining = iter(row for row in rows if row.line > after_line)

        def read_batch() -> _ReadBatch | None:
            return self._read_batch(remaining)

        # Reading, parsing and the catalog's look-ups need no database: the next batch is
        # read and made ready in a thread while this one's statements run.
        with run_pace:
            upcoming = asyncio.ensure_future(asyncio.to_thread(read_batch))
            try:
                while (batch := await upcoming) is not None:
                    upcoming = asyncio.ensure_future(asyncio.to_thread(read_batch))
                    await self._import_batch(batch, report)
                    if checkpoint is not None:
                        await checkpoint(report, batch.last_line)
                    if progress is not None:
                        progress(batch.rows)
            finally:
                # Not a row more is read once the run stops (the file may be closed next).
                with suppress(Exception):
                    await upcoming
        report.record_completion(self.session, self.workspace.id, self.run_id, self.options.source)
        return report

    def _read_batch(self, rows: Iterator[RawRow]) -> "_ReadBatch | None":
        """The next batch's rows, parsed, and made ready where the catalog has what they name
        already; None after the last. No database: runs in a thread (the catalog only grows,
        on the event loop's thread, and what this reads of it never changes)."""
        batch = _ReadBatch(utcnow(), _random_ids(self.batch_rows))
        source, zone, order = self.options.source, self.zone, self.options.date_order
        for row in islice(rows, self.batch_rows):
            batch.rows += 1
            batch.last_line = row.line
            try:
                entry = parse_row(row, source, zone, order)
                check_texts(entry)
                batch.rows_read.append(self._known(entry, batch) or entry)
            except RowError as error:
                batch.failed.append((row.line, str(error)))
        return batch if batch.rows else None

    async def _import_batch(self, batch: "_ReadBatch", report: ImportReport) -> None:
        report.rows += batch.rows
        # Refused rows are reported in line order, whichever check refused them.
        failures = list(batch.failed)
        unready = [row for row in batch.rows_read if isinstance(row, ParsedEntry)]
        await self._load_members({entry.email for entry in unready})
        checked: list[_Pending] = []
        for row in batch.rows_read:
            try:
                checked.append(
                    row
                    if isinstance(row, _Pending)
                    else self._known(row, batch) or self._with_catalog(row, batch)
                )
            except RowError as error:
                failures.append((row.line, str(error)))
        await self._unsaved.save(self.session)
        accepted = await self._accepted(checked, report, failures) if checked else []
        for line, reason in sorted(failures):
            report.fail(line, reason)
        if accepted:
            await self._write(accepted, report)

    async def _accepted(
        self, checked: list["_Pending"], report: ImportReport, failures: list[tuple[int, str]]
    ) -> list["_Pending"]:
        """The rows to write, in line order, each judged as if the rows before it were
        written already (so that the outcome is the same whatever the batch size): a row
        imported before, or a repeat of one accepted, is a duplicate; one in closed time, or
        overlapping another entry of its user (where overlaps are off), fails.

        Which rows were imported before is asked of the database only where it decides the
        outcome: for the rows that would fail, and for all of them where overlaps are off
        (an imported row holds no time of its own in the file). The others are told apart
        by the writer."""
        users = {item.user_id for item in checked}
        # Locked first: another import of the same people waits, and then sees these rows.
        await TimeEntryRepository(self.session, self.workspace.id).lock_users(users)
        closed = await closed_time.load(
            self.session,
            self.workspace.id,
            self.actor_id,
            users,
            [item.entry.start_at for item in checked],
        )
        taken_by_user, imported = None, None
        if self._prevent_overlaps:
            stored = await self._stored_spans(checked)
            taken_by_user = {user_id: TakenTime(stored.get(user_id, ())) for user_id in users}
            imported = await self._imported(checked)
        accepted: list[_Pending] = []
        accepted_ids: set[str] = set()
        refused: list[tuple[_Pending, str]] = []
        for item in checked:
            entry = item.entry
            if entry.external_id in accepted_ids or (
                imported is not None and entry.external_id in imported
            ):
                report.duplicates += 1
                continue
            try:
                closed.check(item.user_id, entry.start_at)
            except PeriodLocked as error:
                refused.append((item, error.detail))
                continue
            if taken_by_user is not None:
                taken = taken_by_user[item.user_id]
                if taken.overlaps(entry.start_at, entry.end_at):
                    refused.append((item, OVERLAP_REASON))
                    continue
                taken.take(entry.start_at, entry.end_at)
            accepted_ids.add(entry.external_id)
            accepted.append(item)
        if refused:
            if imported is None:
                imported = await self._imported([item for item, _ in refused])
            for item, reason in refused:
                if item.entry.external_id in imported:
                    report.duplicates += 1
                else:
                    failures.append((item.entry.line, reason))
        return accepted

    async def _imported(self, items: list["_Pending"]) -> set[str]:
        """The external ids of `items` that imports wrote into the workspace before."""
        return await _stored(
            self.session,
            TimeEntry.external_id,
            [item.entry.external_id for item in items],
            TimeEntry.workspace_id == self.workspace.id,
            TimeEntry.source == EntrySource.IMPORT,
        )

    async def _write(self, accepted: list["_Pending"], report: ImportReport) -> None:
        projects = ProjectRepository(self.session, self.workspace.id)
        touched = {item.project_id for item in accepted} & self._targets.keys()
        tracked_before = await projects.tracked(touched)
        inserted = await self.writer.entries(self.session, accepted)
        written = (
            accepted if inserted is None else [item for item in accepted if item.id in inserted]
        )
        report.created += len(written)
        # Imported before: the writer skipped them.
        report.duplicates += len(accepted) - len(written)
        if any(item.links for item in written):
            await self.writer.links(self.session, written)
        if touched and written:
            tracked_after = await projects.tracked(touched)
            for project_id in touched:
                record_crossings(
                    self.session,
                    self.workspace.id,
                    project_id,
                    self._targets[project_id],
                    Share(*tracked_before.get(project_id, (0, 0))),
                    Share(*tracked_after.get(project_id, (0, 0))),
                )

    def _known(self, entry: ParsedEntry, batch: "_ReadBatch") -> "_Pending | None":
        """The row ready to be checked and written, when the catalog has its member,
        project, task and tags (most rows: no await); None when one is still to be looked
        up or created."""
        if entry.email not in self._members:
            return None
        member = self._members[entry.email]
        if member is None:
            raise RowError(f"{entry.email} is not a member of this workspace")
        project = task_id = None
        if entry.project:
            project = self._usable_projects.get(entry.project.casefold())
            if project is None:
                return None
            if entry.task:
                task_id = self._tasks.get((project.id, entry.task.casefold()))
                if task_id is None:
                    return None
        tags, workspace_id = self._tags, self.workspace.id
        tag_ids = []
        for name in dict.fromkeys(entry.tags):
            tag_id = tags.get(name.casefold())
            if tag_id is None:
                return None
            tag_ids.append(tag_id)
        rate = entry.rate_cents
        if rate is None and entry.billable:
            key = (project.id if project else None, member.user_id)
            if key not in self._rates:
                self._rates[key] = hourly_rate(
                    billable=True,
                    project=self._facts(project, member.user_id) if project else None,
                    member_rate_cents=member.rate_cents,
                    default_rate_cents=self.workspace.default_hourly_rate_cents,
                )
            rate = self._rates[key]
        project_id = project.id if project else None
        now = batch.written_at
        # In ENTRY_COLUMNS' order.
        entry_id = next(batch.ids)
        record = (
            entry_id,
            workspace_id,
            member.user_id,
            project_id,
            task_id,
            entry.description,
            entry.start_at,
            entry.end_at,
            entry.billable,
            rate,
            _IMPORTED,
            entry.external_id,
            1,
            now,
            now,
        )
        links = [(entry_id, tag_id, workspace_id) for tag_id in tag_ids]
        encoded = self.writer.encoded(record, links)
        return _Pending(record, links, encoded, entry, member.user_id, project_id)

    def _with_catalog(self, entry: ParsedEntry, batch: "_ReadBatch") -> "_Pending":
        """The row as `_known` makes it, once the catalog has the project, task and tags it
        names: those missing are made, and saved with the batch (its member is looked up
        already)."""
        if entry.project:
            project = self._project(entry.project, entry.client)
            if entry.task:
                self._task(project, entry.task)
        for name in entry.tags:
            self._tag(name)
        pending = self._known(entry, batch)
        assert pending is not None, "the catalog has what the row names"
        return pending

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
        membership = await add_placeholder(self.session, self.workspace.id, email)
        return _Member(membership.user_id, None) if membership is not None else None

    def _project(self, name: str, client_name: str) -> Project:
        key = name.casefold()
        if key in self._usable_projects:
            return self._usable_projects[key]
        project = self._projects.get(key)
        if project is None:
            client_id = self._client(client_name) if client_name else None
            project = Project(
                id=uuid.uuid4(),
                workspace_id=self.workspace.id,
                name=name,
                client_id=client_id,
                is_billable=True,
            )
            self._unsaved.projects.append(project)
            self._projects[name.casefold()] = project
        if project.archived_at is not None or project.client_id in self._archived_clients:
            raise RowError(f"project {project.name!r} or its client is archived")
        self._usable_projects[key] = project
        return project

    def _client(self, name: str) -> uuid.UUID:
        client_id = self._clients.get(name.casefold())
        if client_id is None:
            client = Client(id=uuid.uuid4(), workspace_id=self.workspace.id, name=name)
            self._unsaved.clients.append(client)
            client_id = self._clients[name.casefold()] = client.id
        return client_id

    def _task(self, project: Project, name: str) -> uuid.UUID:
        key = (project.id, name.casefold())
        if key not in self._tasks:
            task = Task(
                id=uuid.uuid4(), workspace_id=self.workspace.id, project_id=project.id, name=name
            )
            self._unsaved.tasks_and_tags.append(task)
            self._tasks[key] = task.id
        return self._tasks[key]

    def _tag(self, name: str) -> uuid.UUID:
        key = name.casefold()
        if key not in self._tags:
            tag = Tag(id=uuid.uuid4(), workspace_id=self.workspace.id, name=name)
            self._unsaved.tasks_and_tags.append(tag)
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

    async def _stored_spans(
        self, checked: list["_Pending"]
    ) -> dict[uuid.UUID, list[tuple[datetime, datetime | None]]]:
        """By user, the stored entries within the batch's time (an end of None: running)."""
        earliest = min(item.entry.start_at for item in checked)
        latest = max(item.entry.end_at for item in checked)
        stored = await self.session.execute(
            select(TimeEntry.user_id, TimeEntry.start_at, TimeEntry.end_at).where(
                TimeEntry.workspace_id == self.workspace.id,
                TimeEntry.user_id.in_({item.user_id for item in checked}),
                TimeEntry.deleted_at.is_(None),
                TimeEntry.start_at < latest,
                or_(TimeEntry.end_at.is_(None), TimeEntry.end_at > earliest),
            )
        )
        spans: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = {}
        for user_id, start_at, end_at in stored:
            spans.setdefault(user_id, []).append((start_at, end_at))
        return spans


@dataclass
class _UnsavedCatalog:
    """What a batch's rows named and the catalog lacked, made with their ids, to be saved
    a kind at a time (clients, then the projects that name them, then tasks and tags): three
    flushes where there would be one for each of hundreds."""

    clients: list[Client] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    tasks_and_tags: list[Task | Tag] = field(default_factory=list)

    async def save(self, session: AsyncSession) -> None:
        for kind in (self.clients, self.projects, self.tasks_and_tags):
            if kind:
                session.add_all(kind)
                kind.clear()
                await session.flush()


@dataclass(slots=True)
class Written:
    """An entry as a writer sends it: its values and its tag links, and both as the
    writer's database takes them (`encoded`)."""

    record: "Record"
    links: list["Link"]
    encoded: "Encoded | DriverEncoded"

    @property
    def id(self) -> uuid.UUID:
        return self.record[0]


@dataclass(slots=True)
class _Pending(Written):
    """A parsed row with its catalog ids, and the entry it would write."""

    entry: ParsedEntry
    user_id: uuid.UUID
    project_id: uuid.UUID | None


@dataclass
class _ReadBatch:
    """A batch of the file: how many rows, the last one's line, each row made ready to be
    checked (or only parsed, when the catalog lacks what it names) or refused with its line
    and reason, and the created time and the ids of its entries."""

    written_at: datetime
    ids: Iterator[uuid.UUID]
    rows: int = 0
    last_line: int = 0
    rows_read: list["_Pending | ParsedEntry"] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


# Read once: looking a column's length up costs about a microsecond, and this is every row.
_EXTERNAL_ID_LENGTH = TimeEntry.__table__.c.external_id.type.length
_CLIENT_NAME_LENGTH = Client.__table__.c.name.type.length
_PROJECT_NAME_LENGTH = Project.__table__.c.name.type.length
_TASK_NAME_LENGTH = Task.__table__.c.name.type.length
_TAG_NAME_LENGTH = Tag.__table__.c.name.type.length


def check_texts(entry: ParsedEntry) -> None:
    """RowError when a text of the row is longer than where it is stored takes, or its
    email is not one an account could have."""
    storable(entry.description, "description", DESCRIPTION_MAX_LENGTH)
    account_email(entry.email)
    storable(entry.external_id, "id", _EXTERNAL_ID_LENGTH)
    storable(entry.client, "client name", _CLIENT_NAME_LENGTH)
    storable(entry.project, "project name", _PROJECT_NAME_LENGTH)
    storable(entry.task, "task name", _TASK_NAME_LENGTH)
    for tag in entry.tags:
        storable(tag, "tag name", _TAG_NAME_LENGTH)


async def _stored(
    session: AsyncSession,
    column: InstrumentedAttribute[Any],
    values: Sequence[Any],
    *conditions: ColumnElement[bool],
) -> set[Any]:
    """Those of `values` that `column` holds in rows meeting `conditions`, looked up
    `LOOKUP_CHUNK` at a time."""
    found: set[Any] = set()
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        found.update(await session.scalars(select(column).where(*conditions, column.in_(chunk))))
    return found


def _random_ids(count: int) -> Iterator[uuid.UUID]:
    """`count` random (version 4) ids from one read of the system's randomness, where
    `uuid4` reads it once an id."""
    randomness = os.urandom(16 * count)
    for start in range(0, len(randomness), 16):
        yield uuid.UUID(bytes=randomness[start : start + 16], version=4)


# Writing a batch: one way per database, behind the same checks


# The columns a batch's entries set, in the order COPY sends them.
ENTRY_COLUMNS = (
    "id",
    "workspace_id",
    "user_id",
    "project_id",
    "task_id",
    "description",
    "start_at",
    "end_at",
    "billable",
    "hourly_rate_cents",
    "source",
    "external_id",
    "version",
    "created_at",
    "updated_at",
)
LINK_COLUMNS = ("time_entry_id", "tag_id", "workspace_id")
Link = tuple[uuid.UUID, uuid.UUID, uuid.UUID]
Record = tuple[Any, ...]  # an entry's values, in ENTRY_COLUMNS' order
Encoded = tuple[bytes, bytes]  # an entry's row and its links' rows, for COPY
# An entry's values and its links' values, in the driver's types, for SQLite's statements.
DriverEncoded = tuple[tuple[Any, ...], list[tuple[Any, ...]]]


class StatementWriter:
    """SQLite's way: the entries in multi-row `INSERT … ON CONFLICT DO NOTHING` statements
    sent by the driver, their tag links in more, with values in the driver's types made as
    the file is read (`encoded`, in the reading thread): the loop only hands them over, as
    it hands COPY its bytes. Many rows a statement rather than `executemany`'s one: the
    driver takes the GIL back after each statement, and while the next batch is parsed in a
    thread, each time costs a wait for the parsing thread to let go."""

    def __init__(self, dialect: Dialect) -> None:
        self._entries = DriverRows(TimeEntry.__table__, ENTRY_COLUMNS, dialect)
        self._links = DriverRows(time_entry_tags, LINK_COLUMNS, dialect)

    def encoded(self, record: Record, links: list[Link]) -> DriverEncoded:
        """The entry's values and its links' values, as the driver takes them."""
        return self._entries.row(record), [self._links.row(link) for link in links]

    async def entries(
        self, session: AsyncSession, batch: Sequence[Written]
    ) -> set[uuid.UUID] | None:
        """Insert the entries no import wrote before; None when that was all of them, else
        the ids of those inserted."""
        rows = [_driver_encoding(item)[0] for item in batch]
        inserted = await _insert_rows(session, _ENTRIES_INSERT, rows)
        if inserted == len(rows):
            return None
        # Imported before: skipped. The ids are new, so those stored now are the inserted.
        return await _stored(session, TimeEntry.id, [item.id for item in batch])

    async def links(self, session: AsyncSession, batch: Sequence[Written]) -> None:
        """Link the entries of `batch` to their tags."""
        rows = [link for item in batch for link in _driver_encoding(item)[1]]
        await _insert_rows(session, _LINKS_INSERT, rows)


@dataclass(frozen=True)
class _MultiRowInsert:
    """`INSERT INTO table (columns) VALUES (?, …), (?, …) … suffix` for up to `rows_at_once`
    rows a statement, within SQLite's limit on a statement's parameters."""

    table: str
    columns: tuple[str, ...]
    suffix: str = ""

    @property
    def rows_at_once(self) -> int:
        return min(500, _SQLITE_MAX_PARAMETERS // len(self.columns))

    def sql(self, rows: int) -> str:
        row = f"({', '.join('?' * len(self.columns))})"
        listed = f"{self.table} ({', '.join(self.columns)}) VALUES {', '.join([row] * rows)}"
        return f"INSERT INTO {listed}{self.suffix}"


# Before 3.32, SQLite took at most 999 parameters a statement.
_SQLITE_MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
_ENTRIES_INSERT = _MultiRowInsert(
    "time_entries", ENTRY_COLUMNS, " ON CONFLICT (workspace_id, source, external_id) DO NOTHING"
)
_LINKS_INSERT = _MultiRowInsert("time_entry_tags", LINK_COLUMNS)


async def _insert_rows(
    session: AsyncSession, insert: _MultiRowInsert, rows: Sequence[tuple[Any, ...]]
) -> int:
    """Send `rows` by `insert` through the driver; how many rows it stored."""
    driver = driver_of(await session.connection())
    stored = 0
    for start in range(0, len(rows), insert.rows_at_once):
        chunk = rows[start : start + insert.rows_at_once]
        parameters = [value for row in chunk for value in row]
        cursor = await driver.execute(insert.sql(len(chunk)), parameters)
        stored += cursor.rowcount
        await cursor.close()
    return stored


def _driver_encoding(item: Written) -> "DriverEncoded":
    encoded = item.encoded
    if not isinstance(encoded, tuple) or not isinstance(encoded[1], list):
        raise ValueError("the statements take entries encoded by StatementWriter.encoded")
    return encoded


# A temporary table of the entries' columns and none of their constraints or indexes,
# dropped at the commit that ends the batch (and so never left on a pooled connection).
_STAGED = "import_staged_entries"
_COLUMN_LIST = ", ".join(ENTRY_COLUMNS)
_CREATE_STAGED = text(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGED} ON COMMIT DROP AS "  # noqa: S608 - constants
    f"SELECT {_COLUMN_LIST} FROM time_entries WITH NO DATA"
)
_EMPTY_STAGED = text(f"TRUNCATE {_STAGED}")
# The engine forces custom plans (`app/db/engine.py`), which plans each foreign-key check of
# a batch (four an entry, two a link) again for every row. The batch keeps one plan instead,
# for its transaction only, as COPY with the server's defaults does.
_ONE_PLAN_PER_CHECK = text("SET LOCAL plan_cache_mode = auto")
# The unique index that tells an entry imported before.
_IMPORTED_ONCE = "uq_time_entries_workspace_id_source_external_id"
_INSERT_STAGED = text(
    f"INSERT INTO time_entries ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {_STAGED} "  # noqa: S608
    "ON CONFLICT (workspace_id, source, external_id) DO NOTHING RETURNING id"
).columns(column("id", Uuid))


class CopyWriter:
    """PostgreSQL's way: the entries go by COPY straight into `time_entries`, in a
    savepoint. When one of them was imported before (a file imported again, or written by
    another import meanwhile), that fails on the unique index, and the batch goes again by
    COPY into a staging table and on with one `INSERT … SELECT … ON CONFLICT DO NOTHING
    RETURNING id`, which skips (and so counts) those. The links of the entries inserted
    cannot conflict and go by COPY straight into `time_entry_tags`. COPY runs on the
    driver's connection, inside the unit of work's transaction, with rows encoded as the
    file is read (`encoded`, in the reading thread)."""

    def encoded(self, record: Record, links: list[Link]) -> Encoded:
        """The entry's row and its links' rows, as COPY sends them."""
        return _ENTRY_ROWS.row(record), b"".join(map(_LINK_ROWS.row, links))

    async def entries(
        self, session: AsyncSession, batch: Sequence[Written]
    ) -> set[uuid.UUID] | None:
        """Insert the entries no import wrote before; None when that was all of them, else
        the ids of those inserted."""
        rows = [_encoding(item)[0] for item in batch]
        # Through the session first: the transaction (or the tests' savepoint) is begun.
        await session.execute(_ONE_PLAN_PER_CHECK)
        try:
            async with session.begin_nested():
                # Asked for within the savepoint, the connection begins it (COPY would not).
                driver = driver_of(await session.connection())
                await copy_rows(driver, "time_entries", ENTRY_COLUMNS, rows)
        except UniqueViolationError as error:
            if error.constraint_name != _IMPORTED_ONCE:
                raise
            return await self._skipping_imported(session, rows)
        return None

    async def _skipping_imported(self, session: AsyncSession, rows: list[bytes]) -> set[uuid.UUID]:
        await session.execute(_CREATE_STAGED)
        await session.execute(_EMPTY_STAGED)
        await copy_rows(driver_of(await session.connection()), _STAGED, ENTRY_COLUMNS, rows)
        result = await session.execute(_INSERT_STAGED)
        return set(result.scalars())

    async def links(self, session: AsyncSession, batch: Sequence[Written]) -> None:
        """Link the entries of `batch` to their tags."""
        rows = [_encoding(item)[1] for item in batch]
        driver = driver_of(await session.connection())
        await copy_rows(driver, "time_entry_tags", LINK_COLUMNS, rows)


_ENTRY_ROWS = BinaryRows(TimeEntry.__table__, ENTRY_COLUMNS)
_LINK_ROWS = BinaryRows(time_entry_tags, LINK_COLUMNS)


def _encoding(item: Written) -> Encoded:
    encoded = item.encoded
    if not isinstance(encoded, tuple) or not isinstance(encoded[1], bytes):
        raise ValueError("COPY takes entries encoded by CopyWriter.encoded")
    return encoded


EntryWriter = StatementWriter | CopyWriter


def writer_for(session: AsyncSession) -> EntryWriter:
    dialect = session.bind.dialect
    return CopyWriter() if dialect.name == "postgresql" else StatementWriter(dialect)


# Runs: the record of an import, committed batch by batch


@dataclass(frozen=True)
class RunOutcome:
    report: ImportReport
    # Why the file could not be read (from its start, or from a line on); None if it was.
    unreadable: str | None = None


class LeaseLost(Exception):
    """Another attempt took the run over (this one's lease ran out): it stops, and the
    batch it was writing is rolled back."""


async def queue_upload(
    session: AsyncSession,
    caller: Caller,
    options: ImportOptions,
    stream: BinaryIO,
    *,
    filename: str,
    dry_run: bool,
) -> ImportRun:
    """Keep an uploaded file with a queued run, for a runner to import in the background."""
    policies.require_admin(caller)
    runs = ImportRunRepository(session, caller.current_workspace().id)
    run = await runs.create(
        user_id=caller.user_id,
        format=options.source,
        filename=filename[:255],
        status=ImportStatus.QUEUED,
        dry_run=dry_run,
        options=options.stored(),
    )
    digest, size, position = hashlib.sha256(), 0, 0
    while chunk := stream.read(UPLOAD_CHUNK_BYTES):
        await runs.store_file(run.id, position, chunk)
        digest.update(chunk)
        size += len(chunk)
        position += 1
    # A run with `file_bytes` is what runners claim: set last, once the file is whole.
    return await runs.update(run, {"file_sha256": digest.hexdigest(), "file_bytes": size})


async def command_run(
    uow: UnitOfWork,
    caller: Caller,
    options: ImportOptions,
    *,
    filename: str,
    file_sha256: str,
    resume: uuid.UUID | None,
    lease: timedelta,
) -> ImportRun:
    """The command's run over a file it reads itself, claimed and committed before any row
    is read: the run named by `resume`, else the newest unfinished run of the same content
    with the same options (a command that was stopped), else a new one. The claim holds the
    run against any other command until its lease runs out."""
    policies.require_admin(caller)
    session = uow.session
    runs = ImportRunRepository(session, caller.current_workspace().id)
    queue = ImportQueue(session)
    now = utcnow()
    if resume is not None:
        named = await runs.get(resume)
        if named.file_bytes is not None or named.dry_run:
            raise Conflict(f"Import {resume} is an upload or a dry run; it cannot be resumed here.")
        if named.file_sha256 != file_sha256:
            raise Conflict(f"Import {resume} read another file.")
        if named.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
            raise Conflict(f"Import {resume} has ended ({named.status}).")
        candidates = [named]
    else:
        candidates = [
            run
            for run in await runs.unfinished_of_file(file_sha256, options.source, uploads=False)
            if run.options == options.stored()
        ]
    for candidate in candidates:
        claimed = await queue.claim(candidate.id, now, now + lease)
        if claimed is not None:
            await uow.commit_so_far()
            return claimed
    if candidates:
        raise Conflict(
            f"Import {candidates[0].id} of this file is running; it can be resumed once it "
            "has stopped."
        )
    run = await runs.create(
        user_id=caller.user_id,
        format=options.source,
        filename=filename[:255],
        status=ImportStatus.RUNNING,
        options=options.stored(),
        file_sha256=file_sha256,
        attempts=1,
        lease_expires_at=now + lease,
        started_at=now,
    )
    await uow.commit_so_far()
    return run


async def carry_out(
    uow: UnitOfWork,
    run: ImportRun,
    caller: Caller,
    stream: BinaryIO,
    *,
    batch_rows: int,
    lease: timedelta,
) -> RunOutcome:
    """Import `stream` for `run`, which this attempt holds: each batch of time entries is
    committed with the run's counts and last line and a renewed lease, and the lines up to
    the last committed one are skipped. A dry run is one transaction, rolled back at the
    end; a catalog is one transaction too. The run's end (succeeded, or failed on a file
    that cannot be read) and `import.completed` are left for the unit of work's commit; a
    stored upload is dropped with them."""
    session = uow.session
    queue = ImportQueue(session)
    options = ImportOptions.of(run)
    report = ImportReport.of(run)

    async def checkpoint(report: ImportReport, line: int) -> None:
        progress = {**report.counts(), "last_line": line, "lease_expires_at": utcnow() + lease}
        if not await queue.advance(run, progress):
            raise LeaseLost
        await uow.commit_so_far()

    changes: dict[str, Any]
    unreadable = None
    try:
        if run.dry_run or options.source.is_catalog:
            # A catalog's few hundred records are one transaction too.
            async with session.begin_nested() as attempt:
                report = await import_stream(
                    session, caller, options, stream, run_id=run.id, batch_rows=batch_rows
                )
                if run.dry_run:
                    await attempt.rollback()
        else:
            engine = ImportEngine(session, caller, options, run_id=run.id, batch_rows=batch_rows)
            rows = await _entry_rows(session, caller, options, stream)
            report = await engine.run(
                rows, report=report, after_line=run.last_line, checkpoint=checkpoint
            )
    except UnreadableFile as exc:
        # Between batches: what the committed ones wrote stays, and is counted.
        unreadable = str(exc)
        failure = {"line": 0, "reason": unreadable}
        changes = {"status": ImportStatus.FAILED, "errors": [failure, *report.errors]}
    else:
        changes = {**report.counts(), "status": ImportStatus.SUCCEEDED}
    finished = {**changes, "finished_at": utcnow(), "lease_expires_at": None}
    if not await queue.advance(run, finished):
        raise LeaseLost
    if run.file_bytes is not None:
        await queue.drop_file(run.id)
    return RunOutcome(report, unreadable)


async def import_stream(
    session: AsyncSession,
    caller: Caller,
    options: ImportOptions,
    stream: BinaryIO,
    *,
    run_id: uuid.UUID | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import a file of any format in the session's transaction: a catalog's records, or
    time entries through the engine."""
    if options.source.is_catalog:
        report = ImportReport()
        await CatalogImport(session, caller, options, run_id=run_id).run(stream, report)
        return report
    engine = ImportEngine(session, caller, options, run_id=run_id, batch_rows=batch_rows)
    rows = await _entry_rows(session, caller, options, stream)
    return await engine.run(rows)


async def _entry_rows(
    session: AsyncSession, caller: Caller, options: ImportOptions, stream: BinaryIO
) -> Iterator[RawRow]:
    """The file's rows in the columns `parse_row` reads."""
    if options.source is not ImportFormat.HARVEST_CSV:
        return read_rows(stream)
    workspace = caller.current_workspace()
    members = await session.execute(
        select(User.email, User.full_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id)
    )
    people = harvest.People(
        (harvest.Member(email, name) for email, name in members),
        workspace.id.hex[:12],
        options.create_missing_members,
    )
    return harvest.time_report_rows(
        read_rows(stream, harvest.TIME_REPORT_COLUMNS),
        people,
        day_start=options.day_start,
        currency=workspace.currency,
    )
