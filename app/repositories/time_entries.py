import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Uuid,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.db import events
from app.db.connection import connection_of
from app.db.models import Membership, Project, TimeEntry, User, time_entry_tags
from app.db.prepared import Prepared, with_defaults
from app.db.types import utcnow
from app.enums import ApprovalState, LockReason
from app.pagination import PageParams, PageResult, Shaped, SortKey, paginate
from app.repositories.base import Repository, ScopedRepository
from app.repositories.closed_time import LOCK_REASON, in_closed_time, in_period

RUNNING_CONFLICT = "The user already has a running time entry; stop it first."

# An entry as reads render it: its columns and `tag_ids`, read by attribute.
EntryRow = Any


class WrittenEntry:
    """An entry just written, as reads render it: the object's columns, its tag ids, and
    why its time is closed (None: open), as the write's closed-time check found it."""

    def __init__(
        self, entry: TimeEntry, tag_ids: Iterable[uuid.UUID], locked_reason: LockReason | None
    ) -> None:
        self.entry = entry
        self.tag_ids = sorted(tag_ids)
        self.locked_reason = locked_reason

    def __getattr__(self, name: str) -> Any:
        return getattr(self.entry, name)


_ENTRIES = TimeEntry.__table__
_USERS = User.__table__
# Built once: every write of an entry takes it.
_LOCK_USERS = Prepared(
    select(_USERS.c.id)
    .where(_USERS.c.id.in_(bindparam("user_ids", expanding=True)))
    .order_by(_USERS.c.id)
    .with_for_update()
)
# A new entry names every column (`with_defaults`). On PostgreSQL its tag links go in the
# same statement (`tag_ids`, an array): one round trip fewer while the user is locked.
_ENTRY_INSERT = insert(_ENTRIES).values({c.key: bindparam(c.key) for c in _ENTRIES.c})
_INSERT_ENTRY = Prepared(_ENTRY_INSERT)
_NEW_ENTRY = _ENTRY_INSERT.returning(_ENTRIES.c.id, _ENTRIES.c.workspace_id).cte("new_entry")
_NEW_TAGS = (
    func.unnest(bindparam("tag_ids", type_=ARRAY(Uuid)))
    .table_valued("tag_id")
    .render_derived("tag")
)
_INSERT_ENTRY_AND_LINKS = Prepared(
    insert(time_entry_tags).from_select(
        ["time_entry_id", "tag_id", "workspace_id"],
        select(_NEW_ENTRY.c.id, _NEW_TAGS.c.tag_id, _NEW_ENTRY.c.workspace_id).select_from(
            _NEW_ENTRY.join(_NEW_TAGS, true())
        ),
    )
)
# A write's tag links, replaced after the entry's own row is written.
_UNLINK_TAGS = Prepared(
    delete(time_entry_tags).where(time_entry_tags.c.time_entry_id == bindparam("entry"))
)
_LINK_TAGS = Prepared(
    insert(time_entry_tags).values(
        time_entry_id=bindparam("entry"),
        tag_id=bindparam("tag"),
        workspace_id=bindparam("workspace"),
    )
)
# An entry's tags in the same statement as the entry: their ids, comma-separated.
TAG_IDS = (
    select(func.aggregate_strings(cast(time_entry_tags.c.tag_id, String), ","))
    .where(time_entry_tags.c.time_entry_id == _ENTRIES.c.id)
    .scalar_subquery()
    .label("tag_ids")
)
# What reads render, in the order the read schema lists them (a page is then rendered
# by zipping each row with its names; a test holds the two orders equal): every column but
# the importer's bookkeeping, the tags, and why the entry is closed.
_READ_COLUMNS = (
    *(_ENTRIES.c[name] for name in ("id", "workspace_id", "user_id", "project_id", "task_id")),
    TAG_IDS,
    *(_ENTRIES.c[name] for name in ("description", "start_at", "end_at", "billable")),
    *(_ENTRIES.c[name] for name in ("hourly_rate_cents", "source", "version", "created_at")),
    *(_ENTRIES.c[name] for name in ("updated_at", "deleted_at")),
    LOCK_REASON,
)


