"""A whole workspace as one file, and back: the full export and the restore.

The archive is a ZIP of JSON Lines, one file per kind of row, and `manifest.json` with the
format's version, the version of the app that wrote it, the count of records and the
SHA-256 of every file. The export streams it in constant memory; the restore checks the
manifest and every checksum before it reads a record, then writes a new workspace in the
caller's transaction: all of it, or, with the first bad record, nothing.
"""

import asyncio
import hashlib
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from importlib import metadata
from typing import IO, Any

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Enum, Integer, String, Table, Text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import events
from app.db.engine import Sessions
from app.db.models import (
    Approval,
    Client,
    Event,
    EventCounter,
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
    WorkspaceRestore,
    time_entry_tags,
    webhook_subscriptions,
)
from app.db.models.webhook import subscription_patterns
from app.db.types import UTCDateTime, utcnow
from app.enums import InvitationStatus, Role
from app.errors import Conflict, FieldProblem, InvalidInput
from app.repositories import archive as rows
from app.repositories.archive import ArchiveRepository
from app.repositories.users import UserRepository
from app.services.webhooks import new_secret

FORMAT = "timesheet-workspace"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_TYPE = "application/zip"
BATCH_SIZE = 1000
# A restore stops reading after this many bad records; the ones found are reported.
MAX_REPORTED_ERRORS = 100
# A line longer than this is no record of ours.
MAX_LINE_BYTES = 4 * 1024 * 1024
# JSON Lines deflate to a tenth or so; an archive claiming to unpack to far more is refused
# before it is read (a ZIP bomb would otherwise keep the checksum pass busy for hours).
MAX_EXPANSION = 200
# Ids that are taken on this instance get new ones, derived from the new workspace's id.
_REMAPPED = uuid.UUID("8f3c1f0e-6b1d-4c3e-9a55-2f0b7d4e1a90")


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
RESTORED_WEBHOOK = "Restored from a full export: rotate its secret, then enable it."


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


def _problem(file: str, line: int, message: str) -> FieldProblem:
    return FieldProblem(("file", file, line), message, "archive_record")


def _refuse(problems: list[FieldProblem]) -> ArchiveError:
    first = problems[0]
    where = f"{first.field[1]}:{first.field[2]}" if first.field[2] else first.field[1]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ArchiveError(
        f"The archive cannot be restored: {where}: {first.message}{more}.", problems=problems
    )


def _bad_archive(message: str, file: str = MANIFEST) -> ArchiveError:
    return _refuse([_problem(file, 0, message)])


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
                    raise _refuse([_problem(kind.file, number, "the line is too long")])
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
            problems.append(_problem(MANIFEST, 0, f"{kind.file} is not listed"))
            continue
        try:
            found = _sha256(archive, kind.file)
        except KeyError:
            problems.append(_problem(kind.file, 0, "the file is missing"))
            continue
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            problems.append(_problem(kind.file, 0, f"the file is damaged ({exc})"))
            continue
        if found != expected["sha256"]:
            problems.append(_problem(kind.file, 0, "the checksum does not match the manifest"))
    if problems:
        raise _refuse(problems)
    return Archive(archive, manifest, hashlib.sha256(raw).hexdigest())


def _sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while chunk := member.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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
        return lambda value: value
    return _typed(uuid.UUID, str)


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
    if value not in allowed:
        raise RecordError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return str(value)


def _text(value: Any, length: int | None) -> str:
    if not isinstance(value, str):
        raise RecordError(f"expected str, found {type(value).__name__}")
    if length is not None and len(value) > length:
        raise RecordError(f"longer than {length} characters")
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


# Restoring


@dataclass(frozen=True)
class RestoreOptions:
    """`owner`: who owns the new workspace. `enrol_accounts`: whether people who have an
    account here become members directly (the command line, run by the operator) or are
    invited (an upload: nobody is made a member of someone else's workspace unasked)."""

    owner: User
    enrol_accounts: bool
    name: str | None = None


@dataclass
class RestoreReport:
    workspace_id: uuid.UUID
    source_workspace_id: uuid.UUID
    # False: this archive was restored here before, into `workspace_id`; nothing was written.
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    # Accounts made for people with no account here: inactive, like the importer's.
    placeholders: int = 0
    # People with an account here, invited instead of made members (uploads).
    invited: int = 0
    # Records whose id was taken on this instance and that got a new one.
    remapped: int = 0


