"""Exports: the entries a list would show, streamed in batches as native CSV, Toggl's
detailed CSV, JSON or XLSX, in constant memory, for the API and the CLI alike."""

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.db.engine import Sessions
from app.db.models import Client, Project, Tag, Task, TimeEntry, User, Workspace
from app.pagination import SortKey
from app.reports import xlsx
from app.reports.cells import escape_formula
from app.repositories.time_entries import TAG_IDS, EntryFilters, TimeEntryRepository

BATCH_SIZE = 1000
OLDEST_FIRST = SortKey(TimeEntry.start_at, TimeEntry.id)


class ExportFormat(StrEnum):
    """An export's file format: the native CSV, Toggl's detailed CSV, JSON, or XLSX."""

    CSV = "csv"
    TOGGL_CSV = "toggl_csv"
    JSON = "json"
    XLSX = "xlsx"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.TOGGL_CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json",
    ExportFormat.XLSX: xlsx.MEDIA_TYPE,
}
EXTENSIONS = {
    ExportFormat.CSV: "csv",
    ExportFormat.TOGGL_CSV: "csv",
    ExportFormat.JSON: "json",
    ExportFormat.XLSX: "xlsx",
}

# Every field the native format needs to re-import an entry as it was.
NATIVE_COLUMNS = [
    "id",
    "user_email",
    "user_name",
    "client",
    "project",
    "task",
    "description",
    "start_at",
    "end_at",
    "duration_seconds",
    "billable",
    "hourly_rate_cents",
    "tags",
]
_TOGGL_COLUMNS = [
    "User",
    "Email",
    "Client",
    "Project",
    "Task",
    "Description",
    "Billable",
    "Start date",
    "Start time",
    "End date",
    "End time",
    "Duration",
    "Tags",
]


@dataclass(frozen=True)
class ExportScope:
    """What one export may show: whose entries (None: everyone's), whether rates, and the
    timezone of Toggl's local dates and times."""

    workspace: Workspace
    viewer_id: uuid.UUID | None
    shows_rates: bool
    timezone: str = "UTC"


def export_filename(workspace: Workspace, export_format: ExportFormat) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"time-entries-{workspace.id}-{stamp}.{EXTENSIONS[export_format]}"


