"""The loader's pace: `timesheet import toggl` on a generated Toggl export, beside the same
rows written by the bare driver.

    .venv/bin/python -m bench.imports [--rows 100000] [--sqlite] [--py-spy]

Writes a Toggl detailed CSV of `--rows` entries to a temp file, row by row. Then, on
PostgreSQL (and also on SQLite with `--sqlite`): a fresh, migrated database holds one
workspace and the file's people as its members; the real command imports the file, once
with its header alone (the fixed cost), then whole, then whole again (every row a
duplicate), each run timed and its peak RSS read from the kernel, and what it wrote is
counted. The baseline then writes the same rows, parsed beforehand, into a fresh copy of the
same tables through the bare driver, and must leave the same data behind. The results go to
stdout only.
"""

import argparse
import asyncio
import csv
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import normalize_database_url
from app.db import migrations
from app.db.models import Client, Membership, Project, Tag, Task, User, Workspace
from app.enums import EntrySource, ImportFormat, Role
from app.loader.formats import DateOrder, parse_row
from app.loader.reading import read_rows
from app.security import hash_password
from app.services.imports import BATCH_ROWS, ENTRY_COLUMNS, LINK_COLUMNS
from bench import data, harness, run

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/timesheet_bench_import"
SEED = 7
MEMBERS, CLIENTS, PROJECTS, TAGS = 6, 20, 50, 20
DEFAULT_RATE = 9_000
FIRST_DAY = date(1990, 1, 1)
TOGGL_HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,"
    "End time,Duration,Tags,Amount (USD)\n"
)
# The import against the same rows written by the bare driver's COPY, in rows per second,
# and the command's peak RSS.
COPY_SHARE_TARGET, PEAK_RSS_TARGET_MIB = 0.5, 300
# The command's summary table: rows, created, duplicates, failed.
SUMMARY_LINE = re.compile(r"^\W*(\d+)\W+(\d+)\W+(\d+)\W+(\d+)\W*$", re.M)


# The export


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    rate: int | None  # in the workspace; the import's rate rules fall back to it


@dataclass(frozen=True)
class Catalog:
    """Who and what the file names."""

    members: tuple[Member, ...]
    projects: dict[str, tuple[str, tuple[str, ...]]]  # name: (client or "", task names)
    tags: tuple[str, ...]


def make_catalog() -> Catalog:
    rng = random.Random(SEED)
    members = tuple(
        # Every other member has a rate of their own; the rest take the workspace's.
        Member(f"User {n}", f"user{n}@import.example.com", rng.randrange(5_000, 15_001, 500))
        if n % 2
        else Member(f"User {n}", f"user{n}@import.example.com", None)
        for n in range(1, MEMBERS + 1)
    )
    clients = [f"Client {n}" for n in range(1, CLIENTS + 1)]
    projects = {
        f"Project {n}": (
            rng.choice([*clients, "", ""]),
            tuple(f"Task {t}" for t in range(1, rng.randrange(0, 6) + 1)),
        )
        for n in range(1, PROJECTS + 1)
    }
    names = len(data.TAG_NAMES)
    tags = tuple(
        data.TAG_NAMES[n % names] + (f"-{n // names + 1}" if n >= names else "")
        for n in range(TAGS)
    )
    return Catalog(members, projects, tags)


def toggl_rows(catalog: Catalog, rng: random.Random) -> Iterator[list[str]]:
    """Rows of a Toggl detailed export, day by day: each member works 4-16 entries a working
    day between 08:00 and 18:00, never overlapping; naive local times."""
    projects = list(catalog.projects.items())
    day = FIRST_DAY
    while True:
        if day.weekday() < 5:
            for member in catalog.members:
                count = rng.randint(4, 16)
                slot = 36_000 / count
                for position in range(count):
                    start = datetime(day.year, day.month, day.day, 8) + timedelta(
                        seconds=int(position * slot + rng.random() * 0.15 * slot)
                    )
                    end = start + timedelta(seconds=int(slot * rng.uniform(0.5, 0.8)))
                    yield toggl_row(catalog, rng, projects, member, start, end)
        day += timedelta(days=1)


