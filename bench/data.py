"""Benchmark data: a database migrated with the project's migrations and filled with a
realistic workload, generated from a fixed seed so that every run sees the same ids.

    .venv/bin/python -m bench.data [--large] [--regenerate] [--database-url URL]

prints the ids the runner needs. A database already holding the same shape is reused; rows
that benchmark runs wrote since (anything created after the data's anchor) are removed.
"""

import argparse
import asyncio
import json
import math
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Column, MetaData, String, Table, Text, delete, func, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import normalize_database_url
from app.db import migrations
from app.db.models import (
    Client,
    Membership,
    Project,
    ProjectMember,
    Tag,
    Task,
    TimeEntry,
    User,
    Workspace,
    time_entry_tags,
)
from app.security import hash_password

# Bump when the generator changes, so that cached databases are generated again.
GENERATOR_VERSION = 1
PASSWORD = "timesheet-bench"  # noqa: S105 - every generated user's, for poking at the data
HISTORY_DAYS = 730
ENTRIES_PER_MEMBER = 4_000  # about eight a working day over two years
CLIENTS, PROJECTS, TAGS = 10, 30, 20
INSERT_CHUNK = 5_000

DESCRIPTIONS = (
    "Code review",
    "Planning",
    "Stand-up",
    "Bug fixing",
    "Customer call",
    "Design",
    "Documentation",
    "Deployment",
    "Research",
    "Support",
    "Testing",
    "Refactoring",
    "Interviews",
    "Workshop",
    "Estimation",
)
TAG_NAMES = (
    "meeting",
    "remote",
    "on-site",
    "urgent",
    "overtime",
    "travel",
    "training",
    "internal",
    "follow-up",
    "billable-later",
)

# What the database holds, written in the same transaction as the data.
_DATASET_METADATA = MetaData()
DATASET = Table(
    "bench_dataset",
    _DATASET_METADATA,
    Column("fingerprint", String(200), primary_key=True),
    Column("dataset", Text, nullable=False),
)


@dataclass(frozen=True)
class Shape:
    workspaces: int
    entries: int
    caller_entries: int  # in the caller's workspace; the rest is spread evenly
    seed: int = 1


SHAPES = {
    "default": Shape(workspaces=20, entries=210_000, caller_entries=20_000),
    "large": Shape(workspaces=20, entries=1_000_000, caller_entries=810_000),
}


def default_database_url(shape_name: str) -> str:
    suffix = "" if shape_name == "default" else f"_{shape_name}"
    return f"postgresql://postgres@127.0.0.1:5432/timesheet_bench{suffix}"


@dataclass(frozen=True)
class Dataset:
    """What the runner needs to know about generated data."""

    shape: Shape
    # Every generated row was created before this instant; later rows came from benchmarks.
    anchor: datetime
    workspace_id: uuid.UUID  # the caller's, holding `shape.caller_entries` entries
    caller_id: uuid.UUID  # the owner of that workspace
    project_id: uuid.UUID  # public, billable, open, in the caller's workspace
    tag_id: uuid.UUID
    entry_id: uuid.UUID  # an entry of the caller's workspace with tags
    # (user id, workspace id) of every member: timer scenarios use many users at once.
    members: tuple[tuple[uuid.UUID, uuid.UUID], ...] = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> "Dataset":
        raw = json.loads(text)
        ids = ("workspace_id", "caller_id", "project_id", "tag_id", "entry_id")
        return cls(
            shape=Shape(**raw["shape"]),
            anchor=datetime.fromisoformat(raw["anchor"]),
            members=tuple((uuid.UUID(user), uuid.UUID(ws)) for user, ws in raw["members"]),
            **{name: uuid.UUID(raw[name]) for name in ids},
        )


def fingerprint(shape: Shape) -> str:
    return f"v{GENERATOR_VERSION} {shape} {migrations.head_revision()}"


# Reading, writing and resetting the database


