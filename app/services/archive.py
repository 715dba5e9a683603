"""A whole workspace as one file: the archive's format, its full export, and its reading.

The archive is a ZIP of JSON Lines, one file per kind of row, and `manifest.json` with the
format's version, the version of the app that wrote it, the count of records and the
SHA-256 of every file. The export streams it in constant memory; `open_archive` checks the
manifest and every checksum before any record is read, and `parse_record` turns a line
into a row's values, for the restore (`app.services.restore`).
"""

import asyncio
import hashlib
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from importlib import metadata
from typing import IO, Any

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Enum, Integer, String, Table, Text

from app.db.engine import Sessions
from app.db.models import (
    Approval,
    Client,
    Event,
    Invitation,
    Membership,
    Project,
    ProjectMember,
    Tag,
    Task,
    TimeEntry,
    User,
    Webhook,
    Workspace,
)
from app.db.types import UTCDateTime, utcnow
from app.enums import InvitationStatus
from app.errors import FieldProblem, InvalidInput
from app.repositories import archive as rows

FORMAT = "timesheet-workspace"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_TYPE = "application/zip"
BATCH_SIZE = 1000
# A line longer than this is no record of ours.
MAX_LINE_BYTES = 4 * 1024 * 1024
# JSON Lines deflate to a tenth or so; an archive claiming to unpack to far more is refused
# before it is read (a ZIP bomb would otherwise keep the checksum pass busy for hours).
MAX_EXPANSION = 200


class Kind(StrEnum):
    """The kinds of rows an archive holds, in the order a restore writes them."""

    WORKSPACE = "workspace"
    USERS = "users"
    MEMBERS = "members"
    INVITATIONS = "invitations"
    CLIENTS = "clients"
    PROJECTS = "projects"
    PROJECT_MEMBERS = "project_members"
    TASKS = "tasks"
    TAGS = "tags"
    TIME_ENTRIES = "time_entries"
    APPROVALS = "approvals"
    WEBHOOKS = "webhooks"
    EVENTS = "events"

    @property
    def file(self) -> str:
        return f"{self.value}.jsonl"


TABLES: dict[Kind, Table] = {
    Kind.WORKSPACE: Workspace.__table__,
    Kind.USERS: User.__table__,
    Kind.MEMBERS: Membership.__table__,
    Kind.INVITATIONS: Invitation.__table__,
    Kind.CLIENTS: Client.__table__,
    Kind.PROJECTS: Project.__table__,
    Kind.PROJECT_MEMBERS: ProjectMember.__table__,
    Kind.TASKS: Task.__table__,
    Kind.TAGS: Tag.__table__,
    Kind.TIME_ENTRIES: TimeEntry.__table__,
    Kind.APPROVALS: Approval.__table__,
    Kind.WEBHOOKS: Webhook.__table__,
    Kind.EVENTS: Event.__table__,
}
# A person travels with what identifies them, never with a password or a token.
_USER_COLUMNS = ("id", "email", "full_name", "is_active", "timezone", "week_start")
# A webhook travels without its signing secret (and its sender's bookkeeping): it is
# restored disabled, with a new secret, for an admin to rotate, read and enable.
_WEBHOOK_STAYS = frozenset({"workspace_id", "secret", "failing_since"})


def _columns(kind: Kind) -> list[Column[Any]]:
    table = TABLES[kind]
    if kind is Kind.USERS:
        return [table.c[name] for name in _USER_COLUMNS]
    if kind is Kind.WORKSPACE:
        return list(table.c)
    if kind is Kind.WEBHOOKS:
        return [column for column in table.c if column.name not in _WEBHOOK_STAYS]
    return [column for column in table.c if column.name != "workspace_id"]


COLUMNS = {kind: _columns(kind) for kind in Kind}
# Written referring rows first: a row added while the export runs is then either missing
# or complete with what it names, which the export reads later.
EXPORT_ORDER = (
    Kind.EVENTS,
    Kind.TIME_ENTRIES,
    Kind.APPROVALS,
    Kind.WEBHOOKS,
    Kind.PROJECT_MEMBERS,
    Kind.TASKS,
    Kind.PROJECTS,
    Kind.CLIENTS,
    Kind.TAGS,
    Kind.INVITATIONS,
    Kind.MEMBERS,
    Kind.USERS,
    Kind.WORKSPACE,
)


def source_version() -> str:
    return metadata.version("timesheet")


def archive_filename(workspace_id: uuid.UUID) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"workspace-{workspace_id}-{stamp}.zip"


# Export