class _Restore:
    def __init__(self, session: AsyncSession, archive: Archive, options: RestoreOptions) -> None:
        self.session = session
        self.archive = archive
        self.options = options
        self.rows = ArchiveRepository(session)
        self.problems: list[FieldProblem] = []
        self.workspace_id = uuid.uuid4()
        # Old id to new id, per kind: every row of the small kinds (what references are
        # checked against); of entries and events only those that got a new id.
        self.ids: dict[Kind, dict[uuid.UUID, uuid.UUID]] = {kind: {} for kind in Kind}
        self.counts = {kind.value: 0 for kind in Kind}
        self.report: RestoreReport

    def fail(self, kind: Kind, line: int, message: str) -> None:
        self.problems.append(_problem(kind.file, line, message))
        if len(self.problems) >= MAX_REPORTED_ERRORS:
            raise _refuse(self.problems)

    def records(self, kind: Kind) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        """The kind's records that parse, a batch at a time, with their lines."""
        batch: list[tuple[int, dict[str, Any]]] = []
        for number, line in self.archive.lines(kind):
            try:
                batch.append((number, parse_record(kind, line)))
            except RecordError as exc:
                self.fail(kind, number, str(exc))
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    async def new_ids(self, kind: Kind, batch: list[tuple[int, dict[str, Any]]]) -> None:
        """Give each record its id here: its own where free, else one derived from it."""
        taken = await self.rows.taken(TABLES[kind], (values["id"] for _, values in batch))
        for _, values in batch:
            old = values["id"]
            new = uuid.uuid5(self.workspace_id, str(old)) if old in taken else old
            if new != old or kind not in (Kind.TIME_ENTRIES, Kind.EVENTS):
                self.ids[kind][old] = new
            if new != old:
                self.report.remapped += 1
            values["id"] = new

    def refer(self, kind: Kind, line: int, values: dict[str, Any], name: str, target: Kind) -> bool:
        """Point `values[name]` at the restored row it names; False if the archive has none."""
        old = values[name]
        if old is None:
            return True
        new = self.ids[target].get(old)
        if new is None:
            self.fail(kind, line, f"{name} {old} is not in {target.file}")
            return False
        values[name] = new
        return True

    async def write(
        self, kind: Kind, batch: list[tuple[int, Any]], table: Table | None = None
    ) -> set[int]:
        """Insert the batch; if the database refuses it, find the lines it refuses."""
        target = TABLES[kind] if table is None else table
        if not batch or await self.rows.insert(target, [values for _, values in batch]) is None:
            return set()
        refused = set()
        for line, values in batch:
            refusal = await self.rows.insert(target, [values])
            if refusal is not None:
                refused.add(line)
                self.fail(kind, line, refusal)
        return refused

    async def run(self) -> RestoreReport:
        source_id = self.archive.source_workspace_id
        earlier = await self.rows.restored(self.archive.sha256)
        if earlier is not None:
            workspace_id, live = earlier
            if live:
                return RestoreReport(workspace_id, source_id, created=False)
            await self.rows.forget_restore(self.archive.sha256)
        if not await self.rows.taken(TABLES[Kind.WORKSPACE], [source_id]):
            self.workspace_id = source_id
        self.report = RestoreReport(self.workspace_id, source_id, created=True)
        await self.workspace()
        await self.people()
        await self.members()
        await self.invitations()
        for kind, references in _CATALOG:
            await self.catalog(kind, references)
        await self.entries()
        await self.catalog(Kind.APPROVALS, (("user_id", Kind.USERS),))
        await self.webhooks()
        await self.history()
        if self.problems:
            raise _refuse(self.problems)
        declared = self.archive.manifest.get("counts", {})
        for kind in Kind:
            if declared.get(kind.value) != self.counts[kind.value]:
                self.fail(kind, 0, "the manifest counts a different number of records")
        if self.problems:
            raise _refuse(self.problems)
        refusal = await self.rows.insert(
            WorkspaceRestore.__table__,
            [
                {
                    "workspace_id": self.workspace_id,
                    "archive_sha256": self.archive.sha256,
                    "source_workspace_id": source_id,
                    "restored_at": utcnow(),
                }
            ],
        )
        if refusal is not None:
            raise Conflict("This archive is being restored by another run; try again later.")
        self.report.counts = self.counts
        events.record(
            self.session,
            workspace_id=self.workspace_id,
            type="workspace.restored",
            subject_type="workspace",
            subject_id=self.workspace_id,
            data={
                "object": {
                    "id": self.workspace_id,
                    "source_workspace_id": source_id,
                    "archive_sha256": self.archive.sha256,
                    "source_version": self.archive.manifest.get("source_version"),
                    "counts": self.counts,
                    "placeholders": self.report.placeholders,
                    "invited": self.report.invited,
                    "remapped": self.report.remapped,
                }
            },
        )
        return self.report

    async def workspace(self) -> None:
        found = [item for batch in self.records(Kind.WORKSPACE) for item in batch]
        if len(found) != 1:
            if not self.problems:
                self.fail(Kind.WORKSPACE, 0, "the file holds no workspace, or more than one")
            raise _refuse(self.problems)
        line, values = found[0]
        self.ids[Kind.WORKSPACE][values["id"]] = self.workspace_id
        self.source_owner_id = values["owner_user_id"]
        values.update(
            id=self.workspace_id,
            owner_user_id=self.options.owner.id,
            deleted_at=None,
        )
        if self.options.name:
            values["name"] = self.options.name
        self.counts[Kind.WORKSPACE] = 1
        await self.write(Kind.WORKSPACE, [(line, values)])
        if self.problems:
            raise _refuse(self.problems)

    async def people(self) -> None:
        """Each person becomes the account with their email here, or a placeholder."""
        owner = self.options.owner
        users = UserRepository(self.session)
        self.accounts: set[uuid.UUID] = set()
        for batch in self.records(Kind.USERS):
            self.counts[Kind.USERS] += len(batch)
            for _, values in batch:
                values["email"] = values["email"].lower()
            found = await self.rows.accounts(values["email"] for _, values in batch)
            taken = await self.rows.taken(TABLES[Kind.USERS], (v["id"] for _, v in batch))
            for _, values in batch:
                old = values["id"]
                user_id = found.get(values["email"])
                if user_id is None:
                    user = await users.add_placeholder(
                        values["email"],
                        id=old if old not in taken else uuid.uuid4(),
                        full_name=values["full_name"],
                        timezone=values["timezone"],
                        week_start=values["week_start"],
                    )
                    user_id = user.id
                    found[values["email"]] = user_id
                    self.report.placeholders += 1
                elif user_id != owner.id:
                    self.accounts.add(user_id)
                if user_id != old:
                    self.report.remapped += 1
                self.ids[Kind.USERS][old] = user_id

    async def members(self) -> None:
        owner_id = self.options.owner.id
        self.invite: list[tuple[uuid.UUID, dict[str, Any]]] = []
        owner_listed = False
        for batch in self.records(Kind.MEMBERS):
            self.counts[Kind.MEMBERS] += len(batch)
            kept = []
            for line, values in batch:
                values["workspace_id"] = self.workspace_id
                if not self.refer(Kind.MEMBERS, line, values, "user_id", Kind.USERS):
                    continue
                if values["user_id"] == owner_id:
                    values["role"] = Role.OWNER
                    owner_listed = True
                elif values["role"] == Role.OWNER:
                    values["role"] = Role.ADMIN
                if values["user_id"] in self.accounts and not self.options.enrol_accounts:
                    self.invite.append((values["user_id"], values))
                    continue
                kept.append((line, values))
            await self.new_ids(Kind.MEMBERS, kept)
            await self.write(Kind.MEMBERS, kept)
        if not owner_listed:
            owner = {
                "id": uuid.uuid4(),
                "workspace_id": self.workspace_id,
                "user_id": owner_id,
                "role": Role.OWNER,
                "hourly_rate_cents": None,
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            await self.write(Kind.MEMBERS, [(0, owner)])

    async def invitations(self) -> None:
        pending: set[str] = set()
        for batch in self.records(Kind.INVITATIONS):
            self.counts[Kind.INVITATIONS] += len(batch)
            for _, values in batch:
                values["workspace_id"] = self.workspace_id
                inviter = values["invited_by_user_id"]
                values["invited_by_user_id"] = self.ids[Kind.USERS].get(inviter)
                values["email"] = values["email"].lower()
                pending.add(values["email"])
            await self.new_ids(Kind.INVITATIONS, batch)
            await self.write(Kind.INVITATIONS, batch)
        if not self.invite:
            return
        emails = await self.rows.emails(user_id for user_id, _ in self.invite)
        now = utcnow()
        offers = [
            (
                0,
                {
                    "id": uuid.uuid4(),
                    "workspace_id": self.workspace_id,
                    "email": emails[user_id],
                    "role": membership["role"],
                    "hourly_rate_cents": membership["hourly_rate_cents"],
                    "status": InvitationStatus.PENDING,
                    "invited_by_user_id": self.options.owner.id,
                    "answered_at": None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            for user_id, membership in self.invite
            if emails[user_id] not in pending
        ]
        self.report.invited = len(offers)
        await self.write(Kind.INVITATIONS, offers)

    async def catalog(self, kind: Kind, references: tuple[tuple[str, Kind], ...]) -> None:
        """Rows that name others only through the references given."""
        optional_users = _OPTIONAL_USERS.get(kind, ())
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            kept = []
            for line, values in batch:
                values["workspace_id"] = self.workspace_id
                for name in optional_users:
                    values[name] = self.ids[Kind.USERS].get(values[name])
                if all(self.refer(kind, line, values, name, target) for name, target in references):
                    kept.append((line, values))
            await self.new_ids(kind, kept)
            await self.write(kind, kept)

    async def entries(self) -> None:
        kind = Kind.TIME_ENTRIES
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            kept = []
            for line, values in batch:
                values["workspace_id"] = self.workspace_id
                tag_ids = values.pop("tag_ids")
                if not all(
                    self.refer(kind, line, values, name, target)
                    for name, target in (
                        ("user_id", Kind.USERS),
                        ("project_id", Kind.PROJECTS),
                        ("task_id", Kind.TASKS),
                    )
                ):
                    continue
                values["_tags"] = []
                for tag_id in dict.fromkeys(tag_ids):
                    tags = {"tag_id": tag_id}
                    if self.refer(kind, line, tags, "tag_id", Kind.TAGS):
                        values["_tags"].append(tags["tag_id"])
                kept.append((line, values))
            await self.new_ids(kind, kept)
            links = [
                (
                    line,
                    {
                        "time_entry_id": values["id"],
                        "tag_id": tag,
                        "workspace_id": values["workspace_id"],
                    },
                )
                for line, values in kept
                for tag in values.pop("_tags")
            ]
            refused = await self.write(kind, kept)
            # A refused entry's links would only be refused again, for want of it.
            kept_links = [link for link in links if link[0] not in refused]
            await self.write(kind, kept_links, time_entry_tags)

    async def webhooks(self) -> None:
        """Webhooks, disabled and with a new secret each: the old one stays with its source."""
        kind = Kind.WEBHOOKS
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            for _, values in batch:
                values.update(
                    workspace_id=self.workspace_id,
                    created_by_user_id=self.ids[Kind.USERS].get(values["created_by_user_id"]),
                    enabled=False,
                    disabled_reason=RESTORED_WEBHOOK,
                    secret=new_secret(),
                    failing_since=None,
                )
            await self.new_ids(kind, batch)
            refused = await self.write(kind, batch)
            subscriptions = [
                (line, {"webhook_id": values["id"], "pattern": pattern})
                for line, values in batch
                if line not in refused
                for pattern in subscription_patterns(values["event_types"])
            ]
            await self.write(kind, subscriptions, webhook_subscriptions)

    async def history(self) -> None:
        """The events, with their own sequence numbers; the counter continues after them."""
        kind = Kind.EVENTS
        last = 0
        users = self.ids[Kind.USERS]
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            for _, values in batch:
                values["workspace_id"] = self.workspace_id
                for name in ("actor_id", "user_id"):
                    values[name] = users.get(values[name], values[name])
                project = values["project_id"]
                values["project_id"] = self.ids[Kind.PROJECTS].get(project, project)
                subject = _SUBJECTS.get(values["subject_type"])
                if subject is not None:
                    old = values["subject_id"]
                    values["subject_id"] = self.ids[subject].get(old, old)
                last = max(last, values["sequence"])
            await self.new_ids(kind, batch)
            await self.write(kind, batch)
        if last:
            counter = {"workspace_id": self.workspace_id, "last_sequence": last}
            await self.write(kind, [(0, counter)], EventCounter.__table__)


# What each kind names, in the order a restore writes them after the people.
_CATALOG: tuple[tuple[Kind, tuple[tuple[str, Kind], ...]], ...] = (
    (Kind.CLIENTS, ()),
    (Kind.PROJECTS, (("client_id", Kind.CLIENTS),)),
    (Kind.PROJECT_MEMBERS, (("project_id", Kind.PROJECTS), ("user_id", Kind.USERS))),
    (Kind.TASKS, (("project_id", Kind.PROJECTS),)),
    (Kind.TAGS, ()),
)
# People a row may name who need not be in the archive: no longer there, they are forgotten.
_OPTIONAL_USERS: dict[Kind, tuple[str, ...]] = {
    Kind.PROJECTS: ("created_by_user_id",),
    Kind.APPROVALS: ("decided_by_user_id",),
}
# An event's subject type and the kind of row it names.
_SUBJECTS = {
    "workspace": Kind.WORKSPACE,
    "member": Kind.USERS,
    "invitation": Kind.INVITATIONS,
    "client": Kind.CLIENTS,
    "project": Kind.PROJECTS,
    "project_member": Kind.PROJECT_MEMBERS,
    "task": Kind.TASKS,
    "tag": Kind.TAGS,
    "time_entry": Kind.TIME_ENTRIES,
    "approval": Kind.APPROVALS,
    "webhook": Kind.WEBHOOKS,
}


async def read_archive(stream: IO[bytes]) -> Archive:
    """`open_archive` in a worker thread: the checksum pass inflates every file."""
    return await asyncio.to_thread(open_archive, stream)


def exported_owner_email(archive: Archive) -> str | None:
    """The email of the person who owned the workspace the archive was made from."""
    workspace = next(archive.lines(Kind.WORKSPACE), None)
    if workspace is None:
        return None
    try:
        owner_id = parse_record(Kind.WORKSPACE, workspace[1])["owner_user_id"]
    except RecordError:
        return None
    for _, line in archive.lines(Kind.USERS):
        try:
            person = parse_record(Kind.USERS, line)
        except RecordError:
            continue
        if person["id"] == owner_id:
            return str(person["email"]).lower()
    return None


async def restore_workspace(
    session: AsyncSession, archive: Archive, options: RestoreOptions, *, dry_run: bool = False
) -> RestoreReport:
    """Restore an archive into a new workspace, in the session's transaction.

    All or nothing: a bad record raises `ArchiveError` with every problem found (up to
    `MAX_REPORTED_ERRORS`), and the caller's unit of work rolls back. A dry run does
    everything in a savepoint that it rolls back, so it finds what the database would
    refuse too, and reports the same counts. The same archive restored again (its manifest's
    checksum is recorded) creates nothing and names the workspace it made before.
    """
    restore = _Restore(session, archive, options)
    async with session.begin_nested() as attempt:
        report = await restore.run()
        if dry_run:
            await attempt.rollback()
    return report


async def choose_owner(session: AsyncSession, archive: Archive, fallback_email: str | None) -> User:
    """Who owns a workspace restored by the operator: the exported owner, matched by email,
    or else the account named by `fallback_email`."""
    users = UserRepository(session)
    exported = exported_owner_email(archive)
    if exported is not None and (found := await users.get_by_email(exported)) is not None:
        return found
    if fallback_email is None:
        raise InvalidInput(
            f"The exported owner ({exported or 'unknown'}) has no account here: "
            "name the new owner with --owner."
        )
    named = await users.get_by_email(fallback_email)
    if named is None:
        raise InvalidInput(f"No account has the email {fallback_email}.")
    return named