def toggl_row(
    catalog: Catalog,
    rng: random.Random,
    projects: list[tuple[str, tuple[str, tuple[str, ...]]]],
    member: Member,
    start: datetime,
    end: datetime,
) -> list[str]:
    # One entry in ten has no project; half of the others name one of its tasks.
    project, (client, tasks) = rng.choice(projects) if rng.random() >= 0.1 else ("", ("", ()))
    task = rng.choice(tasks) if tasks and rng.random() < 0.5 else ""
    billable = bool(project) and rng.random() < 0.8
    description = rng.choice(data.DESCRIPTIONS)
    if rng.random() < 0.5:
        description += f" #{rng.randrange(100, 5_000)}"
    tags = rng.sample(catalog.tags, k=rng.choices((0, 1, 2, 3), weights=(30, 35, 25, 10))[0])
    seconds = int((end - start).total_seconds())
    rate = member.rate or DEFAULT_RATE
    return [
        member.name,
        member.email,
        client,
        project,
        task,
        description,
        "Yes" if billable else "No",
        start.date().isoformat(),
        start.time().isoformat(),
        end.date().isoformat(),
        end.time().isoformat(),
        f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        ", ".join(tags),
        f"{seconds / 3600 * rate / 100:.2f}" if billable else "",
    ]


def write_export(path: Path, rows: int, catalog: Catalog) -> int:
    """Write `rows` rows to `path` as they are generated; the number of tags they carry."""
    links = 0
    with path.open("w", newline="") as file:
        file.write(TOGGL_HEADER)
        out = csv.writer(file, lineterminator="\n")
        for row in islice(toggl_rows(catalog, random.Random(SEED)), rows):
            out.writerow(row)
            links += len(row[12].split(", ")) if row[12] else 0
    return links


# The database


@dataclass(frozen=True)
class Target:
    """A workspace's ids, and those of its catalog when the baseline needs one."""

    workspace_id: uuid.UUID
    users: dict[str, uuid.UUID]  # by email
    projects: dict[str, uuid.UUID]
    tasks: dict[tuple[str, str], uuid.UUID]  # by project and task name
    tags: dict[str, uuid.UUID]


async def write(url: str, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    # Core inserts, so that the model types store ids and datetimes as the app reads them.
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            for model, rows in tables:
                if rows:
                    await connection.execute(insert(model.__table__), rows)
    finally:
        await engine.dispose()


async def fresh_workspace(url: str, catalog: Catalog) -> Target:
    """Empty and migrate the database, then add the workspace, its owner and members."""
    await data.ensure_database(url)
    await migrations.drop_everything(url)
    await migrations.upgrade(url)
    users = {member.email: uuid.uuid4() for member in catalog.members}
    workspace_id, password_hash = uuid.uuid4(), await hash_password(data.PASSWORD)
    owner = {"owner_user_id": users[catalog.members[0].email]}
    await write(
        url,
        [
            (
                User,
                [
                    {"id": users[m.email], "email": m.email, "full_name": m.name}
                    | {"password_hash": password_hash}
                    for m in catalog.members
                ],
            ),
            (
                Workspace,
                [
                    {
                        "id": workspace_id,
                        "name": "Import",
                        "default_hourly_rate_cents": DEFAULT_RATE,
                    }
                    | owner
                ],
            ),
            (
                Membership,
                [
                    {"workspace_id": workspace_id, "user_id": users[m.email]}
                    | {"role": Role.OWNER if n == 0 else Role.MEMBER, "hourly_rate_cents": m.rate}
                    for n, m in enumerate(catalog.members)
                ],
            ),
        ],
    )
    return Target(workspace_id, users, {}, {}, {})


async def with_catalog(url: str, catalog: Catalog, target: Target) -> Target:
    """Add the clients, projects, tasks and tags the import would have created."""
    workspace_id = target.workspace_id
    clients = {client: uuid.uuid4() for client, _ in catalog.projects.values() if client}
    projects = {name: uuid.uuid4() for name in catalog.projects}
    tasks = {
        (project, task): uuid.uuid4()
        for project, (_, names) in catalog.projects.items()
        for task in names
    }
    tags = {name: uuid.uuid4() for name in catalog.tags}
    await write(
        url,
        [
            (
                Client,
                [{"id": i, "workspace_id": workspace_id, "name": n} for n, i in clients.items()],
            ),
            (
                Project,
                [
                    {"id": projects[name], "workspace_id": workspace_id, "name": name}
                    | {"client_id": clients.get(client), "is_billable": True}
                    for name, (client, _) in catalog.projects.items()
                ],
            ),
            (
                Task,
                [
                    {"id": i, "workspace_id": workspace_id, "project_id": projects[project]}
                    | {"name": name}
                    for (project, name), i in tasks.items()
                ],
            ),
            (Tag, [{"id": i, "workspace_id": workspace_id, "name": n} for n, i in tags.items()]),
        ],
    )
    return Target(workspace_id, target.users, projects, tasks, tags)


async def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(statement))]
    finally:
        await engine.dispose()