class _Pipe:
    """Where the ZIP writer puts its bytes, until the stream takes them. Not seekable, so
    the writer streams: each file's sizes follow its data."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _record(kind: Kind, row: Any) -> dict[str, Any]:
    record = {column.name: getattr(row, column.name) for column in COLUMNS[kind]}
    if kind is Kind.TIME_ENTRIES:
        tag_ids = row.tag_ids.split(",") if row.tag_ids else []
        record["tag_ids"] = sorted(str(uuid.UUID(tag_id)) for tag_id in tag_ids)
    return record


def _export_rows(
    sessions: Sessions, kind: Kind, workspace_id: uuid.UUID, size: int
) -> AsyncIterator[list[Any]]:
    table = TABLES[kind]
    if kind is Kind.WORKSPACE:
        return rows.batches(sessions, table, COLUMNS[kind], table.c.id == workspace_id, size)
    if kind is Kind.USERS:
        return rows.batches(sessions, table, COLUMNS[kind], rows.people(workspace_id), size)
    where = table.c.workspace_id == workspace_id
    if kind is Kind.INVITATIONS:
        where = where & (table.c.status == InvitationStatus.PENDING)
    if kind is Kind.TIME_ENTRIES:
        columns = rows.entry_columns()
        return rows.batches(sessions, table, columns, where, size, order=rows.ENTRIES_ORDER)
    if kind is Kind.EVENTS:
        return rows.batches(sessions, table, COLUMNS[kind], where, size, order=rows.EVENTS_ORDER)
    return rows.batches(sessions, table, COLUMNS[kind], where, size)


async def export_workspace(
    sessions: Sessions, workspace_id: uuid.UUID, *, batch_size: int = BATCH_SIZE
) -> AsyncIterator[bytes]:
    """The workspace's archive as chunks of a ZIP file, one batch of rows each.

    Rows are read in keyset batches on reading sessions of their own (as the entries'
    export does) and written to the ZIP as they come; the manifest, with the counts and
    checksums, is the last file. Memory holds one batch, whatever the workspace's size.
    """
    pipe = _Pipe()
    files: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in EXPORT_ORDER:
            digest = hashlib.sha256()
            count = 0
            entry = zipfile.ZipInfo(kind.file, date_time=utcnow().timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as member:
                async for batch in _export_rows(sessions, kind, workspace_id, batch_size):
                    lines = b"".join(
                        # asyncpg hands back UUIDs of its own type, which orjson does not know.
                        orjson.dumps(
                            _record(kind, row), default=str, option=orjson.OPT_APPEND_NEWLINE
                        )
                        for row in batch
                    )
                    member.write(lines)
                    digest.update(lines)
                    count += len(batch)
                    yield pipe.take()
            files[kind.file] = {"records": count, "sha256": digest.hexdigest()}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "source_version": source_version(),
            "created_at": utcnow(),
            "workspace_id": str(workspace_id),
            "counts": {kind.value: files[kind.file]["records"] for kind in Kind},
            "files": files,
        }
        archive.writestr(MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    yield pipe.take()


# Reading an archive


class ArchiveError(InvalidInput):
    """The archive cannot be restored: its problems name the file and line of each."""


def problem(file: str, line: int, message: str) -> FieldProblem:
    return FieldProblem(("file", file, line), message, "archive_record")


def refuse(problems: list[FieldProblem]) -> ArchiveError:
    first = problems[0]
    where = f"{first.field[1]}:{first.field[2]}" if first.field[2] else first.field[1]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ArchiveError(
        f"The archive cannot be restored: {where}: {first.message}{more}.", problems=problems
    )


def _bad_archive(message: str, file: str = MANIFEST) -> ArchiveError:
    return refuse([problem(file, 0, message)])


@dataclass(frozen=True)
class Archive:
    """An archive whose manifest and checksums were found right."""

    zip: zipfile.ZipFile
    manifest: dict[str, Any]
    sha256: str

    @property
    def source_workspace_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.manifest["workspace_id"]))

    def lines(self, kind: Kind) -> Iterator[tuple[int, bytes]]:
        with self.zip.open(kind.file) as member:
            for number, line in enumerate(iter(lambda: member.readline(MAX_LINE_BYTES), b""), 1):
                if not line.endswith(b"\n") and len(line) >= MAX_LINE_BYTES:
                    raise refuse([problem(kind.file, number, "the line is too long")])
                if line.strip():
                    yield number, line


def open_archive(stream: IO[bytes]) -> Archive:
    """Read the manifest, check the format's version and every file's checksum: a file
    changed or cut short is refused before any of its records is read."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _bad_archive(f"not a ZIP file ({exc})", "archive") from exc
    stream.seek(0, 2)
    size = stream.tell()
    if sum(info.file_size for info in archive.infolist()) > MAX_EXPANSION * max(size, 1 << 20):
        raise _bad_archive("the files unpack to far more than an archive of ours", "archive")
    try:
        raw = archive.read(MANIFEST)
    except KeyError as exc:
        raise _bad_archive("missing: this is no workspace archive") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _bad_archive(f"unreadable ({exc})") from exc
    try:
        manifest = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad_archive(f"not JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad_archive("this is no workspace archive")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _bad_archive(
            f"format version {manifest.get('format_version')!r} is not one this version "
            f"reads ({FORMAT_VERSION})"
        )
    files = manifest.get("files")
    try:
        uuid.UUID(str(manifest.get("workspace_id")))
    except ValueError as exc:
        raise _bad_archive("workspace_id is not a UUID") from exc
    if not isinstance(files, dict):
        raise _bad_archive("files are missing")
    problems = []
    for kind in Kind:
        expected = files.get(kind.file)
        if not isinstance(expected, dict) or not isinstance(expected.get("sha256"), str):
            problems.append(problem(MANIFEST, 0, f"{kind.file} is not listed"))
            continue
        try:
            with archive.open(kind.file) as member:
                found = hashlib.file_digest(member, "sha256").hexdigest()
        except KeyError:
            problems.append(problem(kind.file, 0, "the file is missing"))
            continue
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            problems.append(problem(kind.file, 0, f"the file is damaged ({exc})"))
            continue
        if found != expected["sha256"]:
            problems.append(problem(kind.file, 0, "the checksum does not match the manifest"))
    if problems:
        raise refuse(problems)
    return Archive(archive, manifest, hashlib.sha256(raw).hexdigest())