@cache
def _one_entry(*, own: bool, include_deleted: bool) -> Prepared:
    """The read of one entry by id, built once per kind of reader: a statement built once
    keeps its cache key, so a request neither builds nor compiles it again."""
    statement = select(*_READ_COLUMNS).where(
        _ENTRIES.c.workspace_id == bindparam("workspace_id"),
        _ENTRIES.c.id == bindparam("entry_id"),
    )
    if own:
        statement = statement.where(_ENTRIES.c.user_id == bindparam("viewer_id"))
    if not include_deleted:
        statement = statement.where(_ENTRIES.c.deleted_at.is_(None))
    return Prepared(statement)


def _escape_like(text: str) -> str:
    """`text` matched as it is by LIKE … ESCAPE '/'."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


@dataclass
class _Selection:
    """What a set of filters selects: conditions over named bind parameters, the values
    those take, and the shape of the text (which filters are set, and the values that
    change the text rather than fill it in), by which its statement is prepared."""

    values: dict[str, Any]
    conditions: list[Any] = field(default_factory=list)
    shape: tuple[Any, ...] = ()

    def given(self, name: str, value: Any, condition: Callable[[Any], Any]) -> None:
        """A filter of one value, or of any of a sequence of values (an IN list)."""
        if value is None or (isinstance(value, Sequence) and not value):
            return
        many = isinstance(value, Sequence) and not isinstance(value, str)
        self.values[name] = list(value) if many else value
        self.conditions.append(condition(bindparam(name, expanding=many)))
        self.shape += (name,)

    def fixed(self, shape: Any, condition: Any) -> None:
        self.conditions.append(condition)
        self.shape += (shape,)


@dataclass(frozen=True)
class EntryFilters:
    """Which entries a list, a report or an export covers; sequences match any value."""

    from_: datetime | None = None
    to: datetime | None = None
    user_id: Sequence[uuid.UUID] = ()
    project_id: Sequence[uuid.UUID] = ()
    client_id: Sequence[uuid.UUID] = ()
    task_id: Sequence[uuid.UUID] = ()
    tag_id: Sequence[uuid.UUID] = ()
    billable: bool | None = None
    running: bool | None = None
    q: str | None = None
    updated_since: datetime | None = None
    include_deleted: bool = False
    # `submitted`, `approved`, or `open` (in no submitted or approved period).
    approval: str | None = None
    # Whether the entry's time is closed, for whatever reason (`LockReason`).
    locked: bool | None = None


class TimeEntryRepository(ScopedRepository[TimeEntry]):
    """Entries of one workspace; built with `viewer_id`, only that member's own entries."""

    model = TimeEntry
    # The only unique rule an API write can break is the one running entry per user.
    conflict_detail = RUNNING_CONFLICT
    not_found_detail = "Time entry not found."

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, *, viewer_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(session, workspace_id)
        self.viewer_id = viewer_id

    def scope(self, statement: Select[tuple[TimeEntry]]) -> Select[tuple[TimeEntry]]:
        statement = super().scope(statement)
        if self.viewer_id is None:
            return statement
        return statement.where(TimeEntry.user_id == self.viewer_id)

    def select(self, *, include_deleted: bool = False) -> Select[tuple[TimeEntry]]:
        # The tags come joined in, in the entry's own statement: an edit reads once.
        return super().select(include_deleted=include_deleted).options(joinedload(TimeEntry.tags))

    def _rows(self, columns: Sequence[Any], *, include_deleted: bool) -> Select[Any]:
        """Entries as plain rows: by default with their tag ids, what reads render, in one
        Core statement over the table's columns; else `columns` of them. The workspace and
        the viewer are bind parameters, whose values `_selection` gives."""
        statement = select(*(columns or _READ_COLUMNS)).where(
            _ENTRIES.c.workspace_id == bindparam("workspace_id")
        )
        if self.viewer_id is not None:
            statement = statement.where(_ENTRIES.c.user_id == bindparam("viewer_id"))
        if not include_deleted:
            statement = statement.where(_ENTRIES.c.deleted_at.is_(None))
        return statement

    async def get_row(self, entry_id: uuid.UUID, *, include_deleted: bool = False) -> EntryRow:
        statement = _one_entry(own=self.viewer_id is not None, include_deleted=include_deleted)
        parameters = {
            "workspace_id": self.workspace_id,
            "entry_id": entry_id,
            "viewer_id": self.viewer_id,
        }
        rows = await self.read(statement, parameters)
        if not rows:
            raise self.not_found()
        return rows[0]

    def filtered(self, filters: EntryFilters, *columns: Any) -> Select[Any]:
        """The entries `filters` select: their columns as reads render them, else `columns`
        of them, with the values bound."""
        selection = self._selection(filters)
        statement = self._rows(columns, include_deleted=filters.include_deleted)
        return statement.where(*selection.conditions).params(selection.values)

    async def page(
        self, filters: EntryFilters, sort: SortKey, params: PageParams
    ) -> PageResult[EntryRow]:
        """A page of the entries `filters` select, as reads render them. The statement is
        built once per shape of filters and prepared (`Shaped`); each page gives its values."""
        selection = self._selection(filters)
        include_deleted = filters.include_deleted

        def build() -> Select[Any]:
            statement = self._rows((), include_deleted=include_deleted)
            return statement.where(*selection.conditions)

        shape = ("entries", self.viewer_id is not None, include_deleted, selection.shape)
        shaped = Shaped(shape, build, selection.values)
        return await paginate(self.session, shaped, sort, params)

    def _selection(self, filters: EntryFilters) -> _Selection:
        """The conditions `filters` set, over bind parameters named for the filters."""
        selection = _Selection({"workspace_id": self.workspace_id, "viewer_id": self.viewer_id})
        given = selection.given
        given("from_", filters.from_, lambda value: _ENTRIES.c.start_at >= value)
        given("to", filters.to, lambda value: _ENTRIES.c.start_at < value)
        given("user_id", filters.user_id, _ENTRIES.c.user_id.in_)
        given("project_id", filters.project_id, _ENTRIES.c.project_id.in_)
        given("task_id", filters.task_id, _ENTRIES.c.task_id.in_)

        # The subqueries read aliases: a report may join the same tables for its groups, and
        # a subquery over one of them would otherwise correlate to it and lose its FROM.
        def of_clients(client_ids: Any) -> Any:
            project = aliased(Project)
            projects = select(project.id).where(
                project.workspace_id == bindparam("workspace_id"), project.client_id.in_(client_ids)
            )
            return _ENTRIES.c.project_id.in_(projects)

        def tagged(tag_ids: Any) -> Any:
            link = time_entry_tags.alias()
            return exists().where(link.c.time_entry_id == _ENTRIES.c.id, link.c.tag_id.in_(tag_ids))

        given("client_id", filters.client_id, of_clients)
        given("tag_id", filters.tag_id, tagged)
        escaped = filters.q and _escape_like(filters.q)
        given("q", escaped, lambda value: _ENTRIES.c.description.icontains(value, escape="/"))
        given("updated_since", filters.updated_since, lambda value: _ENTRIES.c.updated_at >= value)
        # These change the text itself rather than a value in it: they are part of the shape.
        if filters.billable is not None:
            selection.fixed(
                ("billable", filters.billable), _ENTRIES.c.billable.is_(filters.billable)
            )
        if filters.running is not None:
            running = _ENTRIES.c.end_at.is_(None)
            selection.fixed(("running", filters.running), running if filters.running else ~running)
        if filters.approval == "open":
            selection.fixed(("approval", "open"), ~in_period())
        elif filters.approval is not None:
            state = ApprovalState(filters.approval)
            selection.fixed(("approval", state), in_period([state]))
        if filters.locked is not None:
            closed = in_closed_time()
            selection.fixed(("locked", filters.locked), closed if filters.locked else ~closed)
        return selection

    async def get_many(
        self, ids: Collection[uuid.UUID], *, include_deleted: bool = False
    ) -> dict[uuid.UUID, TimeEntry]:
        """The visible entries among `ids`, freshly read (tags included), by id."""
        statement = (
            self.select(include_deleted=include_deleted)
            .where(TimeEntry.id.in_(ids))
            .execution_options(populate_existing=True)
        )
        return {entry.id: entry for entry in (await self.session.scalars(statement)).unique()}

    async def lock_users(self, user_ids: Collection[uuid.UUID]) -> None:
        """Serialize every writer of these users' entries until the transaction ends.

        PostgreSQL locks the user rows, in id order so that two writers cannot deadlock.
        SQLite renders no FOR UPDATE: its BEGIN IMMEDIATE already serializes writers.
        """
        await self.read(_LOCK_USERS, {"user_ids": sorted(user_ids)})

    async def user_ids(self) -> set[uuid.UUID]:
        """Everyone with time in the workspace: its members and whoever has entries here."""
        members = select(Membership.user_id).where(Membership.workspace_id == self.workspace_id)
        tracked = (
            select(TimeEntry.user_id).where(TimeEntry.workspace_id == self.workspace_id).distinct()
        )
        return set(await self.session.scalars(members.union(tracked)))

    async def running_before(self, instant: datetime) -> list[uuid.UUID]:
        """The live running entries of the workspace that started before `instant`."""
        statement = select(TimeEntry.id).where(
            TimeEntry.workspace_id == self.workspace_id,
            TimeEntry.end_at.is_(None),
            TimeEntry.deleted_at.is_(None),
            TimeEntry.start_at < instant,
        )
        return list(await self.session.scalars(statement.order_by(TimeEntry.start_at)))

    async def find_overlap(
        self,
        user_id: uuid.UUID,
        start_at: datetime,
        end_at: datetime | None,
        *,
        exclude_id: uuid.UUID | None,
    ) -> uuid.UUID | None:
        """A live entry of the user in this workspace sharing time with [start_at, end_at).

        Intervals are half-open and a running entry lasts forever, so touching is fine.
        """
        conditions = [
            TimeEntry.workspace_id == self.workspace_id,
            TimeEntry.user_id == user_id,
            TimeEntry.deleted_at.is_(None),
            or_(TimeEntry.end_at.is_(None), TimeEntry.end_at > start_at),
        ]
        if end_at is not None:
            conditions.append(TimeEntry.start_at < end_at)
        if exclude_id is not None:
            conditions.append(TimeEntry.id != exclude_id)
        statement = select(TimeEntry.id).where(*conditions).order_by(TimeEntry.start_at).limit(1)
        return await self.session.scalar(statement)

    async def write(
        self,
        entry: TimeEntry | None,
        values: Mapping[str, Any],
        tag_ids: list[uuid.UUID] | None = None,
    ) -> TimeEntry:
        """Insert (`entry` None) or update an entry and, when given, replace its tags."""
        if entry is None:
            return await self._insert(values, tag_ids or [])
        if tag_ids is not None:
            loaded = inspect(entry).dict.get("tags")
            previous = None if loaded is None else [tag.id for tag in loaded]
            events.attach(self.session, entry, "tag_ids", tag_ids, previous)
        for name, value in values.items():
            setattr(entry, name, value)
        if tag_ids is not None:
            # Tags live in another table: touching the row gives the change a new
            # version and updated_at, so ETags and syncing clients see it.
            entry.updated_at = utcnow()
        await self.flush()
        if tag_ids is not None:
            connection = await connection_of(self.session)
            await _UNLINK_TAGS.execute(connection, {"entry": entry.id})
            await self._link(connection, entry.id, tag_ids)
        return entry

    async def _insert(self, values: Mapping[str, Any], tag_ids: list[uuid.UUID]) -> TimeEntry:
        """A new entry, inserted by one prepared statement rather than a flush: a new row
        has no version to check. Its event is the one a flush would have recorded, and the
        entry comes back as an object holding every column, not added to the session."""
        row = with_defaults(_ENTRIES, {**values, "workspace_id": self.workspace_id})
        connection = await connection_of(self.session)
        with self.refusals():
            if connection.dialect.name == "postgresql":
                await _INSERT_ENTRY_AND_LINKS.execute(connection, {**row, "tag_ids": tag_ids})
            else:
                await _INSERT_ENTRY.execute(connection, row)
                await self._link(connection, row["id"], tag_ids)
        entry = TimeEntry(**row)
        events.inserted(self.session, entry, ("tag_ids", tag_ids, None))
        return entry

    async def _link(
        self, connection: AsyncConnection, entry_id: uuid.UUID, tag_ids: list[uuid.UUID]
    ) -> None:
        if tag_ids:
            links = [
                {"entry": entry_id, "tag": tag_id, "workspace": self.workspace_id}
                for tag_id in tag_ids
            ]
            await _LINK_TAGS.execute_many(connection, links)


class RunningEntryRepository(Repository[TimeEntry]):
    """The user's running entry, in whichever workspace it runs: that rule spans workspaces."""

    model = TimeEntry
    conflict_detail = RUNNING_CONFLICT
    not_found_detail = "No time entry is running."

    def scope(self, statement: Select[tuple[TimeEntry]]) -> Select[tuple[TimeEntry]]:
        return statement.where(TimeEntry.end_at.is_(None))

    async def get_for_user(self, user_id: uuid.UUID) -> TimeEntry | None:
        statement = (
            self.select().where(TimeEntry.user_id == user_id).options(selectinload(TimeEntry.tags))
        )
        return (await self.session.scalars(statement)).one_or_none()