async def counts(url: str) -> tuple[int, int]:
    """Entries and tag links in the database."""
    [(entries, links)] = await query(
        url,
        "SELECT (SELECT count(*) FROM time_entries), (SELECT count(*) FROM time_entry_tags)",
    )
    return entries, links


async def digest(url: str) -> list[tuple[Any, ...]]:
    """What was written, by user, project and task, and the links by tag: an import and the
    baseline must leave the same behind, ids aside."""
    by_group = await query(
        url,
        """
        SELECT u.email, p.name, t.name, count(*), count(DISTINCT e.external_id),
            sum(length(e.description)), sum(CASE WHEN e.billable THEN 1 ELSE 0 END),
            sum(e.hourly_rate_cents), min(e.start_at), max(e.end_at), min(e.source)
        FROM time_entries e
        JOIN users u ON u.id = e.user_id
        LEFT JOIN projects p ON p.id = e.project_id
        LEFT JOIN tasks t ON t.id = e.task_id
        GROUP BY u.email, p.name, t.name
        ORDER BY u.email, p.name, t.name
        """,
    )
    by_tag = await query(
        url,
        """
        SELECT g.name, count(*) FROM time_entry_tags l JOIN tags g ON g.id = l.tag_id
        GROUP BY g.name ORDER BY g.name
        """,
    )
    return by_group + by_tag


# The command


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_kib: int  # the process's maximum resident set size
    summary: tuple[int, int, int, int]  # rows, created, duplicates, failed, as it reports them


