"""Catalog imports: clients, projects, tasks, tags and people from Harvest's clients and
projects CSV exports and from Toggl's account data, so that the time entries imported after
them land on projects with their colours, rates and estimates.

Every record is matched by name, ignoring case (tasks within their project, people by
email): a record that exists is brought to what the file states, a missing one is created,
so a second import of the same file creates nothing. Rows are written through the
repositories as ORM rows, which record their events; a bad record fails alone, with its
line (or file and record number), and the rest land. Archived clients and projects take
projects and tasks here, unlike in the API: the file restores a past state as it was.
"""

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Column
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import events
from app.db.models import Client, Membership, Project, ProjectMember, Tag, Task, User
from app.db.types import INT32_MAX, utcnow
from app.enums import EventOrigin, ImportFormat, ProjectVisibility
from app.errors import DomainError
from app.loader import harvest
from app.loader.catalog import (
    BadRecord,
    CatalogRecord,
    ClientRecord,
    MemberRecord,
    ProjectMemberRecord,
    ProjectRecord,
    TagRecord,
    TaskRecord,
)
from app.loader.formats import RowError
from app.loader.reading import read_rows
from app.loader.toggl_account import account_records
from app.repositories.base import ScopedRepository
from app.repositories.clients import ClientRepository
from app.repositories.memberships import MembershipRepository
from app.repositories.project_members import ProjectMemberRepository
from app.repositories.projects import ProjectRepository
from app.repositories.tags import TagRepository
from app.repositories.tasks import TaskRepository
from app.services import policies
from app.services.caller import Caller
from app.services.placeholders import account_email, add_placeholder

if TYPE_CHECKING:
    from app.services.imports import ImportOptions, ImportReport

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_BUDGET_MAX = 2**53