class RecordError(ValueError):
    """One record (or one of its fields) is not what its kind holds."""


def _loader(column: Column[Any]) -> Callable[[Any], Any]:
    """Turns a record's JSON value into the column's Python value, or raises RecordError."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _instant
    if isinstance(kind, Date):
        return _typed(date.fromisoformat, str)
    if isinstance(kind, Boolean):
        return _typed(bool, bool)
    if isinstance(kind, Integer | BigInteger):
        return _integer
    if isinstance(kind, Enum):
        allowed = set(kind.enums)
        return lambda value: _member(value, allowed)
    if isinstance(kind, String | Text) and not isinstance(kind, Enum):
        length = kind.length
        return lambda value: _text(value, length)
    if isinstance(kind, JSON):
        return _document
    return _typed(uuid.UUID, str)


def _document(value: Any) -> Any:
    """A JSON value, refused as a text is when it holds NUL, which PostgreSQL cannot store
    in a document either."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise RecordError("holds a NUL character (\\u0000)")
    return value


def _typed(convert: Callable[[Any], Any], expected: type) -> Callable[[Any], Any]:
    def load(value: Any) -> Any:
        if not isinstance(value, expected):
            raise RecordError(f"expected {expected.__name__}, found {type(value).__name__}")
        try:
            return convert(value)
        except ValueError as exc:
            raise RecordError(str(exc)) from exc

    return load


def _instant(value: Any) -> datetime:
    found = _typed(datetime.fromisoformat, str)(value)
    if found.tzinfo is None:
        raise RecordError("a datetime without an offset")
    return found.astimezone(UTC)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"expected an integer, found {type(value).__name__}")
    return value


def _member(value: Any, allowed: set[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise RecordError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return str(value)


def _text(value: Any, length: int | None) -> str:
    if not isinstance(value, str):
        raise RecordError(f"expected str, found {type(value).__name__}")
    if length is not None and len(value) > length:
        raise RecordError(f"longer than {length} characters")
    # PostgreSQL cannot store it: the record fails, not the restore.
    if "\x00" in value:
        raise RecordError("holds a NUL character (\\u0000)")
    return value


LOADERS = {kind: {column.name: _loader(column) for column in COLUMNS[kind]} for kind in Kind}


def parse_record(kind: Kind, line: bytes) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"not JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    values: dict[str, Any] = {}
    for name, load in LOADERS[kind].items():
        if name not in record:
            raise RecordError(f"{name} is missing")
        value = record[name]
        if value is None:
            if not TABLES[kind].c[name].nullable:
                raise RecordError(f"{name} is required")
            values[name] = None
            continue
        try:
            values[name] = load(value)
        except RecordError as exc:
            raise RecordError(f"{name}: {exc}") from exc
    if kind is Kind.USERS:
        local, _, domain = values["email"].partition("@")
        if not local or not domain:
            raise RecordError("email: not an email address")
    if kind is Kind.WEBHOOKS:
        event_types = values["event_types"]
        if not isinstance(event_types, list) or not all(
            isinstance(pattern, str) for pattern in event_types
        ):
            raise RecordError("event_types: expected a list of texts")
    if kind is Kind.TIME_ENTRIES:
        tag_ids = record.get("tag_ids")
        if not isinstance(tag_ids, list):
            raise RecordError("tag_ids: expected a list")
        try:
            values["tag_ids"] = [uuid.UUID(str(tag_id)) for tag_id in tag_ids]
        except ValueError as exc:
            raise RecordError(f"tag_ids: {exc}") from exc
    return values


async def read_archive(stream: IO[bytes]) -> Archive:
    """`open_archive` in a worker thread: the checksum pass inflates every file."""
    return await asyncio.to_thread(open_archive, stream)