async def export_entries(
    sessions: Sessions,
    scope: ExportScope,
    filters: EntryFilters,
    export_format: ExportFormat,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> AsyncIterator[str | bytes]:
    """The export as chunks (text; bytes for XLSX), one batch of entries each, oldest first.
    `progress` hears how many entries each batch held.

    Each batch is its own keyset-paged statement on a reading session of its own, so an
    export holds no transaction open and no more than one batch in memory.
    """
    batches = entry_batches(sessions, scope, filters, batch_size)
    if export_format is ExportFormat.XLSX:
        async for chunk in _workbook(scope, batches, progress):
            yield chunk
        return
    render = _renderer(scope, export_format)
    yield render.header
    first = True
    async for rows, tag_names in batches:
        yield render.rows(rows, tag_names, first)
        first = False
        if progress is not None:
            progress(len(rows))
    if render.footer:
        yield render.footer


async def _workbook(
    scope: ExportScope,
    batches: AsyncIterator[tuple[list[Any], dict[uuid.UUID, str]]],
    progress: Callable[[int], object] | None,
) -> AsyncIterator[bytes]:
    """The entries as one sheet with a totals row, written to a temporary file in constant
    memory, then streamed from it."""
    columns = [
        xlsx.Column("User", "text", 20),
        xlsx.Column("Email", "text", 24),
        xlsx.Column("Client", "text", 18),
        xlsx.Column("Project", "text", 20),
        xlsx.Column("Task", "text", 18),
        xlsx.Column("Description", "text", 40),
        xlsx.Column("Billable", "flag", 9),
        xlsx.Column("Start", "datetime", 17),
        xlsx.Column("End", "datetime", 17),
        xlsx.Column("Duration", "duration", 10),
        xlsx.Column("Tags", "text", 20),
    ]
    if scope.shows_rates:
        columns += [xlsx.Column("Rate", "amount", 12), xlsx.Column("Amount", "amount", 12)]
    book = xlsx.Workbook(scope.workspace.currency)
    try:
        sheet = book.sheet("Time entries", columns, ZoneInfo(scope.timezone))
        total_seconds = total_rate_seconds = 0
        async for rows, tag_names in batches:
            for row in rows:
                seconds = _duration(row)
                values: list[Any] = [
                    row.full_name,
                    row.email,
                    row.client_name,
                    row.project_name,
                    row.task_name,
                    row.description,
                    bool(row.billable),
                    row.start_at,
                    row.end_at,
                    seconds,
                    ", ".join(_tag_list(row, tag_names)),
                ]
                total_seconds += seconds or 0
                if scope.shows_rates:
                    rate = row.hourly_rate_cents if row.billable else None
                    rate_seconds = (seconds or 0) * rate if rate is not None else None
                    total_rate_seconds += rate_seconds or 0
                    amount = None if rate_seconds is None else (rate_seconds + 1800) // 3600
                    values += [rate, amount]
                sheet.add(values)
            if progress is not None:
                progress(len(rows))
        totals: list[Any] = ["Total", *[None] * 8, total_seconds, None]
        if scope.shows_rates:
            totals += [None, (total_rate_seconds + 1800) // 3600]
        sheet.add(totals, bold=True)
        await asyncio.to_thread(book.close)
        for chunk in book.chunks():
            yield chunk
    finally:  # also when the client goes away halfway
        book.discard()


async def entry_batches(
    sessions: Sessions, scope: ExportScope, filters: EntryFilters, batch_size: int
) -> AsyncIterator[tuple[list[Any], dict[uuid.UUID, str]]]:
    workspace_id = scope.workspace.id
    async with sessions.reading() as session:
        tags = await session.execute(
            select(Tag.id, Tag.name).where(Tag.workspace_id == workspace_id)
        )
        tag_names = {tag_id: name for tag_id, name in tags}
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        async with sessions.reading() as session:
            entries = TimeEntryRepository(session, workspace_id, viewer_id=scope.viewer_id)
            statement = (
                entries.filtered(
                    filters,
                    *(column for column in TimeEntry.__table__.c),
                    TAG_IDS,
                    User.email,
                    User.full_name,
                    Client.name.label("client_name"),
                    Project.name.label("project_name"),
                    Task.name.label("task_name"),
                )
                .select_from(
                    TimeEntry.__table__.join(User, User.id == TimeEntry.user_id)
                    .outerjoin(Project, Project.id == TimeEntry.project_id)
                    .outerjoin(Client, Client.id == Project.client_id)
                    .outerjoin(Task, Task.id == TimeEntry.task_id)
                )
                .order_by(*OLDEST_FIRST.order_by())
                .limit(batch_size)
            )
            if after is not None:
                statement = statement.where(OLDEST_FIRST.after(*after))
            rows = list((await session.execute(statement)).all())
        if not rows:
            return
        yield rows, tag_names
        if len(rows) < batch_size:
            return
        after = (rows[-1].start_at, rows[-1].id)


def _tag_list(row: Any, tag_names: dict[uuid.UUID, str]) -> list[str]:
    if not row.tag_ids:
        return []
    return sorted(tag_names[uuid.UUID(tag_id)] for tag_id in row.tag_ids.split(","))


def _duration(row: Any) -> int | None:
    return None if row.end_at is None else int((row.end_at - row.start_at).total_seconds())


@dataclass(frozen=True)
class _Renderer:
    header: str
    render_row: Callable[[Any, dict[uuid.UUID, str]], Any]
    kind: ExportFormat
    footer: str = ""

    def rows(self, rows: list[Any], tag_names: dict[uuid.UUID, str], first: bool) -> str:
        rendered = [self.render_row(row, tag_names) for row in rows]
        if self.kind is ExportFormat.JSON:
            text = ",\n".join(json.dumps(item, ensure_ascii=False) for item in rendered)
            return text if first else ",\n" + text
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([_cells(record) for record in rendered])
        return buffer.getvalue()


def _cells(record: list[Any]) -> list[Any]:
    """A CSV row whose texts a spreadsheet cannot run as formulas."""
    return [escape_formula(value) if isinstance(value, str) else value for value in record]


def _renderer(scope: ExportScope, export_format: ExportFormat) -> _Renderer:
    if export_format is ExportFormat.JSON:
        return _Renderer(
            "[\n", lambda row, tags: _native(row, tags, scope), export_format, footer="]\n"
        )
    if export_format is ExportFormat.CSV:
        header = ",".join(NATIVE_COLUMNS) + "\r\n"

        def native_row(row: Any, tags: dict[uuid.UUID, str]) -> list[Any]:
            record = _native(row, tags, scope)
            record["tags"] = json.dumps(record["tags"], ensure_ascii=False)
            record["billable"] = "true" if record["billable"] else "false"
            return ["" if record[name] is None else record[name] for name in NATIVE_COLUMNS]

        return _Renderer(header, native_row, export_format)
    currency = scope.workspace.currency
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([*_TOGGL_COLUMNS, f"Amount ({currency})"])
    zone = ZoneInfo(scope.timezone)

    def toggl_row(row: Any, tags: dict[uuid.UUID, str]) -> list[Any]:
        start = row.start_at.astimezone(zone)
        end = row.end_at.astimezone(zone) if row.end_at is not None else None
        seconds = _duration(row) or 0
        amount = ""
        if scope.shows_rates and row.billable and row.hourly_rate_cents is not None:
            amount = f"{seconds * row.hourly_rate_cents / 360000:.2f}"
        return [
            row.full_name,
            row.email,
            row.client_name or "",
            row.project_name or "",
            row.task_name or "",
            row.description,
            "Yes" if row.billable else "No",
            start.date().isoformat(),
            start.strftime("%H:%M:%S"),
            end.date().isoformat() if end else "",
            end.strftime("%H:%M:%S") if end else "",
            f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}",
            ", ".join(_tag_list(row, tags)),
            amount,
        ]

    return _Renderer(buffer.getvalue(), toggl_row, export_format)


def _native(row: Any, tags: dict[uuid.UUID, str], scope: ExportScope) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "user_email": row.email,
        "user_name": row.full_name,
        "client": row.client_name,
        "project": row.project_name,
        "task": row.task_name,
        "description": row.description,
        "start_at": row.start_at.isoformat(),
        "end_at": row.end_at.isoformat() if row.end_at is not None else None,
        "duration_seconds": _duration(row),
        "billable": bool(row.billable),
        "hourly_rate_cents": row.hourly_rate_cents if scope.shows_rates else None,
        "tags": _tag_list(row, tags),
    }