class CatalogImport:
    def __init__(
        self,
        session: AsyncSession,
        caller: Caller,
        options: "ImportOptions",
        *,
        run_id: uuid.UUID | None = None,
    ) -> None:
        policies.require_admin(caller)
        self.session = session
        self.run_id = run_id or uuid.uuid4()
        events.context(session).origin = EventOrigin.IMPORT
        self.workspace = caller.current_workspace()
        self.actor_id = caller.user_id
        self.options = options
        self.clients = ClientRepository(session, self.workspace.id)
        self.projects = ProjectRepository(session, self.workspace.id)
        self.tasks = TaskRepository(session, self.workspace.id)
        self.tags = TagRepository(session, self.workspace.id)
        self.members = MembershipRepository(session, self.workspace.id)
        self.project_members = ProjectMemberRepository(session, self.workspace.id)
        self._catalog: _Catalog | None = None
        # Each project name of this file, with its client: a second one under another client
        # would take over the first, as names are unique in a workspace.
        self._project_clients: dict[str, str] = {}

    async def run(self, stream: BinaryIO, report: "ImportReport") -> None:
        for record in self._records(stream):
            report.rows += 1
            if isinstance(record, BadRecord):
                report.fail(record.where.line, record.reason, file=record.where.file)
                continue
            try:
                async with self.session.begin_nested():
                    created = await self._write(record)
            except (RowError, DomainError) as error:
                reason = error.detail if isinstance(error, DomainError) else str(error)
                report.fail(record.where.line, reason, file=record.where.file)
                # The rolled back savepoint expired or dropped rows the catalog holds.
                self._catalog = None
                continue
            if created:
                report.created += 1
            else:
                report.duplicates += 1
        report.record_completion(self.session, self.workspace.id, self.run_id, self.options.source)

    def _records(self, stream: BinaryIO) -> Iterator[CatalogRecord | BadRecord]:
        currency = self.workspace.currency
        match self.options.source:
            case ImportFormat.HARVEST_CLIENTS_CSV:
                return harvest.client_records(read_rows(stream, harvest.CLIENT_COLUMNS))
            case ImportFormat.HARVEST_PROJECTS_CSV:
                rows = read_rows(stream, harvest.PROJECT_COLUMNS)
                return harvest.project_records(rows, currency)
            case ImportFormat.TOGGL_ACCOUNT_ZIP:
                return account_records(stream, currency)
        raise ValueError(f"{self.options.source} is no catalog format")

    async def _write(self, record: CatalogRecord) -> bool:
        """Bring the record's row to what the file says; whether it was created."""
        catalog = await self._loaded()
        match record:
            case ClientRecord():
                return await self._client(catalog, record)
            case ProjectRecord():
                return await self._project(catalog, record)
            case TaskRecord():
                return await self._task(catalog, record)
            case TagRecord():
                return await self._tag(catalog, record)
            case MemberRecord():
                return await self._member(catalog, record)
            case ProjectMemberRecord():
                return await self._project_member(catalog, record)

    async def _client(self, catalog: "_Catalog", record: ClientRecord) -> bool:
        name = _checked_name(record.name, Client.__table__.c.name, "client")
        client = catalog.clients.get(name.casefold())
        if client is None:
            client = await self.clients.create(
                name=name, archived_at=utcnow() if record.archived else None
            )
            catalog.clients[name.casefold()] = client
            return True
        await _update(self.clients, client, _archiving(client, record.archived))
        return False

    async def _client_named(self, catalog: "_Catalog", name: str) -> Client:
        name = _checked_name(name, Client.__table__.c.name, "client")
        client = catalog.clients.get(name.casefold())
        if client is None:
            client = catalog.clients[name.casefold()] = await self.clients.create(name=name)
        return client

    async def _project(self, catalog: "_Catalog", record: ProjectRecord) -> bool:
        name = _checked_name(record.name, Project.__table__.c.name, "project")
        earlier_client = self._project_clients.setdefault(name.casefold(), record.client)
        if earlier_client.casefold() != record.client.casefold():
            raise RowError(
                f"project {name!r} is in the file under {earlier_client or 'no client'!r} "
                f"and {record.client or 'no client'!r}; project names are unique here"
            )
        stated = _project_values(record)
        if record.client:
            stated["client_id"] = (await self._client_named(catalog, record.client)).id
        project = catalog.projects.get(name.casefold())
        if project is None:
            project = await self.projects.create(
                name=name,
                created_by_user_id=self.actor_id,
                archived_at=utcnow() if record.archived else None,
                **stated,
            )
            catalog.projects[name.casefold()] = project
            return True
        changes = {key: value for key, value in stated.items() if getattr(project, key) != value}
        await _update(self.projects, project, {**changes, **_archiving(project, record.archived)})
        return False

    async def _task(self, catalog: "_Catalog", record: TaskRecord) -> bool:
        name = _checked_name(record.name, Task.__table__.c.name, "task")
        project = catalog.projects.get(record.project.casefold())
        if project is None:
            raise RowError(f"project {record.project!r} was not imported")
        estimate = _bounded(record.estimate_seconds, INT32_MAX, "estimate")
        task = catalog.tasks.get((project.id, name.casefold()))
        done_at = utcnow() if record.done else None
        if task is None:
            task = await self.tasks.create(
                project_id=project.id, name=name, estimate_seconds=estimate, done_at=done_at
            )
            catalog.tasks[(project.id, name.casefold())] = task
            return True
        changes: dict[str, Any] = {}
        if estimate is not None and task.estimate_seconds != estimate:
            changes["estimate_seconds"] = estimate
        if record.done is not None and (task.done_at is not None) != record.done:
            changes["done_at"] = done_at
        await _update(self.tasks, task, changes)
        return False

    async def _tag(self, catalog: "_Catalog", record: TagRecord) -> bool:
        name = _checked_name(record.name, Tag.__table__.c.name, "tag")
        if name.casefold() in catalog.tags:
            return False
        catalog.tags[name.casefold()] = await self.tags.create(name=name)
        return True

    async def _member(self, catalog: "_Catalog", record: MemberRecord) -> bool:
        """A person by email: a member keeps its role, and takes the file's rate if it has
        none; a person without an account becomes a placeholder member, when asked."""
        email = account_email(record.email)
        rate = _bounded(record.hourly_rate_cents, INT32_MAX, "rate")
        membership = catalog.members.get(email)
        if membership is not None:
            if membership.hourly_rate_cents is None and rate is not None:
                await _update(self.members, membership, {"hourly_rate_cents": rate})
            return False
        if not self.options.create_missing_members:
            raise RowError(f"{email} is not a member of this workspace")
        full_name = _checked_name(record.full_name, User.__table__.c.full_name, "person's")
        added = await add_placeholder(self.session, self.workspace.id, email, full_name, rate)
        if added is None:
            raise RowError(f"{email} has an account: invite it to join this workspace")
        catalog.members[email] = added
        return True

    async def _project_member(self, catalog: "_Catalog", record: ProjectMemberRecord) -> bool:
        project = catalog.projects.get(record.project.casefold())
        if project is None:
            raise RowError(f"project {record.project!r} was not imported")
        membership = catalog.members.get(record.email.lower())
        if membership is None:
            raise RowError(f"{record.email} is not a member of this workspace")
        rate = _bounded(record.hourly_rate_cents, INT32_MAX, "rate")
        key = (project.id, membership.user_id)
        on_project = catalog.project_members.get(key)
        if on_project is None:
            catalog.project_members[key] = await self.project_members.create(
                project_id=project.id, user_id=membership.user_id, hourly_rate_cents=rate
            )
            return True
        if rate is not None and on_project.hourly_rate_cents != rate:
            await _update(self.project_members, on_project, {"hourly_rate_cents": rate})
        return False

    async def _loaded(self) -> "_Catalog":
        if self._catalog is None:
            catalog = _Catalog()
            for client in await self.session.scalars(self.clients.select()):
                catalog.clients[client.name.casefold()] = client
            for project in await self.session.scalars(self.projects.select()):
                catalog.projects[project.name.casefold()] = project
            for task in await self.session.scalars(self.tasks.select()):
                catalog.tasks[(task.project_id, task.name.casefold())] = task
            for tag in await self.session.scalars(self.tags.select()):
                catalog.tags[tag.name.casefold()] = tag
            for membership in await self.session.scalars(self.members.select()):
                catalog.members[membership.user.email.lower()] = membership
            for member in await self.session.scalars(self.project_members.select()):
                catalog.project_members[(member.project_id, member.user_id)] = member
            self._catalog = catalog
        return self._catalog