def run_import(url: str, path: Path, target: Target, log: Path, profile: Path | None) -> Run:
    """`timesheet import toggl` on `path`, as someone would run it, under GNU time."""
    command = [str(Path(sys.executable).with_name("timesheet")), "import", "toggl", str(path)]
    command += ["--workspace", str(target.workspace_id), "--timezone", "UTC"]
    if profile:
        py_spy = shutil.which("py-spy")
        if py_spy is None:
            raise SystemExit("--py-spy needs py-spy on the PATH (pip install py-spy).")
        # Idle samples included: the waits on the database are part of the time.
        record = [py_spy, "record", "--idle", "--format", "raw", "-o", str(profile), "--"]
        command = [*record, *command]
    # Through GNU time: the kernel's peak for a direct child starts from this process's RSS,
    # inherited at the fork; GNU time's child starts from a few MiB.
    peak = log.with_suffix(".rss")
    command = ["/usr/bin/time", "-f", "%M", "-o", str(peak), *command]
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": harness.SECRET_KEY}
    env["ENVIRONMENT"] = "production"
    with log.open("wb") as out:
        began = time.perf_counter()
        # Outside the repository, so that no .env file changes the settings.
        finished = subprocess.run(  # noqa: S603 - our own command
            command, cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
        seconds = time.perf_counter() - began
    output = log.read_text(errors="replace")
    found = SUMMARY_LINE.findall(output)
    if finished.returncode != 0 or not found:
        raise SystemExit(f"The import exited with {finished.returncode}:\n{output[-3000:]}")
    rows, created, duplicates, failed = (int(n) for n in found[-1])
    return Run(seconds, int(peak.read_text().split()[-1]), (rows, created, duplicates, failed))


# The baseline


@dataclass(frozen=True)
class Rows:
    entries: list[tuple[Any, ...]]  # in ENTRY_COLUMNS' order
    links: list[list[tuple[Any, ...]]]  # each entry's, in LINK_COLUMNS' order


def baseline_rows(path: Path, catalog: Catalog, target: Target, *, sqlite: bool) -> Rows:
    """The file's rows as the import would write them: parsed with the app's own parser,
    with the ids and the rate (the member's, else the workspace's) worked out beforehand,
    and for sqlite3 already in the form the app's column types store."""
    rates = {member.email: member.rate for member in catalog.members}
    zone, now, workspace_id = ZoneInfo("UTC"), datetime.now(UTC), target.workspace_id
    rows = Rows([], [])
    with path.open("rb") as file:
        for raw in read_rows(file):
            entry = parse_row(raw, ImportFormat.TOGGL_CSV, zone, DateOrder.MONTH_FIRST)
            rate = (rates[entry.email] or DEFAULT_RATE) if entry.billable else None
            entry_id = uuid.uuid4()
            values = (
                entry_id,
                workspace_id,
                target.users[entry.email],
                target.projects.get(entry.project),
                target.tasks.get((entry.project, entry.task)),
                entry.description,
                entry.start_at,
                entry.end_at,
                entry.billable,
                rate,
                EntrySource.IMPORT.value,
                entry.external_id,
                1,
                now,
                now,
            )
            links = [(entry_id, target.tags[tag], workspace_id) for tag in entry.tags]
            if sqlite:
                values = tuple(map(sqlite_value, values))
                links = [tuple(map(sqlite_value, link)) for link in links]
            rows.entries.append(values)
            rows.links.append(links)
    return rows


def batches(rows: Rows) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """The entries and their links, BATCH_ROWS entries at a time, as the import writes them."""
    for start in range(0, len(rows.entries), BATCH_ROWS):
        end = start + BATCH_ROWS
        yield rows.entries[start:end], [link for ls in rows.links[start:end] for link in ls]


def insert_sql(table: str, columns: tuple[str, ...], placeholder: str) -> str:
    marks = ", ".join(placeholder.format(n) for n in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


async def raw_postgres(url: str, rows: Rows, *, copy: bool) -> float:
    """Seconds for asyncpg to write `rows` in one transaction: plain INSERTs through
    `executemany`, a batch at a time, with the app's session setting; or, the fastest way
    in, COPY of everything with the server's defaults."""
    # With generic plans, the foreign-key check of each tag link would keep the plan made
    # when time_entries was new and small, a sequential scan, for the whole transaction.
    settings = {} if copy else {"plan_cache_mode": "force_custom_plan"}
    connection = await asyncpg.connect(data.libpq_url(url), server_settings=settings)
    try:
        began = time.perf_counter()
        async with connection.transaction():
            if copy:
                links = [link for ls in rows.links for link in ls]
                await connection.copy_records_to_table(
                    "time_entries", records=rows.entries, columns=ENTRY_COLUMNS
                )
                await connection.copy_records_to_table(
                    "time_entry_tags", records=links, columns=LINK_COLUMNS
                )
            else:
                entries_sql = insert_sql("time_entries", ENTRY_COLUMNS, "${}")
                links_sql = insert_sql("time_entry_tags", LINK_COLUMNS, "${}")
                for entries, links in batches(rows):
                    await connection.executemany(entries_sql, entries)
                    if links:
                        await connection.executemany(links_sql, links)
        return time.perf_counter() - began
    finally:
        await connection.close()


def sqlite_value(value: Any) -> Any:
    """A value stored as the app's column types store it on SQLite."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def raw_sqlite(path: str, rows: Rows) -> float:
    """Seconds for the stdlib's sqlite3 to write `rows`, `executemany` a batch at a time in
    one transaction, with the app's pragmas."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        entries_sql = insert_sql("time_entries", ENTRY_COLUMNS, "?")
        links_sql = insert_sql("time_entry_tags", LINK_COLUMNS, "?")
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for entries, links in batches(rows):
            connection.executemany(entries_sql, entries)
            connection.executemany(links_sql, links)
        connection.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        connection.close()


# The run


def mib(kib: int) -> str:
    return f"{kib / 1024:6.1f} MiB"


def pace(rows: int, seconds: float) -> str:
    return f"{seconds:6.2f} s {rows / seconds:9,.0f} rows/s"


def measure(
    name: str, url: str, export: Path, rows: int, links: int, args: argparse.Namespace
) -> None:
    catalog = make_catalog()
    workdir = Path(tempfile.mkdtemp(prefix="timesheet-bench-import-"))
    header = workdir / "header.csv"
    header.write_text(TOGGL_HEADER)
    profile = workdir / f"import-{name.lower()}.txt" if args.py_spy else None

    target = asyncio.run(fresh_workspace(url, catalog))
    empty = run_import(url, header, target, workdir / "header.log", None)
    first = run_import(url, export, target, workdir / "first.log", profile)
    stored = asyncio.run(counts(url))
    if first.summary != (rows, rows, 0, 0) or stored != (rows, links):
        raise SystemExit(
            f"The import reported (rows, created, duplicates, failed) {first.summary} and left "
            f"{stored[0]:,} entries and {stored[1]:,} links; expected {rows:,} and {links:,}."
        )
    again = run_import(url, export, target, workdir / "again.log", None)
    if again.summary != (rows, 0, rows, 0) or asyncio.run(counts(url)) != stored:
        raise SystemExit(f"The second import was not all duplicates: {again.summary}.")
    imported = asyncio.run(digest(url))

    postgres = url.startswith("postgresql")
    raw: dict[str, float] = {}
    for method in ("executemany", "COPY") if postgres else ("executemany",):
        target = asyncio.run(fresh_workspace(url, catalog))
        target = asyncio.run(with_catalog(url, catalog, target))
        prepared = baseline_rows(export, catalog, target, sqlite=not postgres)
        if postgres:
            raw[method] = asyncio.run(raw_postgres(url, prepared, copy=method == "COPY"))
        else:
            raw[method] = raw_sqlite(make_url(url).database or "", prepared)
        # Before the next method's rows are built: a million of them take over a GiB.
        del prepared
        if asyncio.run(digest(url)) != imported:
            raise SystemExit(f"The baseline ({method}) did not write what the import did.")

    driver = "asyncpg" if postgres else "sqlite3"
    print(
        f"\n{name}: {rows:,} rows, {links:,} tag links, {export.stat().st_size / 2**20:.1f} MiB"
        f"{' (first import under py-spy)' if profile else ''}\n"
        f"  timesheet import, header only  {empty.seconds:6.2f} s {'':16}"
        f"  peak RSS {mib(empty.peak_kib)}\n"
        f"  timesheet import               {pace(rows, first.seconds)}"
        f"  peak RSS {mib(first.peak_kib)}  created {first.summary[1]:,}\n"
        f"  timesheet import, again        {pace(rows, again.seconds)}"
        f"  peak RSS {mib(again.peak_kib)}  duplicates {again.summary[2]:,}"
    )
    for method, seconds in raw.items():
        print(f"  {driver} {method:22} {pace(rows, seconds)}")
    ratio = first.seconds / raw["executemany"]
    print(f"  import time / {driver} executemany time: {ratio:.2f}")
    peak_met = max(empty.peak_kib, first.peak_kib, again.peak_kib) < PEAK_RSS_TARGET_MIB * 1024
    if postgres:
        share = raw["COPY"] / first.seconds
        # The same without the command's fixed cost (start-up, connection, catalog).
        working = raw["COPY"] / max(first.seconds - empty.seconds, 1e-9)
        verdict = "met" if share >= COPY_SHARE_TARGET else "missed"
        print(
            f"  import rows/s / asyncpg COPY rows/s: {share:.2f} "
            f"(target ≥ {COPY_SHARE_TARGET:g}: {verdict}); "
            f"{working:.2f} past the header-only run's fixed cost"
        )
    print(
        f"  peak RSS (target < {PEAK_RSS_TARGET_MIB} MiB): {'met' if peak_met else 'missed'}\n"
        f"  Logs{' and profile' if profile else ''}: {workdir}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=100_000, help="entries in the file")
    parser.add_argument("--sqlite", action="store_true", help="also on SQLite")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="(emptied!)")
    parser.add_argument(
        "--sqlite-path",
        default=str(Path(tempfile.gettempdir()) / "timesheet_bench_import.db"),
        help="(emptied!)",
    )
    parser.add_argument(
        "--py-spy", action="store_true", help="profile each first import (a little slower)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="timesheet-bench-import-") as directory:
        export = Path(directory) / "toggl_detailed.csv"
        began = time.perf_counter()
        links = write_export(export, args.rows, make_catalog())
        print(
            f"Wrote {args.rows:,} rows in {time.perf_counter() - began:.1f} s; measuring the "
            f"app of {run.origin()['code']}.",
            flush=True,
        )
        url = normalize_database_url(args.database_url)
        measure("PostgreSQL", url, export, args.rows, links, args)
        if args.sqlite:
            url = normalize_database_url(f"sqlite:///{args.sqlite_path}")
            measure("SQLite", url, export, args.rows, links, args)


if __name__ == "__main__":
    main()