@asynccontextmanager
async def _engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def libpq_url(url: str) -> str:
    """The URL as asyncpg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database if it does not exist yet (SQLite files create themselves)."""
    if not _is_postgres(url):
        Path(make_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
        return
    name = make_url(url).database
    server = make_url(libpq_url(url)).set(database="postgres").render_as_string(False)
    connection = await asyncpg.connect(server)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            quoted = name.replace('"', '""')
            await connection.execute(f'CREATE DATABASE "{quoted}"')
    finally:
        await connection.close()


async def _load(url: str, shape: Shape) -> Dataset | None:
    async with _engine(url) as engine, engine.connect() as connection:
        if not await connection.run_sync(lambda sync: inspect(sync).has_table(DATASET.name)):
            return None
        query = select(DATASET.c.dataset).where(DATASET.c.fingerprint == fingerprint(shape))
        found = await connection.scalar(query)
    return Dataset.from_json(found) if found else None


async def _forget_bench_writes(url: str, dataset: Dataset) -> int:
    """Delete the entries benchmark runs created, so every run starts from the same data."""
    entries = TimeEntry.__table__
    newer = entries.c.created_at > dataset.anchor
    async with _engine(url) as engine:
        async with engine.begin() as connection:
            # Explicitly: SQLite does not cascade without its foreign_keys pragma.
            await connection.execute(
                delete(time_entry_tags).where(
                    time_entry_tags.c.time_entry_id.in_(select(entries.c.id).where(newer))
                )
            )
            deleted = (await connection.execute(delete(entries).where(newer))).rowcount
        if deleted and _is_postgres(url):
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.exec_driver_sql("VACUUM ANALYZE time_entries, time_entry_tags")
    return deleted


async def latest_end(url: str, user_id: uuid.UUID) -> datetime:
    """When the user's last entry ends: new entries written after it overlap nothing."""
    entries = TimeEntry.__table__
    async with _engine(url) as engine, engine.connect() as connection:
        query = select(func.max(entries.c.end_at)).where(entries.c.user_id == user_id)
        return await connection.scalar(query)


async def newest_entries(url: str, dataset: Dataset, count: int) -> tuple[datetime, int]:
    """Where the caller's workspace's `count` latest-starting entries begin, and how many
    entries start then or later (more than `count` if starts tie)."""
    entries = TimeEntry.__table__
    live = (entries.c.workspace_id == dataset.workspace_id, entries.c.deleted_at.is_(None))
    async with _engine(url) as engine, engine.connect() as connection:
        since = await connection.scalar(
            select(entries.c.start_at)
            .where(*live)
            .order_by(entries.c.start_at.desc())
            .offset(count - 1)
            .limit(1)
        )
        if since is None:
            raise SystemExit(f"The caller's workspace holds fewer than {count:,} entries.")
        found = select(func.count()).where(*live, entries.c.start_at >= since)
        return since, await connection.scalar(found)


async def current_versions(
    url: str, dataset: Dataset, count: int, batch: int
) -> list[tuple[uuid.UUID, int]]:
    """The `batch`th `count` generated entries of the caller's workspace, latest first, and
    their versions now."""
    entries = TimeEntry.__table__
    query = (
        select(entries.c.id, entries.c.version)
        .where(
            entries.c.workspace_id == dataset.workspace_id,
            entries.c.deleted_at.is_(None),
            entries.c.created_at <= dataset.anchor,
        )
        .order_by(entries.c.start_at.desc(), entries.c.id.desc())
        .offset(count * batch)
        .limit(count)
    )
    async with _engine(url) as engine, engine.connect() as connection:
        return [(row.id, row.version) for row in await connection.execute(query)]


class _Rows:
    """Rows of one table as tuples, in the column order of the first row."""

    def __init__(self) -> None:
        self.columns: tuple[str, ...] = ()
        self.values: list[tuple[Any, ...]] = []

    def add(self, **values: Any) -> None:
        if not self.columns:
            self.columns = tuple(values)
        self.values.append(tuple(values[name] for name in self.columns))


def _aligned(table: Table, rows: _Rows) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`rows` in the columns `table` has now, so that the generator outlives schema changes:
    a column it does not set takes the model's default, one the model lost is left out."""
    if set(rows.columns) == set(table.columns.keys()):
        return list(rows.columns), rows.values
    filler = {}
    for column in table.columns:
        if column.name in rows.columns:
            continue
        if column.default is not None and column.default.is_scalar:
            filler[column.name] = column.default.arg
        elif column.nullable:
            filler[column.name] = None
        else:
            raise RuntimeError(f"The generator has no value for {table.name}.{column.name}.")
    names = list(table.columns.keys())
    position = {name: index for index, name in enumerate(rows.columns)}
    values = [
        tuple(row[position[name]] if name in position else filler[name] for name in names)
        for row in rows.values
    ]
    return names, values


async def _write_postgres(url: str, tables: dict[Table, _Rows]) -> None:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        async with connection.transaction():
            for table, rows in tables.items():
                columns, values = _aligned(table, rows)
                await connection.copy_records_to_table(table.name, records=values, columns=columns)
        # Planner statistics and the visibility map, as autovacuum would leave them.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def _write_sqlite(url: str, tables: dict[Table, _Rows]) -> None:
    # Core inserts, so that the model types store UUIDs and datetimes the way the app reads them.
    async with _engine(url) as engine, engine.begin() as connection:
        for table, rows in tables.items():
            columns, values = _aligned(table, rows)
            for start in range(0, len(values), INSERT_CHUNK):
                chunk = values[start : start + INSERT_CHUNK]
                await connection.execute(
                    insert(table), [dict(zip(columns, row, strict=True)) for row in chunk]
                )


async def generate(url: str, shape: Shape) -> Dataset:
    """Empty the database, migrate it and fill it with `shape`."""
    began = time.perf_counter()
    await migrations.drop_everything(url)
    await migrations.upgrade(url)
    async with _engine(url) as engine, engine.begin() as connection:
        await connection.run_sync(_DATASET_METADATA.create_all)
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    generator = _Generator(shape, anchor, await hash_password(PASSWORD))
    dataset = generator.run()
    generator.tables[DATASET].add(fingerprint=fingerprint(shape), dataset=dataset.to_json())
    generated = time.perf_counter()
    write = _write_postgres if _is_postgres(url) else _write_sqlite
    await write(url, generator.tables)
    _log(
        f"generated {shape.entries:,} entries in {generated - began:.1f} s, "
        f"wrote them in {time.perf_counter() - generated:.1f} s"
    )
    return dataset


async def prepare(url: str, shape: Shape, *, regenerate: bool = False) -> Dataset:
    """The dataset at `url`: reused when it already holds `shape`, generated otherwise."""
    url = normalize_database_url(url)
    await ensure_database(url)
    dataset = None if regenerate else await _load(url, shape)
    if dataset is None:
        return await generate(url, shape)
    deleted = await _forget_bench_writes(url, dataset)
    _log(f"reusing the data in {make_url(url).database}; removed {deleted:,} benchmark entries")
    return dataset


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Generation


@dataclass
class _Member:
    user_id: uuid.UUID
    is_admin: bool
    rate: int | None


@dataclass
class _Project:
    id: uuid.UUID
    is_billable: bool
    rate: int | None
    private: bool
    member_rates: dict[uuid.UUID, int | None] = field(default_factory=dict)
    tasks: list[uuid.UUID] = field(default_factory=list)

    def visible_to(self, member: _Member) -> bool:
        return member.is_admin or not self.private or member.user_id in self.member_rates


@dataclass
class _Workspace:
    id: uuid.UUID
    default_rate: int
    members: list[_Member]
    projects: list[_Project] = field(default_factory=list)
    tags: list[uuid.UUID] = field(default_factory=list)

    def rate(self, member: _Member, project: _Project) -> int:
        """The snapshot the API takes: project member, project, membership, workspace."""
        for rate in (project.member_rates.get(member.user_id), project.rate, member.rate):
            if rate is not None:
                return rate
        return self.default_rate


class _Generator:
    def __init__(self, shape: Shape, anchor: datetime, password_hash: str) -> None:
        self.shape = shape
        self.anchor = anchor
        self.rng = random.Random(shape.seed)
        self.tables: dict[Table, _Rows] = defaultdict(_Rows)
        self.password_hash = password_hash
        self.created = anchor - timedelta(days=HISTORY_DAYS + 30)
        self.working_days = [
            anchor.replace(hour=8) - timedelta(days=days_ago)
            for days_ago in range(HISTORY_DAYS, 0, -1)
            if (anchor - timedelta(days=days_ago)).weekday() < 5
        ]
        # (entry row, its tag ids), written in creation order as a live table would be.
        self.entries: list[tuple[dict[str, Any], list[uuid.UUID]]] = []

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def rate(self) -> int:
        return self.rng.randrange(4_000, 20_001, 500)

    def resource(self, at: datetime, *, deletable: bool = True) -> dict[str, Any]:
        columns: dict[str, Any] = {"id": self.new_id(), "created_at": at, "updated_at": at}
        if deletable:
            columns["deleted_at"] = None
        return columns | {"version": 1}

    def run(self) -> Dataset:
        rest, others = self.shape.entries - self.shape.caller_entries, self.shape.workspaces - 1
        counts = [self.shape.caller_entries]
        counts += [rest // others + (index < rest % others) for index in range(others)]
        workspaces = [self.workspace(index, count) for index, count in enumerate(counts)]
        # The caller's workspace came first: an entry from the middle of its history, with tags.
        entry_id = next(row["id"] for row, tag_ids in self.entries[counts[0] // 2 :] if tag_ids)
        self.entries.sort(key=lambda pair: pair[0]["created_at"])
        for row, tag_ids in self.entries:
            self.tables[TimeEntry.__table__].add(**row)
            for tag_id in tag_ids:
                self.tables[time_entry_tags].add(
                    time_entry_id=row["id"], tag_id=tag_id, workspace_id=row["workspace_id"]
                )
        caller = workspaces[0]
        return Dataset(
            shape=self.shape,
            anchor=self.anchor,
            workspace_id=caller.id,
            caller_id=caller.members[0].user_id,
            project_id=caller.projects[0].id,
            tag_id=caller.tags[0],
            entry_id=entry_id,
            members=tuple((m.user_id, ws.id) for ws in workspaces for m in ws.members),
        )

    def workspace(self, index: int, entry_count: int) -> _Workspace:
        rng = self.rng
        members = [
            _Member(
                self.user(index, number),
                is_admin=number < 2,
                rate=self.rate() if rng.random() < 0.5 else None,
            )
            for number in range(max(5, math.ceil(entry_count / ENTRIES_PER_MEMBER)))
        ]
        columns = self.resource(self.created)
        workspace = _Workspace(columns["id"], rng.randrange(5_000, 15_001, 500), members)
        owner = members[0]
        self.tables[Workspace.__table__].add(
            name=f"Workspace {index + 1}",
            owner_user_id=owner.user_id,
            currency=rng.choice(("USD", "EUR", "GBP")),
            default_hourly_rate_cents=workspace.default_rate,
            prevent_overlaps=False,
            members_can_see_rates=False,
            **columns,
        )
        for number, member in enumerate(members):
            self.tables[Membership.__table__].add(
                workspace_id=workspace.id,
                user_id=member.user_id,
                role=("owner", "admin")[number] if number < 2 else "member",
                hourly_rate_cents=member.rate,
                **self.resource(self.created, deletable=False),
            )
        clients = [self.client(workspace.id, number) for number in range(CLIENTS)]
        workspace.projects = [
            self.project(workspace, number, clients, owner) for number in range(PROJECTS)
        ]
        workspace.tags = [self.tag(workspace.id, number) for number in range(TAGS)]
        share, extra = divmod(entry_count, len(members))
        for number, member in enumerate(members):
            self.member_entries(workspace, member, share + (number < extra))
        return workspace

    def user(self, workspace_index: int, number: int) -> uuid.UUID:
        columns = self.resource(self.created)
        self.tables[User.__table__].add(
            email=f"user{number + 1}.ws{workspace_index + 1}@bench.example.com",
            full_name=f"User {number + 1} of workspace {workspace_index + 1}",
            password_hash=self.password_hash,
            is_active=True,
            timezone="UTC",
            week_start="monday",
            token_generation=0,
            **columns,
        )
        return columns["id"]

    def client(self, workspace_id: uuid.UUID, number: int) -> uuid.UUID:
        columns = self.resource(self.created)
        self.tables[Client.__table__].add(
            workspace_id=workspace_id,
            name=f"Client {number + 1}",
            # The last client is archived: its projects keep their entries, take no new ones.
            archived_at=self.anchor - timedelta(days=90) if number == CLIENTS - 1 else None,
            **columns,
        )
        return columns["id"]

    def project(
        self, workspace: _Workspace, number: int, clients: list[uuid.UUID], owner: _Member
    ) -> _Project:
        rng = self.rng
        # The first project is the one benchmarks write to: public, billable, open.
        first = number == 0
        columns = self.resource(self.created)
        project = _Project(
            id=columns["id"],
            is_billable=first or rng.random() < 0.8,
            rate=self.rate() if rng.random() < 0.4 else None,
            private=not first and number % 5 == 4,
        )
        self.tables[Project.__table__].add(
            workspace_id=workspace.id,
            client_id=clients[0] if first else rng.choice([*clients, None, None]),
            name=f"Project {number + 1}",
            color=f"#{rng.randrange(0x1000000):06x}",
            is_billable=project.is_billable,
            hourly_rate_cents=project.rate,
            visibility="private" if project.private else "public",
            estimate_seconds=rng.randrange(50, 2_000) * 3_600 if rng.random() < 0.3 else None,
            archived_at=self.anchor - timedelta(days=60) if number >= PROJECTS - 2 else None,
            created_by_user_id=owner.user_id,
            **columns,
        )
        staff = [member for member in workspace.members if not member.is_admin]
        if project.private:
            joined = rng.sample(staff, k=min(2, len(staff)))
        else:
            # On public projects, membership only gives someone their own rate there.
            joined = [rng.choice(staff)] if rng.random() < 0.2 else []
        for member in joined:
            rate = self.rate() if not project.private or rng.random() < 0.5 else None
            project.member_rates[member.user_id] = rate
            self.tables[ProjectMember.__table__].add(
                workspace_id=workspace.id,
                project_id=project.id,
                user_id=member.user_id,
                hourly_rate_cents=rate,
                **self.resource(self.created, deletable=False),
            )
        for task_number in range(rng.randrange(0, 7)):
            task = self.resource(self.created)
            project.tasks.append(task["id"])
            self.tables[Task.__table__].add(
                workspace_id=workspace.id,
                project_id=project.id,
                name=f"Task {task_number + 1}",
                done_at=None,
                estimate_seconds=None,
                **task,
            )
        return project

    def tag(self, workspace_id: uuid.UUID, number: int) -> uuid.UUID:
        columns = self.resource(self.created)
        name = TAG_NAMES[number % len(TAG_NAMES)]
        if number >= len(TAG_NAMES):
            name = f"{name}-{number // len(TAG_NAMES) + 1}"
        self.tables[Tag.__table__].add(workspace_id=workspace_id, name=name, **columns)
        return columns["id"]

    def member_entries(self, workspace: _Workspace, member: _Member, count: int) -> None:
        """`count` entries on working days, 08:00-18:00 UTC, never overlapping each other."""
        rng = self.rng
        visible = [project for project in workspace.projects if project.visible_to(member)]
        favourites = rng.sample(visible, k=min(6, len(visible)))
        per_day = Counter(rng.choices(range(len(self.working_days)), k=count))
        for day, entries_that_day in sorted(per_day.items()):
            # Each entry keeps to its own slot of the working day.
            slot = 36_000 / entries_that_day
            for position in range(entries_that_day):
                offset = int(position * slot + rng.random() * 0.15 * slot)
                start_at = self.working_days[day] + timedelta(seconds=offset)
                end_at = start_at + timedelta(seconds=int(slot * rng.uniform(0.5, 0.8)))
                # One entry in ten has no project; most others go to the favourites.
                roll = rng.random()
                choices = favourites if roll < 0.85 else visible
                project = rng.choice(choices) if roll >= 0.1 else None
                self.entry(workspace, member, project, start_at, end_at)

    def entry(
        self,
        workspace: _Workspace,
        member: _Member,
        project: _Project | None,
        start_at: datetime,
        end_at: datetime,
    ) -> None:
        rng = self.rng
        billable = project is not None and project.is_billable and rng.random() < 0.95
        timer = rng.random() < 0.6
        created_at = start_at if timer else end_at + timedelta(seconds=rng.randrange(60, 3_600))
        description = rng.choice(DESCRIPTIONS)
        if rng.random() < 0.5:
            description += f" #{rng.randrange(100, 5_000)}"
        task_id = None
        if project is not None and project.tasks and rng.random() < 0.5:
            task_id = rng.choice(project.tasks)
        row = {
            "id": self.new_id(),
            "workspace_id": workspace.id,
            "user_id": member.user_id,
            "project_id": project.id if project else None,
            "task_id": task_id,
            "description": description,
            "start_at": start_at,
            "end_at": end_at,
            "billable": billable,
            "hourly_rate_cents": workspace.rate(member, project) if billable and project else None,
            "source": "timer" if timer else "manual",
            "external_id": None,
            "created_at": created_at,
            # Timer entries were written twice: started, then stopped.
            "updated_at": end_at if timer else created_at,
            "deleted_at": None,
            "version": 2 if timer else 1,
        }
        tag_count = rng.choices((0, 1, 2, 3), weights=(30, 35, 25, 10))[0]
        self.entries.append((row, rng.sample(workspace.tags, k=tag_count)))


def main() -> None:
    parser = argparse.ArgumentParser(description="Fill a database with benchmark data.")
    parser.add_argument("--large", action="store_true", help="1,000,000 entries")
    parser.add_argument("--regenerate", action="store_true", help="even if the data is there")
    parser.add_argument("--database-url", help="PostgreSQL or SQLite URL (emptied first!)")
    args = parser.parse_args()
    shape_name = "large" if args.large else "default"
    url = args.database_url or default_database_url(shape_name)
    dataset = asyncio.run(prepare(url, SHAPES[shape_name], regenerate=args.regenerate))
    summary = json.loads(dataset.to_json())
    summary.pop("members")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