class _Catalog:
    """The workspace's live catalog rows by the keys records name them with."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.projects: dict[str, Project] = {}
        self.tasks: dict[tuple[uuid.UUID, str], Task] = {}
        self.tags: dict[str, Tag] = {}
        self.members: dict[str, Membership] = {}
        self.project_members: dict[tuple[uuid.UUID, uuid.UUID], ProjectMember] = {}


def _project_values(record: ProjectRecord) -> dict[str, Any]:
    """The project's columns the record states, checked as the API checks them."""
    if record.color is not None and not _COLOR.match(record.color):
        raise RowError(f"color {record.color!r} is not #rrggbb")
    stated: dict[str, Any] = {
        "color": record.color.lower() if record.color is not None else None,
        "is_billable": record.is_billable,
        "hourly_rate_cents": _bounded(record.hourly_rate_cents, INT32_MAX, "rate"),
        "estimate_seconds": _bounded(record.estimate_seconds, INT32_MAX, "estimate"),
        "budget_cents": _bounded(record.budget_cents, _BUDGET_MAX, "budget"),
    }
    if record.private is not None:
        stated["visibility"] = (
            ProjectVisibility.PRIVATE if record.private else ProjectVisibility.PUBLIC
        )
    return {key: value for key, value in stated.items() if value is not None}


def _archiving(row: Client | Project, archived: bool | None) -> dict[str, Any]:
    """The change to `row`'s `archived_at` that the file's flag asks for, if any."""
    if archived is None or (row.archived_at is not None) == archived:
        return {}
    return {"archived_at": utcnow() if archived else None}


async def _update(repository: ScopedRepository[Any], row: Any, changes: dict[str, Any]) -> None:
    if changes:
        await repository.update(row, changes)


def _checked_name(name: str, column: Column[Any], what: str) -> str:
    """`name` if it fits `column` (a string column of a catalog model)."""
    name = name.strip()
    if not name:
        raise RowError(f"no {what} name")
    return within(name, column, f"{what} name")


def within(value: str, column: Column[Any], what: str) -> str:
    """`value` if it fits `column`, a string column."""
    return storable(value, what, column.type.length)  # type: ignore[attr-defined]


def storable(value: str, what: str, limit: int) -> str:
    """`value` if the database can store it in `limit` characters: one it cannot fails its
    row here, where the statement that stored it would fail every row written with it."""
    if "\x00" in value:
        raise RowError(f"the {what} holds a NUL character (\\u0000)")
    # JSON may escape half of a surrogate pair, which no encoding can store.
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise RowError(f"the {what} is not Unicode text ({exc.reason})") from exc
    if len(value) > limit:
        raise RowError(f"the {what} is over {limit} characters")
    return value


def _bounded(value: int | None, limit: int, what: str) -> int | None:
    if value is not None and value > limit:
        raise RowError(f"the {what} {value} is over {limit}")
    return value
